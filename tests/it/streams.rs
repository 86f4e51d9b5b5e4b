//! `kinlocal create-stream`, `delete-stream` and `list-streams` against the embedded engine:
//! idempotent create, shape mismatch, waits, on-demand and retention, listing, usage errors.

use std::time::Duration;

use kinlocal::engine::EngineConfig;

use crate::support::{kinlocal, TestEngine};

fn run(engine: &TestEngine, args: &[&str]) -> std::process::Output {
    kinlocal()
        .args(args)
        .args(["--endpoint-url", &engine.endpoint])
        .output()
        .expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn status(engine: &TestEngine, name: &str) -> Option<(String, i32, i32)> {
    let k = engine.kinesis().await;
    let out = k.describe_stream_summary().stream_name(name).send().await.ok()?;
    let s = out.stream_description_summary()?;
    Some((
        s.stream_status().as_str().to_string(),
        s.open_shard_count(),
        s.retention_period_hours(),
    ))
}

#[tokio::test]
async fn create_twice_with_the_same_shape_succeeds_and_another_shape_fails() {
    let engine = TestEngine::start();
    let first = run(&engine, &["create-stream", "orders", "--shards", "3"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("created stream 'orders'"));
    assert_eq!(status(&engine, "orders").await, Some(("ACTIVE".into(), 3, 24)));

    let again = run(&engine, &["create-stream", "orders", "--shards", "3"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("stream 'orders' already exists (ACTIVE PROVISIONED, 3 shard(s)"),
        "{}",
        text(&again.stdout)
    );

    let other = run(&engine, &["create-stream", "orders", "--shards", "2"]);
    assert_eq!(other.status.code(), Some(2), "a shape to change is a usage error");
    let err = text(&other.stderr);
    assert!(
        err.contains("already exists with 3 shards (provisioned)") && err.contains("not 2 shards"),
        "{err}"
    );
    assert!(err.contains("kinlocal delete-stream orders"), "{err}");

    let other = run(
        &engine,
        &[
            "create-stream",
            "orders",
            "--shards",
            "3",
            "--retention-hours",
            "48",
        ],
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("retention 48 h"),
        "{}",
        text(&other.stderr)
    );
    // Nothing changed.
    assert_eq!(status(&engine, "orders").await, Some(("ACTIVE".into(), 3, 24)));
}

#[tokio::test]
async fn default_name_on_demand_and_retention() {
    let engine = TestEngine::start();
    let out = run(&engine, &["create-stream"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(status(&engine, "kinlocal").await, Some(("ACTIVE".into(), 1, 24)));

    let out = run(
        &engine,
        &["create-stream", "od", "--on-demand", "--retention-hours", "72"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (st, _, retention) = status(&engine, "od").await.expect("exists");
    assert_eq!((st.as_str(), retention), ("ACTIVE", 72));
    let again = run(&engine, &["create-stream", "od", "--on-demand"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let not_provisioned = run(&engine, &["create-stream", "od", "--shards", "4"]);
    assert_eq!(not_provisioned.status.code(), Some(2));
    assert!(text(&not_provisioned.stderr).contains("on-demand"));
}

#[tokio::test]
async fn create_waits_for_active_unless_no_wait() {
    let engine = TestEngine::start_with(EngineConfig {
        create_stream_delay: Duration::from_millis(600),
        ..Default::default()
    });
    let out = run(&engine, &["create-stream", "slow", "--no-wait"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        status(&engine, "slow").await.map(|s| s.0),
        Some("CREATING".into())
    );
    // Running it again while CREATING waits for it.
    let out = run(&engine, &["create-stream", "slow"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ACTIVE"), "{}", text(&out.stdout));

    let out = run(&engine, &["create-stream", "slow2"]);
    assert!(out.status.success());
    assert_eq!(status(&engine, "slow2").await.map(|s| s.0), Some("ACTIVE".into()));
}

#[tokio::test]
async fn delete_waits_until_gone_and_if_exists_accepts_a_missing_stream() {
    let engine = TestEngine::start_with(EngineConfig {
        delete_stream_delay: Duration::from_millis(400),
        ..Default::default()
    });
    assert!(run(&engine, &["create-stream", "doomed"]).status.success());
    let out = run(&engine, &["delete-stream", "doomed"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("deleted stream 'doomed'"));
    assert_eq!(
        status(&engine, "doomed").await,
        None,
        "gone once the command returns"
    );

    let missing = run(&engine, &["delete-stream", "doomed"]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing stream: exit 2 in every command"
    );
    assert!(text(&missing.stderr).contains("stream 'doomed' does not exist"));
    assert!(text(&missing.stderr).contains("--if-exists"));
    let ok = run(&engine, &["delete-stream", "doomed", "--if-exists"]);
    assert!(ok.status.success());
    assert!(text(&ok.stdout).contains("nothing to do"));
}

#[tokio::test]
async fn list_streams_as_table_and_json() {
    let engine = TestEngine::start();
    let empty = run(&engine, &["list-streams", "--json"]);
    assert!(empty.status.success());
    assert_eq!(text(&empty.stdout).trim(), "[]");

    assert!(run(&engine, &["create-stream", "b-stream", "--shards", "2"])
        .status
        .success());
    assert!(run(&engine, &["create-stream", "a-stream"]).status.success());
    let out = run(&engine, &["list-streams", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["a-stream", "b-stream"]);
    assert_eq!(v[1]["open_shards"], 2);
    assert_eq!(v[1]["status"], "ACTIVE");
    assert_eq!(v[1]["mode"], "PROVISIONED");
    assert_eq!(v[1]["retention_hours"], 24);
    assert_eq!(
        v[1]["arn"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/b-stream"
    );

    let table = run(&engine, &["list-streams"]);
    let t = text(&table.stdout);
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{t}");
    assert!(
        lines[2].starts_with("b-stream") && lines[2].contains("PROVISIONED"),
        "{t}"
    );
}

#[test]
fn no_endpoint_is_a_usage_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = kinlocal()
        .args(["list-streams", "--state-dir"])
        .arg(dir.path())
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_KINESIS")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("kinlocal up") && err.contains("--endpoint-url"),
        "{err}"
    );
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    for (args, flag) in [
        (&["create-stream", "--shards", "0"][..], "--shards"),
        (
            &["create-stream", "--retention-hours", "12"][..],
            "--retention-hours",
        ),
        (
            &["create-stream", "--shards", "2", "--on-demand"][..],
            "--on-demand",
        ),
    ] {
        let out = kinlocal()
            .args(args)
            .args(["--endpoint-url", "http://127.0.0.1:9"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(flag),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// Finding 6: after `up` (3 shards), the README's own `kinlocal create-stream` failed because
/// its default of 1 shard did not match. Without --shards an existing stream is accepted.
#[tokio::test]
async fn create_stream_without_shards_accepts_an_existing_stream_of_any_shape() {
    let engine = TestEngine::start();
    assert!(run(&engine, &["create-stream", "kinlocal", "--shards", "3"])
        .status
        .success());
    let out = run(&engine, &["create-stream"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already exists (ACTIVE PROVISIONED, 3 shard(s)"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&engine, &["create-stream", "--shards", "1"]);
    assert_eq!(out.status.code(), Some(2), "an explicit count must still match");
}

/// Finding 10: `create-stream` and `delete-stream` had no `--json`.
#[tokio::test]
async fn create_and_delete_speak_json() {
    let engine = TestEngine::start();
    let json = |out: &std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON object")
    };
    let v = json(&run(&engine, &["create-stream", "j", "--shards", "2", "--json"]));
    assert_eq!(v["created"], true);
    assert_eq!(v["stream"]["name"], "j");
    assert_eq!(v["stream"]["open_shards"], 2);
    assert_eq!(v["stream"]["status"], "ACTIVE");
    let v = json(&run(&engine, &["create-stream", "j", "--json"]));
    assert_eq!(v["created"], false);
    let v = json(&run(&engine, &["delete-stream", "j", "--json"]));
    assert_eq!(v, serde_json::json!({"name": "j", "deleted": true}));
    let v = json(&run(&engine, &["delete-stream", "j", "--if-exists", "--json"]));
    assert_eq!(v["deleted"], false);
}
