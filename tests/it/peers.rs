//! Starting real peer emulators (kinesalite, dynalite, ...) through `../shared/peers/peer.sh`
//! for differential tests. When the script or Node is missing the test says so and is skipped.
//!
//! The peers are installed once in a shared place (`KINLOCAL_PEERS_DIR`, default
//! `~/.cache/kinlocal-peers`), but peer.sh keeps one pid file per peer name there, so two runs
//! at once would collide: each peer is started from a private directory that links to the
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

fn script() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KINLOCAL_PEER_SH") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/peer.sh");
    p.exists().then_some(p)
}

fn shared_dir() -> PathBuf {
    std::env::var_os("KINLOCAL_PEERS_DIR").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kinlocal-peers"),
        PathBuf::from,
    )
}

fn installed(shared: &Path) -> bool {
    ["kinesalite", "dynalite", "kinesis-local"]
        .iter()
        .all(|m| shared.join("node_modules").join(m).exists())
        && shared.join("kinesalite-loopback.js").exists()
}

impl Peer {
    /// Starts `name`; `None` (with a SKIP note) when peers cannot run here.
    pub fn start(name: &str) -> Option<Self> {
        let Some(script) = script() else {
            println!("SKIP: ../shared/peers/peer.sh not found; differential test against {name} not run");
            return None;
        };
        if !Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            println!("SKIP: node not installed; differential test against {name} not run");
            return None;
        }
        let shared = shared_dir();
        if !installed(&shared) {
            let out = Command::new("bash")
                .arg(&script)
                .arg("install")
                .env("KINLOCAL_PEERS_DIR", &shared)
                .output()
                .expect("run peer.sh install");
            assert!(
                out.status.success(),
                "peer.sh install failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let private = tempfile::tempdir().expect("tempdir");
        for entry in ["node_modules", "venv", "kinesalite-loopback.js", "package.json"] {
            let from = shared.join(entry);
            if from.exists() {
                std::os::unix::fs::symlink(&from, private.path().join(entry)).expect("link peer install");
            }
        }
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", name])
            .env("KINLOCAL_PEERS_DIR", private.path())
            .output()
            .expect("run peer.sh");
        assert!(
            out.status.success(),
            "peer.sh start {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let mut parts = line.split_whitespace();
        let (Some(_), Some(pid), Some(endpoint)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("unexpected peer.sh output: {line}");
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
