//! The embedded backend as a background process: `kinlocal serve` detached from the terminal
//! (own process group, stdin closed, output to `<state dir>/engine.log`), its address read from
//! the JSON line it prints, and the pid checks that make `down` stop only our own process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::LocalError;

/// The log file of the embedded engine inside a state directory.
pub(crate) fn log_file(state_dir: &Path) -> PathBuf {
    state_dir.join("engine.log")
}

/// A started engine: where it listens and its pid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Its pid.
    pub pid: u32,
    /// Its log file.
    pub log: PathBuf,
}

/// Starts `kinlocal serve` in the background and returns once it printed its address (it
/// answers API calls from then on, but the caller still probes them).
pub fn spawn(
    state_dir: &Path,
    port: u16,
    region: &str,
    data_dir: Option<&Path>,
    timeout: Duration,
) -> Result<Started, LocalError> {
    use std::os::unix::process::CommandExt as _;

    let program = std::env::current_exe().map_err(|e| LocalError::Spawn {
        program: PathBuf::from("kinlocal"),
        detail: e.to_string(),
    })?;
    let log = log_file(state_dir);
    let state_err = |path: &Path, e: std::io::Error| LocalError::StateDir {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    super::private::create_dir(state_dir).map_err(|e| state_err(state_dir, e))?;
    // Truncated on each start so the first JSON line in it is this engine's; owner-only.
    let out = super::private::create_file(&log).map_err(|e| state_err(&log, e))?;
    let err = out.try_clone().map_err(|e| state_err(&log, e))?;
    let mut cmd = Command::new(&program);
    cmd.args(["serve", "--host", "127.0.0.1", "--json"])
        .args(["--port", &port.to_string()])
        .args(["--region", region]);
    if let Some(dir) = data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    // The serve flags read these; only what `up` was told may shape the engine.
    for var in [
        "KINLOCAL_DATA_DIR",
        "KINLOCAL_HOST",
        "KINLOCAL_PORT",
        "KINLOCAL_REGION",
    ] {
        cmd.env_remove(var);
    }
    // Its own process group: a Ctrl-C in the terminal that ran `up` does not reach it, and it
    // outlives that terminal.
    cmd.process_group(0).stdin(Stdio::null()).stdout(out).stderr(err);
    let mut child = cmd.spawn().map_err(|e| LocalError::Spawn {
        program: program.clone(),
        detail: e.to_string(),
    })?;
    let pid = child.id();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(endpoint) = endpoint_in_log(&log) {
            return Ok(Started { endpoint, pid, log });
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if exited || Instant::now() >= deadline {
            if !exited {
                terminate(pid, Duration::from_secs(2)).ok();
                let _ = child.wait();
            }
            return Err(LocalError::EngineExited {
                tail: tail(&log, 20),
                log,
            });
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The endpoint in the engine's `--json` line, once written.
fn endpoint_in_log(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().find_map(|line| {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        v.get("endpoint")?.as_str().map(str::to_string)
    })
}

/// The last `n` lines of a file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let out = lines[start..].join("\n");
    if out.is_empty() {
        "(empty)".to_string()
    } else {
        out
    }
}

/// Whether `pid` is a live `kinlocal serve`: pids are reused, so a pid in an old state file
/// may now be someone else's process, which `down` must never signal.
pub(crate) fn is_our_engine(pid: u32) -> bool {
    if !is_alive(pid) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let program_is_kinlocal = args.first().is_some_and(|a| {
        Path::new(a)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("kinlocal"))
    });
    program_is_kinlocal && args.iter().skip(1).any(|a| a == "serve")
}

/// Whether the process exists and is not a zombie waiting to be reaped.
fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Sends `signal` to `pid`.
#[allow(unsafe_code)]
fn send_signal(pid: u32, signal: libc::c_int) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a positive pid
    // addresses exactly one process, never a group.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// SIGTERM (the engine stops cleanly and flushes its journal), then SIGKILL after `grace`.
/// Returns once the process is gone.
pub(crate) fn terminate(pid: u32, grace: Duration) -> Result<(), LocalError> {
    let stop_err = |e: std::io::Error| LocalError::Stop {
        pid,
        detail: e.to_string(),
    };
    match send_signal(pid, libc::SIGTERM) {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(()),
        other => other.map_err(stop_err)?,
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    match send_signal(pid, libc::SIGKILL) {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(()),
        other => other.map_err(stop_err)?,
    }
    for _ in 0..200 {
        if !is_alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(LocalError::Stop {
        pid,
        detail: "still running after SIGKILL".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_program_is_never_our_engine() {
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        assert!(is_alive(child.id()));
        assert!(!is_our_engine(child.id()), "sleep is not kinlocal serve");
        let _ = child.kill();
        let _ = child.wait();
        assert!(!is_our_engine(child.id()));
    }

    #[test]
    fn the_test_process_itself_is_not_a_serve() {
        // The test binary is named kinlocal-<hash> but has no `serve` argument.
        assert!(!is_our_engine(std::process::id()));
    }

    #[test]
    fn terminate_stops_a_process_and_tolerates_a_gone_one() {
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        let pid = child.id();
        // Reap in the background so the child does not linger as a zombie we would wait on.
        let reaper = std::thread::spawn(move || child.wait());
        terminate(pid, Duration::from_secs(2)).expect("terminate");
        let _ = reaper.join();
        terminate(pid, Duration::from_millis(10)).expect("gone is fine");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("log");
        std::fs::write(&f, "a\nb\nc\n").expect("write");
        assert_eq!(tail(&f, 2), "b\nc");
        assert_eq!(tail(&dir.path().join("none"), 2), "(empty)");
    }
}
