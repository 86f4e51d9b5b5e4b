//! The README's newcomer sections are run as written (finding 8), and its CI recipe fails when
//! the consumer fails (finding 2: the old `…; kinlocal down` recipe returned `down`'s status).
//! Each test takes the code block from under its heading, so editing the README edits the test.

use std::path::{Path, PathBuf};
use std::process::Output;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README")
}

/// The first fenced block of `lang` after the line `heading`.
fn block(heading: &str, lang: &str) -> String {
    let text = readme();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no heading {heading:?}"));
    let rest = &text[start..];
    let fence = format!("```{lang}\n");
    let open = rest
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{lang} block under {heading}"))
        + fence.len();
    let close = rest[open..].find("```").expect("closing fence");
    rest[open..open + close].to_string()
}

/// Runs `script` with bash in `dir`, `kinlocal` (the test build) on PATH, an isolated state
/// directory and HOME, the embedded backend on a free port.
fn run_script(dir: &Path, script: &str) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("kinlocal");
    let bin_dir = bin.parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", dir.join("home"))
        .env("KINLOCAL_STATE_DIR", dir.join("state"))
        .env("KINLOCAL_BACKEND", "embedded")
        .env("KINLOCAL_PORT", "0");
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_KINESIS",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_PROFILE",
        "AWS_REGION",
        "XDG_STATE_HOME",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("bash runs");
    // Whatever happened, leave no engine behind.
    let _ = std::process::Command::new(&bin)
        .args(["down", "--state-dir"])
        .arg(dir.join("state"))
        .output();
    out
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn workdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().to_path_buf();
    std::fs::create_dir_all(p.join("home")).expect("home");
    (t, p)
}

fn write_handler(dir: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("handler.py");
    std::fs::write(&p, text).expect("write handler");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn the_handler_to_copy_is_the_example_handler() {
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/handler.py"))
        .expect("examples/handler.py");
    assert_eq!(block("## Your first handler", "python"), example);
}

#[test]
fn the_first_handler_walkthrough_runs_as_written() {
    let (_t, dir) = workdir();
    write_handler(&dir, &block("## Your first handler", "python"));
    let script = format!("set -euo pipefail\n{}", block("## Your first handler", "sh"));
    let out = run_script(&dir, &script);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("  behind  caught up"), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("100 record(s) delivered"),
        "{}",
        describe(&out)
    );
}

#[test]
fn the_ci_recipe_passes_with_a_working_handler_and_stops_the_endpoint() {
    let (_t, dir) = workdir();
    write_handler(&dir, &block("## Your first handler", "python"));
    let out = run_script(&dir, &block("## In CI", "sh"));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped embedded engine"),
        "the EXIT trap ran `kinlocal down`: {}",
        describe(&out)
    );
}

/// Finding 2: with the old recipe a missing handler (exit 2) still passed the job.
#[test]
fn the_ci_recipe_fails_when_the_handler_is_missing_and_still_stops_the_endpoint() {
    let (_t, dir) = workdir();
    let out = run_script(&dir, &block("## In CI", "sh"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "consume's status is the job's: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped embedded engine"),
        "the EXIT trap ran `kinlocal down`: {}",
        describe(&out)
    );
}

#[test]
fn the_completion_install_lines_run_as_written() {
    let (_t, dir) = workdir();
    let script = format!("set -euo pipefail\n{}", block("## Shell completions", "sh"));
    let out = run_script(&dir, &script);
    assert!(out.status.success(), "{}", describe(&out));
    let home = dir.join("home");
    for file in [
        ".local/share/bash-completion/completions/kinlocal",
        ".zfunc/_kinlocal",
        ".config/fish/completions/kinlocal.fish",
        ".config/elvish/lib/kinlocal.elv",
        ".config/powershell/Microsoft.PowerShell_profile.ps1",
    ] {
        let len = std::fs::metadata(home.join(file)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 100, "{file} was written");
    }
}

/// Finding 2 with a handler that fails every batch: the job fails (exit 4, records stuck
/// behind the failing batch) instead of passing with `down`'s status.
#[test]
fn the_ci_recipe_fails_when_the_handler_fails() {
    let (_t, dir) = workdir();
    write_handler(&dir, "#!/bin/sh\ncat >/dev/null\necho 'boom' >&2\nexit 1\n");
    let out = run_script(&dir, &block("## In CI", "sh"));
    assert_eq!(
        out.status.code(),
        Some(4),
        "consume's status is the job's: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped embedded engine"),
        "the EXIT trap ran `kinlocal down`: {}",
        describe(&out)
    );
}
