//! Finding the real Lambda runtime clients the Runtime API tests run unchanged: `awslambdaric`
//! (a venv made by .ci/run) and a Rust function built with `lambda_runtime` (built once into
//! target/fixtures). Missing ones are a SKIP line, or a failure under `CI=true`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The repository's fixture directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Prints a SKIP line, or fails under CI (where .ci/run must have installed `what`).
pub fn skip(test: &str, what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {what} is missing; .ci/run should have installed it");
    }
    eprintln!(
        "SKIP {test}: {what} is not installed (run .ci/run, or see README 'Running your real function')"
    );
}

/// A Python interpreter that can `import awslambdaric`: `KINLOCAL_AWSLAMBDARIC_PYTHON`, else
/// the venv .ci/run creates (`~/.cache/kinlocal-ric/venv`).
pub fn awslambdaric_python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("KINLOCAL_AWSLAMBDARIC_PYTHON").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kinlocal-ric/venv/bin/python")),
    ];
    candidates.into_iter().flatten().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import awslambdaric"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// `node`, when on PATH.
pub fn node() -> Option<PathBuf> {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("node"))
}

/// A Python 3 interpreter for the bundled bootstrap.
pub fn python() -> Option<PathBuf> {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("python3"))
}

static RUST_BUILD: Mutex<Option<Option<PathBuf>>> = Mutex::new(None);

/// The Rust fixture function (`tests/fixtures/rust-function`), built once with its own
/// lock file into `target/fixtures` (`KINLOCAL_RUST_FIXTURE` names a prebuilt binary).
pub fn rust_function() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KINLOCAL_RUST_FIXTURE") {
        return Some(PathBuf::from(p));
    }
    let mut guard = RUST_BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(built) = guard.as_ref() {
        return built.clone();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target/fixtures");
    let bin = target.join("debug/kinlocal-fixture-function");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Up to date in a fraction of a second when .ci/run built it already.
    let status = std::process::Command::new(cargo)
        .args(["build", "--locked", "--quiet"])
        .current_dir(fixtures().join("rust-function"))
        .env("CARGO_TARGET_DIR", &target)
        .status();
    let built = match status {
        Ok(s) if s.success() && bin.is_file() => Some(bin),
        _ => None,
    };
    *guard = Some(built.clone());
    built
}

/// The JSON lines the fixture functions append to `$FIXTURE_OUT`.
pub fn read_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
