//! The local environment behind `kinlocal up`, `down` and `status`: which backend runs (the
//! embedded engine as a detached process, or Docker containers), the state file that lets every
//! other subcommand find it, the default stream, and the AWS profile.
//!
//! - [`up`]: choose a backend, start or reuse it, wait until it answers, create streams, record
//!   the state.
//! - [`down`]: stop exactly what the state says `up` started.
//! - [`status`]: health, streams, shards, and each consumer application's checkpoints and lag.

pub mod containers;
pub mod down;
pub mod embedded;
pub mod private;
pub mod profile;
pub mod ready;
pub mod status;
pub mod up;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::docker::DockerError;
use crate::endpoint::{state_file, UpState};

/// The stream `up` creates when no `--stream` is given: like the seed set-up.
pub(crate) const DEFAULT_STREAM: &str = "kinlocal";

/// Shards of a stream whose `--stream` names no count.
pub(crate) const DEFAULT_SHARDS: i32 = 3;

/// Pinned default images (the tags are those known to work; see the README for alternatives).
pub(crate) const KINESIS_IMAGE: &str = "ghcr.io/etspaceman/kinesis-mock:0.5.2";
/// DynamoDB Local, pinned.
pub(crate) const DYNAMODB_IMAGE: &str = "amazon/dynamodb-local:2.6.1";
/// kinesis-mock's plain-HTTP port (4567 is its TLS port).
pub(crate) const KINESIS_CONTAINER_PORT: u16 = 4568;
/// DynamoDB Local's port.
pub(crate) const DYNAMODB_CONTAINER_PORT: u16 = 8000;

/// Which backend runs the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Docker when a daemon answers, else embedded.
    Auto,
    /// Two containers through the docker CLI.
    Docker,
    /// `kinlocal serve` as a detached background process.
    Embedded,
}

impl Backend {
    /// The name recorded in the state file.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Docker => "docker",
            Backend::Embedded => "embedded",
        }
    }
}

/// A stream for `up` to create: `NAME[:SHARDS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// Stream name.
    pub name: String,
    /// Shard count.
    pub shards: i32,
}

impl std::str::FromStr for StreamSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, shards) = match s.split_once(':') {
            Some((n, c)) => {
                let shards: i32 = c
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("'{c}' in '{s}' is not a shard count from 1 to 1000"))?;
                (n, shards)
            }
            None => (s, DEFAULT_SHARDS),
        };
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
        if !valid {
            return Err(format!(
                "'{name}' is not a stream name (1-128 of a-z A-Z 0-9 _ . -); use NAME or NAME:SHARDS"
            ));
        }
        Ok(Self {
            name: name.to_string(),
            shards,
        })
    }
}

/// A failure of `up`, `down` or `status`, naming what the user should change.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Docker refused.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The state directory cannot be used.
    #[error("cannot use the state directory {path}: {detail} (choose another with --state-dir)")]
    StateDir {
        /// The directory or file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The embedded engine could not be started.
    #[error("cannot start the embedded engine `{program}`: {detail}")]
    Spawn {
        /// The executable.
        program: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The embedded engine exited while starting.
    #[error(
        "the embedded engine exited while starting (if the port is taken, choose another with \
         --port); last lines of {log}:\n{tail}"
    )]
    EngineExited {
        /// Its log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// Something did not answer real API calls in time.
    #[error(
        "{what} did not answer {call} within {} (last error: {last_error}); raise \
         --timeout if it is just slow. Last log lines:\n{logs}",
        humantime::format_duration(*timeout)
    )]
    NotReady {
        /// What was waited for, with its endpoint.
        what: String,
        /// The API call that was tried.
        call: &'static str,
        /// How long we waited.
        timeout: Duration,
        /// The last error seen.
        last_error: String,
        /// The last log lines of the thing.
        logs: String,
    },
    /// Already up with another backend.
    #[error(
        "kinlocal is already up with the {backend} backend at {endpoint}: run `kinlocal down` \
         first to switch to {wanted}, or use another --state-dir"
    )]
    AlreadyUp {
        /// The running backend.
        backend: String,
        /// Its endpoint.
        endpoint: String,
        /// The backend asked for.
        wanted: String,
    },
    /// An AWS API call failed on the local endpoint.
    #[error("{call} on {endpoint} failed: {detail}")]
    Api {
        /// The call.
        call: String,
        /// The endpoint.
        endpoint: String,
        /// The SDK's error.
        detail: String,
    },
    /// The AWS shared config files cannot be written.
    #[error("cannot write AWS profile to {path}: {detail}")]
    Profile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The engine process would not stop.
    #[error("cannot stop the embedded engine (pid {pid}): {detail}")]
    Stop {
        /// The pid.
        pid: u32,
        /// What went wrong.
        detail: String,
    },
}

/// Writes the state file atomically (a reader never sees half a file).
pub fn write_state(dir: &Path, state: &UpState) -> Result<(), LocalError> {
    let err = |path: &Path, e: std::io::Error| LocalError::StateDir {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    private::create_dir(dir).map_err(|e| err(dir, e))?;
    let path = state_file(dir);
    let tmp = path.with_extension("json.tmp");
    let mut bytes = serde_json::to_vec_pretty(state).map_err(|e| LocalError::StateDir {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    bytes.push(b'\n');
    // The state names endpoints and pids: private, whatever an earlier version left.
    private::create_file(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .map_err(|e| err(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| err(&path, e))
}

/// Removes the state file; a missing one is fine (`down` twice).
pub(crate) fn remove_state(dir: &Path) -> Result<(), LocalError> {
    let path = state_file(dir);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LocalError::StateDir {
            path,
            detail: e.to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_spec_parses_name_and_optional_shards() {
        assert_eq!(
            "orders".parse::<StreamSpec>(),
            Ok(StreamSpec {
                name: "orders".into(),
                shards: 3
            })
        );
        assert_eq!("orders:5".parse::<StreamSpec>().map(|s| s.shards), Ok(5));
        assert!("orders:0".parse::<StreamSpec>().is_err());
        assert!("orders:x".parse::<StreamSpec>().is_err());
        assert!("bad name".parse::<StreamSpec>().is_err());
        assert!(":2".parse::<StreamSpec>().is_err());
    }

    #[test]
    fn state_is_written_atomically_and_removed_idempotently() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = UpState {
            backend: "embedded".into(),
            kinesis_endpoint: "http://127.0.0.1:1".into(),
            dynamodb_endpoint: "http://127.0.0.1:1".into(),
            region: "us-east-1".into(),
            pid: Some(42),
            ..Default::default()
        };
        let nested = dir.path().join("a/b");
        write_state(&nested, &state).expect("write");
        assert_eq!(crate::endpoint::read_state(&nested).expect("read"), Some(state));
        remove_state(&nested).expect("remove");
        remove_state(&nested).expect("remove twice");
        assert_eq!(crate::endpoint::read_state(&nested).expect("read"), None);
    }
}
