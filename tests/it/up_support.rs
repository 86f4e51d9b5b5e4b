//! Helpers for the `up` / `down` / `status` tests: an isolated set-up (own state directory,
//! own AWS config files, no AWS_ENDPOINT_URL* leaking in) that always runs `down` — and kills
//! a leftover engine — when dropped, even after a failed assertion.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use kinlocal::endpoint::UpState;

use crate::support::kinlocal;

/// Variables that would change which endpoint or backend the binary picks.
const LEAKY_ENV: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_KINESIS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "KINLOCAL_STATE_DIR",
    "KINLOCAL_BACKEND",
    "KINLOCAL_DOCKER",
    "KINLOCAL_NAME_PREFIX",
    "KINLOCAL_REGION",
    "KINLOCAL_PORT",
    "KINLOCAL_DATA_DIR",
];

/// One isolated set-up.
pub struct Setup {
    /// Holds everything below.
    pub dir: tempfile::TempDir,
    /// `--state-dir`.
    pub state_dir: PathBuf,
    /// Extra environment for every command (the fake docker's variables, PATH).
    pub env: Vec<(String, String)>,
}

impl Setup {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let state_dir = dir.path().join("state");
        Self {
            dir,
            state_dir,
            env: Vec::new(),
        }
    }

    /// The binary with a clean environment: state under this set-up's directory, AWS shared
    /// files here too (a test must never write the developer's ~/.aws).
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = kinlocal();
        for var in LEAKY_ENV {
            c.env_remove(var);
        }
        c.env("XDG_STATE_HOME", self.dir.path().join("xdg"))
            .env("AWS_CONFIG_FILE", self.dir.path().join("aws/config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("aws/credentials"),
            );
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `kinlocal <sub> --state-dir DIR <extra>`.
    pub fn run(&self, sub: &str, extra: &[&str]) -> Output {
        self.cmd()
            .arg(sub)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .args(extra)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .expect("kinlocal runs")
    }

    /// `up`, asserting success; returns stdout.
    pub fn up_ok(&self, extra: &[&str]) -> String {
        let out = self.run("up", extra);
        assert!(out.status.success(), "up failed: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `status --json`: exit code and the JSON.
    pub fn status_json(&self) -> (i32, serde_json::Value) {
        let out = self.run("status", &["--json"]);
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status --json prints JSON ({e}): {}", describe(&out)));
        (out.status.code().unwrap_or(-1), v)
    }

    pub fn state(&self) -> Option<UpState> {
        kinlocal::endpoint::read_state(&self.state_dir).expect("state readable")
    }

    /// The endpoint recorded by `up`.
    pub fn endpoint(&self) -> String {
        self.state().expect("state written").kinesis_endpoint
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let pid = self.state().and_then(|s| s.pid);
        let _ = self.run("down", &[]);
        // `down` failed or was never reached: never leave an engine behind.
        if let Some(pid) = pid {
            if is_engine(pid) {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// Whether `pid` is a live (non-zombie) `kinlocal serve`.
pub fn is_engine(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let alive = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|s| s != "Z" && s != "X");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    alive && String::from_utf8_lossy(&cmdline).contains("serve")
}

/// Waits up to 5 s for a process to be gone.
pub fn wait_gone(pid: u32) -> bool {
    for _ in 0..200 {
        if !is_engine(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    false
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
