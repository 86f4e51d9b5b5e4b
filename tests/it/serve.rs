//! `kinlocal serve` as a process: start on a free port, answer, stop on SIGTERM, and keep every
//! acknowledged record across a SIGKILL with `--data-dir`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use crate::support::{create_stream, kinesis_client, read_shard};

/// Starts `kinlocal serve --port 0 --json` with extra args; returns the child and its endpoint.
pub fn spawn_serve(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args(["serve", "--port", "0", "--json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read address line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    let endpoint = v["endpoint"].as_str().expect("endpoint").to_string();
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "binds loopback by default: {endpoint}"
    );
    (child, endpoint)
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn serve_answers_and_stops_cleanly_on_sigterm() {
    let (mut child, endpoint) = spawn_serve(&[]);
    let k = kinesis_client(&endpoint).await;
    let list = k.list_streams().send().await.expect("list streams");
    assert!(list.stream_names().is_empty());
    signal(&child, "-TERM");
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = status.expect("serve exits after SIGTERM");
    assert!(status.success(), "clean exit: {status:?}");
}

#[tokio::test]
async fn acknowledged_records_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf8 path");
    let (mut child, endpoint) = spawn_serve(&["--data-dir", data_dir]);
    let k = kinesis_client(&endpoint).await;
    create_stream(&k, "durable", 3).await;
    let mut acked = Vec::new();
    for batch in 0..10 {
        let entries: Vec<_> = (0..100)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("pk-{i}"))
                    .data(Blob::new(format!("{batch}-{i}")))
                    .build()
                    .expect("entry")
            })
            .collect();
        let out = k
            .put_records()
            .stream_name("durable")
            .set_records(Some(entries))
            .send()
            .await
            .expect("put");
        assert_eq!(out.failed_record_count(), Some(0));
        acked.extend(
            out.records()
                .iter()
                .map(|r| r.sequence_number().expect("seq").to_string()),
        );
    }
    k.split_shard()
        .stream_name("durable")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("1000")
        .send()
        .await
        .expect("split");
    let last = k
        .put_record()
        .stream_name("durable")
        .partition_key("last")
        .data(Blob::new("last"))
        .send()
        .await
        .expect("put last");
    acked.push(last.sequence_number().to_string());
    // Kill without warning right after the acknowledgements.
    signal(&child, "-KILL");
    let _ = child.wait();

    let (mut child, endpoint) = spawn_serve(&["--data-dir", data_dir]);
    let k = kinesis_client(&endpoint).await;
    let shards = k
        .list_shards()
        .stream_name("durable")
        .send()
        .await
        .expect("shards");
    assert_eq!(shards.shards().len(), 5, "the split survived");
    let mut found = Vec::new();
    for s in shards.shards() {
        found.extend(
            read_shard(&k, "durable", s.shard_id())
                .await
                .into_iter()
                .map(|r| r.sequence_number().to_string()),
        );
    }
    acked.sort();
    found.sort();
    assert_eq!(
        found, acked,
        "every acknowledged record, with the same sequence numbers"
    );
    // And the engine goes on appending after a restart.
    k.put_record()
        .stream_name("durable")
        .partition_key("again")
        .data(Blob::new("again"))
        .send()
        .await
        .expect("put after restart");
    signal(&child, "-TERM");
    let _ = child.wait();
}

#[test]
fn serve_refuses_a_bad_account_id() {
    let out = crate::support::kinlocal()
        .args(["serve", "--account-id", "123"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("12-digit"));
}
