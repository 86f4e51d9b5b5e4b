//! `kinlocal invoke` with real runtime clients, unchanged: the bundled Python and Node
//! bootstraps, the official `awslambdaric`, and a Rust function built with `lambda_runtime`.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use crate::runtime_api_support::{self as rs, read_lines};
use crate::support::kinlocal;

/// A runtime client and how `kinlocal` is told to run the fixture function with it.
#[derive(Debug, Clone)]
pub enum Client {
    /// `--handler handler.X --runtime python3.11` (bundled bootstrap).
    BundledPython,
    /// `--exec 'PY -m awslambdaric handler.X' --runtime-api` (the official client).
    Awslambdaric(PathBuf),
    /// `--handler handler.X --runtime nodejs20.x` (bundled bootstrap).
    BundledNode,
    /// `--exec target/fixtures/debug/kinlocal-fixture-function --runtime-api`.
    Rust(PathBuf),
}

impl Client {
    /// The flags that run function `function` of the fixture.
    pub fn args(&self, function: &str) -> Vec<String> {
        let root = rs::fixtures().join("rapi").display().to_string();
        match self {
            Self::BundledPython => vec![
                "--handler".into(),
                format!("{root}/handler.{function}"),
                "--runtime".into(),
                "python3.11".into(),
            ],
            Self::BundledNode => vec![
                "--handler".into(),
                format!("{root}/handler.{function}"),
                "--runtime".into(),
                "nodejs20.x".into(),
            ],
            Self::Awslambdaric(py) => vec![
                "--exec".into(),
                shell_words::join([
                    py.display().to_string(),
                    "-m".into(),
                    "awslambdaric".into(),
                    format!("handler.{function}"),
                ]),
                "--runtime-api".into(),
            ],
            Self::Rust(bin) => vec![
                "--exec".into(),
                shell_words::quote(&bin.display().to_string()).into_owned(),
                "--runtime-api".into(),
            ],
        }
    }

    /// The directory kinlocal runs in (awslambdaric imports from it).
    pub fn cwd(&self) -> PathBuf {
        rs::fixtures().join("rapi")
    }

    /// The error type a thrown error is reported with.
    pub fn thrown_type(&self) -> Option<&'static str> {
        match self {
            Self::BundledPython | Self::Awslambdaric(_) => Some("RuntimeError"),
            Self::BundledNode => Some("Error"),
            // The Rust client names the boxed error's type; any non-empty type will do.
            Self::Rust(_) => None,
        }
    }

    /// Whether handlers are chosen by name (Rust functions have none).
    pub fn has_handler_names(&self) -> bool {
        !matches!(self, Self::Rust(_))
    }
}

