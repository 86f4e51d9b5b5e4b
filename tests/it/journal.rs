//! The journal behind `--data-dir`, through the real binary: a write that fails part-way loses
//! no acknowledged record, a damaged entry stops the engine (and `--repair` salvages the rest),
//! compaction reclaims deleted streams and trimmed records, and the files are private.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use kinlocal::engine::EngineConfig;

use crate::support::{create_stream, kinesis_client, kinesis_client_no_retry, read_shard, TestEngine};

/// A `kinlocal serve` child whose stderr goes to a file; killed on drop.
struct Serve {
    child: Child,
    endpoint: String,
    stderr: PathBuf,
}

impl Serve {
    /// Starts `kinlocal serve --port 0 --json ARGS`, with the file-size limit `fsize_blocks`
    /// (in the shell's `ulimit -f` blocks) when given.
    fn start(args: &[&str], fsize_blocks: Option<u32>, stderr: &Path) -> Self {
        let bin = assert_cmd::cargo::cargo_bin("kinlocal");
        let mut cmd = match fsize_blocks {
            Some(blocks) => {
                // A fixed script; the binary and its arguments travel as positional parameters.
                let mut c = Command::new("sh");
                c.args(["-c", "ulimit -f \"$1\"; shift; exec \"$@\"", "sh"])
                    .arg(blocks.to_string())
                    .arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        let mut child = cmd
            .args(["serve", "--port", "0", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr).expect("stderr file"))
            .spawn()
            .expect("spawn serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read address line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            panic!(
                "serve did not start: {}",
                std::fs::read_to_string(stderr).unwrap_or_default()
            )
        });
        let endpoint = v["endpoint"].as_str().expect("endpoint").to_string();
        Self {
            child,
            endpoint,
            stderr: stderr.to_path_buf(),
        }
    }

    fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn all_data(k: &aws_sdk_kinesis::Client, stream: &str) -> Vec<String> {
    read_shard(k, stream, "shardId-000000000000")
        .await
        .iter()
        .map(|r| String::from_utf8_lossy(r.data().as_ref()).into_owned())
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Issue 13, finding 2: a journal write that failed part-way (disk full, file too large) left
/// a torn entry, and every record acknowledged after it was dropped at the next start.
#[tokio::test]
async fn a_failed_journal_write_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("state");
    let data_s = data.to_str().expect("utf8");
    let serve = Serve::start(
        &["--data-dir", data_s, "--fsync", "always"],
        Some(256),
        &dir.path().join("serve1.log"),
    );
    let k = kinesis_client_no_retry(&serve.endpoint).await;
    create_stream(&k, "s", 1).await;
    let mut acked = Vec::new();
    let mut failures = 0;
    let mut i = 0;
    // Large records until the file-size limit refuses one, then small ones (which fit again
    // once the failed write is rolled back).
    while failures < 3 && i < 10_000 {
        let payload = if failures == 0 {
            format!("{i:06}-{}", "x".repeat(2000))
        } else {
            format!("{i:06}")
        };
        match k
            .put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new(payload.clone()))
            .send()
            .await
        {
            Ok(_) => acked.push(payload),
            Err(e) => {
                let code = e
                    .as_service_error()
                    .and_then(|e| aws_sdk_kinesis::error::ProvideErrorMetadata::code(e));
                assert_eq!(code, Some("InternalFailure"), "{e:?}");
                failures += 1;
            }
        }
        i += 1;
    }
    assert!(failures > 0, "the file-size limit was never reached");
    let after_failure = acked.iter().filter(|p| p.len() == 6).count();
    assert!(
        after_failure > 0,
        "small records are acknowledged again after a failure"
    );
    let log = serve.kill();
    assert!(!log.contains("panicked"), "{log}");

    let serve = Serve::start(&["--data-dir", data_s], None, &dir.path().join("serve2.log"));
    let k = kinesis_client(&serve.endpoint).await;
    assert_eq!(
        all_data(&k, "s").await,
        acked,
        "exactly the acknowledged records, in order"
    );
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("kinesis.journal")), 0o600);
    assert_eq!(mode(&data.join("dynamodb.journal")), 0o600);
    serve.kill();
}

/// Issue 13, finding 3: one bad byte in the middle of a journal silently discarded (and
/// deleted) everything after it.
#[tokio::test]
async fn a_damaged_entry_mid_journal_stops_the_engine_and_repair_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("state");
    let data_s = data.to_str().expect("utf8");
    let serve = Serve::start(&["--data-dir", data_s], None, &dir.path().join("serve1.log"));
    let k = kinesis_client(&serve.endpoint).await;
    create_stream(&k, "s", 1).await;
    for i in 0..50 {
        k.put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new(format!("record-{i:03}")))
            .send()
            .await
            .expect("put");
    }
    serve.kill();

    let journal = data.join("kinesis.journal");
    let mut bytes = std::fs::read(&journal).expect("read journal");
    let at = bytes
        .windows(10)
        .position(|w| w == b"record-020")
        .expect("record 20 in the journal");
    bytes[at + 9] ^= 0x01;
    std::fs::write(&journal, &bytes).expect("write journal");

    let out = crate::support::kinlocal()
        .args(["serve", "--port", "0", "--data-dir", data_s])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refuses to start");
    assert!(stderr.contains("damaged at byte offset"), "{stderr}");
    assert!(stderr.contains("--repair"), "{stderr}");
    assert_eq!(
        std::fs::read(&journal).expect("read"),
        bytes,
        "nothing changed on disk"
    );

    let serve = Serve::start(
        &["--data-dir", data_s, "--repair"],
        None,
        &dir.path().join("serve2.log"),
    );
    let k = kinesis_client(&serve.endpoint).await;
    let got = all_data(&k, "s").await;
    let want: Vec<String> = (0..50)
        .filter(|&i| i != 20)
        .map(|i| format!("record-{i:03}"))
        .collect();
    assert_eq!(got, want, "every entry that verifies is kept");
    let log = serve.kill();
    assert!(log.contains("repaired: kept"), "{log}");
    assert!(log.contains("lost"), "{log}");
    let kept_aside = std::fs::read_dir(&data)
        .expect("ls")
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("kinesis.journal.damaged-")
        });
    assert!(kept_aside, "the damaged original is kept");
}

