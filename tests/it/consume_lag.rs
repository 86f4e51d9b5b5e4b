//! True lag in consume's progress (issue 15, finding 4): a shard stuck behind a failing batch
//! reports the records behind its checkpoint and an oldest-undelivered age that keeps growing,
//! where the last read's `MillisBehindLatest` says 0.

use std::time::Duration;

use serde_json::Value;

use crate::consume::{wait_for, Rig};

const FAILING: &str = "sh -c 'cat >/dev/null; exit 1'";

/// The `--json` progress objects written so far.
fn progress(stdout: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(stdout)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "progress")
        .collect()
}

#[test]
fn consume_lag_a_stuck_shard_shows_its_backlog_and_a_growing_age() {
    let rig = Rig::new();
    rig.stream("lagging", 1);
    let put_at = std::time::SystemTime::now();
    for i in 0..3 {
        rig.put("lagging", "k", format!("r{i}").as_bytes());
    }
    let stdout = rig.path("stdout.jsonl");
    let mut child = rig
        .consume_std("lagging", FAILING)
        .args(["--until-idle", "60s", "--json"])
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(rig.path("stderr")).expect("stderr file"))
        .spawn()
        .expect("spawn consume");
    let stuck = |v: &Value| v["shards"][0]["behind_records"] == 3;
    wait_for(
        "two progress objects of the stuck shard",
        Duration::from_secs(30),
        || progress(&stdout).iter().filter(|v| stuck(v)).count() >= 2,
    );
    let _ = child.kill();
    let _ = child.wait();

    let stderr = std::fs::read_to_string(rig.path("stderr")).unwrap_or_default();
    let lines: Vec<Value> = progress(&stdout).into_iter().filter(|v| stuck(v)).collect();
    let (first, last) = (&lines[0]["shards"][0], &lines[lines.len() - 1]["shards"][0]);
    assert_eq!(first["shard_id"], "shardId-000000000000");
    assert_eq!(first["behind_capped"], false);
    assert_eq!(first["delivered"], 0);
    let age = |v: &Value| v["oldest_undelivered_age_ms"].as_u64().expect("an age");
    assert!(
        age(last) >= age(first) + 500,
        "the age grows while the batch fails: {lines:?}\n{stderr}"
    );
    // The age is that of the first record put, measured from its arrival.
    let arrival = first["oldest_undelivered_arrival_ms"].as_i64().expect("arrival");
    let put_ms = put_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
        .unwrap_or(0);
    assert!((arrival - put_ms).abs() < 5_000, "{arrival} vs {put_ms}");
    // What the live line used before: the read reached the tip, so it says 0.
    assert_eq!(last["millis_behind_latest"], 0, "{lines:?}");
}

#[test]
fn consume_lag_a_consumer_that_catches_up_says_so_once() {
    let rig = Rig::new();
    rig.stream("quiet", 1);
    rig.put("quiet", "k", b"r0");
    let stdout = rig.path("stdout.jsonl");
    let status = rig
        .consume_std("quiet", "sh -c 'cat >/dev/null; sleep 1.5'")
        .args(["--json", "--until-idle", "2500ms"])
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(0));
    // While the slow batch runs its record is behind; once delivered, one object says all
    // caught up, and an idle consumer then stays quiet (no object a second).
    let behind: Vec<u64> = progress(&stdout)
        .iter()
        .filter_map(|v| v["shards"][0]["behind_records"].as_u64())
        .collect();
    assert!(behind.first() == Some(&1), "{behind:?}");
    assert_eq!(behind.last(), Some(&0), "{behind:?}");
    assert_eq!(behind.iter().filter(|n| **n == 0).count(), 1, "{behind:?}");
}
