//! `kinlocal event` prints the event `consume` delivers, byte for byte but for the sequence
//! number and arrival time it cannot know.

use std::time::Duration;

use crate::support::{kinlocal, TestEngine};

/// Blanks what only a real stream knows: sequence numbers (also in `eventID`) and arrival.
fn normalized(event: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(event).expect("event JSON");
    for r in v["Records"].as_array_mut().expect("Records") {
        r["kinesis"]["sequenceNumber"] = "SEQ".into();
        r["kinesis"]["approximateArrivalTimestamp"] = 0.into();
        r["eventID"] = "ID".into();
    }
    v
}

#[test]
fn event_is_what_consume_delivers() {
    let engine = TestEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let captured = dir.path().join("captured.json");
    let handler = dir.path().join("capture.sh");
    std::fs::write(
        &handler,
        format!("#!/bin/sh\ncat > '{}'\necho '{{}}'\n", captured.display()),
    )
    .expect("handler");
    std::fs::set_permissions(&handler, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let input = dir.path().join("one.ndjson");
    std::fs::write(&input, "{\"order\":42,\"note\":\"é\"}\n").expect("input");
    let ep = engine.endpoint.as_str();
    let run = |args: &[&str]| {
        let out = kinlocal()
            .args(args)
            .args(["--endpoint-url", ep])
            .timeout(Duration::from_secs(60))
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&["create-stream", "orders"]);
    run(&[
        "produce",
        "--stream",
        "orders",
        "--from",
        input.to_str().expect("utf-8"),
        "-k",
        "key-1",
    ]);
    run(&[
        "consume",
        "--stream",
        "orders",
        "--exec",
        handler.to_str().expect("utf-8"),
        "--until-idle",
        "1s",
    ]);
    let delivered = std::fs::read(&captured).expect("the handler got an event");

    let out = kinlocal()
        .args([
            "event",
            "--stream",
            "orders",
            "--partition-key",
            "key-1",
            "--records-from",
        ])
        .arg(&input)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(normalized(&out.stdout), normalized(&delivered));
    // The same bytes, not just the same JSON: field order and number formatting too.
    let ours = String::from_utf8_lossy(&out.stdout);
    let theirs = String::from_utf8_lossy(&delivered);
    let strip = |s: &str| {
        let a = s.find(r#""sequenceNumber""#).expect("seq");
        let b = s.find(r#","data""#).expect("data");
        let c = s.find(r#","approximateArrivalTimestamp""#).expect("ts");
        let d = s.find(r#"},"eventSource""#).expect("end");
        format!(
            "{}{}{}",
            &s[..a],
            &s[b..c],
            &s[d..s.find(r#""eventID""#).expect("id")]
        )
    };
    assert_eq!(strip(ours.trim_end()), strip(theirs.trim_end()));
}

#[test]
fn event_random_is_reproducible_and_windows_have_an_envelope() {
    let run = |args: &[&str]| {
        let out = kinlocal().args(args).output().expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let a = normalized(run(&["event", "--random", "3", "--seed", "9"]).as_bytes());
    let b = normalized(run(&["event", "--random", "3", "--seed", "9"]).as_bytes());
    assert_eq!(a, b);
    assert_eq!(a["Records"].as_array().map(Vec::len), Some(3));
    let w: serde_json::Value =
        serde_json::from_str(&run(&["event", "--record", "{}", "--tumbling-window", "1m"])).expect("json");
    assert_eq!(w["isFinalInvokeForWindow"], false);
    assert_eq!(w["state"], serde_json::json!({}));
    assert_eq!(w["shardId"], "shardId-000000000000");
}

/// `tail --json | kinlocal event --records-from -`: the record lines keep their partition keys
/// and data (binary too); `--partition-key` still wins when given.
#[test]
fn event_reads_the_record_lines_tail_prints() {
    let lines = concat!(
        r#"{"ShardId":"shardId-000000000001","SequenceNumber":"1","ApproximateArrivalTimestamp":1.5,"PartitionKey":"user-9","Data":"/wB7fQ=="}"#,
        "\n",
        r#"{"PartitionKey":"user-3","Data":"eyJhIjoxfQ=="}"#,
        "\n"
    );
    let run = |extra: &[&str]| {
        let out = kinlocal()
            .args(["event", "--records-from", "-"])
            .args(extra)
            .write_stdin(lines)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("event JSON")
    };
    let e = run(&[]);
    let records = e["Records"].as_array().expect("Records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["kinesis"]["partitionKey"], "user-9");
    assert_eq!(records[0]["kinesis"]["data"], "/wB7fQ==");
    assert_eq!(records[1]["kinesis"]["partitionKey"], "user-3");
    assert_eq!(records[1]["kinesis"]["data"], "eyJhIjoxfQ==");
    let e = run(&["--partition-key", "fixed"]);
    assert_eq!(e["Records"][1]["kinesis"]["partitionKey"], "fixed");
}