/// Issue 13, finding 4: `kinesis.journal` never shrank; deleted streams and records trimmed
/// by retention stayed in it forever.
#[tokio::test]
async fn compaction_reclaims_deleted_streams_and_trimmed_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig {
        data_dir: Some(dir.path().to_path_buf()),
        journal_compact_min_bytes: 64 * 1024,
        ..EngineConfig::default()
    };
    let clock = config.clock.clone();
    let journal = dir.path().join("kinesis.journal");
    let big = "y".repeat(4000);
    let mut live = Vec::new();
    {
        let engine = TestEngine::start_with(config.clone());
        let k = engine.kinesis().await;
        create_stream(&k, "keep", 1).await;
        create_stream(&k, "drop", 1).await;
        for i in 0..100 {
            for s in ["keep", "drop"] {
                k.put_record()
                    .stream_name(s)
                    .partition_key("p")
                    .data(Blob::new(format!("{i}{big}")))
                    .send()
                    .await
                    .expect("put");
            }
        }
        let grown = std::fs::metadata(&journal).expect("journal").len();
        assert!(grown > 800_000, "{grown}");
        k.delete_stream()
            .stream_name("drop")
            .send()
            .await
            .expect("delete");
        // A day and an hour later every old record is past retention.
        clock.advance_ms(25 * 3_600_000);
        for i in 0..10 {
            let r = k
                .put_record()
                .stream_name("keep")
                .partition_key("p")
                .data(Blob::new(format!("live-{i}")))
                .send()
                .await
                .expect("put live");
            live.push((r.sequence_number().to_string(), format!("live-{i}")));
        }
        let mut size = grown;
        for _ in 0..200 {
            // Requests drive maintenance: start, then swap in, the compaction.
            k.list_streams().send().await.expect("list");
            size = std::fs::metadata(&journal).expect("journal").len();
            if size < 100_000 {
                break;
            }
            clock.advance_ms(11_000);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(size < 100_000, "compacted from {grown} to {size} bytes");
    }
    let engine = TestEngine::start_with(config);
    let k = engine.kinesis().await;
    let names = k.list_streams().send().await.expect("list");
    assert_eq!(names.stream_names(), ["keep"]);
    let got: Vec<(String, String)> = read_shard(&k, "keep", "shardId-000000000000")
        .await
        .iter()
        .map(|r| {
            (
                r.sequence_number().to_string(),
                String::from_utf8_lossy(r.data().as_ref()).into_owned(),
            )
        })
        .collect();
    assert_eq!(got, live, "the live records, with their sequence numbers");
}

/// `serve --max-retention`: records older than the cap are trimmed although the stream keeps
/// 24 hours, and compaction gives their journal space back, so a long-running engine's memory
/// and disk follow recent traffic (what `bench/soak.sh` relies on).
#[tokio::test]
async fn max_retention_trims_within_the_stream_retention_and_compacts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig {
        data_dir: Some(dir.path().to_path_buf()),
        journal_compact_min_bytes: 64 * 1024,
        max_retention: Some(Duration::from_secs(60)),
        ..EngineConfig::default()
    };
    let clock = config.clock.clone();
    let journal = dir.path().join("kinesis.journal");
    let engine = TestEngine::start_with(config);
    let k = engine.kinesis().await;
    create_stream(&k, "capped", 1).await;
    let big = "z".repeat(4000);
    for i in 0..100 {
        k.put_record()
            .stream_name("capped")
            .partition_key("p")
            .data(Blob::new(format!("{i}{big}")))
            .send()
            .await
            .expect("put");
    }
    let grown = std::fs::metadata(&journal).expect("journal").len();
    assert_eq!(read_shard(&k, "capped", "shardId-000000000000").await.len(), 100);
    // A minute later the old records are gone, the stream's 24 hours notwithstanding.
    clock.advance_ms(61_000);
    k.put_record()
        .stream_name("capped")
        .partition_key("p")
        .data(Blob::new("live"))
        .send()
        .await
        .expect("put live");
    let left = read_shard(&k, "capped", "shardId-000000000000").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].data().as_ref(), b"live");
    let described = k
        .describe_stream_summary()
        .stream_name("capped")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        described
            .stream_description_summary()
            .map(|d| d.retention_period_hours()),
        Some(24)
    );
    let mut size = grown;
    for _ in 0..200 {
        k.list_streams().send().await.expect("list");
        size = std::fs::metadata(&journal).expect("journal").len();
        if size < 100_000 {
            break;
        }
        clock.advance_ms(11_000);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(size < 100_000, "compacted from {grown} to {size} bytes");
}
