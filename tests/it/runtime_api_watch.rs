//! `consume --watch`: a warm function whose file is rewritten while it consumes is replaced
//! between batches — later batches run the new code, the batch in flight finishes on the old
//! one, nothing is lost — and `--watch` without a warm process is a usage error.

use std::time::Duration;

use serde_json::Value;

use crate::consume::{wait_for, Rig, Running};
use crate::runtime_api_support::{self as rs, read_lines};

/// A handler that records, per record, the code version that handled it; record `slow`
/// announces its start first and takes a while, so the file can change under a running batch.
fn handler_source(version: &str) -> String {
    format!(
        r#"import base64, json, os, time

VERSION = "{version}"


def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        for r in event["Records"]:
            data = base64.b64decode(r["kinesis"]["data"]).decode()
            if data == "slow":
                out.write(json.dumps({{"version": VERSION, "data": "slow-started"}}) + "\n")
                out.flush()
                time.sleep(1.5)
            out.write(json.dumps({{"version": VERSION, "data": data, "pid": os.getpid()}}) + "\n")
    return {{"version": VERSION}}
"#
    )
}

fn lines_with(out: &std::path::Path, data: &str) -> Vec<Value> {
    read_lines(out)
        .into_iter()
        .filter(|l| l["data"] == data)
        .collect()
}

#[test]
fn a_rewritten_handler_is_reloaded_between_batches_and_no_batch_is_lost() {
    let test = "a_rewritten_handler_is_reloaded_between_batches_and_no_batch_is_lost";
    if rs::python().is_none() {
        return rs::skip(test, "python3");
    }
    let rig = Rig::new();
    rig.stream("reload", 1);
    let function = rig.path("fn");
    std::fs::create_dir_all(&function).expect("function dir");
    let app = function.join("app.py");
    std::fs::write(&app, handler_source("v1")).expect("write v1");
    let out = rig.path("out.jsonl");

    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"));
    cmd.args(["consume", "--stream", "reload", "--runtime", "python3.11"])
        .arg("--handler")
        .arg(function.join("app.handler"))
        .arg("--watch")
        .arg(&function)
        .arg("--env")
        .arg(format!("OUT={}", out.display()))
        .args(["--poll-interval", "20ms", "--batch-size", "5", "--timeout", "30s"])
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_KINESIS", &rig.engine.endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &rig.dynamodb_url)
        .env("AWS_REGION", "us-east-1")
        .env("KINLOCAL_STATE_DIR", rig.path("state"));
    let mut consumer = Running::spawn(&mut cmd, rig.path("stderr.txt"));
    let delivered = || read_lines(&out).into_iter().filter(|l| l["pid"].is_u64()).count();

    for i in 0..5 {
        rig.put("reload", "k", format!("a{i}").as_bytes());
    }
    wait_for("the first records, on v1", Duration::from_secs(30), || {
        delivered() == 5
    });

    // A batch is running when the file changes: it must finish on v1, not be killed.
    rig.put("reload", "k", b"slow");
    wait_for("the slow batch to start", Duration::from_secs(30), || {
        !lines_with(&out, "slow-started").is_empty()
    });
    std::fs::write(&app, handler_source("v2")).expect("rewrite as v2");
    wait_for("the change to be noticed", Duration::from_secs(15), || {
        consumer
            .stderr()
            .contains("changed: the function reloads before its next batch")
    });
    wait_for("the slow batch to finish", Duration::from_secs(30), || {
        delivered() == 6
    });

    for i in 0..5 {
        rig.put("reload", "k", format!("b{i}").as_bytes());
    }
    wait_for("the later records", Duration::from_secs(30), || delivered() == 11);
    consumer.signal("TERM");
    let code = consumer.wait(Duration::from_secs(30));
    let stderr = consumer.stderr();
    assert_eq!(code, Some(0), "{stderr}");

    let lines: Vec<Value> = read_lines(&out)
        .into_iter()
        .filter(|l| l["pid"].is_u64())
        .collect();
    let seen: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["data"].as_str().unwrap_or_default().to_string(),
                l["version"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = (0..5)
        .map(|i| (format!("a{i}"), "v1".to_string()))
        .chain([("slow".to_string(), "v1".to_string())])
        .chain((0..5).map(|i| (format!("b{i}"), "v2".to_string())))
        .collect();
    assert_eq!(
        seen, expected,
        "each record once, in order, on the code of its batch: {stderr}"
    );
    assert_eq!(
        lines_with(&out, "slow-started").len(),
        1,
        "the slow batch ran once: {stderr}"
    );
    // One process per version: the reload replaced it once.
    let pids: std::collections::BTreeSet<u64> = lines.iter().filter_map(|l| l["pid"].as_u64()).collect();
    assert_eq!(pids.len(), 2, "{stderr}");
    assert_eq!(stderr.matches("reloading the function").count(), 1, "{stderr}");
    let inits = stderr
        .lines()
        .filter(|l| l.starts_with("kinlocal: INIT shardId-"))
        .count();
    assert_eq!(inits, 2, "one INIT at the start, one for the reload: {stderr}");
}

#[test]
fn watch_without_a_warm_process_is_a_usage_error() {
    let rig = Rig::new();
    rig.stream("nowarm", 1);
    let dir = rig.path("fn");
    std::fs::create_dir_all(&dir).expect("dir");
    let out = rig
        .consume("nowarm", "cat")
        .arg("--watch")
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--watch needs --runtime-api or --handler"),
        "{stderr}"
    );

    let out = rig
        .consume("nowarm", "cat")
        .args(["--runtime-api", "--watch"])
        .arg(rig.path("no-such-dir"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-dir: no such file or directory"),
        "{stderr}"
    );
}
