//! The `FilterCriteria` matcher alone: 1,000,000 Kinesis records with small JSON payloads
//! (plus some non-JSON ones) against 5 patterns using most operators, as Lambda would apply
//! them before batching. Target: at most 1 µs per record. Figures in BENCHMARKS.md.
//!
//! `cargo bench --bench filter` (release). Knob: KINLOCAL_BENCH_RECORDS (default 1000000).
//! Prints wall time and, on Linux, the CPU time the matching thread got
//! (`/proc/thread-self/schedstat`): on a shared machine the wall time mostly measures the
//! other tenants.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use std::time::Instant;

use kinlocal::esm::filter::{FilterCriteria, RecordView, DEFAULT_MAX_FILTERS};

const PATTERNS: [&str; 5] = [
    r#"{"data": {"order": {"type": ["buy"], "quantity": [{"numeric": [">", 900]}]}}}"#,
    r#"{"data": {"customer": {"region": [{"prefix": "eu-"}]}, "status": [{"anything-but": ["cancelled", "void"]}]}}"#,
    r#"{"data": {"sku": [{"wildcard": "SKU-*-9"}], "tags": ["urgent"]}}"#,
    r#"{"data": {"$or": [{"priority": [{"numeric": [">=", 9]}]}, {"vip": [true]}]}}"#,
    r#"{"partitionKey": [{"prefix": "audit-"}], "data": {"source": [{"equals-ignore-case": "LEDGER"}]}}"#,
];

/// Nanoseconds this thread has run on a CPU (Linux), if known.
fn thread_cpu_ns() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() {
    let n: usize = std::env::var("KINLOCAL_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let criteria = FilterCriteria::compile(&PATTERNS, DEFAULT_MAX_FILTERS).unwrap();
    let types = ["buy", "sell", "hold"];
    let regions = ["eu-west-1", "us-east-1", "ap-south-1"];
    let statuses = ["open", "cancelled", "shipped", "void"];
    let records: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let pk = if i % 50 == 0 { format!("audit-{i}") } else { format!("user-{}", i % 997) };
            let data = if i % 100 == 7 {
                format!("plain text line {i}").into_bytes()
            } else {
                format!(
                    r#"{{"order":{{"type":"{}","quantity":{}}},"customer":{{"id":{},"region":"{}"}},"status":"{}","sku":"SKU-{}-{}","tags":["x","{}"],"priority":{},"vip":{},"source":"{}"}}"#,
                    types[i % 3],
                    i % 1000,
                    i,
                    regions[i % 3],
                    statuses[i % 4],
                    i % 13,
                    i % 10,
                    if i % 5 == 0 { "urgent" } else { "later" },
                    i % 10,
                    i % 17 == 0,
                    if i % 2 == 0 { "ledger" } else { "web" },
                )
                .into_bytes()
            };
            (pk, data)
        })
        .collect();
    let bytes: usize = records.iter().map(|(_, d)| d.len()).sum();
    let mut passed = 0_usize;
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    for (i, (pk, data)) in records.iter().enumerate() {
        let seq = "49590338271490256608559692538361571095921575989136588898";
        let view = RecordView {
            data,
            partition_key: pk,
            sequence_number: seq,
            arrival_ms: 1_700_000_000_000 + i64::try_from(i).unwrap(),
            shard_id: "shardId-000000000000",
            role_arn: "arn:aws:iam::000000000000:role/lambda-role",
            region: "us-east-1",
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/bench",
        };
        if criteria.matches(&view) {
            passed += 1;
        }
    }
    let elapsed = start.elapsed();
    let cpu = match (cpu_start, thread_cpu_ns()) {
        #[allow(clippy::cast_precision_loss)]
        (Some(a), Some(b)) => format!(
            "; CPU {:.3} s, {:.0} ns/record",
            (b - a) as f64 / 1e9,
            (b - a) as f64 / n as f64
        ),
        _ => String::new(),
    };
    #[allow(clippy::cast_precision_loss)]
    let per = elapsed.as_nanos() as f64 / n as f64;
    println!(
        "filter: {n} records ({} bytes avg) x {} patterns: wall {:.3} s, {per:.0} ns/record{cpu}; {passed} passed",
        bytes / n.max(1),
        PATTERNS.len(),
        elapsed.as_secs_f64()
    );
}
