//! `consume --tumbling-window` end to end: the real binary, the embedded engine and a real
//! windowed function (`tests/fixtures/window.py`) run as a process per batch, behind the
//! Runtime API with its own bootstrap, and by name through the bundled Python bootstrap.
//! Window boundaries, the state carried from one invocation to the next, the final invocation,
//! early termination at 1 MB, a failing invocation retried inside its window, and the
//! checkpoint held back until a window closes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::kinesis::KinesisTimeWindowEvent;
use base64::Engine as _;
use serde_json::Value;

use crate::consume::{fixture, Rig, Running};
use crate::runtime_api_support as rs;

/// How the window function runs.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `--exec`: a process per batch.
    Exec,
    /// `--exec ... --runtime-api`: the fixture polls the Runtime API itself.
    RuntimeApi,
    /// `--handler window.handler`: kinlocal's bundled Python bootstrap.
    Handler,
}

fn args(mode: Mode) -> Vec<String> {
    let script = fixture("window.py");
    match mode {
        Mode::Exec => vec!["--exec".into(), format!("python3 {script}")],
        Mode::RuntimeApi => vec![
            "--exec".into(),
            format!("python3 {script} --runtime-api"),
            "--runtime-api".into(),
        ],
        Mode::Handler => vec![
            "--handler".into(),
            fixture("window.handler"),
            "--runtime".into(),
            "python3.11".into(),
        ],
    }
}

/// `kinlocal consume` of `stream` with the window function in `mode`.
fn consume(rig: &Rig, stream: &str, mode: Mode, window: &str) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"));
    c.args(["consume", "--stream", stream])
        .args(args(mode))
        .args(["--tumbling-window", window])
        .args([
            "--poll-interval",
            "20ms",
            "--until-idle",
            "400ms",
            "--timeout",
            "30s",
        ])
        .args(["--app", &format!("{stream}-app")])
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_KINESIS", &rig.engine.endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &rig.dynamodb_url)
        .env("AWS_REGION", "us-east-1")
        .env("KINLOCAL_STATE_DIR", rig.path("state"))
        .env("CAPTURE_FILE", rig.path("capture.jsonl"));
    c
}

/// Runs to the idle exit; returns stderr.
fn run(cmd: std::process::Command) -> String {
    let out = assert_cmd::Command::from(cmd)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run kinlocal consume");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    stderr
}

/// Sleeps until `offset_ms` past the next multiple of `window_ms` (so the records put next
/// share a window, with time to spare).
fn align(window_ms: u64, offset_ms: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    let next = (now / window_ms + 1) * window_ms + offset_ms;
    std::thread::sleep(Duration::from_millis(next - now));
}

/// One invocation as the function saw it.
#[derive(Debug, Clone)]
struct Seen {
    start: String,
    end: String,
    is_final: bool,
    terminated_early: bool,
    data: Vec<String>,
    arrivals_ms: Vec<i64>,
    state: Value,
    sequence_numbers: Vec<String>,
}

