//! Starting real peer emulators (kinesalite, dynalite, ...) through `../shared/peers/peer.sh`
//! for differential tests. When the script or Node is missing the test says so and is skipped.

use std::path::PathBuf;
use std::process::Command;

/// A running peer, stopped on drop.
pub struct Peer {
    name: String,
    script: PathBuf,
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

impl Peer {
    /// Starts `name`; `None` (with a note on stderr) when peers cannot run here.
    pub fn start(name: &str) -> Option<Self> {
        let Some(script) = script() else {
            eprintln!("SKIP: ../shared/peers/peer.sh not found; differential test against {name} not run");
            return None;
        };
        if Command::new("node").arg("--version").output().is_err() {
            eprintln!("SKIP: node not installed; differential test against {name} not run");
            return None;
        }
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", name])
            .output()
            .expect("run peer.sh");
        assert!(
            out.status.success(),
            "peer.sh start {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let endpoint = line
            .split_whitespace()
            .nth(2)
            .unwrap_or_else(|| panic!("peer.sh printed no endpoint: {line}"))
            .to_string();
        Some(Self {
            name: name.to_string(),
            script,
            endpoint,
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .args(["stop", &self.name])
            .output();
    }
}
