//! `kinlocal produce` against the embedded engine, read back with GetRecords: count and
//! content, spread over shards, per-key order with `field:`, byte-for-byte replay, `--seed`
//! reproducibility, rate accuracy, resends under `--enforce-limits` with no loss and no
//! duplicates, Ctrl+C, and the error messages.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use kinlocal::engine::EngineConfig;

use crate::support::{kinlocal, read_shard, TestEngine};

/// A record read back: shard, partition key, data, arrival (ms).
#[derive(Debug, Clone)]
struct Got {
    shard: String,
    key: String,
    data: Vec<u8>,
    arrival_ms: i64,
}

/// Every record of every shard of `stream`, each shard in sequence order.
async fn read_all(engine: &TestEngine, stream: &str) -> Vec<Got> {
    let k = engine.kinesis().await;
    let shards = k
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .expect("list shards");
    let mut out = Vec::new();
    for shard in shards.shards() {
        for r in read_shard(&k, stream, shard.shard_id()).await {
            out.push(Got {
                shard: shard.shard_id().to_string(),
                key: r.partition_key().unwrap_or_default().to_string(),
                data: r.data().as_ref().to_vec(),
                arrival_ms: r
                    .approximate_arrival_timestamp()
                    .map_or(0, |t| t.to_millis().unwrap_or(0)),
            });
        }
    }
    out
}

fn produce(engine: &TestEngine, args: &[&str]) -> std::process::Output {
    kinlocal()
        .arg("produce")
        .args(args)
        .args(["--endpoint-url", &engine.endpoint])
        .output()
        .expect("runs")
}

fn summary(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(data: &[u8]) -> serde_json::Value {
    serde_json::from_slice(data).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(data)))
}

#[tokio::test]
async fn random_events_arrive_complete_valid_and_evenly_spread() {
    let engine = TestEngine::start();
    let out = produce(&engine, &["--shards", "3", "--count", "3001", "--json"]);
    let s = summary(&out);
    assert_eq!(s["records"], 3001);
    assert_eq!(s["stream"], "kinlocal");
    let per_shard: BTreeMap<String, u64> = serde_json::from_value(s["shards"].clone()).expect("shards map");
    assert_eq!(per_shard.len(), 3);
    assert!(
        per_shard.values().all(|n| *n == 1000 || *n == 1001),
        "{per_shard:?}"
    );
    assert_eq!(s["retries"], 0);
    assert!(s["elapsed_seconds"].as_f64().is_some_and(|e| e > 0.0));
    assert!(s["records_per_second"].as_f64().is_some_and(|r| r > 0.0));

    let got = read_all(&engine, "kinlocal").await;
    assert_eq!(got.len(), 3001);
    let mut read_per_shard: BTreeMap<String, u64> = BTreeMap::new();
    let mut ids = HashSet::new();
    let mut types = HashSet::new();
    for g in &got {
        *read_per_shard.entry(g.shard.clone()).or_default() += 1;
        assert_eq!(g.data.len(), 200, "default records are 200 bytes");
        let v = json(&g.data);
        assert!(
            ids.insert(v["id"].as_str().expect("id").to_string()),
            "duplicate id"
        );
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert!(v["user"]["id"].is_string());
        assert!(v["amount"].is_number() && v["ok"].is_boolean());
        types.insert(v["type"].as_str().unwrap_or_default().to_string());
        assert_eq!(g.key.len(), 32, "random partition keys");
    }
    assert_eq!(
        read_per_shard, per_shard,
        "the summary matches what the shards hold"
    );
    assert!(types.len() >= 5, "event types vary: {types:?}");

    // Running it again with the same --shards reuses the stream.
    let again = produce(
        &engine,
        &["--shards", "3", "--count", "10", "--json", "--record-size", "500"],
    );
    assert_eq!(summary(&again)["records"], 10);
    let got = read_all(&engine, "kinlocal").await;
    assert_eq!(got.iter().filter(|g| g.data.len() == 500).count(), 10);
}