/// Every captured event, checked to deserialize into `aws_lambda_events`' window event.
fn seen(rig: &Rig) -> Vec<Seen> {
    let text = std::fs::read_to_string(rig.path("capture.jsonl")).unwrap_or_default();
    text.lines()
        .map(|line| {
            let typed: KinesisTimeWindowEvent = serde_json::from_str(line)
                .expect("each event is an aws_lambda_events KinesisTimeWindowEvent");
            let v: Value = serde_json::from_str(line).expect("json");
            let records = v["Records"].as_array().cloned().unwrap_or_default();
            assert_eq!(typed.kinesis_event.records.len(), records.len());
            let props = &typed.time_window_properties;
            assert_eq!(props.shard_id.as_deref(), Some("shardId-000000000000"));
            assert!(props
                .event_source_arn
                .as_deref()
                .is_some_and(|a| a.starts_with("arn:aws:kinesis:us-east-1:") && a.contains(":stream/")));
            Seen {
                start: v["window"]["start"].as_str().unwrap_or_default().to_string(),
                end: v["window"]["end"].as_str().unwrap_or_default().to_string(),
                is_final: props.is_final_invoke_for_window,
                terminated_early: props.is_window_terminated_early,
                data: records
                    .iter()
                    .map(|r| {
                        let b = base64::engine::general_purpose::STANDARD
                            .decode(r["kinesis"]["data"].as_str().unwrap_or_default())
                            .unwrap_or_default();
                        String::from_utf8_lossy(&b).into_owned()
                    })
                    .collect(),
                #[allow(clippy::cast_possible_truncation)]
                arrivals_ms: records
                    .iter()
                    .map(|r| {
                        (r["kinesis"]["approximateArrivalTimestamp"]
                            .as_f64()
                            .unwrap_or(0.0)
                            * 1000.0)
                            .round() as i64
                    })
                    .collect(),
                state: v["state"].clone(),
                sequence_numbers: records
                    .iter()
                    .map(|r| {
                        r["kinesis"]["sequenceNumber"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect(),
            }
        })
        .collect()
}

fn ms(rfc3339: &str) -> i64 {
    humantime::parse_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(-1))
}

fn checkpoint(rig: &Rig, app: &str) -> String {
    let items = rig.lease_items(app);
    assert_eq!(items.len(), 1, "one shard, one lease");
    items[0]["checkpoint"].as_s().cloned().unwrap_or_default()
}

fn count(state: &Value) -> &str {
    state["count"].as_str().unwrap_or("0")
}

/// Two windows of 2 s, three records each, batches of two: every window's invocations carry
/// the state the previous one returned, start from `{}`, never mix windows, and end with a
/// final invocation without records that carries the window's whole state; the shard is
/// checkpointed at its last record once both windows closed.
fn windows_carry_state_and_close(mode: Mode) {
    let rig = Rig::new();
    let stream = "win";
    rig.stream(stream, 1);
    align(2000, 50);
    let mut last = String::new();
    for d in ["a", "b", "c"] {
        last = rig.put(stream, "k", d.as_bytes()).sequence_number;
    }
    align(2000, 50);
    for d in ["d", "e", "f"] {
        last = rig.put(stream, "k", d.as_bytes()).sequence_number;
    }
    let mut cmd = consume(&rig, stream, mode, "2s");
    cmd.args(["--batch-size", "2"]);
    let stderr = run(cmd);
    let seen = seen(&rig);
    let windows: Vec<(String, String)> = seen.iter().fold(Vec::new(), |mut acc, s| {
        if acc.last() != Some(&(s.start.clone(), s.end.clone())) {
            acc.push((s.start.clone(), s.end.clone()));
        }
        acc
    });
    assert_eq!(
        windows.len(),
        2,
        "two windows, one after the other: {seen:#?}\n{stderr}"
    );
    let mut all = Vec::new();
    for (start, end) in &windows {
        let (start_ms, end_ms) = (ms(start), ms(end));
        assert_eq!(end_ms - start_ms, 2000, "{start}..{end}");
        assert_eq!(start_ms % 2000, 0, "aligned on the window length: {start}");
        let invocations: Vec<&Seen> = seen.iter().filter(|s| &s.start == start).collect();
        let (last_one, batches) = invocations.split_last().expect("invocations");
        assert_eq!(
            batches.iter().map(|s| s.data.len()).collect::<Vec<_>>(),
            vec![2, 1],
            "batches of two: {invocations:#?}"
        );
        assert_eq!(
            batches[0].state,
            serde_json::json!({}),
            "a window starts with {{}}"
        );
        assert_eq!(
            count(&batches[1].state),
            "2",
            "the state the first batch returned"
        );
        for b in batches {
            assert!(!b.is_final && !b.terminated_early);
            assert!(
                b.arrivals_ms.iter().all(|a| (start_ms..end_ms).contains(a)),
                "every record of the batch arrived in {start}..{end}: {b:#?}"
            );
            all.extend(b.data.clone());
        }
        assert!(last_one.is_final && !last_one.terminated_early);
        assert!(
            last_one.data.is_empty(),
            "the final invocation carries no records"
        );
        assert_eq!(count(&last_one.state), "3");
    }
    assert_eq!(all, ["a", "b", "c", "d", "e", "f"], "each record once, in order");
    assert_eq!(checkpoint(&rig, &format!("{stream}-app")), last);
    assert!(
        stderr.contains("final"),
        "the per-batch line names the final invocation:\n{stderr}"
    );
}

#[test]
fn windows_carry_state_and_close_with_a_process_per_batch() {
    windows_carry_state_and_close(Mode::Exec);
}

#[test]
fn windows_carry_state_and_close_behind_the_runtime_api() {
    windows_carry_state_and_close(Mode::RuntimeApi);
}

#[test]
fn windows_carry_state_and_close_with_a_handler_by_name() {
    if rs::python().is_none() {
        rs::skip("windows_carry_state_and_close_with_a_handler_by_name", "python3");
        return;
    }
    windows_carry_state_and_close(Mode::Handler);
}

/// A state over 1 MB ends the window at once (`isWindowTerminatedEarly`, the big state in the
/// final invocation); the rest of the window goes on from a fresh state and closes normally.
#[test]
fn a_state_over_one_megabyte_terminates_the_window_early() {
    let rig = Rig::new();
    let stream = "big";
    rig.stream(stream, 1);
    align(3000, 50);
    for d in ["a", "big", "c"] {
        rig.put(stream, "k", d.as_bytes());
    }
    let mut cmd = consume(&rig, stream, Mode::Exec, "3s");
    cmd.args(["--batch-size", "1"]);
    let stderr = run(cmd);
    let seen = seen(&rig);
    let shape: Vec<(Vec<String>, bool, bool, String)> = seen
        .iter()
        .map(|s| {
            (
                s.data.clone(),
                s.is_final,
                s.terminated_early,
                count(&s.state).to_string(),
            )
        })
        .collect();
    let v = |d: &[&str]| d.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    assert_eq!(
        shape,
        vec![
            (v(&["a"]), false, false, "0".into()),
            (v(&["big"]), false, false, "1".into()),
            (v(&[]), true, true, "2".into()),
            (v(&["c"]), false, false, "0".into()),
            (v(&[]), true, false, "1".into()),
        ],
        "{stderr}"
    );
    assert!(
        seen[2].state["blob"]
            .as_str()
            .is_some_and(|b| b.len() > 1024 * 1024),
        "the final invocation carries the oversized state"
    );
    assert!(
        seen.iter().all(|s| s.start == seen[0].start),
        "one window throughout"
    );
    assert!(stderr.contains("terminated early"), "{stderr}");
}

/// Inside a window, a failed invocation is retried with the state it was first sent (what the
/// failed attempt returned is not kept); a response without a state is a failed invocation,
/// retried the same way; the window's count ends exact.
#[test]
fn a_failing_invocation_is_retried_inside_its_window_with_the_same_state() {
    let rig = Rig::new();
    let stream = "retry";
    rig.stream(stream, 1);
    align(3000, 50);
    for d in ["a", "fail-once", "no-state-once", "d"] {
        rig.put(stream, "k", d.as_bytes());
    }
    let mut cmd = consume(&rig, stream, Mode::Exec, "3s");
    cmd.args(["--batch-size", "1"]);
    let stderr = run(cmd);
    let seen = seen(&rig);
    let shape: Vec<(Vec<String>, bool, String)> = seen
        .iter()
        .map(|s| (s.data.clone(), s.is_final, count(&s.state).to_string()))
        .collect();
    let v = |d: &[&str]| d.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    assert_eq!(
        shape,
        vec![
            (v(&["a"]), false, "0".into()),
            (v(&["fail-once"]), false, "1".into()),
            (v(&["fail-once"]), false, "1".into()),
            (v(&["no-state-once"]), false, "2".into()),
            (v(&["no-state-once"]), false, "2".into()),
            (v(&["d"]), false, "3".into()),
            (v(&[]), true, "4".into()),
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("no state"),
        "the missing state is named:\n{stderr}"
    );
    assert!(stderr.contains("attempt 2"), "{stderr}");
}

/// Records of a window still open are not checkpointed: a consumer stopped before the
/// window's final invocation leaves the checkpoint where it was, and the next run delivers the
/// window again from its first record, with a fresh state.
#[test]
fn an_open_window_is_not_checkpointed_and_is_read_again_after_a_stop() {
    let rig = Rig::new();
    let stream = "open";
    rig.stream(stream, 1);
    for d in ["a", "b", "c"] {
        rig.put(stream, "k", d.as_bytes());
    }
    let app = format!("{stream}-app");
    for round in 1..=2 {
        let mut consumer = Running::spawn(
            &mut consume(&rig, stream, Mode::Exec, "900s"),
            rig.path(&format!("stderr-{round}")),
        );
        crate::consume::wait_for("the window's first batch", Duration::from_secs(30), || {
            seen(&rig).len() >= round
        });
        consumer.signal("INT");
        assert_eq!(
            consumer.wait(Duration::from_secs(30)),
            Some(0),
            "{}",
            consumer.stderr()
        );
        assert_eq!(checkpoint(&rig, &app), "TRIM_HORIZON", "round {round}");
    }
    let seen = seen(&rig);
    assert_eq!(seen.len(), 2, "{seen:#?}");
    for s in &seen {
        assert_eq!(s.data, ["a", "b", "c"]);
        assert_eq!(s.state, serde_json::json!({}));
        assert!(!s.is_final);
    }
    assert_eq!(seen[0].sequence_numbers, seen[1].sequence_numbers);
}

#[test]
fn tumbling_window_values_are_checked() {
    for bad in ["901s", "1500ms", "16m"] {
        let out = crate::support::kinlocal()
            .args(["consume", "--exec", "true", "--tumbling-window", bad])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("1s to 900s"), "{stderr}");
    }
}

/// `TumblingWindowInSeconds` from a SAM template is applied (the handler sees 1 s windows)
/// with no warning about it.
#[test]
fn the_window_of_a_sam_template_is_applied() {
    let rig = Rig::new();
    let stream = "tpl";
    rig.stream(stream, 1);
    align(1000, 50);
    for d in ["a", "b"] {
        rig.put(stream, "k", d.as_bytes());
    }
    let template = rig.path("template.yaml");
    std::fs::write(
        &template,
        format!(
            "Transform: AWS::Serverless-2016-10-31\n\
Resources:\n  Tpl:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      Name: {stream}\n  Agg:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: window.handler\n      Runtime: python3.12\n      Events:\n        S:\n          Type: Kinesis\n          Properties:\n            Stream: !GetAtt Tpl.Arn\n            StartingPosition: TRIM_HORIZON\n            TumblingWindowInSeconds: 1\n"
        ),
    )
    .expect("template");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"));
    cmd.args(["consume", "--template"])
        .arg(&template)
        .args([
            "--function",
            "Agg",
            "--exec",
            &format!("python3 {}", fixture("window.py")),
        ])
        .args([
            "--poll-interval",
            "20ms",
            "--until-idle",
            "400ms",
            "--timeout",
            "30s",
        ])
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_KINESIS", &rig.engine.endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &rig.dynamodb_url)
        .env("AWS_REGION", "us-east-1")
        .env("KINLOCAL_STATE_DIR", rig.path("state"))
        .env("CAPTURE_FILE", rig.path("capture.jsonl"));
    let stderr = run(cmd);
    assert!(
        !stderr.contains("TumblingWindowInSeconds"),
        "no warning: {stderr}"
    );
    let seen = seen(&rig);
    assert_eq!(seen.len(), 2, "one batch and the final invocation: {seen:#?}");
    assert_eq!(ms(&seen[0].end) - ms(&seen[0].start), 1000);
    assert_eq!(seen[0].data, ["a", "b"]);
    assert!(seen[1].is_final);
    assert_eq!(count(&seen[1].state), "2");
}

/// `--dry-run` shows the file's window, and a `--tumbling-window` flag overriding it.
#[test]
fn dry_run_shows_the_window_and_its_override() {
    let sam = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/sam.yaml");
    let line = |extra: &[&str]| {
        let out = crate::support::kinlocal()
            .args([
                "consume",
                "--dry-run",
                "--function",
                "OrdersProcessor",
                "--template",
            ])
            .arg(&sam)
            .args(extra)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !stdout.contains("not applied: kinlocal consume has no tumbling"),
            "{stdout}"
        );
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with("TumblingWindowInSeconds "))
            .unwrap_or_default()
            .to_string()
    };
    let from_file = line(&[]);
    assert!(
        from_file.contains(" 60 ") && from_file.contains("from sam.yaml"),
        "{from_file}"
    );
    let overridden = line(&["--tumbling-window", "2m"]);
    assert!(
        overridden.contains(" 120 ") && overridden.contains("from --tumbling-window (overrides sam.yaml"),
        "{overridden}"
    );
}
