//! The process invoker: runs the handler executable once per batch, the event on its stdin,
//! in its own process group (killed whole on timeout), with a Lambda-like environment.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;
use tokio::time::Instant;

use super::{Invocation, InvokeResult, Invoker, LogSink, Termination};
use crate::esm::config::FunctionConfig;

/// How long output pipes may stay open after the handler exited (a background child holding
/// them) before the rest of its process group is killed.
const PIPE_GRACE: Duration = Duration::from_millis(250);

/// Runs `command` per batch.
pub struct ExecInvoker {
    function: FunctionConfig,
    env: Vec<(String, String)>,
    logs: Arc<dyn LogSink>,
}

impl ExecInvoker {
    /// An invoker for `function`, sending stderr lines to `logs`.
    pub fn new(function: FunctionConfig, logs: Arc<dyn LogSink>) -> Self {
        let env = lambda_environment(&function);
        Self { function, env, logs }
    }
}

/// The variables a Lambda runtime sets, as the function would see them on AWS.
pub fn lambda_environment(f: &FunctionConfig) -> Vec<(String, String)> {
    let timeout_secs = f.timeout.as_millis().div_ceil(1000).max(1);
    let task_root = std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| ".".into());
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
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

impl Invoker for ExecInvoker {
    async fn invoke(&self, inv: Invocation) -> InvokeResult {
        let started = Instant::now();
        let done = |termination, stdout| InvokeResult {
            termination,
            stdout,
            duration: started.elapsed(),
        };
        let Some((program, args)) = self.function.command.split_first() else {
            return done(Termination::SpawnFailed("empty command".into()), Vec::new());
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("KINLOCAL_SHARD_ID", &inv.shard_id)
            .env("KINLOCAL_REQUEST_ID", &inv.request_id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a terminal's Ctrl-C does not reach it (the in-flight
            // batch may finish), and a timeout kills it with everything it started.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return done(Termination::SpawnFailed(e.to_string()), Vec::new()),
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
        let mut stdout = child.stdout.take();
        let out_task = tokio::spawn(async move {
            let mut buf = Vec::new();
            if let Some(s) = stdout.as_mut() {
                let _ = s.read_to_end(&mut buf).await;
            }
            buf
        });
        let stderr = child.stderr.take();
        let logs = Arc::clone(&self.logs);
        let shard = inv.shard_id.clone();
        let err_task = tokio::spawn(async move {
            if let Some(s) = stderr {
                let mut lines = tokio::io::BufReader::new(s).split(b'\n');
                while let Ok(Some(line)) = lines.next_segment().await {
                    let text = String::from_utf8_lossy(&line);
                    logs.log(&shard, text.trim_end_matches('\r'));
                }
            }
        });

        let termination = match tokio::time::timeout(self.function.timeout, child.wait()).await {
            Ok(Ok(status)) => {
                use std::os::unix::process::ExitStatusExt as _;
                match (status.code(), status.signal()) {
                    (Some(c), _) => Termination::Exited(c),
                    (None, Some(s)) => Termination::Signaled(s),
                    (None, None) => Termination::Exited(-1),
                }
            }
            Ok(Err(e)) => Termination::SpawnFailed(e.to_string()),
            Err(_elapsed) => {
                if let Some(pgid) = pgid {
                    kill_process_group(pgid);
                }
                let _ = child.wait().await;
                Termination::TimedOut
            }
        };
        writer.abort();
        // Normally the pipes close with the handler; if something it started keeps them open,
        // kill the rest of its group (Lambda freezes such leftovers too), then collect.
        let mut out_task = out_task;
        let mut err_task = err_task;
        let first = tokio::time::timeout(PIPE_GRACE, &mut out_task).await;
        let out = match first {
            Ok(r) => r.unwrap_or_default(),
            Err(_) => {
                if let Some(pgid) = pgid {
                    kill_process_group(pgid);
                }
                match tokio::time::timeout(PIPE_GRACE, &mut out_task).await {
                    Ok(r) => r.unwrap_or_default(),
                    Err(_) => Vec::new(),
                }
            }
        };
        if tokio::time::timeout(PIPE_GRACE, &mut err_task).await.is_err() {
            if let Some(pgid) = pgid {
                kill_process_group(pgid);
            }
            err_task.abort();
        }
        done(termination, out)
    }
}

/// Sends SIGKILL to every process of the group `pgid` (the handler and its children).
#[allow(unsafe_code)]
fn kill_process_group(pgid: u32) {
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
