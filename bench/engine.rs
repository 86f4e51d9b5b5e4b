//! Engine benchmark: our embedded engine side by side with kinesalite (and kinesis-mock's
//! `kinesis-local` build where installed), one client each, in the same run.
//!
//! Measures PutRecords throughput (batches of 500 JSON records of about 200 bytes, 3 shards),
//! GetRecords drain throughput, time from process start to the first answered request, and
//! the engine's RSS idle and holding 1,000,000 records. Run with `cargo bench --bench engine`;
//! figures go to BENCHMARKS.md. Knobs: `BENCH_RECORDS` (default 200,000 for our engine),
//! `BENCH_PEER_RECORDS` (default 20,000 for the peers), `BENCH_HOLD` (default 1,000,000),
//! `BENCH_INFLIGHT` (requests in flight from the one client, default 4).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use aws_sdk_kinesis::Client;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn payload(i: usize) -> Vec<u8> {
    // A JSON event of about 200 bytes, like the producer's default records.
    let mut s = format!(
        "{{\"id\":\"evt-{i:012}\",\"ts\":\"2026-11-27T08:00:00.000Z\",\"type\":\"order_created\",\"user\":{{\"id\":\"u-{}\",\"tier\":\"gold\"}},\"amount\":{}.{:02},\"items\":{},\"ok\":true,\"pad\":\"",
        i % 9973,
        i % 1000,
        i % 100,
        i % 7
    );
    while s.len() < 198 {
        s.push('x');
    }
    s.push_str("\"}");
    s.into_bytes()
}

async fn client(endpoint: &str) -> Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "b", "b", None, None, "bench",
        ))
        .load()
        .await;
    Client::new(&conf)
}

