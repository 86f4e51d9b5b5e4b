//! Endpoint resolution as every subcommand sees it (here through `status --json`, which reports
//! the endpoint it chose and where it came from): `--endpoint-url` > `AWS_ENDPOINT_URL_KINESIS`
//! / `_DYNAMODB` / `AWS_ENDPOINT_URL` > the state of `up` > a clear error; never real AWS
//! unless `--aws`.

use kinlocal::endpoint::UpState;

use crate::support::TestEngine;
use crate::up_support::{describe, free_port, Setup};

fn dead() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A state file as `up` writes it, pointing at `url`.
fn write_state(setup: &Setup, url: &str) {
    let state = UpState {
        backend: "embedded".into(),
        kinesis_endpoint: url.into(),
        dynamodb_endpoint: url.into(),
        region: "eu-west-1".into(),
        ..Default::default()
    };
    std::fs::create_dir_all(&setup.state_dir).expect("mkdir");
    std::fs::write(
        setup.state_dir.join("state.json"),
        serde_json::to_vec(&state).expect("json"),
    )
    .expect("write state");
}

fn status(setup: &Setup, env: &[(&str, &str)], args: &[&str]) -> (i32, serde_json::Value) {
    let mut c = setup.cmd();
    c.args(["status", "--json", "--state-dir"])
        .arg(&setup.state_dir)
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("runs");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn the_flag_beats_the_environment_and_the_state() {
    let engine = TestEngine::start();
    let setup = Setup::new();
    write_state(&setup, &dead());
    let env_url = dead();
    let (code, s) = status(
        &setup,
        &[("AWS_ENDPOINT_URL", &env_url)],
        &["--endpoint-url", &engine.endpoint],
    );
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["source"], "flag");
    assert_eq!(s["kinesis_endpoint"], engine.endpoint.as_str());
}

#[test]
fn the_environment_beats_the_state_service_specific_first() {
    let engine = TestEngine::start();
    let setup = Setup::new();
    let state_url = dead();
    write_state(&setup, &state_url);
    let (code, s) = status(&setup, &[("AWS_ENDPOINT_URL", &engine.endpoint)], &[]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["source"], "environment");
    assert_eq!(s["dynamodb_endpoint"], engine.endpoint.as_str());

    let general = dead();
    let (_, s) = status(
        &setup,
        &[
            ("AWS_ENDPOINT_URL", &general),
            ("AWS_ENDPOINT_URL_KINESIS", &engine.endpoint),
        ],
        &[],
    );
    assert_eq!(s["kinesis_endpoint"], engine.endpoint.as_str());
    assert_eq!(s["dynamodb_endpoint"], general.as_str());

    // Only Kinesis overridden: DynamoDB still comes from the state of `up`.
    let (_, s) = status(&setup, &[("AWS_ENDPOINT_URL_KINESIS", &engine.endpoint)], &[]);
    assert_eq!(s["kinesis_endpoint"], engine.endpoint.as_str());
    assert_eq!(s["dynamodb_endpoint"], state_url.as_str());
}

#[test]
fn the_state_is_used_when_nothing_else_says() {
    let engine = TestEngine::start();
    let setup = Setup::new();
    write_state(&setup, &engine.endpoint);
    let (code, s) = status(&setup, &[], &[]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["source"], "state");
    assert_eq!(s["region"], "eu-west-1");
    assert_eq!(s["kinesis_endpoint"], engine.endpoint.as_str());
}

#[test]
fn nothing_is_a_clear_error_and_never_aws() {
    let setup = Setup::new();
    let (code, s) = status(&setup, &[], &[]);
    assert_eq!(code, 1);
    assert_eq!(s["healthy"], false);
    let problem = s["problem"].as_str().expect("problem");
    assert!(problem.contains("run `kinlocal up` first"), "{problem}");
    assert!(problem.contains("--aws"), "{problem}");
    assert!(s.get("source").is_none(), "no endpoint was chosen: {s}");
    // Region or profile alone do not mean AWS either.
    let (code, s) = status(
        &setup,
        &[("AWS_REGION", "eu-west-1"), ("AWS_PROFILE", "prod")],
        &[],
    );
    assert_eq!(code, 1);
    assert!(s.get("source").is_none(), "{s}");
}

#[test]
fn aws_and_an_endpoint_url_together_are_a_usage_error() {
    let setup = Setup::new();
    let out = setup.run("status", &["--aws", "--endpoint-url", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = setup.run("status", &["--endpoint-url", "127.0.0.1:4566"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://HOST:PORT"));
}

#[test]
fn up_records_under_xdg_state_home_and_every_subcommand_finds_it_without_flags() {
    let setup = Setup::new();
    let up = setup
        .cmd()
        .args(["up", "--backend", "embedded", "--port", "0"])
        .output()
        .expect("up");
    assert!(up.status.success(), "{}", describe(&up));
    let xdg_state = setup.dir.path().join("xdg/kinlocal");
    let state = kinlocal::endpoint::read_state(&xdg_state)
        .expect("readable")
        .expect("state under $XDG_STATE_HOME/kinlocal");
    let st = setup.cmd().args(["status", "--json"]).output().expect("status");
    assert!(st.status.success(), "{}", describe(&st));
    let s: serde_json::Value = serde_json::from_slice(&st.stdout).expect("json");
    assert_eq!(s["kinesis_endpoint"], state.kinesis_endpoint.as_str());
    let down = setup.cmd().arg("down").output().expect("down");
    assert!(down.status.success(), "{}", describe(&down));
    assert!(String::from_utf8_lossy(&down.stdout).starts_with("stopped embedded engine"));
    assert!(crate::up_support::wait_gone(state.pid.expect("pid")));
}
