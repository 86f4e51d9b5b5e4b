//! Engine benchmark: our embedded engine side by side with kinesalite (and kinesis-mock's
//! `kinesis-local` build where installed), one client each (a raw HTTP/1.1 client with pre-encoded requests,
//! `BENCH_INFLIGHT` connections), in the same run.
//!
//! Measures PutRecords throughput (batches of 500 JSON records of about 200 bytes, 3 shards),
//! GetRecords drain throughput, time from process start to the first answered request, and
//! the engine's RSS idle and holding 1,000,000 records. Run with `cargo bench --bench engine`;
//! figures go to BENCHMARKS.md. Knobs: `BENCH_RECORDS` (default 200,000 for our engine),
//! `BENCH_PEER_RECORDS` (default 20,000 for kinesalite), `BENCH_SLOW_PEER_RECORDS` (default
//! 2,000 for kinesis-mock), `BENCH_HOLD` (default 1,000,000),
//! `BENCH_INFLIGHT` (requests in flight from the one client, default 4). Also SubscribeToShard
//! push latency (put acknowledged → record decoded by an HTTP/2 subscriber), `BENCH_SUBSCRIBE_SAMPLES`
//! records one at a time (default 1,000).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// A minimal HTTP/1.1 keep-alive client: requests are encoded before the clock starts, so
/// the figures measure the engine, not an SDK's serialization and signing (which cost more
/// than the engine's own work per request and would hide the difference between engines).
struct Conn {
    stream: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(endpoint: &str) -> Self {
        let addr = endpoint.trim_start_matches("http://");
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    fn call(&mut self, op: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use std::io::Write;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.{op}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=x\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut req = Vec::with_capacity(head.len() + body.len());
        req.extend_from_slice(head.as_bytes());
        req.extend_from_slice(body);
        self.stream.write_all(&req).expect("write");
        self.read_response()
    }

    fn fill(&mut self) {
        use std::io::Read;
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk).expect("read");
        assert!(n > 0, "connection closed");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    fn read_response(&mut self) -> (u16, Vec<u8>) {
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            self.fill();
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut rest: Vec<u8> = self.buf.split_off(head_end + 4);
        std::mem::swap(&mut rest, &mut self.buf);
        let body = if let Some(len) = head.lines().find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        }) {
            while self.buf.len() < len {
                self.fill();
            }
            let tail = self.buf.split_off(len);
            std::mem::replace(&mut self.buf, tail)
        } else {
            // chunked
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break p;
                    }
                    self.fill();
                };
                let size = usize::from_str_radix(
                    std::str::from_utf8(&self.buf[..line_end]).unwrap_or("0").trim(),
                    16,
                )
                .unwrap_or(0);
                while self.buf.len() < line_end + 2 + size + 2 {
                    self.fill();
                }
                body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                self.buf.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break body;
                }
            }
        };
        (status, body)
    }

    fn json(&mut self, op: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, bytes) = self.call(op, body.to_string().as_bytes());
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        assert!(status == 200, "{op}: HTTP {status}: {v}");
        v
    }
}

