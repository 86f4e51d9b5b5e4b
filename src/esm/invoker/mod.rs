//! The invoker contract: how the event source mapping runs the function on one batch and what
//! comes back. An invoker returns an [`Outcome`] in Lambda's terms (a return value, a function
//! error, a timeout, a crash), never process details; how it talks to the function is its own
//! business ([`exec`]: a process per batch on stdin/stdout). One invoker serves one lane (one
//! shard today): it is created by an [`InvokerFactory`] ([`InvokerKind`] chooses the
//! implementation at run time), started before the first batch and shut down at the end.

pub mod bootstrap;
pub mod exec;
pub mod output;
pub mod reaper;
pub mod runtime_api;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::config::FunctionConfig;

/// A boxed future, so that [`Invoker`] stays object-safe.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Largest return value Lambda accepts from a synchronous invocation (6 MB); a bigger one is
/// a function error.
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// One invocation: one batch, as the JSON document Lambda sends.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The request id (`Lambda-Runtime-Aws-Request-Id`, `requestContext.requestId`).
    pub request_id: String,
    /// The event JSON, exactly as Lambda sends it.
    pub payload: Arc<Vec<u8>>,
    /// When the function times out (now + `--timeout`); the Runtime API sends it as epoch ms.
    pub deadline: SystemTime,
    /// `--timeout`, for the "Task timed out after N.00 seconds" message.
    pub timeout: Duration,
    /// `arn:aws:lambda:…:function:NAME`.
    pub function_arn: String,
    /// The shard the batch comes from.
    pub shard_id: String,
    /// The lane within the shard (0 until ParallelizationFactor exists).
    pub lane: usize,
}

/// How an invocation ended, in Lambda's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function returned this value (the response body; may be empty).
    Returned(Vec<u8>),
    /// The function failed: `Runtime.ExitError`, `Unhandled`, the handler's own error type…
    FunctionError {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// It ran past its timeout and was stopped.
    TimedOut {
        /// The timeout it ran into.
        after: Duration,
    },
    /// It could not be started at all.
    Crashed {
        /// Why.
        detail: String,
    },
}

impl Outcome {
    /// A function error whose return value exceeded [`MAX_RESPONSE_BYTES`], as AWS reports it.
    pub(crate) fn response_too_large() -> Self {
        Self::FunctionError {
            error_type: "Function.ResponseSizeTooLarge".into(),
            message: "Response payload size exceeded maximum allowed payload size (6291556 bytes).".into(),
        }
    }

    /// Short label for the per-batch line: `error`, `timeout` (`ok`/`partial` are the
    /// response's to say).
    pub(crate) fn failure_label(&self) -> &'static str {
        match self {
            Self::TimedOut { .. } => "timeout",
            _ => "error",
        }
    }

    /// One-line description of a failure for the per-batch line.
    pub fn describe(&self) -> String {
        match self {
            Self::Returned(_) => String::new(),
            Self::FunctionError { error_type, message } => format!("{error_type}: {message}"),
            Self::TimedOut { after } => {
                format!("Task timed out after {:.2} seconds", after.as_secs_f64())
            }
            Self::Crashed { detail } => format!("cannot start: {detail}"),
        }
    }
}

/// What an invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeReport {
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time from start to end.
    pub duration: Duration,
}

/// The function could not be initialised (`/runtime/init/error`, a bootstrap that will not
/// start). Fatal to the run when it happens before the first batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct InitError {
    /// `errorType` (e.g. `Runtime.ImportModuleError`).
    pub error_type: String,
    /// `errorMessage`.
    pub message: String,
}

/// Runs the function on batches of one lane, one at a time.
pub trait Invoker: Send {
    /// Prepares the function (a warm invoker starts its process and waits for init here).
    fn start(&mut self) -> BoxFuture<'_, Result<(), InitError>>;
    /// Invokes the function once and waits for it to finish (or time out).
    fn invoke(&mut self, invocation: Invocation) -> BoxFuture<'_, InvokeReport>;
    /// Stops whatever [`Invoker::start`] started.
    fn shutdown(&mut self) -> BoxFuture<'_, ()>;
}

/// Where the function's log lines go. The sink is shared by every invoker kind; the label
/// (shard, and lane once lanes exist) comes from [`FunctionLog`].
pub trait LogSink: Send + Sync {
    /// One line the function logged (already stripped of its line ending).
    fn log(&self, label: &str, line: &str);
}

/// One lane's handle on the log sink: every line it gets is labelled with its shard/lane.
#[derive(Clone)]
pub struct FunctionLog {
    sink: Arc<dyn LogSink>,
    label: Arc<str>,
}

impl FunctionLog {
    /// Lines of `shard_id`, lane `lane` (lane 0 is labelled with the bare shard id; others
    /// `shardId-…/N`).
    pub fn new(sink: Arc<dyn LogSink>, shard_id: &str, lane: usize) -> Self {
        let label: Arc<str> = if lane == 0 {
            shard_id.into()
        } else {
            format!("{shard_id}/{lane}").into()
        };
        Self { sink, label }
    }

    /// Logs one line.
    pub fn line(&self, text: &str) {
        self.sink.log(&self.label, text);
    }

    /// The label lines are written with.
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl std::fmt::Debug for FunctionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionLog").field("label", &self.label).finish()
    }
}

/// What an invoker is made for: one lane of one shard.
#[derive(Debug, Clone)]
pub struct InvokerTarget {
    /// The shard.
    pub shard_id: String,
    /// The lane within it.
    pub lane: usize,
    /// Where its function's log lines go.
    pub logs: FunctionLog,
}

/// Makes one invoker per lane.
pub trait InvokerFactory: Send + Sync {
    /// A new, not yet started invoker for `target`.
    fn create(&self, target: InvokerTarget) -> Box<dyn Invoker>;
}

/// The invoker implementations, chosen at run time from flags.
#[derive(Debug, Clone)]
pub(crate) enum InvokerKind {
    /// A process per batch, the event on stdin, the return value on stdout.
    Exec(exec::ExecSettings),
    /// A warm bootstrap per lane speaking the Lambda Runtime API (`--runtime-api`,
    /// `--handler`, `--runtime-api-only`).
    RuntimeApi(runtime_api::RuntimeApiSettings),
}

impl InvokerFactory for InvokerKind {
    fn create(&self, target: InvokerTarget) -> Box<dyn Invoker> {
        match self {
            Self::Exec(settings) => Box::new(exec::ExecInvoker::new(settings.clone(), target)),
            Self::RuntimeApi(settings) => Box::new(
                runtime_api::instance::WarmInstance::new(
                    Arc::clone(&settings.instance),
                    target.logs,
                    Arc::clone(&settings.notes),
                )
                .with_reload(settings.reload.clone()),
            ),
        }
    }
}

/// The variables a Lambda runtime sets, as the function would see them on AWS.
pub(crate) fn lambda_environment(f: &FunctionConfig) -> Vec<(String, String)> {
    let timeout_secs = f.timeout.as_millis().div_ceil(1000).max(1);
    let task_root = std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| ".".into());
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let day = now.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    let stream = format!("{day}/[$LATEST]{}", uuid::Uuid::new_v4().simple());
    vec![
        ("AWS_LAMBDA_FUNCTION_NAME".into(), f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            f.memory_size.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), timeout_secs.to_string()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", f.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_REGION".into(), f.region.clone()),
        ("AWS_DEFAULT_REGION".into(), f.region.clone()),
        ("LAMBDA_TASK_ROOT".into(), task_root),
    ]
}
