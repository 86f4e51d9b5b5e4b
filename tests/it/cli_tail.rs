//! `kinlocal tail` through the real binary: the `tail --json > f; produce --from f` round trip
//! (every field a record line carries), following across reshards, filters, partition keys,
//! counts, and its errors.

use std::io::{BufRead as _, Write as _};
use std::time::Duration;

use base64::Engine as _;

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

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A record line as `produce --from` replays it.
fn record_line(key: &str, data: &[u8], hash_key: Option<&str>) -> String {
    let mut v = serde_json::json!({"PartitionKey": key, "Data": b64(data)});
    if let Some(h) = hash_key {
        v["ExplicitHashKey"] = h.into();
    }
    v.to_string()
}

/// The record lines `tail --json` printed, parsed.
fn parsed(lines: &str) -> Vec<serde_json::Value> {
    lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Per shard, in order: (PartitionKey, Data) of each record.
fn by_shard(records: &[serde_json::Value]) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut out = std::collections::BTreeMap::<String, Vec<(String, String)>>::new();
    for r in records {
        out.entry(r["ShardId"].as_str().expect("ShardId").to_string())
            .or_default()
            .push((
                r["PartitionKey"].as_str().expect("PartitionKey").to_string(),
                r["Data"].as_str().expect("Data").to_string(),
            ));
    }
    out
}

#[test]
fn tail_json_then_produce_from_reproduces_the_records() {
    let engine = TestEngine::start();
    ok(&run(&engine, &["create-stream", "src", "--shards", "2"]));
    // Binary and JSON data, five keys, written as record lines so the keys are ours.
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.ndjson");
    let mut lines = Vec::new();
    let mut sent = Vec::new();
    for i in 0..40u8 {
        let key = format!("user-{}", i % 5);
        let data = if i % 2 == 0 {
            vec![i, 0xff, 0x00, b'\n', 0x80]
        } else {
            format!(r#"{{"n": {i}, "note": "é"}}"#).into_bytes()
        };
        lines.push(record_line(&key, &data, None));
        sent.push((key, b64(&data)));
    }
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    ok(&run(
        &engine,
        &[
            "produce",
            "--stream",
            "src",
            "--from",
            input.to_str().expect("utf-8"),
        ],
    ));

    let captured = ok(&run(
        &engine,
        &["tail", "src", "--starting-position", "trim-horizon", "--json"],
    ));
    let first = parsed(&captured);
    assert_eq!(first.len(), 40, "{captured}");
    for r in &first {
        let keys: Vec<&str> = r
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "ShardId",
                "SequenceNumber",
                "ApproximateArrivalTimestamp",
                "PartitionKey",
                "Data"
            ]
        );
        assert!(r["ApproximateArrivalTimestamp"].as_f64().expect("seconds") > 1.0e9);
    }
    // What was sent, key by key in order, is what tail read.
    let mut read: Vec<(String, String)> = first
        .iter()
        .map(|r| {
            (
                r["PartitionKey"].as_str().expect("key").into(),
                r["Data"].as_str().expect("data").into(),
            )
        })
        .collect();
    let mut expected = sent.clone();
    read.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(read, expected, "per-key order and every byte kept");

    // The round trip: the captured file replayed into a stream of the same shape.
    let file = dir.path().join("captured.ndjson");
    std::fs::write(&file, &captured).expect("write");
    ok(&run(&engine, &["create-stream", "dst", "--shards", "2"]));
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
    let replayed = parsed(&ok(&run(
        &engine,
        &["tail", "dst", "--starting-position", "trim-horizon", "--json"],
    )));
    assert_eq!(
        by_shard(&replayed),
        by_shard(&first),
        "the same records, keys and data in the same shards in the same order"
    );
    // ExplicitHashKey in a record line picks the shard, whatever the key's MD5 says.
    let pinned = dir.path().join("pinned.ndjson");
    let max = u128::MAX.to_string();
    std::fs::write(
        &pinned,
        format!(
            "{}\n{}\n",
            record_line("same", b"{}", Some("0")),
            record_line("same", b"[]", Some(&max))
        ),
    )
    .expect("write");
    ok(&run(&engine, &["create-stream", "pin", "--shards", "2"]));
    ok(&run(
        &engine,
        &[
            "produce",
            "--stream",
            "pin",
            "--from",
            pinned.to_str().expect("utf-8"),
        ],
    ));
    let shards: Vec<String> = parsed(&ok(&run(
        &engine,
        &["tail", "pin", "--starting-position", "trim-horizon", "--json"],
    )))
    .iter()
    .map(|r| {
        format!(
            "{}={}",
            r["ShardId"].as_str().expect("shard"),
            r["Data"].as_str().expect("data")
        )
    })
    .collect();
    assert_eq!(
        sorted_lines(&shards.join("\n")),
        ["shardId-000000000000=e30=", "shardId-000000000001=W10="]
    );
}