fn wait_active(endpoint: &str, name: &str) {
    let mut c = Conn::open(endpoint);
    for _ in 0..400 {
        let v = c.json("DescribeStreamSummary", serde_json::json!({ "StreamName": name }));
        if v["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE" {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("stream {name} not ACTIVE");
}

/// Encodes PutRecords bodies of 500 records for records `offset..offset+n`.
fn put_bodies(stream: &str, offset: usize, n: usize) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    (offset..offset + n)
        .collect::<Vec<_>>()
        .chunks(500)
        .map(|c| {
            let records: Vec<serde_json::Value> = c
                .iter()
                .map(|&i| {
                    serde_json::json!({
                        "PartitionKey": format!("pk-{i}"),
                        "Data": base64::engine::general_purpose::STANDARD.encode(payload(i)),
                    })
                })
                .collect();
            serde_json::to_vec(&serde_json::json!({ "StreamName": stream, "Records": records }))
                .expect("json")
        })
        .collect()
}

/// Puts `n` records in batches of 500 with `inflight` connections at once; returns records/s.
fn put_throughput(endpoint: &str, stream: &str, offset: usize, n: usize, inflight: usize) -> f64 {
    let bodies = put_bodies(stream, offset, n);
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies.into_iter()));
    let start = Instant::now();
    let workers: Vec<_> = (0..inflight)
        .map(|_| {
            let (q, endpoint) = (queue.clone(), endpoint.to_string());
            std::thread::spawn(move || {
                let mut c = Conn::open(&endpoint);
                loop {
                    let next = q.lock().expect("queue").next();
                    let Some(body) = next else { break };
                    let (status, resp) = c.call("PutRecords", &body);
                    let v: serde_json::Value = serde_json::from_slice(&resp).expect("json");
                    assert!(status == 200 && v["FailedRecordCount"] == 0, "put failed: {v}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsPage {
    records: Vec<serde::de::IgnoredAny>,
    next_shard_iterator: Option<String>,
}

/// Drains every shard from TRIM_HORIZON, one connection per shard; returns (records, records/s).
fn drain_throughput(endpoint: &str, stream: &str) -> (usize, f64) {
    let mut c = Conn::open(endpoint);
    let shards = c.json("ListShards", serde_json::json!({ "StreamName": stream }));
    let ids: Vec<String> = shards["Shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|s| s["ShardId"].as_str().expect("id").to_string())
        .collect();
    let start = Instant::now();
    let readers: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let (endpoint, stream) = (endpoint.to_string(), stream.to_string());
            std::thread::spawn(move || {
                let mut c = Conn::open(&endpoint);
                let v = c.json(
                    "GetShardIterator",
                    serde_json::json!({ "StreamName": stream, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON" }),
                );
                let mut it = v["ShardIterator"].as_str().expect("iterator").to_string();
                let mut total = 0;
                loop {
                    let body = serde_json::json!({ "ShardIterator": it, "Limit": 10000 }).to_string();
                    let (status, resp) = c.call("GetRecords", body.as_bytes());
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
                    let page: GetRecordsPage = serde_json::from_slice(&resp).expect("page");
                    total += page.records.len();
                    match page.next_shard_iterator {
                        Some(next) if !page.records.is_empty() => it = next,
                        _ => break total,
                    }
                }
            })
        })
        .collect();
    let total: usize = readers.into_iter().map(|r| r.join().expect("reader")).sum();
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
    let script = format!("{}/scripts/peers.sh", env!("CARGO_MANIFEST_DIR"));
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

fn measure(name: &str, endpoint: &str, ready: Duration, n: usize, inflight: usize) -> Row {
    let stream = "bench";
    let mut c = Conn::open(endpoint);
    c.json(
        "CreateStream",
        serde_json::json!({ "StreamName": stream, "ShardCount": 3 }),
    );
    wait_active(endpoint, stream);
    // Warm up connections and code paths.
    put_throughput(endpoint, stream, 0, 1000, inflight);
    let put = put_throughput(endpoint, stream, 1000, n, inflight);
    let (read, get) = drain_throughput(endpoint, stream);
    assert_eq!(read, n + 1000, "{name}: drained {read} of {} records", n + 1000);
    Row {
        name: name.into(),
        ready,
        put,
        get,
    }
}

/// SubscribeToShard push latency over HTTP/2: from a PutRecord's acknowledgement (read by the
/// producer) to the subscriber decoding the event that carries the record. Returns p50, p99.
fn subscribe_latency(endpoint: &str, samples: usize) -> (Duration, Duration) {
    use base64::Engine as _;
    use http_body_util::BodyExt;
    let mut c = Conn::open(endpoint);
    c.json(
        "CreateStream",
        serde_json::json!({ "StreamName": "fanout", "ShardCount": 1 }),
    );
    wait_active(endpoint, "fanout");
    let summary = c.json(
        "DescribeStreamSummary",
        serde_json::json!({ "StreamName": "fanout" }),
    );
    let stream_arn = summary["StreamDescriptionSummary"]["StreamARN"].clone();
    let consumer = c.json(
        "RegisterStreamConsumer",
        serde_json::json!({ "StreamARN": stream_arn, "ConsumerName": "bench" }),
    )["Consumer"]["ConsumerARN"]
        .clone();
    let authority = endpoint.trim_start_matches("http://").to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut latencies = rt.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(&authority).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tcp),
        )
        .await
        .expect("h2 handshake");
        tokio::spawn(conn);
        let body = serde_json::json!({
            "ConsumerARN": consumer,
            "ShardId": "shardId-000000000000",
            "StartingPosition": { "Type": "LATEST" },
        });
        let req = hyper::Request::post(format!("http://{authority}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "Kinesis_20131202.SubscribeToShard")
            .header("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
            .header("x-amz-date", "20260101T000000Z")
            .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
            .expect("request");
        let resp = sender.send_request(req).await.expect("subscribe");
        assert_eq!(resp.status(), 200, "SubscribeToShard");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, usize)>();
        tokio::spawn(async move {
            let mut body = resp.into_body();
            let mut decoder = aws_smithy_eventstream::frame::MessageFrameDecoder::new();
            let mut buf = bytes::BytesMut::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else { continue };
                buf.extend_from_slice(&data);
                while let Ok(aws_smithy_eventstream::frame::DecodedFrame::Complete(msg)) =
                    decoder.decode_frame(&mut buf)
                {
                    let at = Instant::now();
                    let v: serde_json::Value =
                        serde_json::from_slice(msg.payload()).unwrap_or(serde_json::Value::Null);
                    let n = v["Records"].as_array().map_or(0, Vec::len);
                    if n > 0 && tx.send((at, n)).is_err() {
                        return;
                    }
                }
            }
        });
        let mut out = Vec::with_capacity(samples);
        let mut producer = Conn::open(endpoint_of(&authority).as_str());
        for i in 0..samples {
            let put = serde_json::json!({
                "StreamName": "fanout",
                "PartitionKey": format!("pk-{i}"),
                "Data": base64::engine::general_purpose::STANDARD.encode(payload(i)),
            })
            .to_string();
            let (status, _) = tokio::task::block_in_place(|| producer.call("PutRecord", put.as_bytes()));
            let acked = Instant::now();
            assert_eq!(status, 200, "PutRecord");
            let (arrived, _) = rx.recv().await.expect("event");
            out.push(arrived.saturating_duration_since(acked));
        }
        out
    });
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (at(0.5), at(0.99))
}

fn endpoint_of(authority: &str) -> String {
    format!("http://{authority}")
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: only run for real.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env_usize("BENCH_RECORDS", 200_000);
    let peer_n = env_usize("BENCH_PEER_RECORDS", 20_000);
    let slow_peer_n = env_usize("BENCH_SLOW_PEER_RECORDS", 2_000);
    let hold = env_usize("BENCH_HOLD", 1_000_000);
    let inflight = env_usize("BENCH_INFLIGHT", 4);

    let mut rows = Vec::new();
    let (mut child, endpoint, ready) = spawn_ours();
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(child.id());
    rows.push(measure("kinlocal", &endpoint, ready, n, inflight));
    let fanout_samples = env_usize("BENCH_SUBSCRIBE_SAMPLES", 1000);
    let (fanout_p50, fanout_p99) = subscribe_latency(&endpoint, fanout_samples);
    // Fill up to `hold` records of ~200 bytes and read the RSS.
    Conn::open(&endpoint).json(
        "CreateStream",
        serde_json::json!({ "StreamName": "hold", "ShardCount": 3 }),
    );
    wait_active(&endpoint, "hold");
    for part in 0..hold.div_ceil(100_000) {
        let count = (hold - part * 100_000).min(100_000);
        put_throughput(&endpoint, "hold", part * 100_000, count, inflight);
    }
    let stored = n + 1000 + hold;
    let bytes_of = |i: usize| payload(i).len() + format!("pk-{i}").len();
    let payload_bytes: usize =
        (0..n + 1000).map(bytes_of).sum::<usize>() + (0..hold).map(bytes_of).sum::<usize>();
    let full = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();

    for peer in ["kinesalite", "kinesis-mock"] {
        if let Some(p) = start_peer(peer) {
            let ready = p.ready;
            // kinesis-mock's npm build manages about a hundred puts a second: fewer records.
            let count = if peer == "kinesis-mock" {
                slow_peer_n
            } else {
                peer_n
            };
            rows.push(measure(peer, &p.endpoint.clone(), ready, count, inflight));
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
        "\nSubscribeToShard (HTTP/2), put acknowledged → record decoded by the subscriber, {fanout_samples} records one at a time: p50 {:.2} ms, p99 {:.2} ms",
        fanout_p50.as_secs_f64() * 1000.0,
        fanout_p99.as_secs_f64() * 1000.0
    );
    println!(
        "\nkinlocal RSS: idle {:.1} MiB; holding {stored} records ({:.0} MiB of payload incl. partition keys): {:.0} MiB ({:.2}× payload)",
        idle as f64 / 1024.0,
        payload_bytes as f64 / 1048576.0,
        full as f64 / 1024.0,
        (full as f64 * 1024.0) / payload_bytes as f64
    );
}
