//! `consume --filter / --filter-file`: FilterCriteria end to end against the embedded engine
//! with the capturing handler: each operator, records checkpointed past when filtered out, a
//! restart after an all-filtered poll reading nothing again, invalid patterns refused (exit 2).

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::Value;

use crate::consume::{fixture, Rig};

/// The `id` of every delivered record's JSON data (non-JSON data as -1).
fn delivered_ids(rig: &Rig) -> Vec<i64> {
    rig.captured()
        .iter()
        .flat_map(|e| e["Records"].as_array().cloned().unwrap_or_default())
        .map(|r| {
            let b64 = r["kinesis"]["data"].as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["id"].as_i64())
                .unwrap_or(-1)
        })
        .collect()
}

fn checkpoint(rig: &Rig, app: &str) -> String {
    let items = rig.lease_items(app);
    assert_eq!(items.len(), 1, "one shard, one lease");
    items[0]["checkpoint"].as_s().cloned().unwrap_or_default()
}

#[test]
fn every_operator_selects_its_records_end_to_end() {
    let rig = Rig::new();
    rig.stream("ops", 1);
    let records = [
        r#"{"id": 1, "name": "Alice"}"#,
        r#"{"id": 99, "name": "alice"}"#,
        r#"{"id": 2, "region": "us-west-2"}"#,
        r#"{"id": 3, "file": "cat.png"}"#,
        r#"{"id": 4, "weather": "sunny"}"#,
        r#"{"id": 40, "weather": "raining"}"#,
        r#"{"id": 5, "price": 15}"#,
        r#"{"id": 50, "price": 25}"#,
        r#"{"id": 6, "promo": {"code": "x"}, "coupon": "y"}"#,
        r#"{"id": 7, "team": "ENG"}"#,
        r#"{"id": 8, "path": "logs/2024/app.log"}"#,
        r#"{"id": 80, "path": "logs/app.txt"}"#,
        r#"{"id": 9, "a": 1}"#,
        r#"{"id": 90, "b": 2}"#,
        r#"{"id": 10, "tags": ["x", "urgent"]}"#,
        "not json at all",
    ];
    for r in records {
        rig.put("ops", "k", r.as_bytes());
    }
    let file = rig.path("filters.json");
    let patterns = [
        r#"{"data": {"name": ["Alice"]}}"#,
        r#"{"data": {"region": [{"prefix": "us-"}]}}"#,
        r#"{"data": {"file": [{"suffix": ".png"}]}}"#,
        r#"{"data": {"weather": [{"anything-but": ["raining"]}]}}"#,
        r#"{"data": {"price": [{"numeric": [">", 10, "<=", 20]}]}}"#,
        r#"{"data": {"promo": {"code": [{"exists": true}]}}}"#,
        r#"{"data": {"team": [{"equals-ignore-case": "eng"}]}}"#,
        r#"{"data": {"path": [{"wildcard": "logs/*/app.log"}]}}"#,
        r#"{"data": {"$or": [{"a": [1]}, {"b": [2]}]}}"#,
    ];
    let filters: Vec<Value> = patterns
        .iter()
        .map(|p| serde_json::json!({"Pattern": p}))
        .collect();
    std::fs::write(&file, serde_json::json!({"Filters": filters}).to_string()).expect("write filter file");
    rig.consume("ops", &fixture("capture.sh"))
        .args(["--app", "ops-app", "--max-filters", "10"])
        .arg("--filter-file")
        .arg(&file)
        .args(["--filter", r#"{"data": {"tags": ["urgent"]}}"#])
        .assert()
        .success();
    let got: BTreeSet<i64> = delivered_ids(&rig).into_iter().collect();
    let want: BTreeSet<i64> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 90, 10].into_iter().collect();
    assert_eq!(got, want);
}

#[test]
fn filtered_records_are_checkpointed_past_and_metadata_matches_non_json_data() {
    let rig = Rig::new();
    rig.stream("orders", 1);
    rig.put("orders", "a", br#"{"id": 1, "type": "buy", "qty": 5}"#);
    rig.put("orders", "a", br#"{"id": 2, "type": "sell", "qty": 50}"#);
    rig.put("orders", "vip-7", b"raw bytes, not JSON");
    rig.put("orders", "a", br#"{"id": 3, "type": "buy", "qty": 50}"#);
    let last = rig.put("orders", "a", br#"{"id": 4, "type": "sell"}"#);
    rig.consume("orders", &fixture("capture.sh"))
        .args(["--app", "orders-app"])
        .args([
            "--filter",
            r#"{"data": {"type": ["buy"], "qty": [{"numeric": [">", 10]}]}}"#,
        ])
        .args(["--filter", r#"{"partitionKey": [{"prefix": "vip-"}]}"#])
        .assert()
        .success();
    assert_eq!(
        delivered_ids(&rig),
        vec![-1, 3],
        "the vip record (not JSON) and order 3, in order"
    );
    assert_eq!(
        checkpoint(&rig, "orders-app"),
        last.sequence_number,
        "a filtered-out last record is checkpointed past"
    );
}

#[test]
fn a_restart_after_an_all_filtered_poll_reads_nothing_again() {
    let rig = Rig::new();
    rig.stream("quiet", 1);
    let mut last = None;
    for i in 0..3 {
        last = Some(rig.put(
            "quiet",
            "k",
            format!(r#"{{"id": {i}, "type": "noise"}}"#).as_bytes(),
        ));
    }
    rig.consume("quiet", &fixture("capture.sh"))
        .args([
            "--app",
            "quiet-app",
            "--filter",
            r#"{"data": {"type": ["signal"]}}"#,
        ])
        .assert()
        .success();
    assert!(
        rig.captured().is_empty(),
        "no invocation for an all-filtered poll"
    );
    let last = last.map(|p| p.sequence_number).unwrap_or_default();
    assert_eq!(checkpoint(&rig, "quiet-app"), last);
    // Without filters now: the checkpoint is past every record, so nothing is read again.
    rig.consume("quiet", &fixture("capture.sh"))
        .args(["--app", "quiet-app"])
        .assert()
        .success();
    assert!(
        rig.captured().is_empty(),
        "restart re-read filtered records: {:?}",
        rig.captured()
    );
}

#[test]
fn invalid_patterns_and_too_many_filters_are_refused_before_anything_runs() {
    let rig = Rig::new();
    rig.stream("bad", 1);
    let out = rig
        .consume("bad", &fixture("capture.sh"))
        .args(["--filter", r#"{"data": {"order": {"type": "buy"}}}"#])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("filter 1: at data.order.type"), "{stderr}");
    let mut cmd = rig.consume("bad", &fixture("capture.sh"));
    for i in 0..6 {
        cmd.args(["--filter", &format!(r#"{{"data": {{"n": [{i}]}}}}"#)]);
    }
    let out = cmd.assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("at most 5") && stderr.contains("--max-filters"),
        "{stderr}"
    );
    let missing = rig
        .consume("bad", &fixture("capture.sh"))
        .args(["--filter-file", "/nonexistent/filters.json"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&missing.get_output().stderr).into_owned();
    assert!(
        stderr.contains("--filter-file /nonexistent/filters.json"),
        "{stderr}"
    );
    assert!(rig.captured().is_empty());
}