/// A file's first line decides its form: a data line among record lines is refused before
/// anything is sent, with its line number (exit 2).
#[test]
fn a_data_line_among_record_lines_is_a_usage_error() {
    let engine = TestEngine::start();
    ok(&run(&engine, &["create-stream", "mixed"]));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("mixed.ndjson");
    std::fs::write(&file, format!("{}\n{{\"a\":1}}\n", record_line("k", b"{}", None))).expect("write");
    let out = run(
        &engine,
        &[
            "produce",
            "--stream",
            "mixed",
            "--from",
            file.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: unknown field `a`"), "{err}");
    assert!(err.contains("line 1 is a record line"), "{err}");
    let left = ok(&run(
        &engine,
        &["tail", "mixed", "--starting-position", "trim-horizon"],
    ));
    assert_eq!(left, "", "nothing was sent");
}

/// `tail -f` keeps reading across reshards: the new shards of UpdateShardCount and the
/// children of a split, each after its parents, so every record comes out once and each key's
/// records in the order they were put.
#[test]
fn follow_reads_the_shards_a_reshard_creates() {
    let engine = TestEngine::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let k = rt.block_on(engine.kinesis());
    ok(&run(&engine, &["create-stream", "rs", "--shards", "2"]));
    let dir = tempfile::tempdir().expect("tempdir");
    let put_phase = |phase: u32| {
        let file = dir.path().join(format!("phase{phase}.ndjson"));
        let lines: Vec<String> = (0..8)
            .map(|n| {
                record_line(
                    &format!("k{}", n % 4),
                    format!(r#"{{"phase":{phase},"n":{n}}}"#).as_bytes(),
                    None,
                )
            })
            .collect();
        std::fs::write(&file, lines.join("\n") + "\n").expect("write");
        ok(&run(
            &engine,
            &[
                "produce",
                "--stream",
                "rs",
                "--from",
                file.to_str().expect("utf-8"),
            ],
        ));
    };
    put_phase(1);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args([
            "tail",
            "rs",
            "-f",
            "--starting-position",
            "trim-horizon",
            "--json",
            "--count",
            "24",
            "--endpoint-url",
            &engine.endpoint,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tail");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut got: Vec<serde_json::Value> = Vec::new();
    let mut take = |n: usize, what: &str| {
        for _ in 0..n {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("{what}: tail printed {} record(s) in all", got.len()));
            got.push(serde_json::from_str(&line).expect("a record line"));
        }
    };
    take(8, "before any reshard");

    // UpdateShardCount: both shards close, new ones take over.
    rt.block_on(
        k.update_shard_count()
            .stream_name("rs")
            .target_shard_count(3)
            .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
            .send(),
    )
    .expect("update shard count");
    put_phase(2);
    take(8, "after UpdateShardCount");

    // SplitShard of one of the new shards.
    let shards = rt
        .block_on(k.list_shards().stream_name("rs").send())
        .expect("list shards");
    let open = shards
        .shards()
        .iter()
        .find(|s| {
            s.sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_none()
        })
        .expect("an open shard");
    let range = open.hash_key_range().expect("range");
    let lo: u128 = range.starting_hash_key().parse().expect("start");
    let hi: u128 = range.ending_hash_key().parse().expect("end");
    rt.block_on(
        k.split_shard()
            .stream_name("rs")
            .shard_to_split(open.shard_id())
            .new_starting_hash_key((lo + (hi - lo) / 2 + 1).to_string())
            .send(),
    )
    .expect("split");
    put_phase(3);
    take(8, "after SplitShard");
    let status = child.wait().expect("tail ends after --count 24");
    assert!(status.success());

    let shards_seen: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|r| r["ShardId"].as_str().expect("shard"))
        .collect();
    assert!(
        shards_seen.len() >= 4,
        "read the old and the new shards: {shards_seen:?}"
    );
    let mut per_key = std::collections::BTreeMap::<String, Vec<(u64, u64)>>::new();
    for r in &got {
        let data = base64::engine::general_purpose::STANDARD
            .decode(r["Data"].as_str().expect("data"))
            .expect("base64");
        let v: serde_json::Value = serde_json::from_slice(&data).expect("json");
        per_key
            .entry(r["PartitionKey"].as_str().expect("key").to_string())
            .or_default()
            .push((v["phase"].as_u64().expect("phase"), v["n"].as_u64().expect("n")));
    }
    assert_eq!(per_key.len(), 4);
    for (key, order) in per_key {
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "{key}: in the order put, parents before children");
        assert_eq!(order.len(), 6, "{key}: each record once");
    }
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
    // Not a terminal, no --json: each record's data as it is, one per line.
    let all = ["tail", "ev", "--starting-position", "trim-horizon"];

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
