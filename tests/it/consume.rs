//! `kinlocal consume` end to end: the real binary against the embedded engine, with real
//! handler programs from `tests/fixtures/`. This module holds the rig and the happy paths;
//! `consume_failures` and `consume_reshard` hold the rest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_sdk_kinesis::primitives::Blob;
use serde_json::Value;

use crate::support::{create_stream, TestEngine};

/// An engine, a runtime to drive the SDK from sync tests, and a scratch directory.
pub struct Rig {
    /// The engine (Kinesis, and DynamoDB unless `KINLOCAL_TEST_DYNAMODB_URL` points elsewhere).
    pub engine: TestEngine,
    /// The DynamoDB endpoint for the lease table.
    pub dynamodb_url: String,
    /// Drives the SDK.
    pub rt: tokio::runtime::Runtime,
    /// Kinesis client on the engine.
    pub kinesis: aws_sdk_kinesis::Client,
    /// Scratch space: capture files, destinations.
    pub dir: tempfile::TempDir,
}

/// A record as put: (shard, sequence number, partition key, data, arrival ms).
#[derive(Debug, Clone)]
pub struct Put {
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
}

pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

impl Rig {
    pub fn new() -> Self {
        Self::with_engine(TestEngine::start())
    }

    pub fn with_engine(engine: TestEngine) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let kinesis = rt.block_on(engine.kinesis());
        // The lease table lives on the engine; an external DynamoDB (a peer) can be chosen.
        let dynamodb_url =
            std::env::var("KINLOCAL_TEST_DYNAMODB_URL").unwrap_or_else(|_| engine.endpoint.clone());
        Self {
            engine,
            dynamodb_url,
            rt,
            kinesis,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn stream(&self, name: &str, shards: i32) {
        self.rt.block_on(create_stream(&self.kinesis, name, shards));
    }

    pub fn put(&self, stream: &str, key: &str, data: &[u8]) -> Put {
        let out = self
            .rt
            .block_on(
                self.kinesis
                    .put_record()
                    .stream_name(stream)
                    .partition_key(key)
                    .data(Blob::new(data.to_vec()))
                    .send(),
            )
            .expect("put record");
        Put {
            shard_id: out.shard_id().to_string(),
            sequence_number: out.sequence_number().to_string(),
            partition_key: key.to_string(),
            data: data.to_vec(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `kinlocal consume --stream STREAM --exec EXEC` with fast polling, an idle exit, the
    /// engine's endpoints and CAPTURE_FILE set, as a plain process (to spawn and kill).
    pub fn consume_std(&self, stream: &str, exec: &str) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"));
        c.args(["consume", "--stream", stream, "--exec", exec])
            .args(["--poll-interval", "20ms", "--until-idle", "400ms"])
            // Generous: tests run in parallel on few cores and Python starts slowly.
            .args(["--timeout", "30s"])
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ENDPOINT_URL_KINESIS", &self.engine.endpoint)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &self.dynamodb_url)
            .env("AWS_REGION", "us-east-1")
            .env("KINLOCAL_STATE_DIR", self.path("state"))
            .env("CAPTURE_FILE", self.path("capture.jsonl"));
        c
    }

    /// [`Rig::consume_std`] for assert_cmd.
    pub fn consume(&self, stream: &str, exec: &str) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::from(self.consume_std(stream, exec));
        c.timeout(Duration::from_secs(60));
        c
    }

    /// Every event the handler saw, in invocation order.
    pub fn captured(&self) -> Vec<Value> {
        read_events(&self.path("capture.jsonl"))
    }

    /// Files written to an on-failure directory.
    pub fn destination_files(&self, dir: &Path) -> Vec<Value> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    out.push(serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("json file"));
                }
            }
        }
        out
    }

    /// Items of a lease table.
    pub fn lease_items(&self, table: &str) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.rt.block_on(async {
            let d = crate::support::dynamodb_client(&self.dynamodb_url).await;
            d.scan()
                .table_name(table)
                .send()
                .await
                .expect("scan lease table")
                .items()
                .to_vec()
        })
    }
}

/// Polls `f` every 20 ms until it holds; fails the test after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A consumer running in the background, its stderr going to a file. Dropping it kills it
/// (SIGKILL), so a failing test never leaves a process behind.
pub struct Running {
    child: std::process::Child,
    stderr: PathBuf,
}

