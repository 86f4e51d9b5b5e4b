//! Finding 10: one key style for kinlocal's own JSON fields (`snake_case`) in every
//! subcommand; finding 4: per-batch lines abbreviate the 56-digit sequence numbers, `--json`
//! keeps them whole.

use std::time::Duration;

use crate::support::{kinlocal, TestEngine};

fn is_snake(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[test]
fn consume_json_is_snake_case_and_its_batch_lines_are_short() {
    let engine = TestEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let h = dir.path().join("h.sh");
    std::fs::write(&h, "#!/bin/sh\ncat >/dev/null\necho '{}'\n").expect("handler");
    std::fs::set_permissions(&h, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let run = |args: &[&str]| {
        kinlocal()
            .args(args)
            .args(["--endpoint-url", &engine.endpoint])
            .timeout(Duration::from_secs(60))
            .output()
            .expect("runs")
    };
    assert!(run(&["create-stream"]).status.success());
    assert!(run(&["produce", "--count", "5"]).status.success());
    let out = run(&[
        "consume",
        "--exec",
        h.to_str().expect("utf-8"),
        "--until-idle",
        "1s",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut batches = 0;
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("NDJSON");
        let obj = v.as_object().expect("objects");
        for key in obj.keys() {
            assert!(is_snake(key), "{key} in {line}");
        }
        if v["type"] == "batch" {
            batches += 1;
            assert_eq!(
                v["first_sequence_number"].as_str().map(str::len),
                Some(56),
                "{line}"
            );
        }
    }
    assert!(batches > 0, "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let batch_line = stderr
        .lines()
        .find(|l| l.starts_with("shardId-000000000000 5 record(s) "))
        .unwrap_or_else(|| panic!("a batch line: {stderr}"));
    assert!(
        batch_line.contains('…') && batch_line.chars().count() < 90,
        "{batch_line}"
    );

    for args in [
        &["list-streams", "--json"][..],
        &["status", "--json"][..],
        &["produce", "--count", "1", "--json"][..],
    ] {
        let out = run(args);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let mut stack = vec![&v];
        while let Some(x) = stack.pop() {
            match x {
                serde_json::Value::Object(m) => {
                    for (k, child) in m {
                        // Shard ids are data, not keys of ours (produce's per-shard counts).
                        assert!(is_snake(k) || k.starts_with("shardId-"), "{args:?}: {k}");
                        stack.push(child);
                    }
                }
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
    }
}
