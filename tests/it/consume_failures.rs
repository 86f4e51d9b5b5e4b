//! `kinlocal consume` failure handling end to end: exit codes, signals, timeouts, every
//! partial-response shape of spec §2.7, retries, record age, bisect, both destinations.

use std::time::Duration;

use serde_json::Value;

use crate::consume::{delivered, fixture, wait_for, Rig, Running};

fn py(mode: &str) -> String {
    format!(
        "python3 {} {}",
        shell_words::quote(&fixture("handler.py")),
        shell_words::quote(mode)
    )
}

fn sizes(events: &[Value]) -> Vec<usize> {
    events
        .iter()
        .map(|e| e["Records"].as_array().map_or(0, Vec::len))
        .collect()
}

#[test]
fn consume_function_errors_are_retried_then_discarded_to_a_directory() {
    let rig = Rig::new();
    rig.stream("errs", 1);
    let puts: Vec<_> = (0..3)
        .map(|i| rig.put("errs", "k", format!("r{i}").as_bytes()))
        .collect();
    let dlq = rig.path("dlq");
    rig.consume("errs", &py("exit:1"))
        .args(["--maximum-retry-attempts", "2", "--on-failure"])
        .arg(&dlq)
        .assert()
        .code(3);
    assert_eq!(
        sizes(&rig.captured()),
        vec![3, 3, 3],
        "first invoke + 2 retries of the whole batch"
    );
    let files = rig.destination_files(&dlq);
    assert_eq!(files.len(), 1);
    let f = &files[0];
    assert_eq!(f["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(f["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(
        f["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:handler"
    );
    assert_eq!(f["responseContext"]["statusCode"], 200);
    assert_eq!(f["responseContext"]["executedVersion"], "$LATEST");
    assert_eq!(f["responseContext"]["functionError"], "Unhandled");
    assert_eq!(f["version"], "1.0");
    let info = &f["KinesisBatchInfo"];
    assert_eq!(info["shardId"], "shardId-000000000000");
    assert_eq!(info["startSequenceNumber"], puts[0].sequence_number.as_str());
    assert_eq!(info["endSequenceNumber"], puts[2].sequence_number.as_str());
    assert_eq!(info["batchSize"], 3);
    assert_eq!(
        info["streamArn"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/errs"
    );
    assert!(info["approximateArrivalOfFirstRecord"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z') && t.len() == 24));
    // The file also carries the exact event, as an S3 destination does.
    assert_eq!(f["payload"], rig.captured()[0]);

    // The checkpoint moved past the discarded batch: a restart has nothing to do.
    std::fs::remove_file(rig.path("capture.jsonl")).expect("rm");
    rig.consume("errs", &py("exit:1")).assert().code(0);
    assert!(rig.captured().is_empty());
}

#[test]
fn consume_signals_and_timeouts_are_function_errors() {
    let rig = Rig::new();
    rig.stream("crash", 1);
    rig.put("crash", "k", b"x");
    let dlq = rig.path("dlq");
    let out = rig
        .consume("crash", &fixture("die_by_signal.sh"))
        .args(["--maximum-retry-attempts", "0", "--on-failure"])
        .arg(&dlq)
        .assert()
        .code(3)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("signal 9"));
    let files = rig.destination_files(&dlq);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["responseContext"]["functionError"], "Unhandled");
    assert_eq!(files[0]["requestContext"]["approximateInvokeCount"], 1);

    // A timeout kills the whole process group: the background child never writes its marker.
    let marker = rig.path("marker");
    let started = std::time::Instant::now();
    let out = rig
        .consume("crash", &fixture("hang.sh"))
        .args([
            "--timeout",
            "300ms",
            "--maximum-retry-attempts",
            "1",
            "--reset",
            "--on-failure",
        ])
        .arg(rig.path("dlq2"))
        .env("MARKER_FILE", &marker)
        .assert()
        .code(3)
        .get_output()
        .clone();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not wait for the 30 s sleep"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches(" timeout").count(), 2, "{stderr}");
    let files = rig.destination_files(&rig.path("dlq2"));
    assert_eq!(files[0]["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(files[0]["responseContext"]["functionError"], "Unhandled");
    std::thread::sleep(Duration::from_millis(2300));
    assert!(!marker.exists(), "the handler's child survived the timeout");
}

/// Every row of spec §2.7, with one retry allowed: success shapes exit 0 after one invocation,
/// failure shapes are invoked twice and discarded (exit 3).
#[test]
fn consume_classifies_every_partial_response_shape() {
    let rig = Rig::new();
    let cases: Vec<(&str, String, bool)> = vec![
        ("s1", r#"{"batchItemFailures":[]}"#.into(), true),
        ("s2", r#"{"batchItemFailures":null}"#.into(), true),
        ("s3", "{}".into(), true),
        ("s4", "null".into(), true),
        ("s5", String::new(), true),
        ("s6", r#""""#.into(), true),
        ("s7", "[]".into(), true),
        ("s8", r#"{"failed":["x"]}"#.into(), true),
        (
            "f1",
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#.into(),
            false,
        ),
        (
            "f2",
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#.into(),
            false,
        ),
        ("f3", r#"{"batchItemFailures":[{"foo":123}]}"#.into(), false),
        ("f4", r#"{"batchItemFailures":[{"foo":null}]}"#.into(), false),
        (
            "f5",
            r#"{"batchItemFailures":[{"itemIdentifier":123}]}"#.into(),
            false,
        ),
        (
            "f6",
            r#"{"batchItemFailures":[{"itemIdentifier":"1"}]}"#.into(),
            false,
        ),
    ];
    for (stream, _, _) in &cases {
        rig.stream(stream, 1);
        rig.put(stream, "k", b"a");
        rig.put(stream, "k", b"b");
    }
    // A few at a time: enough parallelism to be quick, not so much that handlers starve.
    for chunk in cases.chunks(4) {
        std::thread::scope(|s| {
            for (stream, response, success) in chunk {
                let rig = &rig;
                s.spawn(move || {
                    let capture = rig.path(&format!("{stream}.jsonl"));
                    let dlq = rig.path(&format!("{stream}-dlq"));
                    let out = rig
                        .consume(stream, &py(&format!("respond:{response}")))
                        .args([
                            "--report-batch-item-failures",
                            "--maximum-retry-attempts",
                            "1",
                            "--on-failure",
                        ])
                        .arg(&dlq)
                        .env("CAPTURE_FILE", &capture)
                        .output()
                        .expect("runs");
                    let events = crate::consume::read_events(&capture);
                    if *success {
                        assert_eq!(
                            out.status.code(),
                            Some(0),
                            "{response}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        assert_eq!(sizes(&events), vec![2], "{response}");
                    } else {
                        assert_eq!(out.status.code(), Some(3), "{response}");
                        assert_eq!(sizes(&events), vec![2, 2], "{response}");
                        let files = rig.destination_files(&dlq);
                        assert_eq!(
                            files[0]["responseContext"]["functionError"],
                            Value::Null,
                            "{response}"
                        );
                        assert_eq!(files[0]["KinesisBatchInfo"]["batchSize"], 2);
                    }
                });
            }
        });
    }
}

#[test]
fn consume_partial_failures_checkpoint_before_the_lowest_and_retry_the_rest() {
    let rig = Rig::new();
    rig.stream("partial", 1);
    let puts: Vec<_> = ["a", "b", "poison-c", "d", "poison-e"]
        .iter()
        .map(|d| rig.put("partial", "k", d.as_bytes()))
        .collect();
    let dlq = rig.path("dlq");
    rig.consume("partial", &py("partial-poison"))
        .args([
            "--report-batch-item-failures",
            "--maximum-retry-attempts",
            "1",
            "--on-failure",
        ])
        .arg(&dlq)
        .assert()
        .code(3);
    // Rewind, not cherry-pick: the retry starts at the lowest failure, successes after it included.
    assert_eq!(sizes(&rig.captured()), vec![5, 3]);
    let files = rig.destination_files(&dlq);
    assert_eq!(files.len(), 1);
    let f = &files[0];
    assert_eq!(f["responseContext"]["functionError"], Value::Null);
    assert_eq!(f["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(f["KinesisBatchInfo"]["batchSize"], 3);
    assert_eq!(
        f["KinesisBatchInfo"]["startSequenceNumber"],
        puts[2].sequence_number.as_str()
    );
    assert_eq!(
        f["KinesisBatchInfo"]["endSequenceNumber"],
        puts[4].sequence_number.as_str()
    );
    let items = rig.lease_items("kinlocal-partial-handler");
    let checkpoint = items[0]["checkpoint"].as_s().cloned().unwrap_or_default();
    assert_eq!(
        checkpoint, puts[4].sequence_number,
        "checkpointed past the discarded range"
    );

    // Without --report-batch-item-failures the same response is ignored: success.
    std::fs::remove_file(rig.path("capture.jsonl")).expect("rm");
    rig.consume("partial", &py("partial-poison"))
        .arg("--reset")
        .assert()
        .code(0);
    assert_eq!(sizes(&rig.captured()), vec![5]);
}

#[test]
fn consume_bisects_a_failing_batch_down_to_the_poison_record() {
    let rig = Rig::new();
    rig.stream("bisect", 1);
    let puts: Vec<_> = ["a", "b", "poison", "d"]
        .iter()
        .map(|d| rig.put("bisect", "k", d.as_bytes()))
        .collect();
    let dlq = rig.path("dlq");
    rig.consume("bisect", &py("poison"))
        .args([
            "--bisect-batch-on-function-error",
            "--maximum-retry-attempts",
            "0",
            "--on-failure",
        ])
        .arg(&dlq)
        .assert()
        .code(3);
    // [a b poison d] fails → [a b] ok, [poison d] fails → [poison] fails (discarded), [d] ok.
    assert_eq!(sizes(&rig.captured()), vec![4, 2, 2, 1, 1]);
    let files = rig.destination_files(&dlq);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["KinesisBatchInfo"]["batchSize"], 1);
    assert_eq!(
        files[0]["KinesisBatchInfo"]["startSequenceNumber"],
        puts[2].sequence_number.as_str()
    );
    assert_eq!(files[0]["requestContext"]["approximateInvokeCount"], 1);
}

/// Record age is measured from arrival, so each record whose age matters is put only once the
/// consumer is reading: a slow start (a loaded CI machine) must not age it.
#[test]
fn consume_discards_records_older_than_the_maximum_age() {
    let rig = Rig::new();
    rig.stream("age", 1);
    // Both runs share one lease table: the default (kinlocal-STREAM-FUNCTION) follows the
    // handler's file name, and the second run must resume after the first one's checkpoint,
    // not re-read (and discard again) `old` and `fresh`.
    let app = ["--app", "age-test"];
    let lease_owner = || {
        rig.lease_items("age-test")
            .first()
            .and_then(|i| i.get("leaseOwner"))
            .and_then(|o| o.as_s().ok())
            .cloned()
    };
    let old = rig.put("age", "k", b"old");
    // Already too old when first read: discarded without an invocation (count 1, no
    // responseContext); what comes after it is still delivered.
    std::thread::sleep(Duration::from_millis(1200));
    let dlq = rig.path("dlq");
    let mut first = Running::spawn(
        rig.consume_std("age", &fixture("capture.sh"))
            .args(app)
            .args([
                "--maximum-record-age",
                "1s",
                "--maximum-record-age-unchecked",
                "--until-idle",
                "60s",
                "--on-failure",
            ])
            .arg(&dlq),
        rig.path("first.stderr"),
    );
    wait_for("old discarded", Duration::from_secs(30), || {
        rig.destination_files(&dlq).len() == 1
    });
    rig.put("age", "k", b"fresh");
    wait_for("fresh delivered", Duration::from_secs(30), || {
        !rig.captured().is_empty()
    });
    first.signal("TERM");
    assert_eq!(first.wait(Duration::from_secs(30)), Some(3), "{}", first.stderr());
    let got: Vec<String> = delivered(&rig.captured()).into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        got,
        vec!["ZnJlc2g=".to_string()],
        "only the fresh record reached the handler"
    );
    let files = rig.destination_files(&dlq);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["requestContext"]["condition"], "RecordAgeExceeded");
    assert_eq!(files[0]["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(
        files[0]["KinesisBatchInfo"]["startSequenceNumber"],
        old.sequence_number.as_str()
    );
    assert!(files[0].get("responseContext").is_none());

    // With infinite retries, a failing record is retried until it is too old.
    std::fs::remove_file(rig.path("capture.jsonl")).expect("rm");
    let before = lease_owner();
    let dlq2 = rig.path("dlq2");
    let mut second = Running::spawn(
        rig.consume_std("age", &py("exit:1"))
            .args(app)
            .args([
                "--maximum-record-age",
                "3s",
                "--maximum-record-age-unchecked",
                "--until-idle",
                "60s",
                "--on-failure",
            ])
            .arg(&dlq2),
        rig.path("second.stderr"),
    );
    // Its reader holds the lease (and reads right after taking it): now the clock may start.
    wait_for("the second consumer's lease", Duration::from_secs(30), || {
        lease_owner().is_some_and(|o| Some(&o) != before.as_ref())
    });
    let fails = rig.put("age", "k", b"fails");
    wait_for("fails discarded", Duration::from_secs(30), || {
        !rig.destination_files(&dlq2).is_empty()
    });
    second.signal("TERM");
    assert_eq!(
        second.wait(Duration::from_secs(30)),
        Some(3),
        "{}",
        second.stderr()
    );
    let events = rig.captured();
    for e in &events {
        let datas: Vec<String> = delivered(std::slice::from_ref(e))
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        assert_eq!(
            datas,
            vec!["ZmFpbHM=".to_string()],
            "resumed after the checkpoint"
        );
    }
    let invocations = events.len();
    assert!(invocations >= 2, "retried ({invocations} invocations)");
    let files = rig.destination_files(&dlq2);
    assert_eq!(files.len(), 1, "one discarded range");
    assert_eq!(files[0]["requestContext"]["condition"], "RecordAgeExceeded");
    assert_eq!(
        files[0]["KinesisBatchInfo"]["startSequenceNumber"],
        fails.sequence_number.as_str()
    );
    assert_eq!(files[0]["requestContext"]["approximateInvokeCount"], invocations);

    // Below 60 s without the test-only flag is refused, as AWS does.
    rig.consume("age", &fixture("capture.sh"))
        .args(["--maximum-record-age", "59s"])
        .assert()
        .code(2);
}

#[test]
fn consume_puts_discarded_batches_on_a_destination_stream() {
    let rig = Rig::new();
    rig.stream("src", 1);
    rig.stream("dlq", 1);
    let put = rig.put("src", "k", b"x");
    rig.consume("src", &py("exit:2"))
        .args(["--maximum-retry-attempts", "0", "--on-failure", "stream:dlq"])
        .assert()
        .code(3);
    let records = rig.rt.block_on(crate::support::read_shard(
        &rig.kinesis,
        "dlq",
        "shardId-000000000000",
    ));
    assert_eq!(records.len(), 1);
    let v: Value = serde_json::from_slice(records[0].data().as_ref()).expect("json record");
    assert_eq!(v["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(
        v["KinesisBatchInfo"]["startSequenceNumber"],
        put.sequence_number.as_str()
    );
    assert!(
        v.get("payload").is_none(),
        "like SQS/SNS: the record, not the records"
    );
}

#[test]
fn consume_renews_an_expired_iterator_from_the_last_checkpoint() {
    use base64::Engine as _;
    // Iterators live 1 s here; the handler sleeps 1.5 s on "poison", so the reader's next
    // GetRecords after that batch carries an expired iterator.
    let rig = Rig::with_engine(crate::support::TestEngine::start_with(
        kinlocal::engine::EngineConfig {
            iterator_ttl: Duration::from_secs(1),
            ..Default::default()
        },
    ));
    rig.stream("exp", 1);
    for d in ["a", "poison", "c"] {
        rig.put("exp", "k", d.as_bytes());
    }
    let child = rig
        .consume_std("exp", &py("slow-poison:1.5"))
        .args(["--batch-size", "1", "--until-idle", "2s"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn consume");
    // Written while the handler sleeps: only reachable through a renewed iterator.
    std::thread::sleep(Duration::from_millis(700));
    rig.put("exp", "k", b"d");
    let out = child.wait_with_output().expect("consume ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("shard iterator expired; renewing from the last checkpoint"),
        "the iterator expired and was renewed: {stderr}"
    );
    let got: Vec<String> = delivered(&rig.captured())
        .into_iter()
        .map(|(_, d)| {
            String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(d).expect("b64"))
                .to_string()
        })
        .collect();
    assert_eq!(
        got,
        ["a", "poison", "c", "d"],
        "in order, nothing lost, nothing twice"
    );
}