async fn wait_active(k: &Client, name: &str) {
    for _ in 0..400 {
        if let Ok(d) = k.describe_stream_summary().stream_name(name).send().await {
            if d.stream_description_summary()
                .map(|s| s.stream_status().as_str() == "ACTIVE")
                == Some(true)
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("stream {name} not ACTIVE");
}

/// Puts `n` records in batches of 500 with `inflight` requests at once; returns records/s.
async fn put_throughput(k: &Client, stream: &str, n: usize, inflight: usize) -> f64 {
    let batches: Vec<Vec<PutRecordsRequestEntry>> = (0..n)
        .collect::<Vec<_>>()
        .chunks(500)
        .map(|c| {
            c.iter()
                .map(|&i| {
                    PutRecordsRequestEntry::builder()
                        .partition_key(format!("pk-{i}"))
                        .data(Blob::new(payload(i)))
                        .build()
                        .expect("entry")
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(batches.into_iter()));
    let mut tasks = Vec::new();
    for _ in 0..inflight {
        let (k, q, stream) = (k.clone(), queue.clone(), stream.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(mut batch) = q.lock().await.next() else {
                    break;
                };
                loop {
                    let out = k
                        .put_records()
                        .stream_name(&stream)
                        .set_records(Some(batch.clone()))
                        .send()
                        .await
                        .expect("put records");
                    if out.failed_record_count().unwrap_or(0) == 0 {
                        break;
                    }
                    batch = batch
                        .into_iter()
                        .zip(out.records())
                        .filter(|(_, r)| r.error_code().is_some())
                        .map(|(e, _)| e)
                        .collect();
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Drains every shard from TRIM_HORIZON with one client; returns (records, records/s).
async fn drain_throughput(k: &Client, stream: &str) -> (usize, f64) {
    let shards = k.list_shards().stream_name(stream).send().await.expect("shards");
    let start = Instant::now();
    let mut total = 0;
    for s in shards.shards() {
        let mut it = k
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(s.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator")
            .shard_iterator
            .expect("it");
        loop {
            let r = k
                .get_records()
                .shard_iterator(&it)
                .limit(10_000)
                .send()
                .await
                .expect("get");
            total += r.records().len();
            if r.records().is_empty() {
                break;
            }
            match r.next_shard_iterator() {
                Some(n) => it = n.to_string(),
                None => break,
            }
        }
    }
    (total, total as f64 / start.elapsed().as_secs_f64())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Spawns our engine and measures the time until it answers a ListStreams over HTTP.
fn spawn_ours() -> (Child, String, Duration) {
    let bin = env!("CARGO_BIN_EXE_kinlocal");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let start = Instant::now();
    let child = Command::new(bin)
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kinlocal serve");
    let endpoint = format!("http://127.0.0.1:{port}");
    let ready = wait_answer(port, start);
    (child, endpoint, ready)
}

/// Polls with a raw ListStreams request until it gets HTTP 200.
fn wait_answer(port: u16, since: Instant) -> Duration {
    use std::io::{Read, Write};
    let body = b"{}";
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(req.as_bytes());
            let _ = s.write_all(body);
            let mut buf = [0u8; 12];
            if s.read_exact(&mut buf).is_ok() && &buf[9..12] == b"200" {
                return since.elapsed();
            }
        }
        if since.elapsed() > Duration::from_secs(60) {
            panic!("no answer on port {port}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

struct Peer {
    name: String,
    script: String,
    endpoint: String,
    ready: Duration,
}

fn start_peer(name: &str) -> Option<Peer> {
    let script = std::env::var("KINLOCAL_PEER_SH")
        .unwrap_or_else(|_| format!("{}/../shared/peers/peer.sh", env!("CARGO_MANIFEST_DIR")));
    if !std::path::Path::new(&script).exists() {
        return None;
    }
    let start = Instant::now();
    let out = Command::new("bash")
        .args([&script, "start", name])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "{name}: not started ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let ready = start.elapsed();
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    let endpoint = line.split_whitespace().nth(2)?.to_string();
    Some(Peer {
        name: name.into(),
        script,
        endpoint,
        ready,
    })
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([&self.script, "stop", &self.name])
            .output();
    }
}

struct Row {
    name: String,
    ready: Duration,
    put: f64,
    get: f64,
}

async fn measure(name: &str, endpoint: &str, ready: Duration, n: usize, inflight: usize) -> Row {
    let k = client(endpoint).await;
    let stream = "bench";
    k.create_stream()
        .stream_name(stream)
        .shard_count(3)
        .send()
        .await
        .expect("create");
    wait_active(&k, stream).await;
    // Warm up connections and code paths.
    put_throughput(&k, stream, 1000, inflight).await;
    let put = put_throughput(&k, stream, n, inflight).await;
    let (read, get) = drain_throughput(&k, stream).await;
    assert_eq!(read, n + 1000, "{name}: drained {read} of {} records", n + 1000);
    Row {
        name: name.into(),
        ready,
        put,
        get,
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: only run for real.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env_usize("BENCH_RECORDS", 200_000);
    let peer_n = env_usize("BENCH_PEER_RECORDS", 20_000);
    let hold = env_usize("BENCH_HOLD", 1_000_000);
    let inflight = env_usize("BENCH_INFLIGHT", 4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");

    let mut rows = Vec::new();
    let (mut child, endpoint, ready) = spawn_ours();
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(child.id());
    rows.push(rt.block_on(measure("kinlocal", &endpoint, ready, n, inflight)));
    // Fill up to `hold` records of ~200 bytes and read the RSS.
    rt.block_on(async {
        let k = client(&endpoint).await;
        k.create_stream()
            .stream_name("hold")
            .shard_count(3)
            .send()
            .await
            .expect("create");
        wait_active(&k, "hold").await;
        put_throughput(&k, "hold", hold, inflight).await;
    });
    let stored = n + 1000 + hold;
    let payload_bytes: usize = (0..stored).map(|i| payload(i % hold.max(1)).len() + 12).sum();
    let full = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();

    for peer in ["kinesalite", "kinesis-mock"] {
        if let Some(p) = start_peer(peer) {
            let ready = p.ready;
            rows.push(rt.block_on(measure(peer, &p.endpoint.clone(), ready, peer_n, inflight)));
            drop(p);
        }
    }

    println!(
        "\n## Engine benchmark ({} in flight, 500 records of ~200 bytes per PutRecords, 3 shards)\n",
        inflight
    );
    println!("| engine | ready (process start → first answer) | PutRecords records/s | GetRecords drain records/s |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.1} ms | {:.0} | {:.0} |",
            r.name,
            r.ready.as_secs_f64() * 1000.0,
            r.put,
            r.get
        );
    }
    if let Some(base) = rows.iter().find(|r| r.name == "kinesalite") {
        let ours = &rows[0];
        println!(
            "\nkinlocal vs kinesalite: puts {:.1}×, reads {:.1}×",
            ours.put / base.put,
            ours.get / base.get
        );
    }
    println!(
        "\nkinlocal RSS: idle {:.1} MiB; holding {stored} records ({:.0} MiB of payload incl. partition keys): {:.0} MiB ({:.2}× payload)",
        idle as f64 / 1024.0,
        payload_bytes as f64 / 1048576.0,
        full as f64 / 1024.0,
        (full as f64 * 1024.0) / payload_bytes as f64
    );
}
