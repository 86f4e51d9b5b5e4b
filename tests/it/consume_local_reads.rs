//! `kinlocal consume` against local endpoints that answer every GetRecords at once (no long
//! poll): the embedded engine with its long poll turned off (`serve --no-long-poll`, the
//! stand-in), and the real peers `up --docker`'s kind of endpoint is (kinesalite,
//! kinesis-mock). Reads go without the SDK through the consumer's sweeps thread, which holds a
//! read open itself by reading again on its grid of ticks; every record must arrive once, in
//! order per key, whether put before the consumer started or while it was idle. Against
//! kinlocal's engine, which holds reads itself, the sweeps thread must stay idle.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use kinlocal::engine::EngineConfig;

use crate::consume::{delivered, fixture, wait_for, Rig};
use crate::peers::Peer;
use crate::support::{create_stream, kinesis_client, TestEngine};

fn decode(data: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("b64");
    String::from_utf8(bytes).expect("utf8")
}

/// `consume` with the default polling (no `--poll-interval`), Kinesis at `kinesis_url`, the
/// lease table on the rig's engine.
fn consume(rig: &Rig, kinesis_url: &str, stream: &str) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args(["consume", "--stream", stream, "--exec", &fixture("capture.sh")])
        .args(["--until-idle", "3s", "--timeout", "30s"])
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_KINESIS", kinesis_url)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &rig.dynamodb_url)
        .env("AWS_REGION", "us-east-1")
        .env("KINLOCAL_STATE_DIR", rig.path("state"))
        .env("CAPTURE_FILE", rig.path("capture.jsonl"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(rig.path("consume.err")).expect("stderr file"))
        .spawn()
        .expect("spawn consume")
}

/// How many times the running process's thread named `name` has gone to sleep so far (Linux's
/// `voluntary_ctxt_switches`); `None` without such a thread.
fn thread_sleeps(pid: u32, name: &str) -> Option<u64> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .find(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|n| n.trim() == name))
        .and_then(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse().ok())
        })
}

async fn put_round(k: &aws_sdk_kinesis::Client, stream: &str, round: usize) {
    for key in ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"] {
        k.put_record()
            .stream_name(stream)
            .partition_key(key)
            .data(Blob::new(format!("{key}:{round:04}")))
            .send()
            .await
            .expect("put");
    }
}

/// How the consumer's reads are expected to be made.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Reads {
    /// Held open by the endpoint (kinlocal's engine): the sweeps thread never runs.
    HeldByTheEndpoint,
    /// Answered at once: held by the consumer's sweeps thread, which wakes every tick.
    Swept,
}

/// Puts 4 rounds, starts the consumer, waits for them, puts 4 more one round at a time with
/// idle gaps; then checks every record arrived once, each key's in order, and that the reads
/// were made the way `reads` says.
fn every_record_once_in_order(
    rig: &Rig,
    k: &aws_sdk_kinesis::Client,
    kinesis_url: &str,
    stream: &str,
    reads: Reads,
) {
    rig.rt.block_on(create_stream(k, stream, 3));
    for round in 0..4 {
        rig.rt.block_on(put_round(k, stream, round));
    }
    let mut child = consume(rig, kinesis_url, stream);
    let stderr = || std::fs::read_to_string(rig.path("consume.err")).unwrap_or_default();
    wait_for("the first 24 records", Duration::from_secs(30), || {
        delivered(&rig.captured()).len() >= 24
    });
    // The reads go through the read threads, not the SDK (which would pass this test as well).
    assert!(
        thread_sleeps(child.id(), "kinlocal-reads").is_some(),
        "a kinlocal-reads thread in the consumer"
    );
    for round in 4..8 {
        // Idle long enough for reads to be held open on every shard.
        std::thread::sleep(Duration::from_millis(200));
        rig.rt.block_on(put_round(k, stream, round));
    }
    // Swept reads wake the sweeps thread about every 10 ms; reads held by the endpoint never
    // do (it sleeps once, waiting for work that does not come).
    let sleeps = thread_sleeps(child.id(), "kinlocal-sweeps").expect("a kinlocal-sweeps thread");
    match reads {
        Reads::Swept => assert!(sleeps >= 50, "the sweeps thread ran: {sleeps} sleeps"),
        Reads::HeldByTheEndpoint => assert!(sleeps <= 2, "the sweeps thread stayed idle: {sleeps} sleeps"),
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "consume: {}", stderr());
    let got = delivered(&rig.captured());
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for (_, data) in &got {
        let text = decode(data);
        let (key, n) = text.split_once(':').expect("key:n");
        by_key.entry(key.to_string()).or_default().push(n.to_string());
    }
    assert_eq!(
        got.len(),
        48,
        "every record exactly once: {by_key:?}\n{}",
        stderr()
    );
    let expected: Vec<String> = (0..8).map(|r| format!("{r:04}")).collect();
    for (key, seen) in by_key {
        assert_eq!(seen, expected, "{key}: in put order");
    }
    assert!(
        !stderr().contains("GetRecords failed"),
        "no read failed: {}",
        stderr()
    );
}

