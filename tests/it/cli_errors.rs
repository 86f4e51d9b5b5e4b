//! Findings 5 and 7: every error path a user meets prints one line for people — never the SDK's
//! `Debug` dump — and the same cause gives the same exit code in every subcommand.

use crate::support::{kinlocal, TestEngine};
use crate::up_support::{describe, free_port, is_engine, wait_gone, Setup};

/// What a `Debug` dump looks like: `Name { field: ...`, `Some(`, the SDK's type names.
fn assert_for_people(what: &str, text: &str) {
    for dump in ["{ ", "Some(", "DispatchFailure", "ConnectorError", "ServiceError"] {
        assert!(
            !text.contains(dump),
            "{what}: a Debug dump ({dump:?}) reached the user:\n{text}"
        );
    }
}

fn handler(dir: &std::path::Path) -> String {
    let p = dir.join("handler.sh");
    std::fs::write(&p, "#!/bin/sh\ncat >/dev/null\necho '{}'\n").expect("write handler");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    p.to_string_lossy().to_string()
}

fn run(args: &[&str]) -> std::process::Output {
    kinlocal()
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("kinlocal runs")
}

#[test]
fn an_unreachable_endpoint_is_exit_1_and_one_line_with_a_hint_everywhere() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let cases: &[&[&str]] = &[
        &["create-stream"],
        &["delete-stream"],
        &["list-streams"],
        &["produce", "--count", "1"],
        &["tail"],
    ];
    for args in cases {
        let mut all = args.to_vec();
        all.extend(["--endpoint-url", &url]);
        let out = run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_for_people(&format!("{args:?}"), &err);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
        assert!(
            err.contains(": cannot reach the endpoint (Connection refused"),
            "{args:?}: {err}"
        );
        assert!(err.contains("run `kinlocal up` again"), "{args:?}: {err}");
    }
}

/// consume says it in its own words, but with the same exit code and no dump.
#[test]
fn consume_with_an_unreachable_endpoint_is_exit_1_without_a_dump() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = handler(dir.path());
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = run(&[
        "consume",
        "--exec",
        &h,
        "--until-idle",
        "1s",
        "--endpoint-url",
        &url,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot reach"), "{err}");
    assert!(err.contains("Connection refused"), "the reason is kept: {err}");
    assert_for_people("consume", &err);
}

#[test]
fn a_missing_stream_is_exit_2_in_every_command() {
    let engine = TestEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let h = handler(dir.path());
    let ep = engine.endpoint.as_str();
    let cases: &[&[&str]] = &[
        &["produce", "--stream", "nope", "--count", "1"],
        &["delete-stream", "nope"],
        &["tail", "nope"],
        &["consume", "--stream", "nope", "--exec", &h, "--until-idle", "1s"],
    ];
    for args in cases {
        let mut all = args.to_vec();
        all.extend(["--endpoint-url", ep]);
        let out = run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("nope"), "{args:?} names the stream: {err}");
        assert_for_people(&format!("{args:?}"), &err);
    }
}

/// The engine `up` started has died: the commands that use it say what to do.
#[test]
fn a_dead_engine_from_up_says_run_kinlocal_up() {
    let setup = Setup::new();
    setup.up_ok(&["--backend", "embedded", "--port", "0"]);
    let pid = setup.state().and_then(|s| s.pid).expect("pid");
    assert!(is_engine(pid));
    let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    assert!(wait_gone(pid), "engine stopped");
    for args in [&["produce", "--count", "1"][..], &["list-streams"][..]] {
        let (sub, rest) = args.split_first().expect("subcommand");
        let out = setup.run(sub, rest);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert_for_people(sub, &err);
        assert!(err.contains("run `kinlocal up` again"), "{err}");
    }
    let out = setup.run("status", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert_for_people("status", &text);
}
