//! DynamoDB benchmark: the embedded engine in-process on 127.0.0.1, driven over HTTP/1.1
//! keep-alive by one raw client with pre-encoded requests (so the figures are the engine's,
//! not an SDK's signing and serialization).
//!
//! Measures (1) a `Query` page on a global secondary index over a 100,000-item table
//! (`BENCH_ITEMS`), a page of 100 items from a 1,000-item index partition and the KCL's
//! "leases of one worker" (10 items, KEYS_ONLY index); (2) PutItem latency on a table
//! without indexes against one maintaining two GSIs (`BENCH_WRITES` each). Run with
//! `cargo bench --bench dynamodb`; figures go to BENCHMARKS.md.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One keep-alive connection; answers are read by Content-Length (the engine always sends it
/// for DynamoDB).
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// The full request bytes for `op` with `body`.
    fn encode(op: &str, body: &Json) -> Vec<u8> {
        let body = body.to_string();
        let mut req = format!(
            "POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.{op}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body.as_bytes());
        req
    }

    fn send_raw(&mut self, req: &[u8]) -> (u16, Vec<u8>) {
        self.stream.write_all(req).expect("write");
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
        let len = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            })
            .expect("content-length");
        self.buf.drain(..head_end + 4);
        while self.buf.len() < len {
            self.fill();
        }
        let rest = self.buf.split_off(len);
        (status, std::mem::replace(&mut self.buf, rest))
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk).expect("read");
        assert!(n > 0, "connection closed");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    fn call(&mut self, op: &str, body: Json) -> Json {
        let (status, bytes) = self.send_raw(&Self::encode(op, &body));
        let v: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        assert_eq!(status, 200, "{op}: {v}");
        v
    }
}

/// Starts the engine in-process; returns its address (the runtime lives for the process).
fn start_engine() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let engine: Arc<kinlocal::engine::Engine> =
                kinlocal::engine::Engine::open(kinlocal::engine::EngineConfig::default()).expect("engine");
            let (listener, addr) = kinlocal::engine::bind("127.0.0.1", 0).await.expect("bind");
            tx.send(addr.to_string()).expect("send");
            let _ = kinlocal::engine::run(listener, engine, std::future::pending::<()>()).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("engine started")
}

