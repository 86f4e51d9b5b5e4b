//! Nothing a handler starts outlives its invocation. On Linux, consume becomes a child
//! subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): every process a handler leaves behind, even one
//! that left its process group with `setsid`, is re-parented to consume when its parent exits
//! instead of to init. Handlers are spawned through [`spawn`], which records them as live;
//! [`sweep`] kills and reaps every child of consume that is not a live handler. Elsewhere the
//! guarantee is the process group only (killed on timeout and at the end of each invocation).
//!
//! This is the one module with `unsafe`: `prctl`, `kill` and `waitpid` take plain integers.
#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::sync::{Mutex, Once};
use std::time::Duration;

/// Handlers currently running (spawned and not yet waited for).
static LIVE: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

static SUBREAPER: Once = Once::new();

/// Makes this process the subreaper of everything it starts (once; Linux only).
pub fn init() {
    SUBREAPER.call_once(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes integers only and changes a flag of
        // this process; it cannot touch our memory.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    });
}

/// Spawns a handler process and records it as live (under the same lock a sweep takes, so a
/// sweep never mistakes a handler being started for a leftover).
pub fn spawn(cmd: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    let mut live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let child = cmd.spawn()?;
    if let Some(pid) = child.id() {
        live.insert(pid);
    }
    Ok(child)
}

/// The handler `pid` was waited for: it is no longer live.
pub fn finished(pid: u32) {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&pid);
}

/// Sends SIGKILL to every process of the group `pgid` (a handler and what it started).
pub(crate) fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    // Never signal "every process" (-1) or our own group (0).
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) takes two integers and touches no memory of ours; the negative pid
    // addresses the process group the handler leads (spawned with process_group(0)).
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Kills the process group of every live handler (a second interrupt: nothing waits for
/// in-flight batches any more).
pub(crate) fn kill_live() {
    let live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for &pid in live.iter() {
        kill_group(pid);
    }
}

/// Kills and reaps every child of this process that is not a live handler: what handlers
/// left behind and was re-parented here. Repeats while killing uncovers more (a leftover's
/// own children are re-parented here when it dies). Returns how many were killed.
pub(crate) fn sweep() -> usize {
    let me = std::process::id();
    let mut killed = 0;
    for _ in 0..8 {
        let victims: Vec<u32> = {
            let live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let victims: Vec<u32> = children_of(me)
                .into_iter()
                .filter(|p| !live.contains(p))
                .collect();
            for &pid in &victims {
                kill_one(pid);
            }
            victims
        };
        if victims.is_empty() {
            break;
        }
        killed += victims.len();
        for pid in victims {
            reap(pid);
        }
    }
    killed
}

fn kill_one(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 1 {
        return;
    }
    // SAFETY: as in kill_group; a positive pid addresses one process, a child of ours.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Waits (briefly) for a killed child so that it leaves no zombie. Only this pid is waited
/// for, never "any child": tokio waits for the handlers it spawned itself.
fn reap(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    for _ in 0..200 {
        let mut status = 0;
        // SAFETY: waitpid writes the exit status into `status`, a live local integer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r != 0 {
            // Reaped, or not our child any more (ECHILD).
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The pids whose parent is `parent`, from /proc (empty where there is no /proc).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after
        // the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_found_in_proc() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("SKIP: no /proc");
            return;
        }
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep starts");
        let found = children_of(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
    }
}
