//! Finding 9: messages a person can act on, through the real binary — one duration message,
//! negative counts, produce's key errors without a summary first, `--from` line numbers.

use crate::support::{kinlocal, TestEngine};

fn run(args: &[&str]) -> std::process::Output {
    kinlocal()
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("kinlocal runs")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn every_duration_flag_has_the_same_message() {
    let cases: &[&[&str]] = &[
        &[
            "produce",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--duration",
            "soon",
        ],
        &["up", "--timeout", "soon"],
        &["serve", "--iterator-ttl", "soon"],
        &["consume", "--exec", "./h", "--maximum-batching-window", "soon"],
        &["consume", "--exec", "./h", "--maximum-record-age", "soon"],
    ];
    for args in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("'soon' is not a duration: expected a duration like 500ms, 2s or 1m"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("expected number at"),
            "humantime's internals leak: {err}"
        );
    }
}

/// Finding 9: the hint for a handler without the execute bit suggested `python3` for any file.
#[test]
fn the_non_executable_hint_fits_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("h.js", "console.log('{}')\n", "--exec 'node "),
        ("h.py", "print('{}')\n", "--exec 'python3 "),
        ("h.sh", "#!/bin/sh\necho '{}'\n", "starts with #!, so `chmod +x"),
        ("h", "\x7fELF", "`chmod +x"),
    ];
    for (name, text, hint) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        let path = p.to_str().expect("utf-8");
        let out = run(&["consume", "--endpoint-url", "http://127.0.0.1:9", "--exec", path]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = stderr(&out);
        assert!(
            err.contains("is not an executable file") && err.contains(hint),
            "{name}: {err}"
        );
        if !name.ends_with(".py") {
            assert!(!err.contains("python3"), "{name}: {err}");
        }
    }
}

/// Finding 5: `--app vs` (under DynamoDB's 3-character minimum) was a 1.5 KB dump, exit 1.
#[test]
fn an_app_name_dynamodb_refuses_is_a_usage_error() {
    let out = run(&[
        "consume",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--exec",
        "./h",
        "--app",
        "vs",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("'vs' cannot name a DynamoDB table: use 3 to 255"),
        "{err}"
    );
    assert!(err.len() < 400, "one short message: {err}");
}

#[test]
fn a_negative_count_is_named_as_such() {
    let out = run(&["produce", "--endpoint-url", "http://127.0.0.1:9", "--count", "-5"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("'-5' is not a count: expected a whole number of at least 1"),
        "{err}"
    );
    assert!(!err.contains("unexpected argument"), "{err}");
}

#[test]
fn a_missing_key_field_is_an_error_without_a_summary_before_it() {
    let engine = TestEngine::start();
    let ep = engine.endpoint.as_str();
    assert!(run(&["create-stream", "--endpoint-url", ep]).status.success());
    let out = run(&[
        "produce",
        "--endpoint-url",
        ep,
        "-k",
        "field:nope.x",
        "--count",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "no summary of nothing");
    assert!(
        stderr(&out).contains("record 1 has no field 'nope.x' (--partition-key field:nope.x)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_replay_line_is_named_once_with_its_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.ndjson");
    std::fs::write(&file, "{\"a\":1}\n{\"b\":2}\n{\"c\":\n").expect("write");
    let out = run(&[
        "produce",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--from",
        file.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("line 3: not valid JSON (EOF while parsing a value at column 5)"),
        "{err}"
    );
    assert!(!err.contains("line 1"), "{err}");
}