/// Every client available here; missing ones print SKIP (or fail under CI).
pub fn clients(test: &str) -> Vec<Client> {
    let mut out = Vec::new();
    match rs::python() {
        Some(_) => out.push(Client::BundledPython),
        None => rs::skip(test, "python3"),
    }
    match rs::node() {
        Some(_) => out.push(Client::BundledNode),
        None => rs::skip(test, "node"),
    }
    match rs::awslambdaric_python() {
        Some(py) => out.push(Client::Awslambdaric(py)),
        None => rs::skip(test, "awslambdaric (pip install awslambdaric)"),
    }
    match rs::rust_function() {
        Some(bin) => out.push(Client::Rust(bin)),
        None => rs::skip(
            test,
            "the lambda_runtime fixture function (cargo build in tests/fixtures/rust-function)",
        ),
    }
    out
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

#[test]
fn context_fields_equal_what_kinlocal_served() {
    for client in clients("context_fields_equal_what_kinlocal_served") {
        let dir = tempfile::tempdir().expect("tempdir");
        let out_file = dir.path().join("out.jsonl");
        let before = now_ms();
        let out = kinlocal()
            .arg("invoke")
            .args(client.args("handler"))
            .args([
                "--function-name",
                "ctx-fn",
                "--memory-size",
                "256",
                "--region",
                "eu-west-1",
                "--timeout",
                "7s",
                "--record",
                "hello",
            ])
            .current_dir(client.cwd())
            .env("FIXTURE_OUT", &out_file)
            .output()
            .expect("runs");
        let after = now_ms();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{client:?}: {stderr}");
        let ret: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON return value");
        assert_eq!(ret["batchItemFailures"], serde_json::json!([]), "{client:?}");
        let served_id = stderr
            .lines()
            .find_map(|l| l.strip_prefix("START RequestId: "))
            .and_then(|r| r.split_whitespace().next())
            .expect("a START line")
            .to_string();
        assert_eq!(stderr.matches("kinlocal: INIT invoke ").count(), 1, "{stderr}");
        let lines = read_lines(&out_file);
        assert_eq!(lines.len(), 1, "{client:?}");
        let l = &lines[0];
        assert_eq!(l["data"], "hello");
        assert_eq!(l["requestId"], served_id.as_str(), "{client:?}");
        assert_eq!(
            l["invokedFunctionArn"], "arn:aws:lambda:eu-west-1:000000000000:function:ctx-fn",
            "{client:?}"
        );
        assert_eq!(l["functionName"], "ctx-fn", "{client:?}");
        assert_eq!(l["memory"], 256, "{client:?}");
        assert_eq!(l["version"], "$LATEST", "{client:?}");
        assert!(
            l["logStream"].as_str().is_some_and(|s| s.contains("/[$LATEST]")),
            "{client:?} {l}"
        );
        assert!(
            l["traceId"].as_str().is_some_and(|s| s.starts_with("Root=1-")),
            "{client:?} {l}"
        );
        // The deadline is epoch milliseconds of invocation start + --timeout.
        let deadline = l["deadlineMs"].as_u64().expect("deadline");
        assert!(
            deadline >= before + 7000 - 50 && deadline <= after + 7000 + 50,
            "{client:?}: deadline {deadline} not within [{before}, {after}] + 7 s"
        );
    }
}

#[test]
fn a_thrown_error_is_a_function_error_exit_1() {
    for client in clients("a_thrown_error_is_a_function_error_exit_1") {
        let out = kinlocal()
            .arg("invoke")
            .args(client.args("handler"))
            .args(["--record", "throw"])
            .current_dir(client.cwd())
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{client:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err: serde_json::Value = serde_json::from_slice(&out.stdout).expect("error JSON");
        assert!(
            err["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("thrown on purpose")),
            "{client:?}: {err}"
        );
        match client.thrown_type() {
            Some(t) => assert_eq!(err["errorType"], t, "{client:?}"),
            None => assert!(err["errorType"].as_str().is_some_and(|t| !t.is_empty())),
        }
    }
}

#[test]
fn a_sleep_past_the_timeout_is_killed_and_reported_as_lambda_does() {
    for client in clients("a_sleep_past_the_timeout_is_killed_and_reported_as_lambda_does") {
        let dir = tempfile::tempdir().expect("tempdir");
        let started = Instant::now();
        let out = kinlocal()
            .arg("invoke")
            .args(client.args("handler"))
            .args(["--timeout", "1s", "--record", "sleep-once:20000"])
            .current_dir(client.cwd())
            .env("FIXTURE_OUT", dir.path().join("out.jsonl"))
            .output()
            .expect("runs");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{client:?} was not killed"
        );
        assert_eq!(out.status.code(), Some(1), "{client:?}");
        let err: serde_json::Value = serde_json::from_slice(&out.stdout).expect("error JSON");
        assert_eq!(err["errorType"], "Sandbox.Timedout");
        assert_eq!(err["errorMessage"], "Task timed out after 1.00 seconds");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Task timed out after 1.00 seconds"));
    }
}

#[test]
fn a_bad_handler_name_is_an_init_error_exit_2_with_the_aws_type() {
    for client in clients("a_bad_handler_name_is_an_init_error_exit_2_with_the_aws_type") {
        if !client.has_handler_names() {
            continue;
        }
        let out = kinlocal()
            .arg("invoke")
            .args(client.args("missing_function"))
            .args(["--record", "x"])
            .current_dir(client.cwd())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{client:?}");
        let err: serde_json::Value = serde_json::from_slice(&out.stdout).expect("error JSON");
        assert_eq!(err["errorType"], "Runtime.HandlerNotFound", "{client:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("failed to initialize"), "{stderr}");
        // A module that does not exist.
        let mut args = client.args("handler");
        for a in &mut args {
            *a = a.replace("handler.handler", "no_such_module.handler");
        }
        let out = kinlocal()
            .arg("invoke")
            .args(args)
            .args(["--record", "x"])
            .current_dir(client.cwd())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{client:?}");
        let err: serde_json::Value = serde_json::from_slice(&out.stdout).expect("error JSON");
        assert_eq!(err["errorType"], "Runtime.ImportModuleError", "{client:?}");
    }
}

#[test]
fn node_callback_handlers_and_events_from_files() {
    if rs::node().is_none() {
        rs::skip("node_callback_handlers_and_events_from_files", "node");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"Records":[{"kinesis":{"data":"eA=="}},{"kinesis":{"data":"eQ=="}}]}"#,
    )
    .expect("write");
    let out = kinlocal()
        .arg("invoke")
        .args(Client::BundledNode.args("callback"))
        .arg("--event")
        .arg(&event)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ret: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(ret["records"], 2);
    assert!(ret["requestId"].as_str().is_some_and(|s| s.len() == 36));
}

#[test]
fn the_official_python_client_runs_with_ric() {
    let Some(py) = rs::awslambdaric_python() else {
        rs::skip("the_official_python_client_runs_with_ric", "awslambdaric");
        return;
    };
    let out = kinlocal()
        .arg("invoke")
        .args(Client::BundledPython.args("minimal"))
        .arg("--ric")
        .arg("--python")
        .arg(&py)
        .args(["--record", "x"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"{\"batchItemFailures\": []}\n");
    // Without the client installed for that interpreter, --ric says how to get it.
    let out = kinlocal()
        .arg("invoke")
        .args(Client::BundledPython.args("minimal"))
        .args(["--ric", "--python", "/bin/false", "--record", "x"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pip install awslambdaric"));
}

#[test]
fn runtime_api_only_serves_and_waits_for_the_developers_own_client() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args([
            "invoke",
            "--runtime-api-only",
            "--function-name",
            "dbg",
            "--record",
            "x",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut api = None;
    let mut env = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let l = line.trim();
        if let Some(v) = l.strip_prefix("AWS_LAMBDA_RUNTIME_API=") {
            api = Some(v.to_string());
        } else if api.is_some() && l.contains('=') {
            env.push(l.to_string());
        }
        if env.iter().any(|e| e.starts_with("TZ=")) {
            break;
        }
    }
    let api = api.expect("AWS_LAMBDA_RUNTIME_API printed");
    assert!(api.starts_with("127.0.0.1:") && !api.contains("http"), "{api}");
    assert!(env.iter().any(|e| e == "AWS_LAMBDA_FUNCTION_NAME=dbg"), "{env:?}");
    // Act as the function: take the event, answer it.
    let mut s = std::net::TcpStream::connect(&api).expect("connect");
    write!(
        s,
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let id = resp
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("lambda-runtime-aws-request-id: ")
                .map(str::to_string)
        })
        .expect("request id");
    assert!(resp.contains("\"Records\""), "{resp}");
    let body = br#"{"answered":"by hand"}"#;
    let mut s = std::net::TcpStream::connect(&api).expect("connect");
    write!(
        s,
        "POST /2018-06-01/runtime/invocation/{}/response HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        id.trim(),
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("body");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 202"), "{resp}");
    let status = child.wait().expect("exits");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    assert!(status.success());
    assert_eq!(stdout.trim(), r#"{"answered":"by hand"}"#);
}

#[test]
fn bad_invoke_arguments_are_usage_errors() {
    kinlocal()
        .args(["invoke", "--handler", "a.b", "--record", "x"])
        .assert()
        .code(2);
    kinlocal()
        .args([
            "invoke",
            "--handler",
            "a.b",
            "--runtime",
            "python2.7",
            "--record",
            "x",
        ])
        .assert()
        .code(2);
    let out = kinlocal()
        .args(["invoke", "--handler", "a.b", "--runtime", "python3.12"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--record"));
    kinlocal()
        .args([
            "invoke",
            "--exec",
            "/no/such/bootstrap",
            "--runtime-api",
            "--record",
            "x",
        ])
        .assert()
        .code(2);
}

#[test]
fn a_plain_exec_handler_gets_the_event_on_stdin_and_the_users_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env_file = dir.path().join(".env");
    std::fs::write(&env_file, "FROM_FILE='file value'\nOVERRIDDEN=file\n").expect("write");
    let script = dir.path().join("handler.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nn=$(grep -o '\"eventSource\"' | wc -l)\nprintf '{\"records\":%s,\"file\":\"%s\",\"flag\":\"%s\",\"fn\":\"%s\"}\\n' \"$n\" \"$FROM_FILE\" \"$OVERRIDDEN\" \"$AWS_LAMBDA_FUNCTION_NAME\"\n",
    )
    .expect("write");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let out = kinlocal()
        .arg("invoke")
        .arg("--exec")
        .arg(&script)
        .arg("--env-file")
        .arg(&env_file)
        .args(["--env", "OVERRIDDEN=flag", "--record", "a", "--record", "b"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ret: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(ret["records"], 2);
    assert_eq!(ret["file"], "file value");
    assert_eq!(ret["flag"], "flag");
    assert_eq!(ret["fn"], "handler");
}
