//! `kinlocal invoke`: resolve the function and the event, run it once, print the return value
//! (stdout) or the error (stdout as Lambda's error JSON, exit 1).

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{FunctionRuntimeArgs, InvokeArgs};
use crate::esm::config;
use crate::esm::event::EventContext;
use crate::esm::invoker::bootstrap::{HandlerSpec, Runtime};
use crate::esm::invoker::exec::ExecSettings;
use crate::esm::invoker::runtime_api::environment::{lambda_environment, FunctionIdentity};
use crate::esm::invoker::runtime_api::instance::NoteSink;
use crate::esm::invoker::runtime_api::launch::{self, Bootstrap, RuntimeApiOptions};
use crate::esm::invoker::runtime_api::{oneshot, RuntimeApiSettings};
use crate::esm::invoker::{FunctionLog, InvokerFactory as _, InvokerKind, InvokerTarget, LogSink, Outcome};
use crate::exit::{self, ExitError};

/// Runs `kinlocal invoke`.
pub fn run(args: InvokeArgs) -> anyhow::Result<i32> {
    let usage = |e: &dyn std::fmt::Display| ExitError::usage(e.to_string());
    let cwd = std::env::current_dir().map_err(|e| usage(&format!("no current directory: {e}")))?;
    let payload = read_event(&args, &cwd)?;
    let command = match &args.exec {
        Some(exec) => Some(config::command_line(exec, &[]).map_err(|e| usage(&e))?),
        None => None,
    };
    if let Some(program) = command.as_ref().and_then(|c| c.first()) {
        config::check_executable(program).map_err(|e| usage(&e))?;
    }
    let function_name =
        args.function_name
            .clone()
            .unwrap_or_else(|| match (&args.function.handler, &command) {
                (Some(h), _) => launch::function_name_of_handler(h),
                (None, Some(c)) => config::function_name_from(config::script_of(c)),
                (None, None) => "kinlocal-function".into(),
            });
    let arn = format!(
        "arn:aws:lambda:{}:{}:function:{function_name}",
        args.region, args.account_id
    );
    let identity = FunctionIdentity {
        name: function_name,
        memory_size: args.memory_size,
        region: args.region.clone(),
        timeout: args.timeout,
    };
    let console: Arc<ConsoleLog> = Arc::new(ConsoleLog);
    let warm = args.function.runtime_api || args.function.runtime_api_only || args.function.handler.is_some();
    let kind = if warm {
        let options = runtime_api_options(&args.function, command)?;
        let settings = launch::instance_settings(&options, &identity, &cwd).map_err(|e| usage(&e))?;
        InvokerKind::RuntimeApi(RuntimeApiSettings {
            instance: Arc::new(settings),
            notes: console.clone(),
            reload: None,
        })
    } else {
        let user =
            launch::user_environment(&args.function.env_file, &args.function.env).map_err(|e| usage(&e))?;
        InvokerKind::Exec(ExecSettings {
            command: command.unwrap_or_default(),
            env: lambda_environment(&identity, None, &cwd, &user),
        })
    };
    let logs = FunctionLog::new(console, "invoke", 0);
    let invoker = kind.create(InvokerTarget {
        shard_id: "shardId-000000000000".into(),
        lane: 0,
        logs: logs.clone(),
    });
    let rt = super::runtime()?;
    match rt.block_on(oneshot::invoke_once(invoker, payload, arn, args.timeout, logs)) {
        Ok(outcome) => report(outcome),
        Err(init) => {
            print_error(&init.error_type, &init.message)?;
            Err(ExitError::usage(format!(
                "the function failed to initialize: {}: {}",
                init.error_type, init.message
            ))
            .into())
        }
    }
}

/// Prints the outcome; the exit code says success (0) or failure (1).
fn report(outcome: Outcome) -> anyhow::Result<i32> {
    match outcome {
        Outcome::Returned(body) => {
            let mut body = body;
            body.push(b'\n');
            super::write_stdout(&body)?;
            Ok(exit::SUCCESS)
        }
        Outcome::FunctionError { error_type, message } => {
            print_error(&error_type, &message)?;
            Ok(exit::FAILURE)
        }
        Outcome::TimedOut { after } => {
            print_error(
                "Sandbox.Timedout",
                &format!("Task timed out after {:.2} seconds", after.as_secs_f64()),
            )?;
            Ok(exit::FAILURE)
        }
        Outcome::Crashed { detail } => Err(ExitError::with_code(exit::FAILURE, detail).into()),
    }
}

