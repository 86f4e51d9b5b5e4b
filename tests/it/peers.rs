//! Starting real peer emulators (kinesalite, dynalite, kinesis-mock, moto) for differential
//! tests, through this repository's `scripts/peers.sh` (pinned versions, 127.0.0.1 only).
//!
//! How a differential test says it did not run: it carries
//! `#[ignore = "differential: needs the peer emulators (scripts/peers.sh install), run with --ignored"]`,
//! so a plain `cargo test` lists it as *ignored* with that reason instead of counting it as
//! passed; `.ci/run` installs the peers and runs the ignored tests (only differential tests
//! are ignored) explicitly.
//! When a test runs and the peers are not installed, [`Peer::start`] prints a SKIP line and
//! returns `None`, except under `CI=true` (or `KINLOCAL_REQUIRE_PEERS=1`), where a missing peer
//! is a failure: CI is supposed to have installed them.
//!
//! The peers are installed once in a shared place (`KINLOCAL_PEERS_DIR`, default
//! `~/.cache/kinlocal-peers`), but the script keeps one pid file per peer name there, so two
//! runs at once would collide: each peer is started from a private directory that links to the
//! shared install, and stopped by its own pid, never by name.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A running peer, stopped on drop.
pub struct Peer {
    pid: u32,
    _private: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// The script that installs and starts the peers.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/peers.sh")
}

fn shared_dir() -> PathBuf {
    std::env::var_os("KINLOCAL_PEERS_DIR").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kinlocal-peers"),
        PathBuf::from,
    )
}

/// Whether a missing peer must fail the test rather than skip it.
pub fn peers_required() -> bool {
    let set = |k: &str| {
        std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
    };
    set("CI") || set("KINLOCAL_REQUIRE_PEERS")
}

fn installed(shared: &Path) -> bool {
    Command::new("bash")
        .arg(script())
        .arg("check")
        .env("KINLOCAL_PEERS_DIR", shared)
        .status()
        .is_ok_and(|s| s.success())
}

impl Peer {
    /// Starts `name`; `None`, after a SKIP line, when the peers are not installed here (a
    /// failure instead under `CI=true`).
    pub fn start(name: &str) -> Option<Self> {
        let shared = shared_dir();
        if !installed(&shared) {
            let why = format!(
                "the peer emulators are not installed in {} (run scripts/peers.sh install)",
                shared.display()
            );
            assert!(
                !peers_required(),
                "differential test against {name} cannot run: {why}"
            );
            println!("SKIP: differential test against {name} not run: {why}");
            eprintln!("SKIP: differential test against {name} not run: {why}");
            return None;
        }
        let private = tempfile::tempdir().expect("tempdir");
        for entry in ["node_modules", "venv", "kinesalite-loopback.js", "package.json"] {
            let from = shared.join(entry);
            if from.exists() {
                std::os::unix::fs::symlink(&from, private.path().join(entry)).expect("link peer install");
            }
        }
        let out = Command::new("bash")
            .arg(script())
            .args(["start", name])
            .env("KINLOCAL_PEERS_DIR", private.path())
            .output()
            .expect("run scripts/peers.sh");
        assert!(
            out.status.success(),
            "scripts/peers.sh start {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let mut parts = line.split_whitespace();
        let (Some(_), Some(pid), Some(endpoint)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("unexpected scripts/peers.sh output: {line}");
        };
        Some(Self {
            pid: pid.parse().expect("pid"),
            _private: private,
            endpoint: endpoint.to_string(),
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let pid = self.pid.to_string();
        let alive = || Path::new(&format!("/proc/{pid}")).exists();
        let _ = Command::new("kill").arg(&pid).status();
        for _ in 0..50 {
            if !alive() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-9", &pid]).status();
    }
}