#[tokio::test]
async fn field_partition_key_keeps_per_key_order() {
    let engine = TestEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let tpl = dir.path().join("t.json");
    std::fs::write(
        &tpl,
        r#"{"user": {"id": "u-{{int 1 25}}"}, "seq": "{{counter}}", "note": "{{words 2}}"}"#,
    )
    .expect("write");
    let out = produce(
        &engine,
        &[
            "--shards",
            "3",
            "--count",
            "3000",
            "--json",
            "--template",
            tpl.to_str().expect("utf8"),
            "--partition-key",
            "field:user.id",
        ],
    );
    assert_eq!(summary(&out)["records"], 3000);
    let got = read_all(&engine, "kinlocal").await;
    assert_eq!(got.len(), 3000);
    let mut last: HashMap<String, (i64, String)> = HashMap::new();
    for g in &got {
        let v = json(&g.data);
        let user = v["user"]["id"].as_str().expect("user id").to_string();
        assert_eq!(g.key, user, "the partition key is the field");
        let seq = v["seq"].as_i64().expect("seq");
        if let Some((prev, shard)) = last.get(&user) {
            assert_eq!(shard, &g.shard, "one key, one shard");
            assert!(seq > *prev, "{user}: {seq} arrived after {prev}");
        }
        last.insert(user, (seq, g.shard.clone()));
    }
    assert_eq!(last.len(), 25);
    let seqs: HashSet<i64> = got.iter().filter_map(|g| json(&g.data)["seq"].as_i64()).collect();
    assert_eq!(seqs.len(), 3000, "counter runs 1..=3000 without gaps or repeats");
    assert_eq!(seqs.iter().min(), Some(&1));
}

#[tokio::test]
async fn replay_sends_lines_byte_for_byte_from_a_file_and_stdin() {
    let engine = TestEngine::start();
    let lines: Vec<&[u8]> = vec![
        br#"{"a":1}"#,
        br#"  {"spaced" :  [1, 2 ,3]  , "x": null}"#,
        "{\"unicode\":\"héllo ✓\",\"esc\":\"a\\\"b\\\\c\\u00e9\"}".as_bytes(),
        b"42",
        br#""just a string""#,
        br#"{"nested":{"deep":{"deeper":[{"k":true}]}}}"#,
    ];
    let mut file = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        file.extend_from_slice(l);
        // A CRLF line and a blank line: both are terminators/skipped, not data.
        file.extend_from_slice(if i == 2 { b"\r\n\n" } else { b"\n" });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.ndjson");
    std::fs::write(&path, &file).expect("write");

    let out = produce(
        &engine,
        &[
            "--shards",
            "1",
            "--from",
            path.to_str().expect("utf8"),
            "--partition-key",
            "replay",
            "--json",
        ],
    );
    assert_eq!(summary(&out)["records"], lines.len());
    let got = read_all(&engine, "kinlocal").await;
    let data: Vec<&[u8]> = got.iter().map(|g| g.data.as_slice()).collect();
    assert_eq!(data, lines, "bytes unchanged, in order");

    let out = kinlocal()
        .args([
            "produce", "--stream", "kinlocal", "--from", "-", "--json", "-k", "stdin",
        ])
        .args(["--endpoint-url", &engine.endpoint])
        .write_stdin(file)
        .output()
        .expect("runs");
    assert_eq!(summary(&out)["records"], lines.len());
    let got = read_all(&engine, "kinlocal").await;
    let from_stdin: Vec<&[u8]> = got
        .iter()
        .filter(|g| g.key == "stdin")
        .map(|g| g.data.as_slice())
        .collect();
    assert_eq!(from_stdin, lines);

    // --count limits a replay.
    let out = produce(
        &engine,
        &["--from", path.to_str().expect("utf8"), "--count", "2", "--json"],
    );
    assert_eq!(summary(&out)["records"], 2);
}