impl Running {
    /// Spawns `cmd` (from [`Rig::consume_std`]) with stdout discarded and stderr in `stderr`.
    pub fn spawn(cmd: &mut std::process::Command, stderr: PathBuf) -> Self {
        let file = std::fs::File::create(&stderr).expect("stderr file");
        let child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn kinlocal consume");
        Self { child, stderr }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`, `KILL`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let ok = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1)")
            .success();
        assert!(ok, "kill -{signal} {}", self.pid());
    }

    /// Waits for the exit (failing the test after `timeout`) and returns the exit code
    /// (`None` if a signal ended it).
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(
                start.elapsed() < timeout,
                "consumer {} still running after {timeout:?}; stderr:\n{}",
                self.pid(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it has not exited yet.
    pub fn child_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn read_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("each captured line is one JSON event"))
        .collect()
}

/// (eventID, data) of every record of the captured events, in delivery order.
pub fn delivered(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .flat_map(|e| e["Records"].as_array().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["eventID"].as_str().unwrap_or_default().to_string(),
                r["kinesis"]["data"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn consume_delivers_the_exact_lambda_event_in_shard_order() {
    let rig = Rig::new();
    rig.stream("orders", 2);
    let mut puts = Vec::new();
    for i in 0..40u8 {
        // Binary data (including bytes that are not UTF-8) must arrive byte for byte.
        let data = [b'r', i, 0xff, 0x00, b'\n'];
        puts.push(rig.put("orders", &format!("key-{}", i % 7), &data));
    }
    let arrivals: HashMap<String, i64> = rig.rt.block_on(async {
        let mut m = HashMap::new();
        for shard in ["shardId-000000000000", "shardId-000000000001"] {
            for r in crate::support::read_shard(&rig.kinesis, "orders", shard).await {
                let ms = r
                    .approximate_arrival_timestamp()
                    .and_then(|t| t.to_millis().ok())
                    .expect("arrival");
                m.insert(r.sequence_number().to_string(), ms);
            }
        }
        m
    });
    rig.consume("orders", &fixture("capture.sh"))
        .args(["--batch-size", "7"])
        .assert()
        .code(0);

    let events = rig.captured();
    assert!(!events.is_empty());
    let raw = std::fs::read_to_string(rig.path("capture.jsonl")).expect("capture");
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for (event, line) in events.iter().zip(raw.lines()) {
        // It deserializes into aws_lambda_events' KinesisEvent, like a Rust handler would.
        let typed: KinesisEvent = serde_json::from_str(line).expect("a KinesisEvent");
        let records = event["Records"].as_array().expect("Records");
        assert_eq!(
            event.as_object().map(|o| o.len()),
            Some(1),
            "Records is the only key"
        );
        assert!(records.len() <= 7, "batch size respected");
        let shard = typed.records[0].event_id.clone().unwrap_or_default();
        let shard = shard.split(':').next().unwrap_or_default().to_string();
        for (r, t) in records.iter().zip(&typed.records) {
            // Field set and order of spec §1.3.
            let keys: Vec<&str> = r
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                [
                    "kinesis",
                    "eventSource",
                    "eventVersion",
                    "eventID",
                    "eventName",
                    "invokeIdentityArn",
                    "awsRegion",
                    "eventSourceARN"
                ]
            );
            let kkeys: Vec<&str> = r["kinesis"]
                .as_object()
                .expect("kinesis")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                kkeys,
                [
                    "kinesisSchemaVersion",
                    "partitionKey",
                    "sequenceNumber",
                    "data",
                    "approximateArrivalTimestamp"
                ]
            );
            let seq = t.kinesis.sequence_number.clone();
            let put = puts
                .iter()
                .find(|p| p.sequence_number == seq)
                .expect("a record we put");
            assert_eq!(t.kinesis.data.0, put.data, "exact bytes");
            assert_eq!(r["kinesis"]["data"], b64(&put.data), "padded standard base64");
            assert_eq!(t.kinesis.partition_key, put.partition_key);
            assert_eq!(t.kinesis.kinesis_schema_version.as_deref(), Some("1.0"));
            assert_eq!(t.event_source.as_deref(), Some("aws:kinesis"));
            assert_eq!(t.event_version.as_deref(), Some("1.0"));
            assert_eq!(t.event_name.as_deref(), Some("aws:kinesis:record"));
            assert_eq!(
                t.event_id.as_deref(),
                Some(format!("{}:{seq}", put.shard_id).as_str())
            );
            assert_eq!(t.aws_region.as_deref(), Some("us-east-1"));
            assert_eq!(
                t.event_source_arn.as_deref(),
                Some("arn:aws:kinesis:us-east-1:000000000000:stream/orders")
            );
            assert_eq!(
                t.invoke_identity_arn.as_deref(),
                Some("arn:aws:iam::000000000000:role/lambda-role")
            );
            // Seconds with millisecond precision, as a JSON number, equal to the arrival time.
            let ts = &r["kinesis"]["approximateArrivalTimestamp"];
            assert!(ts.is_number(), "a number, not a string");
            assert!(ts.to_string().split('.').nth(1).is_none_or(|f| f.len() <= 3));
            let ms = (ts.as_f64().expect("f64") * 1000.0).round() as i64;
            assert_eq!(ms, arrivals[&seq]);
            assert_eq!(put.shard_id, shard, "one shard per batch");
            seen.entry(shard.clone()).or_default().push(seq);
        }
    }
    // Every record exactly once, in shard order.
    let total: usize = seen.values().map(Vec::len).sum();
    assert_eq!(total, puts.len());
    for (shard, seqs) in &seen {
        let expected: Vec<String> = puts
            .iter()
            .filter(|p| &p.shard_id == shard)
            .map(|p| p.sequence_number.clone())
            .collect();
        assert_eq!(seqs, &expected, "shard {shard} in order");
    }
}

#[test]
fn consume_runs_exec_without_a_shell_with_args_and_a_lambda_environment() {
    let rig = Rig::new();
    rig.stream("envs", 1);
    rig.put("envs", "k", b"hello");
    let out = rig
        .consume("envs", &format!("python3 '{}'", fixture("handler.py")))
        .args(["--function-name", "my-fn", "--account-id", "123456789012"])
        .args([
            "--role-arn",
            "arn:aws:iam::123456789012:role/custom",
            "--timeout",
            "7s",
            "--memory-size",
            "512",
        ])
        .args(["--", "respond:{\"batchItemFailures\":[]}"])
        .env("ENV_FILE", rig.path("env.txt"))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Logs (stderr and the stdout lines before the return value) come out prefixed.
    assert!(
        stderr.contains("[shardId-000000000000] got 1 records"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[shardId-000000000000] a log line on stderr"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("] {\"batchItemFailures\""),
        "the return value is not a log line: {stderr}"
    );
    let events = rig.captured();
    assert_eq!(events.len(), 1);
    let r = &events[0]["Records"][0];
    assert_eq!(
        r["eventSourceARN"],
        "arn:aws:kinesis:us-east-1:123456789012:stream/envs"
    );
    assert_eq!(r["invokeIdentityArn"], "arn:aws:iam::123456789012:role/custom");

    // The same again through a shell script, for the environment it sees.
    rig.consume("envs", &fixture("capture.sh"))
        .args([
            "--function-name",
            "my-fn",
            "--timeout",
            "7s",
            "--memory-size",
            "512",
            "--app",
            "env-app",
        ])
        .env("ENV_FILE", rig.path("env.txt"))
        .assert()
        .code(0);
    let env = std::fs::read_to_string(rig.path("env.txt")).expect("env captured");
    for expected in [
        "AWS_LAMBDA_FUNCTION_NAME=my-fn",
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
        "AWS_LAMBDA_FUNCTION_TIMEOUT=7",
        "AWS_REGION=us-east-1",
        "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/my-fn",
        "KINLOCAL_SHARD_ID=shardId-000000000000",
    ] {
        assert!(
            env.lines().any(|l| l == expected),
            "{expected} missing in:\n{env}"
        );
    }
}

#[test]
fn consume_rejects_bad_input_with_exit_2_before_consuming() {
    let rig = Rig::new();
    rig.stream("bad", 1);
    rig.put("bad", "k", b"x");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--exec".into(), "./no/such/handler".into()],
            "does not exist",
        ),
        (
            vec!["--exec".into(), fixture("not_executable.sh")],
            "not an executable",
        ),
        (
            vec!["--exec".into(), "no-such-command-kinlocal".into()],
            "not found on PATH",
        ),
        (
            vec!["--stream".into(), "missing".into()],
            "stream missing not found",
        ),
        (vec!["--batch-size".into(), "0".into()], "--batch-size"),
        (vec!["--batch-size".into(), "10001".into()], "--batch-size"),
        (
            vec!["--maximum-record-age".into(), "30s".into()],
            "--maximum-record-age",
        ),
        (
            vec!["--maximum-retry-attempts".into(), "-2".into()],
            "maximum-retry-attempts",
        ),
        (
            vec!["--maximum-batching-window".into(), "301s".into()],
            "--maximum-batching-window",
        ),
        (vec!["--timeout".into(), "901s".into()], "--timeout"),
        (
            vec!["--starting-position-timestamp".into(), "1700000000".into()],
            "only goes with",
        ),
        (
            vec!["--starting-position".into(), "at-timestamp".into()],
            "needs --starting-position-timestamp",
        ),
        (
            vec!["--on-failure".into(), "stream:nope".into()],
            "destination stream nope not found",
        ),
        (vec!["--poll-interval".into(), "soon".into()], "not a duration"),
    ];
    for (extra, message) in cases {
        let mut c = rig.consume("bad", &fixture("capture.sh"));
        // Later flags win: the case's own --exec/--stream override the defaults.
        c.args(&extra);
        let out = c.assert().code(2).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(message),
            "{extra:?}: expected {message:?} in {stderr}"
        );
    }
    // An endpoint nobody listens on: a run-time failure (exit 1), as in every subcommand.
    let out = rig
        .consume("bad", &fixture("capture.sh"))
        .env("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:9")
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
    let out = rig
        .consume("bad", &fixture("capture.sh"))
        .env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the DynamoDB endpoint"));
    assert!(rig.captured().is_empty(), "nothing was consumed");
}

#[test]
fn consume_checkpoints_in_a_kcl_lease_table_and_resumes_or_resets() {
    let rig = Rig::new();
    rig.stream("resume", 1);
    let first: Vec<Put> = (0..5)
        .map(|i| rig.put("resume", "k", format!("a{i}").as_bytes()))
        .collect();
    rig.consume("resume", &fixture("capture.sh")).assert().code(0);
    assert_eq!(delivered(&rig.captured()).len(), 5);

    let items = rig.lease_items("kinlocal-resume-capture");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    let s = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let n = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(s("leaseKey"), "shardId-000000000000");
    assert_eq!(
        s("checkpoint"),
        first[4].sequence_number,
        "the last processed record"
    );
    assert_eq!(n("checkpointSubSequenceNumber"), "0");
    assert_eq!(n("ownerSwitchesSinceCheckpoint"), "0");
    assert!(
        n("leaseCounter").parse::<u64>().expect("a number") >= 1,
        "bumped by the checkpoint"
    );
    assert!(
        item.get("leaseOwner").is_none(),
        "released on a graceful exit, for the next consumer to take at once"
    );

    // A restart resumes after the checkpoint.
    std::fs::remove_file(rig.path("capture.jsonl")).expect("rm");
    for i in 0..3 {
        rig.put("resume", "k", format!("b{i}").as_bytes());
    }
    rig.consume("resume", &fixture("capture.sh")).assert().code(0);
    let again: Vec<String> = delivered(&rig.captured()).into_iter().map(|(_, d)| d).collect();
    assert_eq!(again, vec![b64(b"b0"), b64(b"b1"), b64(b"b2")]);

    // --reset starts from the starting position again.
    std::fs::remove_file(rig.path("capture.jsonl")).expect("rm");
    rig.consume("resume", &fixture("capture.sh"))
        .arg("--reset")
        .assert()
        .code(0);
    assert_eq!(delivered(&rig.captured()).len(), 8);
}

#[test]
fn consume_json_lines_max_records_and_latest() {
    let rig = Rig::new();
    rig.stream("lines", 1);
    for i in 0..10 {
        rig.put("lines", "k", format!("{i}").as_bytes());
    }
    let out = rig
        .consume("lines", &fixture("capture.sh"))
        .args(["--batch-size", "2", "--max-records", "5", "--json"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout is JSON lines"))
        .collect();
    let batches: Vec<&Value> = lines.iter().filter(|l| l["type"] == "batch").collect();
    assert_eq!(batches.len(), 3, "{lines:?}");
    assert_eq!(
        batches
            .iter()
            .map(|b| b["records"].as_u64().unwrap_or(0))
            .sum::<u64>(),
        5
    );
    assert_eq!(batches[0]["outcome"], "ok");
    assert_eq!(batches[0]["shard_id"], "shardId-000000000000");
    assert!(batches[0]["first_sequence_number"].is_string());
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["delivered"], 5);
    assert_eq!(delivered(&rig.captured()).len(), 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shardId-000000000000 2 record(s)"), "{stderr}");

    // LATEST in a fresh table: only what arrives after the start is delivered.
    std::fs::remove_file(rig.path("capture.jsonl")).expect("rm");
    let mut child = rig
        .consume_std("lines", &fixture("capture.sh"))
        .args([
            "--starting-position",
            "latest",
            "--app",
            "latest-app",
            "--until-idle",
            "1500ms",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    rig.put("lines", "k", b"new");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    let got: Vec<String> = delivered(&rig.captured()).into_iter().map(|(_, d)| d).collect();
    assert_eq!(got, vec![b64(b"new")]);
}
