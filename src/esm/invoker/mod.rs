//! Invoking the function with one batch. The trait lets the shard reader run against the
//! process invoker ([`exec`]) or, in tests and later issues, something else (a Lambda Runtime
//! API server, a fake).

pub mod bootstrap;
pub mod exec;
pub mod runtime_api;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// One invocation: a batch of one shard, as the JSON document Lambda sends.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The shard the batch comes from (log prefix, environment).
    pub shard_id: String,
    /// The request id (`requestContext.requestId` if the batch is discarded).
    pub request_id: String,
    /// The event JSON.
    pub payload: Arc<Vec<u8>>,
}

/// How the function's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal (not by us).
    Signaled(i32),
    /// It ran past `--timeout`; its process group was killed.
    TimedOut,
    /// It could not be started.
    SpawnFailed(String),
}

/// What an invocation produced.
#[derive(Debug, Clone)]
pub struct InvokeResult {
    /// How it ended.
    pub termination: Termination,
    /// Everything it wrote on stdout (return value and log lines).
    pub stdout: Vec<u8>,
    /// Wall time from start to end.
    pub duration: Duration,
}

impl InvokeResult {
    /// Exit status 0 is success; anything else is a function error.
    pub fn is_success(&self) -> bool {
        self.termination == Termination::Exited(0)
    }

    /// A short description for the per-batch line (`exit 1`, `signal 9`, `timeout`).
    pub fn describe(&self) -> String {
        match &self.termination {
            Termination::Exited(c) => format!("exit {c}"),
            Termination::Signaled(s) => format!("signal {s}"),
            Termination::TimedOut => "timeout".into(),
            Termination::SpawnFailed(e) => format!("cannot start: {e}"),
        }
    }
}

/// Where the function's log lines go (prefixed with the shard id by the sink).
pub trait LogSink: Send + Sync {
    /// One line the function logged while handling a batch of `shard_id`.
    fn log(&self, shard_id: &str, line: &str);
}

/// Runs the function on a batch.
pub trait Invoker: Send + Sync + 'static {
    /// Invokes the function once and waits for it to finish (or time out).
    fn invoke(&self, invocation: Invocation) -> impl Future<Output = InvokeResult> + Send;
}