fn print_error(error_type: &str, message: &str) -> std::io::Result<()> {
    let v = serde_json::json!({"errorType": error_type, "errorMessage": message});
    super::write_stdout(format!("{v}\n").as_bytes())
}

/// The function-runtime flags as the launch options of a warm instance.
pub(crate) fn runtime_api_options(
    f: &FunctionRuntimeArgs,
    command: Option<Vec<String>>,
) -> Result<RuntimeApiOptions, ExitError> {
    let bootstrap =
        match (&f.handler, command, f.runtime_api_only) {
            (_, _, true) => Bootstrap::None,
            (Some(handler), _, false) => {
                let runtime = f.runtime.ok_or_else(|| {
                    ExitError::usage("--handler needs --runtime (e.g. python3.12, nodejs22.x)")
                })?;
                let interpreter = match runtime {
                    Runtime::Python(_) => {
                        if f.node.is_some() {
                            return Err(ExitError::usage("--node goes with a nodejs --runtime"));
                        }
                        f.python.clone()
                    }
                    Runtime::Node(_) => {
                        if f.python.is_some() {
                            return Err(ExitError::usage("--python goes with a python --runtime"));
                        }
                        f.node.clone()
                    }
                };
                Bootstrap::Handler(HandlerSpec {
                    handler: handler.clone(),
                    runtime,
                    task_root: f.task_root.clone(),
                    interpreter,
                    ric: f.ric,
                    layers: f.layer.clone(),
                })
            }
            (None, Some(command), false) => Bootstrap::Command(command),
            (None, None, false) => return Err(ExitError::usage(
                "give the function: --exec CMD --runtime-api, --handler H --runtime R, or --runtime-api-only",
            )),
        };
    Ok(RuntimeApiOptions {
        bootstrap,
        env_files: f.env_file.clone(),
        env: f.env.clone(),
    })
}

/// The event: `--event FILE|-` as is, else built from `--record` / `--records-from`.
fn read_event(args: &InvokeArgs, cwd: &Path) -> Result<Vec<u8>, ExitError> {
    if let Some(path) = &args.event {
        let bytes = if path.as_os_str() == "-" {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .map_err(|e| ExitError::usage(format!("--event -: cannot read stdin: {e}")))?;
            b
        } else {
            std::fs::read(cwd.join(path))
                .map_err(|e| ExitError::usage(format!("--event {}: {e}", path.display())))?
        };
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            return Err(ExitError::usage(format!(
                "--event {}: not a JSON document: {e}",
                path.display()
            )));
        }
        return Ok(bytes);
    }
    let mut records: Vec<Vec<u8>> = args.record.iter().map(|r| r.as_bytes().to_vec()).collect();
    if let Some(path) = &args.records_from {
        let text = std::fs::read_to_string(cwd.join(path))
            .map_err(|e| ExitError::usage(format!("--records-from {}: {e}", path.display())))?;
        records.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.as_bytes().to_vec()),
        );
    }
    if records.is_empty() {
        return Err(ExitError::usage(
            "no event: give --event FILE (or - for stdin), --record DATA or --records-from FILE",
        ));
    }
    let ctx = EventContext {
        shard_id: "shardId-000000000000".into(),
        stream_arn: format!(
            "arn:aws:kinesis:{}:{}:stream/{}",
            args.region, args.account_id, args.stream
        ),
        region: args.region.clone(),
        role_arn: format!("arn:aws:iam::{}:role/lambda-role", args.account_id),
    };
    Ok(oneshot::event_from_records(&records, &args.partition_key, &ctx))
}

/// The function's output on stderr as it comes, kinlocal's notes prefixed.
struct ConsoleLog;

impl LogSink for ConsoleLog {
    fn log(&self, _label: &str, line: &str) {
        eprintln!("{line}");
    }
}

impl NoteSink for ConsoleLog {
    fn note(&self, message: &str) {
        eprintln!("kinlocal: {message}");
    }
}
