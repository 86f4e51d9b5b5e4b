//! `down`: stop and remove exactly what the state file says `up` started — containers by name
//! and label, the embedded engine by pid after checking the pid is still ours — then forget
//! the state. Idempotent; persisted data stays unless purged.

use std::path::Path;
use std::time::Duration;

use super::{containers, embedded, remove_state, LocalError};
use crate::docker::Docker;
use crate::endpoint::{read_state, state_file};

/// Runs `down`; `say` receives one line per thing stopped.
pub fn down<D: Docker + ?Sized>(
    state_dir: &Path,
    purge: bool,
    docker: &D,
    say: &mut dyn FnMut(&str),
) -> Result<(), LocalError> {
    let state = read_state(state_dir).map_err(|e| LocalError::StateDir {
        path: state_file(state_dir),
        detail: e.to_string(),
    })?;
    let Some(state) = state else {
        say(&format!(
            "nothing to stop: no state in {} (not up, or already down)",
            state_dir.display()
        ));
        return Ok(());
    };
    if let Some(pid) = state.pid {
        if embedded::is_our_engine(pid) {
            embedded::terminate(pid, Duration::from_secs(10))?;
            say(&format!("stopped embedded engine (pid {pid})"));
        } else {
            say(&format!("embedded engine (pid {pid}) is no longer running"));
        }
    }
    // A docker error (daemon stopped meanwhile) keeps the state, so `down` can be retried.
    for name in &state.containers {
        if containers::remove_ours(docker, name)? {
            say(&format!("removed container {name}"));
        } else {
            say(&format!("container {name} is already gone"));
        }
    }
    if let Some(dir) = &state.data_dir {
        if purge {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(LocalError::StateDir {
                        path: dir.clone(),
                        detail: format!("cannot purge: {e}"),
                    })
                }
                _ => say(&format!("purged data in {}", dir.display())),
            }
        } else {
            say(&format!(
                "kept data in {} (kinlocal down --purge deletes it)",
                dir.display()
            ));
        }
    }
    remove_state(state_dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::fake::FakeDocker;
    use crate::endpoint::UpState;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn removes_the_recorded_containers_by_name_and_label_then_forgets_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = UpState {
            backend: "docker".into(),
            kinesis_endpoint: "http://127.0.0.1:4566".into(),
            dynamodb_endpoint: "http://127.0.0.1:4567".into(),
            region: "us-east-1".into(),
            containers: vec!["ci-kinesis".into(), "ci-dynamodb".into()],
            ..Default::default()
        };
        super::super::write_state(dir.path(), &state).expect("write");
        let d = FakeDocker::default()
            .ok(
                &["ps", "--all", "--filter", "name=^/?ci-kinesis$"],
                "ci-kinesis\trunning\n",
            )
            .ok(&["ps", "--all", "--filter", "name=^/?ci-dynamodb$"], "")
            .ok(&["rm"], "ci-kinesis\n");
        let mut lines = Vec::new();
        down(dir.path(), false, &d, &mut |l| lines.push(l.to_string())).expect("down");
        let calls = d.calls();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert_eq!(calls[1], v(&["rm", "--force", "--volumes", "ci-kinesis"]));
        assert!(calls[0].contains(&"label=dev.kinlocal.managed=true".to_string()));
        assert_eq!(
            lines,
            [
                "removed container ci-kinesis",
                "container ci-dynamodb is already gone"
            ]
        );
        assert!(!state_file(dir.path()).exists());
        // Twice is fine, and touches docker no more.
        down(dir.path(), false, &d, &mut |_| {}).expect("down again");
        assert_eq!(d.calls().len(), 3);
    }

    #[test]
    fn a_docker_failure_keeps_the_state_for_a_retry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = UpState {
            backend: "docker".into(),
            containers: vec!["kinlocal-kinesis".into()],
            ..Default::default()
        };
        super::super::write_state(dir.path(), &state).expect("write");
        let d = FakeDocker::default().fail(
            &["ps"],
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        );
        let err = down(dir.path(), false, &d, &mut |_| {}).expect_err("daemon gone");
        assert!(err.to_string().contains("not running"), "{err}");
        assert!(state_file(dir.path()).exists());
    }

    #[test]
    fn a_recycled_pid_is_never_signalled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let state = UpState {
            backend: "embedded".into(),
            pid: Some(sleeper.id()),
            ..Default::default()
        };
        super::super::write_state(dir.path(), &state).expect("write");
        let mut lines = Vec::new();
        down(dir.path(), false, &FakeDocker::default(), &mut |l| {
            lines.push(l.to_string())
        })
        .expect("down");
        assert!(
            matches!(sleeper.try_wait(), Ok(None)),
            "someone else's process survives"
        );
        assert!(lines[0].contains("no longer running"), "{lines:?}");
        let _ = sleeper.kill();
        let _ = sleeper.wait();
    }

    #[test]
    fn persisted_data_stays_unless_purged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("mkdir");
        let state = UpState {
            backend: "embedded".into(),
            data_dir: Some(data.clone()),
            ..Default::default()
        };
        super::super::write_state(dir.path(), &state).expect("write");
        down(dir.path(), false, &FakeDocker::default(), &mut |_| {}).expect("down");
        assert!(data.exists());
        super::super::write_state(dir.path(), &state).expect("write");
        down(dir.path(), true, &FakeDocker::default(), &mut |_| {}).expect("down --purge");
        assert!(!data.exists());
    }
}
