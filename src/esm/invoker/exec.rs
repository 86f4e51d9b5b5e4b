//! The process invoker: runs the handler executable once per batch, the event on its stdin,
//! in its own process group (killed whole on timeout), with a Lambda-like environment. Its
//! stdout is the return value (read by [`super::output`]), stderr and the rest of stdout are
//! log lines; exit 0 is success, anything else a function error.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;
use tokio::time::Instant;

use super::output::{self, LineAssembler, StdoutCollector};
use super::reaper::{self, kill_group as kill_process_group};
use super::{BoxFuture, FunctionLog, InitError, Invocation, InvokeReport, Invoker, InvokerTarget, Outcome};

/// How long output pipes may stay open after the handler exited (a background child holding
/// them) before the rest of its process group is killed.
const PIPE_GRACE: Duration = Duration::from_millis(250);

/// Read size for the handler's pipes.
const CHUNK: usize = 64 * 1024;

/// What the process invoker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecSettings {
    /// The command line (program and arguments), already split; never run through a shell.
    pub command: Vec<String>,
    /// The environment added to kinlocal's own (the Lambda variables).
    pub env: Vec<(String, String)>,
}

/// Runs the command once per batch of one lane.
pub(crate) struct ExecInvoker {
    settings: Arc<ExecSettings>,
    logs: FunctionLog,
}

impl ExecInvoker {
    /// An invoker for `target`.
    pub fn new(settings: ExecSettings, target: InvokerTarget) -> Self {
        reaper::init();
        Self {
            settings: Arc::new(settings),
            logs: target.logs,
        }
    }
}

impl Invoker for ExecInvoker {
    fn start(&mut self) -> BoxFuture<'_, Result<(), InitError>> {
        // A process per batch: nothing to warm up.
        Box::pin(async { Ok(()) })
    }

    fn invoke(&mut self, invocation: Invocation) -> BoxFuture<'_, InvokeReport> {
        Box::pin(run_once(
            Arc::clone(&self.settings),
            self.logs.clone(),
            invocation,
        ))
    }

    fn shutdown(&mut self) -> BoxFuture<'_, ()> {
        // Whatever an earlier invocation left behind goes with the consumer.
        Box::pin(async {
            let _ = tokio::task::spawn_blocking(reaper::sweep).await;
        })
    }
}

async fn run_once(settings: Arc<ExecSettings>, logs: FunctionLog, inv: Invocation) -> InvokeReport {
    let started = Instant::now();
    let done = |outcome| InvokeReport {
        outcome,
        duration: started.elapsed(),
    };
    let Some((program, args)) = settings.command.split_first() else {
        return done(Outcome::Crashed {
            detail: "empty command".into(),
        });
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(settings.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("KINLOCAL_SHARD_ID", &inv.shard_id)
        .env("KINLOCAL_REQUEST_ID", &inv.request_id)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a terminal's Ctrl-C does not reach it (the in-flight batch
        // may finish), and a timeout kills it with everything it started.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match reaper::spawn(&mut cmd) {
        Ok(c) => c,
        Err(e) => {
            return done(Outcome::Crashed {
                detail: e.to_string(),
            })
        }
    };
    let pgid = child.id();
    let mut stdin = child.stdin.take();
    let payload = Arc::clone(&inv.payload);
    let writer = tokio::spawn(async move {
        if let Some(s) = stdin.as_mut() {
            // A handler that exits without reading closes the pipe: not an error.
            let _ = s.write_all(&payload).await;
            let _ = s.shutdown().await;
        }
    });
    let stdout = child.stdout.take();
    let out_logs = logs.clone();
    let mut out_task = tokio::spawn(async move {
        let mut collector = StdoutCollector::new(out_logs);
        if let Some(mut s) = stdout {
            let mut buf = vec![0_u8; CHUNK];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                collector.push(&buf[..n]);
            }
        }
        collector.finish()
    });
    let stderr = child.stderr.take();
    let mut err_task = tokio::spawn(async move {
        if let Some(mut s) = stderr {
            let mut lines = LineAssembler::new(output::MAX_LOG_LINE);
            let mut buf = vec![0_u8; CHUNK];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                lines.push(&buf[..n], |l, cut| output::log_line(&logs, l, cut));
            }
            lines.finish(|l, cut| output::log_line(&logs, l, cut));
        }
    });

    let limit = inv
        .deadline
        .duration_since(std::time::SystemTime::now())
        .unwrap_or(Duration::ZERO)
        .min(inv.timeout);
    let ended = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => Ok(status),
        Ok(Err(e)) => Err(Outcome::Crashed {
            detail: e.to_string(),
        }),
        Err(_elapsed) => {
            if let Some(pgid) = pgid {
                kill_process_group(pgid);
            }
            let _ = child.wait().await;
            Err(Outcome::TimedOut { after: inv.timeout })
        }
    };
    if let Some(pid) = pgid {
        reaper::finished(pid);
    }
    writer.abort();
    // Normally the pipes close with the handler; if something it started keeps them open,
    // kill the rest of its group (Lambda freezes such leftovers too), then collect.
    let returned = match tokio::time::timeout(PIPE_GRACE, &mut out_task).await {
        Ok(r) => r.ok(),
        Err(_) => {
            if let Some(pgid) = pgid {
                kill_process_group(pgid);
            }
            match tokio::time::timeout(PIPE_GRACE, &mut out_task).await {
                Ok(r) => r.ok(),
                Err(_) => {
                    out_task.abort();
                    None
                }
            }
        }
    };
    if tokio::time::timeout(PIPE_GRACE, &mut err_task).await.is_err() {
        if let Some(pgid) = pgid {
            kill_process_group(pgid);
        }
        err_task.abort();
    }
    // The invocation is over: nothing it started may run on (Lambda freezes the sandbox
    // between invocations; a process per batch has nothing to resume). Its group first, then
    // anything that left the group and was re-parented to us.
    if let Some(pgid) = pgid {
        kill_process_group(pgid);
    }
    let _ = tokio::task::spawn_blocking(reaper::sweep).await;
    let outcome = match ended {
        Err(outcome) => outcome,
        Ok(status) if status.success() => returned.unwrap_or(Outcome::Returned(Vec::new())),
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt as _;
            let message = match (status.code(), status.signal()) {
                (Some(c), _) => format!("exit {c}"),
                (None, Some(s)) => format!("signal {s}"),
                (None, None) => "exit status unknown".to_string(),
            };
            Outcome::FunctionError {
                error_type: "Runtime.ExitError".into(),
                message,
            }
        }
    };
    done(outcome)
}