fn gsi(name: &str, hash: &str, range: &str, projection: &str) -> Json {
    json!({
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash, "KeyType": "HASH"}, {"AttributeName": range, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": projection},
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let p50 = percentile(&samples, 0.5);
    println!(
        "{label:<58} p50 {:>8.3} ms  p99 {:>8.3} ms  ({} samples)",
        p50.as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.len()
    );
    p50
}

fn load(c: &mut Conn, items: usize) {
    let started = Instant::now();
    for chunk in (0..items).collect::<Vec<_>>().chunks(25) {
        let reqs: Vec<Json> = chunk
            .iter()
            .map(|i| {
                json!({"PutRequest": {"Item": {
                    "leaseKey": {"S": format!("shardId-{i:012}")},
                    "leaseOwner": {"S": format!("worker-{}", i % 10_000)},
                    "customer": {"S": format!("c{}", i % 100)},
                    "amt": {"N": (i % 997).to_string()},
                    "checkpoint": {"S": "49590338271490256608559692538361571095921575989136588898"},
                    "leaseCounter": {"N": "1"},
                }}})
            })
            .collect();
        c.call("BatchWriteItem", json!({"RequestItems": {"leases": reqs}}));
    }
    println!(
        "loaded {items} items (BatchWriteItem, 2 GSIs) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

fn timed(c: &mut Conn, reqs: &[Vec<u8>]) -> Vec<Duration> {
    reqs.iter()
        .map(|r| {
            let t = Instant::now();
            let (status, _) = c.send_raw(r);
            let d = t.elapsed();
            assert_eq!(status, 200);
            d
        })
        .collect()
}

fn main() {
    let items = env_usize("BENCH_ITEMS", 100_000);
    let writes = env_usize("BENCH_WRITES", 20_000);
    let addr = start_engine();
    let mut c = Conn::open(&addr);

    c.call(
        "CreateTable",
        json!({
            "TableName": "leases", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "leaseKey", "AttributeType": "S"},
                {"AttributeName": "leaseOwner", "AttributeType": "S"},
                {"AttributeName": "customer", "AttributeType": "S"},
                {"AttributeName": "amt", "AttributeType": "N"},
            ],
            "GlobalSecondaryIndexes": [
                gsi("LeaseOwnerToLeaseKeyIndex", "leaseOwner", "leaseKey", "KEYS_ONLY"),
                gsi("byCustomer", "customer", "amt", "ALL"),
            ],
        }),
    );
    load(&mut c, items);

    println!("\n# Query on a GSI over a {items}-item table");
    let page: Vec<Vec<u8>> = (0..2_000)
        .map(|i| {
            Conn::encode(
                "Query",
                &json!({"TableName": "leases", "IndexName": "byCustomer", "Limit": 100,
                        "KeyConditionExpression": "customer = :c AND amt > :a",
                        "ExpressionAttributeValues": {":c": {"S": format!("c{}", i % 100)}, ":a": {"N": "10"}}}),
            )
        })
        .collect();
    timed(&mut c, &page[..200]);
    let p50_page = report(
        "Query byCustomer (ALL), page of 100 of ~1,000",
        timed(&mut c, &page),
    );
    let worker: Vec<Vec<u8>> = (0..2_000)
        .map(|i| {
            Conn::encode(
                "Query",
                &json!({"TableName": "leases", "IndexName": "LeaseOwnerToLeaseKeyIndex",
                        "KeyConditionExpression": "leaseOwner = :o",
                        "ExpressionAttributeValues": {":o": {"S": format!("worker-{}", (i * 7) % 10_000)}}}),
            )
        })
        .collect();
    let p50_worker = report(
        "Query LeaseOwnerToLeaseKeyIndex (KEYS_ONLY), 10 leases",
        timed(&mut c, &worker),
    );

    println!("\n# PutItem: a table without indexes vs one maintaining two GSIs");
    c.call(
        "CreateTable",
        json!({
            "TableName": "plain", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
        }),
    );
    let puts = |table: &str| -> Vec<Vec<u8>> {
        (0..writes)
            .map(|i| {
                Conn::encode(
                    "PutItem",
                    &json!({"TableName": table, "Item": {
                        "leaseKey": {"S": format!("shardId-{:012}", i % 50_000)},
                        "leaseOwner": {"S": format!("worker-{}", (i * 13) % 10_000)},
                        "customer": {"S": format!("c{}", (i * 7) % 100)},
                        "amt": {"N": (i % 991).to_string()},
                        "checkpoint": {"S": "49590338271490256608559692538361571095921575989136588898"},
                        "leaseCounter": {"N": i.to_string()},
                    }}),
                )
            })
            .collect()
    };
    // The plain table takes the same writes once first, so both answer replacements of existing items.
    let plain = puts("plain");
    timed(&mut c, &plain);
    let indexed = puts("leases");
    let mut plain_samples = Vec::new();
    let mut indexed_samples = Vec::new();
    // Interleaved rounds, so drift in the machine's load hits both alike.
    for round in 0..4 {
        let part = writes / 4;
        let range = round * part..(round + 1) * part;
        plain_samples.extend(timed(&mut c, &plain[range.clone()]));
        indexed_samples.extend(timed(&mut c, &indexed[range]));
    }
    let mean = |v: &[Duration]| v.iter().sum::<Duration>().as_secs_f64() / v.len() as f64 * 1e3;
    let (plain_mean, indexed_mean) = (mean(&plain_samples), mean(&indexed_samples));
    let p50_plain = report("PutItem, no index", plain_samples);
    let p50_indexed = report("PutItem, two GSIs maintained", indexed_samples);
    println!(
        "\nGSI page p50 {:.3} ms (target <= 1 ms); worker leases p50 {:.3} ms",
        p50_page.as_secs_f64() * 1e3,
        p50_worker.as_secs_f64() * 1e3
    );
    println!(
        "write with two GSIs / without: p50 {:.2}x, mean {:.2}x (target <= 2x)",
        p50_indexed.as_secs_f64() / p50_plain.as_secs_f64(),
        indexed_mean / plain_mean
    );
}