#[test]
fn every_record_is_read_from_an_endpoint_that_answers_at_once() {
    let rig = Rig::with_engine(TestEngine::start_with(EngineConfig {
        long_polls: false,
        ..EngineConfig::default()
    }));
    let url = rig.engine.endpoint.clone();
    let k = rig.kinesis.clone();
    every_record_once_in_order(&rig, &k, &url, "at-once", Reads::Swept);
}

/// Answers of several megabytes come in many reads: each record arrives whole, once.
#[test]
fn large_pages_are_read_whole_from_an_endpoint_that_answers_at_once() {
    let rig = Rig::with_engine(TestEngine::start_with(EngineConfig {
        long_polls: false,
        ..EngineConfig::default()
    }));
    let (url, k) = (rig.engine.endpoint.clone(), rig.kinesis.clone());
    rig.rt.block_on(create_stream(&k, "large", 1));
    let mut child = consume(&rig, &url, "large");
    // Put once the sweeps hold the shard's reads (the first read of a shard is not theirs).
    wait_for("the sweeps to start", Duration::from_secs(20), || {
        thread_sleeps(child.id(), "kinlocal-sweeps").is_some_and(|n| n >= 20)
    });
    // 6 records of 700 KB in one PutRecords: one GetRecords page of about 5.6 MB of base64.
    let records: Vec<String> = (0..6u8).map(|i| format!("{i}").repeat(700 * 1024)).collect();
    let entries = records.iter().map(|r| {
        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
            .partition_key("k")
            .data(Blob::new(r.clone()))
            .build()
            .expect("entry")
    });
    let put = rig
        .rt
        .block_on(
            k.put_records()
                .stream_name("large")
                .set_records(Some(entries.collect()))
                .send(),
        )
        .expect("put");
    assert_eq!(put.failed_record_count(), Some(0));
    let status = child.wait().expect("wait");
    let stderr = std::fs::read_to_string(rig.path("consume.err")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "consume: {stderr}");
    let got: Vec<String> = delivered(&rig.captured())
        .iter()
        .map(|(_, data)| decode(data))
        .collect();
    assert_eq!(got.len(), records.len(), "{stderr}");
    assert!(got == records, "every record whole and in order");
    assert!(!stderr.contains("GetRecords failed"), "{stderr}");
}

#[test]
fn reads_are_held_by_the_engine_when_it_long_polls() {
    let rig = Rig::new();
    let url = rig.engine.endpoint.clone();
    let k = rig.kinesis.clone();
    every_record_once_in_order(&rig, &k, &url, "held", Reads::HeldByTheEndpoint);
}

#[test]
#[ignore = "differential: needs the peer emulators (scripts/peers.sh install), run with --ignored"]
fn every_record_is_read_from_kinesalite_and_kinesis_mock() {
    for name in ["kinesalite", "kinesis-mock"] {
        let Some(peer) = Peer::start(name) else {
            return;
        };
        let rig = Rig::new();
        let k = rig.rt.block_on(kinesis_client(&peer.endpoint));
        every_record_once_in_order(&rig, &k, &peer.endpoint, &format!("{name}-reads"), Reads::Swept);
    }
}
