//! One warm execution environment: a bootstrap process and the Runtime API server it polls.
//!
//! Started once (INIT out of the hot path), it answers invocation after invocation. At the
//! deadline its process group is killed and the next invocation starts a fresh one (INIT
//! again, inside that invocation, as on AWS); a process that exits mid-invocation is
//! `Runtime.ExitError`; `/init/error` is a function error printed once. With `--watch`, a
//! process started before the function's files changed is replaced before the next
//! invocation ([`super::reload`]).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::reload::CodeWatcher;
use super::server::{self, PendingInvocation, RuntimeApiServer, RuntimeReply, RuntimeSignal};
use crate::esm::invoker::reaper::{self, kill_group as kill_process_group};
use crate::esm::invoker::{BoxFuture, FunctionLog, InitError, Invocation, InvokeReport, Invoker, Outcome};

/// How an execution environment runs, shared by every lane.
#[derive(Debug, Clone)]
pub struct InstanceSettings {
    /// The bootstrap command line; `None` serves the API only (`--runtime-api-only`).
    pub command: Option<Vec<String>>,
    /// The function's environment (without `AWS_LAMBDA_RUNTIME_API`, added per server).
    pub env: Vec<(String, String)>,
    /// The working directory of the process (the task root).
    pub cwd: Option<PathBuf>,
    /// How long `start` waits for the runtime's first `/next` (Lambda's 10 s init phase);
    /// a slower init continues inside the first invocation, as Lambda's suppressed init does.
    pub init_timeout: Duration,
}

/// Where kinlocal's own lines about an environment go (INIT, init errors, the API address).
pub(crate) trait NoteSink: Send + Sync {
    /// One line of kinlocal's own.
    fn note(&self, message: &str);
}

/// The consumer's reporter as a [`NoteSink`].
pub(crate) struct ReporterNotes(pub Arc<dyn crate::esm::Reporter>);

impl NoteSink for ReporterNotes {
    fn note(&self, message: &str) {
        self.0.note(message);
    }
}

/// What woke an environment up while it waited.
enum Step {
    Continue,
    Ready,
    InitFailed(InitError),
    Exited {
        status: String,
        posted: Option<InitError>,
    },
    TimedOut,
}

/// A running bootstrap with its server.
struct Running {
    server: RuntimeApiServer,
    child: Option<Child>,
    pgid: Option<u32>,
    spawned: Instant,
    ready: bool,
    /// The code generation ([`CodeWatcher`]) when the process started.
    generation: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            kill_process_group(pgid);
            // The bootstrap leads its group: its pid is the group id.
            reaper::finished(pgid);
        }
    }
}

/// One lane's warm execution environment.
pub(crate) struct WarmInstance {
    settings: Arc<InstanceSettings>,
    /// The process's output, labelled with the lane.
    logs: FunctionLog,
    /// INIT lines and init errors.
    notes: Arc<dyn NoteSink>,
    running: Option<Running>,
    /// The last init error printed, so a broken function is reported once, not per retry.
    reported: Option<InitError>,
    /// With `--watch`: the function's files, to replace a process that runs old code.
    reload: Option<Arc<CodeWatcher>>,
}

impl WarmInstance {
    /// An environment for one lane; nothing runs until [`Self::start`].
    pub fn new(settings: Arc<InstanceSettings>, logs: FunctionLog, notes: Arc<dyn NoteSink>) -> Self {
        Self {
            settings,
            logs,
            notes,
            running: None,
            reported: None,
            reload: None,
        }
    }

    /// Replaces the process before an invocation when the function's files changed since it
    /// started (`--watch`).
    #[must_use]
    pub(crate) fn with_reload(mut self, reload: Option<Arc<CodeWatcher>>) -> Self {
        self.reload = reload;
        self
    }

    /// The current code generation (0 without `--watch`).
    fn generation(&self) -> u64 {
        self.reload.as_ref().map_or(0, |w| w.generation())
    }