#[tokio::test]
async fn invalid_replay_line_is_reported_with_its_number_before_sending() {
    let engine = TestEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.ndjson");
    std::fs::write(&path, "{\"ok\":1}\n\n{\"ok\":2}\n{\"broken\": \n{\"ok\":3}\n").expect("write");
    let out = produce(
        &engine,
        &["--shards", "1", "--from", path.to_str().expect("utf8")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--from") && err.contains("line 4: not valid JSON"),
        "{err}"
    );
    let k = engine.kinesis().await;
    assert!(
        k.describe_stream_summary()
            .stream_name("kinlocal")
            .send()
            .await
            .is_err(),
        "checked before even creating the stream"
    );

    // From stdin the lines before the bad one are sent, then it stops with the line number.
    crate::support::create_stream(&k, "piped", 1).await;
    let out = kinlocal()
        .args(["produce", "--stream", "piped", "--from", "-"])
        .args(["--endpoint-url", &engine.endpoint])
        .write_stdin("{\"ok\":1}\nnot json\n{\"ok\":3}\n")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("line 2: not valid JSON"),
        "{}",
        stderr(&out)
    );
    let got = read_all(&engine, "piped").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"{\"ok\":1}");

    // A record over 1 MiB is rejected up front.
    let big = dir.path().join("big.ndjson");
    let mut line = b"{\"blob\":\"".to_vec();
    line.extend(std::iter::repeat_n(b'x', 1024 * 1024 + 10));
    line.extend(b"\"}\n");
    std::fs::write(&big, line).expect("write");
    let out = produce(
        &engine,
        &["--stream", "piped", "--from", big.to_str().expect("utf8")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("line 1") && stderr(&out).contains("1 MiB"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_all(&engine, "piped").await.len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn template_errors_have_line_and_column_and_nothing_is_sent() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    crate::support::create_stream(&k, "kinlocal", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let tpl = dir.path().join("tpl.json");
    std::fs::write(&tpl, "{\n  \"id\": \"{{uuid}}\",\n  \"n\": \"{{intt 1 5}}\"\n}\n").expect("write");
    let out = produce(
        &engine,
        &["--template", tpl.to_str().expect("utf8"), "--count", "5"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--template") && err.contains("tpl.json:3:9: unknown placeholder 'intt'"),
        "{err}"
    );
    std::fs::write(&tpl, "{\"a\": 1,,}").expect("write");
    let out = produce(
        &engine,
        &["--template", tpl.to_str().expect("utf8"), "--count", "5"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tpl.json:1:9:"), "{}", stderr(&out));
    assert!(read_all(&engine, "kinlocal").await.is_empty());

    // A good template renders typed values.
    std::fs::write(
        &tpl,
        r#"{"id":"{{uuid}}","n":"{{int 1 5}}","p":"{{float 0 1 3}}","c":"{{choice a|b}}","on":"{{bool}}","at":"{{timestamp}}","label":"item-{{counter}}"}"#,
    )
    .expect("write");
    let out = produce(
        &engine,
        &[
            "--template",
            tpl.to_str().expect("utf8"),
            "--count",
            "20",
            "--json",
        ],
    );
    assert_eq!(summary(&out)["records"], 20);
    for g in read_all(&engine, "kinlocal").await {
        let v = json(&g.data);
        assert!((1..=5).contains(&v["n"].as_i64().expect("int")));
        assert!(v["p"].is_f64() && v["on"].is_boolean());
        assert!(v["label"].as_str().is_some_and(|l| l.starts_with("item-")));
    }
}

#[tokio::test]
async fn seed_reproduces_records_and_keys_whatever_the_concurrency() {
    let engine = TestEngine::start();
    let run = |stream: &str, seed: &str, extra: &[&str]| {
        let mut args = vec![
            "--stream", stream, "--shards", "2", "--count", "1200", "--seed", seed, "--json",
        ];
        args.extend_from_slice(extra);
        summary(&produce(&engine, &args))
    };
    run("a", "42", &["--max-in-flight", "1"]);
    run("b", "42", &["--max-in-flight", "8", "--batch-size", "37"]);
    run("c", "43", &[]);
    let sorted = |v: Vec<Got>| {
        let mut v: Vec<(String, String, Vec<u8>)> = v.into_iter().map(|g| (g.shard, g.key, g.data)).collect();
        v.sort();
        v
    };
    let a = read_all(&engine, "a").await;
    // One request at a time: shard order is generation order; the virtual clock shows it.
    let shard0: Vec<String> = a
        .iter()
        .filter(|g| g.shard.ends_with('0'))
        .map(|g| {
            json(&g.data)["timestamp"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(shard0.windows(2).all(|w| w[0] <= w[1]));
    assert!(shard0[0].starts_with("2025-01-01T00:00:00"), "{}", shard0[0]);
    let a = sorted(a);
    let b = sorted(read_all(&engine, "b").await);
    let c = sorted(read_all(&engine, "c").await);
    assert_eq!(a.len(), 1200);
    assert_eq!(a, b, "same seed: same records, keys and shards");
    assert_ne!(a, c, "another seed: other records");
}

#[tokio::test]
async fn rate_is_held_within_five_percent() {
    let engine = TestEngine::start();
    let out = produce(
        &engine,
        &["--shards", "2", "--rate", "800", "--duration", "5s", "--json"],
    );
    let s = summary(&out);
    let n = s["records"].as_f64().expect("records");
    assert!((n - 4000.0).abs() <= 200.0, "{n} records in 5 s at 800/s");
    // Arrival times tell the same story, independent of the producer's own clock.
    let got = read_all(&engine, "kinlocal").await;
    assert_eq!(got.len() as f64, n);
    let first = got.iter().map(|g| g.arrival_ms).min().expect("records");
    let last = got.iter().map(|g| g.arrival_ms).max().expect("records");
    let rate = (n - 1.0) / ((last - first) as f64 / 1000.0);
    assert!((rate - 800.0).abs() <= 40.0, "measured {rate:.1} records/s");
    // And it is steady: no whole second in the middle is far off (loose bounds: on a loaded
    // 2-core machine a second can lag; the deadline pacing then catches up, which the
    // 5% checks above measure).
    let mut per_sec: BTreeMap<i64, u32> = BTreeMap::new();
    for g in &got {
        *per_sec.entry((g.arrival_ms - first) / 1000).or_default() += 1;
    }
    for sec in 1..4 {
        let c = f64::from(per_sec.get(&sec).copied().unwrap_or(0));
        assert!((c - 800.0).abs() <= 240.0, "second {sec}: {c} records");
    }
}

#[tokio::test]
async fn throttled_records_are_resent_without_loss_or_duplicates() {
    let engine = TestEngine::start_with(EngineConfig {
        enforce_limits: true,
        ..Default::default()
    });
    let out = produce(&engine, &["--shards", "1", "--count", "5000", "--json"]);
    let s = summary(&out);
    assert_eq!(s["records"], 5000);
    assert!(s["retries"].as_u64().is_some_and(|r| r > 0), "{s}");
    assert!(s["throttled"].as_u64().is_some_and(|r| r > 0), "{s}");
    let got = read_all(&engine, "kinlocal").await;
    let mut per_sec: BTreeMap<i64, u32> = BTreeMap::new();
    for g in &got {
        *per_sec.entry(g.arrival_ms / 1000).or_default() += 1;
    }
    assert!(
        per_sec.values().all(|n| *n <= 1000),
        "the engine held its 1,000 records/s and the producer kept resending: {per_sec:?}"
    );
    assert_eq!(got.len(), 5000, "none lost, none twice");
    let ids: HashSet<String> = got
        .iter()
        .map(|g| json(&g.data)["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 5000, "no duplicates");
}

#[tokio::test]
async fn fixed_key_keeps_order_under_throttling() {
    let engine = TestEngine::start_with(EngineConfig {
        enforce_limits: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let tpl = dir.path().join("t.json");
    std::fs::write(&tpl, r#"{"n":"{{counter}}","pad":"{{words 20}}"}"#).expect("write");
    let out = produce(
        &engine,
        &[
            "--shards",
            "1",
            "--count",
            "2500",
            "-k",
            "one-key",
            "--json",
            "--template",
            tpl.to_str().expect("utf8"),
        ],
    );
    let s = summary(&out);
    assert_eq!(s["records"], 2500);
    let got = read_all(&engine, "kinlocal").await;
    let ns: Vec<i64> = got.iter().filter_map(|g| json(&g.data)["n"].as_i64()).collect();
    assert_eq!(ns, (1..=2500).collect::<Vec<_>>());
}

#[tokio::test]
async fn ctrl_c_finishes_in_flight_batches_prints_the_summary_and_exits_0() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    crate::support::create_stream(&k, "kinlocal", 2).await;
    let bin = assert_cmd::cargo::cargo_bin("kinlocal");
    let child = std::process::Command::new(bin)
        .args([
            "produce",
            "--rate",
            "2000",
            "--json",
            "--endpoint-url",
            &engine.endpoint,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    let s = summary(&out);
    assert_eq!(s["interrupted"], true);
    let n = s["records"].as_u64().expect("records");
    assert!(n > 1000, "{n}");
    assert!(stderr(&out).contains("stopping after the requests in flight"));
    let got = read_all(&engine, "kinlocal").await;
    assert_eq!(
        got.len() as u64,
        n,
        "the summary counts exactly what was acknowledged"
    );
}

#[tokio::test]
async fn stream_problems_say_what_to_do() {
    let engine = TestEngine::start();
    let out = produce(&engine, &["--stream", "nope", "--count", "1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing stream: exit 2, as in consume"
    );
    let err = stderr(&out);
    assert!(
        err.contains("stream 'nope' does not exist") && err.contains("--shards N"),
        "{err}"
    );

    assert!(produce(&engine, &["--shards", "2", "--count", "1"])
        .status
        .success());
    let out = produce(&engine, &["--shards", "3", "--count", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("already exists with 2 shards"),
        "{}",
        stderr(&out)
    );

    let out = produce(&engine, &["--count", "5", "-k", "field:device.id"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("record 1 has no field 'device.id' (--partition-key field:device.id)"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_and_name_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tpl = dir.path().join("t.json");
    std::fs::write(&tpl, "{}").expect("write");
    let tpl = tpl.to_str().expect("utf8");
    let missing = dir.path().join("missing.ndjson");
    let missing = missing.to_str().expect("utf8");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--batch-size", "501"], "--batch-size"),
        (vec!["--batch-size", "0"], "--batch-size"),
        (vec!["--count", "5", "--duration", "1s"], "--duration"),
        (vec!["--count", "0"], "--count"),
        (vec!["--duration", "soon"], "--duration"),
        (vec!["--rate", "0"], "--rate"),
        (vec!["--partition-key", "field:"], "--partition-key"),
        (vec!["--partition-key", ""], "--partition-key"),
        (vec!["--template", tpl, "--from", "-"], "--from"),
        (vec!["--template", tpl, "--record-size", "300"], "--record-size"),
        (vec!["--template", "/nonexistent/t.json"], "--template"),
        (vec!["--from", missing], "--from"),
        (vec!["--shards", "0"], "--shards"),
    ];
    for (args, flag) in cases {
        let out = kinlocal()
            .arg("produce")
            .args(&args)
            .args(["--endpoint-url", "http://127.0.0.1:9"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
    }
}
