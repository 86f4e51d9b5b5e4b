//! The whole local workflow through the real binary, as a CI script runs it:
//! `up` → `create-stream` → `produce` → `consume --until-idle` → `status` → `down`, twice in a
//! row on the embedded backend, every subcommand finding the endpoint through `up`'s state.

use crate::up_support::{describe, fixture, free_port, is_engine, wait_gone, Setup};

#[test]
fn up_create_produce_consume_status_down_twice() {
    let setup = Setup::new();
    for round in 0..2 {
        let port = free_port().to_string();
        setup.up_ok(&["--backend", "embedded", "--port", &port]);
        let pid = setup.state().and_then(|s| s.pid).expect("embedded pid recorded");

        let out = setup.run("create-stream", &["orders", "--shards", "2"]);
        assert!(out.status.success(), "create-stream: {}", describe(&out));

        let out = setup.run(
            "produce",
            &["--stream", "orders", "--count", "300", "--seed", "7", "--json"],
        );
        assert!(out.status.success(), "produce: {}", describe(&out));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("produce --json ({e}): {}", describe(&out)));
        assert_eq!(summary["records"], 300, "summary counts 300 records: {summary}");
        let per_shard: u64 = summary["shards"]
            .as_object()
            .expect("per-shard counts")
            .values()
            .filter_map(serde_json::Value::as_u64)
            .sum();
        assert_eq!(per_shard, 300, "per-shard counts add up: {summary}");

        let capture = setup.dir.path().join(format!("capture-{round}.jsonl"));
        let out = setup
            .cmd()
            .env("CAPTURE_FILE", &capture)
            .args(["consume", "--state-dir"])
            .arg(&setup.state_dir)
            .args([
                "--stream",
                "orders",
                "--app",
                "chain",
                "--poll-interval",
                "20ms",
                "--until-idle",
                "1s",
            ])
            .arg("--exec")
            .arg(fixture("capture.sh"))
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .expect("consume runs");
        assert_eq!(out.status.code(), Some(0), "consume: {}", describe(&out));
        let events = std::fs::read_to_string(&capture).expect("captured events");
        let mut delivered = 0;
        for line in events.lines() {
            let event: aws_lambda_events::event::kinesis::KinesisEvent =
                serde_json::from_str(line).expect("a Lambda Kinesis event");
            delivered += event.records.len();
        }
        assert_eq!(delivered, 300, "every produced record reached the handler once");

        let (code, status) = setup.status_json();
        assert_eq!(code, 0, "healthy: {status}");
        let app = status["applications"]
            .as_array()
            .expect("applications")
            .iter()
            .find(|a| a["lease_table"] == "chain")
            .unwrap_or_else(|| panic!("the consumer's lease table is reported: {status}"));
        let leases = app["leases"].as_array().expect("leases");
        assert_eq!(leases.len(), 2, "one lease per shard: {app}");
        for lease in leases {
            assert_eq!(lease["lag_records"], 0, "caught up: {lease}");
        }

        let out = setup.run("down", &[]);
        assert!(out.status.success(), "down: {}", describe(&out));
        assert!(wait_gone(pid), "engine {pid} stopped by down");
        assert!(!is_engine(pid));
        assert!(setup.state().is_none(), "state removed by down");
    }
}
