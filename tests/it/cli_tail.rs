//! `kinlocal tail` through the real binary: the `tail --json > f; produce --from f` round trip,
//! filters, partition keys, counts, following, and its errors.

use std::io::Write as _;
use std::time::Duration;

use crate::support::{kinlocal, TestEngine};

fn run(engine: &TestEngine, args: &[&str]) -> std::process::Output {
    kinlocal()
        .args(args)
        .args(["--endpoint-url", &engine.endpoint])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("kinlocal runs")
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn tail_json_then_produce_from_reproduces_the_records() {
    let engine = TestEngine::start();
    ok(&run(&engine, &["create-stream", "src", "--shards", "2"]));
    ok(&run(
        &engine,
        &["produce", "--stream", "src", "--count", "50", "--seed", "7"],
    ));
    let captured = ok(&run(
        &engine,
        &["tail", "src", "--starting-position", "trim-horizon", "--json"],
    ));
    assert_eq!(captured.lines().count(), 50, "{captured}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("captured.ndjson");
    std::fs::write(&file, &captured).expect("write");

    ok(&run(&engine, &["create-stream", "dst", "--shards", "3"]));
    ok(&run(
        &engine,
        &[
            "produce",
            "--stream",
            "dst",
            "--from",
            file.to_str().expect("utf-8"),
        ],
    ));
    let replayed = ok(&run(
        &engine,
        &["tail", "dst", "--starting-position", "trim-horizon", "--json"],
    ));
    assert_eq!(
        sorted_lines(&replayed),
        sorted_lines(&captured),
        "the same records, byte for byte"
    );
}

#[test]
fn filters_partition_keys_shards_and_counts() {
    let engine = TestEngine::start();
    ok(&run(&engine, &["create-stream", "ev", "--shards", "2"]));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("in.ndjson");
    let mut f = std::fs::File::create(&file).expect("create");
    for i in 0..10 {
        let kind = if i % 2 == 0 { "order" } else { "click" };
        writeln!(f, r#"{{"type":"{kind}","n":{i}}}"#).expect("write");
    }
    drop(f);
    let path = file.to_str().expect("utf-8");
    ok(&run(
        &engine,
        &["produce", "--stream", "ev", "--from", path, "-k", "field:type"],
    ));
    let all = ["tail", "ev", "--starting-position", "trim-horizon", "--json"];

    let orders = ok(&run(
        &engine,
        &[&all[..], &["--filter", r#"{"data":{"type":["order"]}}"#]].concat(),
    ));
    assert_eq!(orders.lines().count(), 5, "{orders}");
    assert!(
        orders.lines().all(|l| l.contains(r#""type":"order""#)),
        "{orders}"
    );
    assert!(
        orders.starts_with(r#"{"type":"order","n":0}"#),
        "per-shard order kept: {orders}"
    );

    let clicks = ok(&run(&engine, &[&all[..], &["--partition-key", "click"]].concat()));
    assert_eq!(clicks.lines().count(), 5, "{clicks}");
    assert!(clicks.lines().all(|l| l.contains("click")), "{clicks}");

    let three = ok(&run(&engine, &[&all[..], &["--count", "3"]].concat()));
    assert_eq!(three.lines().count(), 3, "{three}");

    let by_shard: usize = ["0", "shardId-000000000001"]
        .iter()
        .map(|s| {
            ok(&run(&engine, &[&all[..], &["--shard", s]].concat()))
                .lines()
                .count()
        })
        .sum();
    assert_eq!(by_shard, 10, "the two shards hold all the records");

    let b64 = ok(&run(
        &engine,
        &[
            "tail",
            "ev",
            "--starting-position",
            "trim-horizon",
            "--base64",
            "--count",
            "1",
        ],
    ));
    assert!(b64.starts_with("eyJ0eXBlIjoi"), "{b64}");
}

#[test]
fn follow_prints_records_put_after_it_started() {
    let engine = TestEngine::start();
    ok(&run(&engine, &["create-stream", "live"]));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args([
            "tail",
            "live",
            "-f",
            "--json",
            "--count",
            "2",
            "--endpoint-url",
            &engine.endpoint,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tail");
    // LATEST is taken when tail starts: give it that moment before putting.
    std::thread::sleep(Duration::from_millis(1500));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("two.ndjson");
    std::fs::write(&file, "{\"a\":1}\n{\"a\":2}\n").expect("write");
    ok(&run(
        &engine,
        &[
            "produce",
            "--stream",
            "live",
            "--from",
            file.to_str().expect("utf-8"),
        ],
    ));
    let out = child.wait_with_output().expect("tail ends after 2 records");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"a\":1}\n{\"a\":2}\n");
}

#[test]
fn a_missing_stream_or_shard_is_a_usage_error() {
    let engine = TestEngine::start();
    let out = run(&engine, &["tail", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stream 'nope' does not exist"));
    ok(&run(&engine, &["create-stream", "one"]));
    let out = run(&engine, &["tail", "one", "--shard", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no shard shardId-000000000007"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&engine, &["tail", "one", "--after-sequence-number", "1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--after-sequence-number needs --shard"
    );
}