    /// Between invocations: when the files changed since the process started, stops it and
    /// starts the new code, waiting for its INIT as at the start of the run (so INIT is not
    /// counted against the invocation's timeout). A new version that fails to initialise is
    /// reported once and is the invocation's error; the batch is retried as usual.
    async fn reload_if_changed(&mut self) -> Result<bool, InitError> {
        let current = self.generation();
        let stale = self.running.as_ref().is_some_and(|r| r.generation < current);
        if !stale {
            return Ok(false);
        }
        self.stop().await;
        self.notes
            .note(&format!("{}: reloading the function", self.logs.label()));
        match self.start().await {
            Ok(()) => Ok(true),
            Err(e) => {
                // `start` remembers the error without printing it (the caller of the first
                // start prints it); here nobody else will.
                self.reported = None;
                self.report_init_error(&e);
                Err(e)
            }
        }
    }

    /// The `AWS_LAMBDA_RUNTIME_API` of the running environment.
    pub fn runtime_api(&self) -> Option<String> {
        self.running.as_ref().map(|r| r.server.host_port())
    }

    /// Starts the environment and waits for its INIT (the first `/next`), up to the init
    /// timeout; a bad handler is an [`InitError`] here, before any record is consumed.
    pub async fn start(&mut self) -> Result<(), InitError> {
        let running = self.spawn().await.map_err(|detail| InitError {
            error_type: "Runtime.InvalidEntrypoint".into(),
            message: detail,
        })?;
        let serve_only = running.child.is_none();
        self.running = Some(running);
        if serve_only {
            self.announce_api();
            return Ok(());
        }
        let limit = tokio::time::sleep(self.settings.init_timeout);
        tokio::pin!(limit);
        loop {
            let Some(Running { server, child, .. }) = self.running.as_mut() else {
                return Err(InitError {
                    error_type: "Runtime.ExitError".into(),
                    message: "the execution environment stopped during init".into(),
                });
            };
            let step = tokio::select! {
                signal = server.signal() => match signal {
                    Some(RuntimeSignal::Ready) => Step::Ready,
                    Some(RuntimeSignal::InitError { error_type, message }) => {
                        Step::InitFailed(InitError { error_type, message })
                    }
                    None => Step::Continue,
                },
                status = wait_child(child) => {
                    // An init error is posted just before the exit: prefer its details.
                    Step::Exited { status, posted: next_init_error(server) }
                }
                () = &mut limit => Step::TimedOut,
            };
            match step {
                Step::Continue => {}
                Step::Ready => {
                    self.mark_ready();
                    return Ok(());
                }
                Step::InitFailed(e) => {
                    self.stop().await;
                    self.reported = Some(e.clone());
                    return Err(e);
                }
                Step::Exited { status, posted } => {
                    self.stop().await;
                    let e = posted.unwrap_or_else(|| InitError {
                        error_type: "Runtime.ExitError".into(),
                        message: format!("Runtime exited during init: {status}"),
                    });
                    self.reported = Some(e.clone());
                    return Err(e);
                }
                Step::TimedOut => {
                    self.notes.note(&format!(
                        "{}: INIT still running after {} s; it continues inside the first invocation, as on Lambda",
                        self.logs.label(),
                        self.settings.init_timeout.as_secs()
                    ));
                    return Ok(());
                }
            }
        }
    }

