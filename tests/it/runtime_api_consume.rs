//! `kinlocal consume` with the function behind the Lambda Runtime API, for every real client
//! (bundled Python and Node bootstraps, awslambdaric, a lambda_runtime function): delivery,
//! warmth, partial failures, retries to the on-failure destination, timeouts, init errors.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::consume::Rig;
use crate::invoke::{clients, Client};
use crate::runtime_api_support::read_lines;

/// `kinlocal consume` of `stream` running `function` of the fixture with `client`.
fn consume(rig: &Rig, stream: &str, client: &Client, function: &str) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("kinlocal").expect("binary");
    c.args(["consume", "--stream", stream])
        .args(client.args(function))
        .args([
            "--poll-interval",
            "20ms",
            "--until-idle",
            "500ms",
            "--timeout",
            "30s",
        ])
        .current_dir(client.cwd())
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_KINESIS", &rig.engine.endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &rig.dynamodb_url)
        .env("AWS_REGION", "us-east-1")
        .env("KINLOCAL_STATE_DIR", rig.path("state"))
        .env("FIXTURE_OUT", rig.path("out.jsonl"))
        .timeout(Duration::from_secs(90));
    c
}

fn inits(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("kinlocal: INIT shardId-"))
        .count()
}

fn data(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["data"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_record_is_delivered_once_by_one_warm_process_per_shard() {
    for client in clients("every_record_is_delivered_once_by_one_warm_process_per_shard") {
        let rig = Rig::new();
        rig.stream("warm", 2);
        let mut expected = BTreeSet::new();
        for i in 0..40 {
            let d = format!("r{i:02}");
            rig.put("warm", &format!("key-{i}"), d.as_bytes());
            expected.insert(d);
        }
        let out = consume(&rig, "warm", &client, "handler")
            .args(["--batch-size", "5", "--report-batch-item-failures"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{client:?}: {stderr}");
        let lines = read_lines(&rig.path("out.jsonl"));
        let got = data(&lines);
        assert_eq!(got.len(), 40, "{client:?}: each record once: {got:?}");
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected, "{client:?}");
        // Warm: one process and one INIT per shard for the whole run, several invocations each.
        let pids: BTreeSet<u64> = lines.iter().filter_map(|l| l["pid"].as_u64()).collect();
        assert_eq!(pids.len(), 2, "{client:?}: {pids:?}");
        assert_eq!(inits(&stderr), 2, "{client:?}: {stderr}");
        let requests: BTreeSet<&str> = lines.iter().filter_map(|l| l["requestId"].as_str()).collect();
        assert!(requests.len() >= 8, "{client:?}: {} invocations", requests.len());
        // The context matches the mapping: function name from the handler or the bootstrap.
        assert!(lines.iter().all(|l| l["invokedFunctionArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:lambda:us-east-1:000000000000:function:"))));
    }
}

#[test]
fn a_partial_failure_is_retried_from_the_failed_record() {
    for client in clients("a_partial_failure_is_retried_from_the_failed_record") {
        let rig = Rig::new();
        rig.stream("partial", 1);
        let puts: Vec<_> = ["a", "b", "partial-once", "c"]
            .iter()
            .map(|d| rig.put("partial", "k", d.as_bytes()))
            .collect();
        let out = consume(&rig, "partial", &client, "handler")
            .args(["--report-batch-item-failures"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{client:?}: {stderr}");
        let lines = read_lines(&rig.path("out.jsonl"));
        assert_eq!(
            data(&lines),
            ["a", "b", "partial-once", "c", "partial-once", "c"],
            "{client:?}"
        );
        assert_eq!(lines[4]["sequenceNumber"], puts[2].sequence_number.as_str());
        assert_eq!(inits(&stderr), 1, "{client:?}: {stderr}");
    }
}

#[test]
fn a_thrown_error_is_retried_then_sent_to_on_failure() {
    for client in clients("a_thrown_error_is_retried_then_sent_to_on_failure") {
        let rig = Rig::new();
        rig.stream("throws", 1);
        rig.put("throws", "k", b"throw");
        let dlq = rig.path("dlq");
        let out = consume(&rig, "throws", &client, "handler")
            .args(["--maximum-retry-attempts", "2", "--on-failure"])
            .arg(&dlq)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{client:?}: {stderr}");
        assert_eq!(
            data(&read_lines(&rig.path("out.jsonl"))),
            ["throw"; 3],
            "{client:?}"
        );
        let files = rig.destination_files(&dlq);
        assert_eq!(files.len(), 1, "{client:?}");
        assert_eq!(files[0]["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(files[0]["requestContext"]["approximateInvokeCount"], 3);
        // A function error leaves the environment warm.
        assert_eq!(inits(&stderr), 1, "{client:?}: {stderr}");
    }
}

#[test]
fn a_sleep_past_the_timeout_is_killed_and_the_next_invocation_inits_again() {
    for client in clients("a_sleep_past_the_timeout_is_killed_and_the_next_invocation_inits_again") {
        let rig = Rig::new();
        rig.stream("slow", 1);
        rig.put("slow", "k", b"sleep-once:30000");
        rig.put("slow", "k", b"after");
        let out = consume(&rig, "slow", &client, "handler")
            .args(["--timeout", "3s"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{client:?}: {stderr}");
        assert!(
            stderr.contains("Task timed out after 3.00 seconds"),
            "{client:?}: {stderr}"
        );
        assert_eq!(inits(&stderr), 2, "{client:?}: {stderr}");
        let lines = read_lines(&rig.path("out.jsonl"));
        assert_eq!(
            data(&lines),
            ["sleep-once:30000", "sleep-once:30000", "after"],
            "{client:?}"
        );
        assert_ne!(
            lines[0]["pid"], lines[1]["pid"],
            "{client:?}: a fresh process after the timeout"
        );
        assert_eq!(lines[1]["pid"], lines[2]["pid"]);
    }
}

#[test]
fn a_bad_handler_name_exits_2_before_any_record_is_consumed() {
    for client in clients("a_bad_handler_name_exits_2_before_any_record_is_consumed") {
        if !client.has_handler_names() {
            continue;
        }
        let rig = Rig::new();
        rig.stream("broken", 1);
        rig.put("broken", "k", b"x");
        let out = consume(&rig, "broken", &client, "missing_function")
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{client:?}: {stderr}");
        assert!(stderr.contains("Runtime.HandlerNotFound"), "{client:?}: {stderr}");
        assert!(read_lines(&rig.path("out.jsonl")).is_empty());
        // Nothing was checkpointed: a fixed handler starts from the first record.
        let out = consume(&rig, "broken", &client, "handler")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{client:?}");
        assert_eq!(data(&read_lines(&rig.path("out.jsonl"))), ["x"], "{client:?}");
    }
}
