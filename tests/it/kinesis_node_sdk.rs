//! The Node.js AWS SDK v3 with default settings (HTTP/2 prior knowledge for Kinesis) against
//! the engine: create, put, list shards, get records, subscribe, delete.
//!
//! The SDK is installed by `.ci/run` into `KINLOCAL_NODE_SDK_DIR` (default
//! `~/.cache/kinlocal-node-sdk`); without it the test is skipped locally and fails under CI.

use std::path::PathBuf;

use crate::support::TestEngine;

fn sdk_dir() -> PathBuf {
    std::env::var_os("KINLOCAL_NODE_SDK_DIR").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kinlocal-node-sdk"),
        PathBuf::from,
    )
}

#[test]
fn node_sdk_v3_default_settings_create_put_list_get_subscribe_delete() {
    let modules = sdk_dir().join("node_modules");
    if !modules.join("@aws-sdk/client-kinesis").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "@aws-sdk/client-kinesis missing under CI (.ci/run installs it into {})",
            modules.display()
        );
        println!(
            "SKIP: @aws-sdk/client-kinesis not installed in {}",
            modules.display()
        );
        return;
    }
    let engine = TestEngine::start();
    // The script is copied next to node_modules so that Node resolves the SDK from there.
    let script = sdk_dir().join(format!("kinlocal-test-{}.mjs", std::process::id()));
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node_sdk_kinesis.mjs"),
        &script,
    )
    .expect("copy script");
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg(&engine.endpoint)
        .output()
        .expect("run node");
    let _ = std::fs::remove_file(&script);
    assert!(
        out.status.success(),
        "node script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json line");
    assert_eq!(
        seen,
        serde_json::json!({
            "status": "ACTIVE",
            "putShard": "shardId-000000000000",
            "failed": 0,
            "shards": ["shardId-000000000000"],
            "records": ["one", "two", "three"],
            "subscribed": ["one", "two", "three"],
            "tables": [],
        })
    );
}