    /// Runs one invocation: delivers the event on the next `/next` and waits for the answer,
    /// the process's exit, or the deadline.
    pub async fn invoke(&mut self, invocation: Invocation) -> Outcome {
        let Invocation {
            request_id,
            payload,
            mut deadline,
            timeout,
            function_arn,
            ..
        } = invocation;
        match self.reload_if_changed().await {
            // The reload's INIT happened before this invocation: its time is its own.
            Ok(true) => deadline = SystemTime::now() + timeout,
            Ok(false) => {}
            Err(e) => {
                return Outcome::FunctionError {
                    error_type: e.error_type,
                    message: e.message,
                }
            }
        }
        // A process that exited between invocations is replaced (INIT again).
        if let Some(r) = self.running.as_mut() {
            if let Some(child) = r.child.as_mut() {
                if !matches!(child.try_wait(), Ok(None)) {
                    self.running = None;
                }
            }
        }
        if self.running.is_none() {
            match self.spawn().await {
                Ok(r) => self.running = Some(r),
                Err(detail) => return Outcome::Crashed { detail },
            }
        }
        let serve_only = self.settings.command.is_none();
        let (reply_tx, mut reply) = oneshot::channel();
        let pending = PendingInvocation {
            request_id: request_id.clone(),
            payload,
            deadline,
            function_arn,
            trace_id: server::trace_id(SystemTime::now()),
            reply: reply_tx,
        };
        let submitted = match self.running.as_ref() {
            Some(r) => r.server.submit(pending).await.is_ok(),
            None => false,
        };
        if !submitted {
            self.running = None;
            return Outcome::Crashed {
                detail: "the Runtime API server stopped".into(),
            };
        }
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        let timer = tokio::time::sleep_until(Instant::now() + left);
        tokio::pin!(timer);
        loop {
            let Some(Running { server, child, .. }) = self.running.as_mut() else {
                return Outcome::Crashed {
                    detail: "the execution environment stopped".into(),
                };
            };
            let step = tokio::select! {
                biased;
                answer = &mut reply => {
                    return match answer {
                        Ok(RuntimeReply::Response(body)) => Outcome::Returned(body),
                        Ok(RuntimeReply::Error { error_type, message, .. }) => {
                            Outcome::FunctionError { error_type, message }
                        }
                        Err(_) => Outcome::FunctionError {
                            error_type: "Runtime.InvalidStateTransition".into(),
                            message: format!(
                                "the runtime asked for the next event without answering request {request_id}"
                            ),
                        },
                    };
                }
                signal = server.signal() => match signal {
                    Some(RuntimeSignal::Ready) => Step::Ready,
                    Some(RuntimeSignal::InitError { error_type, message }) => {
                        Step::InitFailed(InitError { error_type, message })
                    }
                    None => Step::Continue,
                },
                status = wait_child(child) => Step::Exited { status, posted: next_init_error(server) },
                () = &mut timer, if !serve_only => Step::TimedOut,
            };
            match step {
                Step::Continue => {}
                Step::Ready => self.mark_ready(),
                Step::InitFailed(e) | Step::Exited { posted: Some(e), .. } => {
                    self.stop().await;
                    self.report_init_error(&e);
                    return Outcome::FunctionError {
                        error_type: e.error_type,
                        message: e.message,
                    };
                }
                Step::Exited { status, posted: None } => {
                    self.stop().await;
                    return Outcome::FunctionError {
                        error_type: "Runtime.ExitError".into(),
                        message: format!(
                            "RequestId: {request_id} Error: Runtime exited with error: {status}"
                        ),
                    };
                }
                Step::TimedOut => {
                    self.stop().await;
                    let after = timeout;
                    self.logs.line(&format!(
                        "{request_id} Task timed out after {:.2} seconds",
                        after.as_secs_f64()
                    ));
                    return Outcome::TimedOut { after };
                }
            }
        }
    }

    /// Kills the process group and stops the server.
    pub async fn shutdown(&mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(mut r) = self.running.take() {
            if let Some(pgid) = r.pgid.take() {
                kill_process_group(pgid);
                reaper::finished(pgid);
            }
            if let Some(child) = r.child.as_mut() {
                let _ = child.kill().await;
            }
        }
    }

    /// The runtime polled for the first time: INIT is over (printed once per process).
    fn mark_ready(&mut self) {
        if let Some(r) = self.running.as_mut() {
            if !r.ready {
                r.ready = true;
                self.notes.note(&format!(
                    "INIT {} {} ms",
                    self.logs.label(),
                    r.spawned.elapsed().as_millis()
                ));
            }
        }
    }

    fn report_init_error(&mut self, e: &InitError) {
        if self.reported.as_ref() != Some(e) {
            self.notes.note(&format!(
                "{}: the function failed to initialize: {}: {}",
                self.logs.label(),
                e.error_type,
                e.message
            ));
            self.reported = Some(e.clone());
        }
    }

    fn announce_api(&self) {
        let Some(api) = self.runtime_api() else {
            return;
        };
        let mut text = format!(
            "{}: Runtime API at {api}; start your function (under a debugger, an IDE…) with this environment:\n  AWS_LAMBDA_RUNTIME_API={api}",
            self.logs.label()
        );
        for (k, v) in &self.settings.env {
            text.push_str(&format!("\n  {k}={v}"));
        }
        self.notes.note(&text);
    }

    /// Starts a server and (unless serving only) the bootstrap polling it.
    async fn spawn(&self) -> Result<Running, String> {
        let server = RuntimeApiServer::start()
            .await
            .map_err(|e| format!("cannot start the Runtime API server: {e}"))?;
        let spawned = Instant::now();
        // Read before the process reads its files: a change from now on is seen as newer.
        let generation = self.generation();
        let Some((program, args)) = self.settings.command.as_ref().and_then(|c| c.split_first()) else {
            return Ok(Running {
                server,
                child: None,
                pgid: None,
                spawned,
                ready: false,
                generation,
            });
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            // Never inherited: they switch runtime clients into modes Lambda does not use
            // for an event source mapping, or belong to one invocation.
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .env_remove("_X_AMZN_TRACE_ID")
            .envs(self.settings.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", server.host_port())
            // Under --watch, Python must not cache byte code: its cache trusts a source's
            // mtime in whole seconds and its size, so an edit in the same second that keeps
            // the size would reload the old code.
            .envs(self.reload.is_some().then_some(("PYTHONDONTWRITEBYTECODE", "1")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a timeout kills it with everything it started, and a
            // terminal's Ctrl-C does not reach it.
            .process_group(0)
            .kill_on_drop(true);
        if let Some(dir) = &self.settings.cwd {
            cmd.current_dir(dir);
        }
        // Recorded as live, so a sweep of leftovers never takes a warm bootstrap for one.
        let mut child = reaper::spawn(&mut cmd).map_err(|e| format!("cannot start {program}: {e}"))?;
        let pgid = child.id();
        if let Some(out) = child.stdout.take() {
            self.pump(out);
        }
        if let Some(err) = child.stderr.take() {
            self.pump(err);
        }
        Ok(Running {
            server,
            child: Some(child),
            pgid,
            spawned,
            ready: false,
            generation,
        })
    }

    /// Forwards the process's output, line by line, to the log with the lane's prefix.
    fn pump(&self, pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static) {
        let logs = self.logs.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(pipe).split(b'\n');
            while let Ok(Some(line)) = lines.next_segment().await {
                let text = String::from_utf8_lossy(&line);
                logs.line(text.trim_end_matches('\r'));
            }
        });
    }
}

impl Invoker for WarmInstance {
    fn start(&mut self) -> BoxFuture<'_, Result<(), InitError>> {
        Box::pin(WarmInstance::start(self))
    }

    fn invoke(&mut self, invocation: Invocation) -> BoxFuture<'_, InvokeReport> {
        Box::pin(async move {
            let started = Instant::now();
            let outcome = WarmInstance::invoke(self, invocation).await;
            InvokeReport {
                outcome,
                duration: started.elapsed(),
            }
        })
    }

    fn shutdown(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(WarmInstance::shutdown(self))
    }
}

/// Waits for the process to exit and describes how (`exit status 1`, `signal: killed`);
/// never resolves when there is no process.
async fn wait_child(child: &mut Option<Child>) -> String {
    match child {
        Some(c) => match c.wait().await {
            Ok(status) => describe_status(status),
            Err(e) => format!("cannot wait for the process: {e}"),
        },
        None => std::future::pending().await,
    }
}

/// An init error already posted but not yet read.
fn next_init_error(server: &mut RuntimeApiServer) -> Option<InitError> {
    while let Some(signal) = server.try_signal() {
        if let RuntimeSignal::InitError { error_type, message } = signal {
            return Some(InitError { error_type, message });
        }
    }
    None
}

/// Lambda's words for an exit: `exit status 1`, `signal: killed`.
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(9)) => "signal: killed".into(),
        (None, Some(s)) => format!("signal: {s}"),
        (None, None) => "exited".into(),
    }
}
