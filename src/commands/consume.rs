//! `kinlocal consume`: validate the flags, find the stream, then hand over to the event source
//! mapping ([`crate::esm`]); print per-batch lines (stderr, or JSON on stdout) and the handler's
//! logs prefixed with the shard id.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};

use crate::cli::{ConsumeArgs, StartingPositionArg};
use crate::esm::checkpoint::LeaseTable;
use crate::esm::config::{self, DestinationSpec, EsmConfig, FunctionConfig, StartingPosition};
use crate::esm::destination::Destination;
use crate::esm::invoker::exec::ExecSettings;
use crate::esm::invoker::runtime_api::environment::FunctionIdentity;
use crate::esm::invoker::runtime_api::launch::{self, Bootstrap};
use crate::esm::invoker::runtime_api::RuntimeApiSettings;
use crate::esm::invoker::{self, InvokerKind, LogSink};
use crate::esm::policy::{RetryPolicy, SystemClock};
use crate::esm::supervisor::{self, Ctx};
use crate::esm::{BatchReport, DiscardReport, Reporter, ShardProgress};
use crate::exit::{self, ExitError};

/// Runs `kinlocal consume`.
pub fn run(args: ConsumeArgs) -> anyhow::Result<i32> {
    let usage = |e: &dyn std::fmt::Display| ExitError::usage(e.to_string());
    // Everything that can be checked without the network, first.
    config::check_ranges(
        args.batch_size,
        args.maximum_batching_window,
        args.timeout,
        args.maximum_record_age.0,
        args.maximum_record_age_unchecked,
        args.memory_size,
    )
    .map_err(|e| usage(&e))?;
    let starting_position = match (args.starting_position, args.starting_position_timestamp) {
        (StartingPositionArg::AtTimestamp, Some(ts)) => StartingPosition::AtTimestamp(ts),
        (StartingPositionArg::AtTimestamp, None) => {
            return Err(ExitError::usage(
                "--starting-position at-timestamp needs --starting-position-timestamp TIME",
            )
            .into())
        }
        (_, Some(_)) => {
            return Err(ExitError::usage(
                "--starting-position-timestamp only goes with --starting-position at-timestamp",
            )
            .into())
        }
        (StartingPositionArg::TrimHorizon, None) => StartingPosition::TrimHorizon,
        (StartingPositionArg::Latest, None) => StartingPosition::Latest,
    };
    let exec_command = match &args.exec {
        Some(exec) => Some(config::command_line(exec, &args.args).map_err(|e| usage(&e))?),
        None => None,
    };
    if let Some(program) = exec_command.as_ref().and_then(|c| c.first()) {
        config::check_executable(program).map_err(|e| usage(&e))?;
    }
    let warm = args.function.runtime_api || args.function.runtime_api_only || args.function.handler.is_some();
    let runtime_api = if warm {
        Some(super::invoke::runtime_api_options(
            &args.function,
            exec_command.clone(),
        )?)
    } else {
        None
    };
    if !args.watch.is_empty() && runtime_api.is_none() {
        return Err(ExitError::usage(
            "--watch goes with --runtime-api or --handler (a process per batch always runs the current code)",
        )
        .into());
    }
    let user_env =
        launch::user_environment(&args.function.env_file, &args.function.env).map_err(|e| usage(&e))?;
    let command = exec_command.unwrap_or_default();
    let cfg_command = command.clone();
    if let Some(id) = &args.account_id {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                ExitError::usage(format!("--account-id '{id}' is not a 12-digit AWS account id")).into(),
            );
        }
    }
    if let Some(DestinationSpec::Directory(dir)) = &args.on_failure {
        std::fs::create_dir_all(dir).map_err(|e| {
            ExitError::usage(format!(
                "--on-failure {}: cannot create directory: {e}",
                dir.display()
            ))
        })?;
    }
    let endpoint = crate::endpoint::resolve(&args.endpoint).map_err(|e| usage(&e))?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let clients = crate::endpoint::clients(&endpoint, args.endpoint.profile.as_deref()).await;
        let dest_stream = match &args.on_failure {
            Some(DestinationSpec::Stream(s)) => Some(s.as_str()),
            _ => None,
        };
        let stream = supervisor::preflight(&clients.kinesis, args.stream.as_deref(), dest_stream)
            .await
            .map_err(|e| {
                if e.is_usage() {
                    anyhow::Error::from(ExitError::usage(e.to_string()))
                } else {
                    e.into()
                }
            })?;
        let region = endpoint.region.clone();
        let account_id = args
            .account_id
            .clone()
            .or_else(|| {
                stream
                    .arn
                    .split(':')
                    .nth(4)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "000000000000".into());
        let function_name = args
            .function_name
            .clone()
            .unwrap_or_else(|| match &args.function.handler {
                Some(h) => launch::function_name_of_handler(h),
                None => config::function_name_from(config::script_of(&cfg_command)),
            });
        let role_arn = args
            .role_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{account_id}:role/lambda-role"));
        let stream_arn = format!("arn:aws:kinesis:{region}:{account_id}:stream/{}", stream.name);
        let app_name = args
            .app
            .clone()
            .unwrap_or_else(|| config::default_app_name(&stream.name, &function_name));
        let cfg = EsmConfig {
            stream_name: stream.name.clone(),
            starting_position,
            batch_size: args.batch_size,
            maximum_batching_window: args.maximum_batching_window,
            poll_interval: args.poll_interval,
            policy: RetryPolicy {
                maximum_retry_attempts: args.maximum_retry_attempts.0,
                maximum_record_age: args.maximum_record_age.0,
                bisect_batch_on_function_error: args.bisect_batch_on_function_error,
                report_batch_item_failures: args.report_batch_item_failures,
                retry_base_delay: args.poll_interval.max(std::time::Duration::from_millis(10)),
                retry_max_delay: std::time::Duration::from_secs(5),
            },
            on_failure: args.on_failure.clone(),
            function: FunctionConfig {
                command,
                name: function_name,
                role_arn,
                region,
                account_id,
                memory_size: args.memory_size,
                timeout: args.timeout,
            },
            app_name: app_name.clone(),
            reset: args.reset,
            until_idle: args.until_idle,
            failover_time: args.failover_time,
            max_records: args.max_records,
            json: args.json,
        };
        let reporter = Arc::new(ConsoleReporter::new(args.json));
        let destination = match &cfg.on_failure {
            None => None,
            Some(DestinationSpec::Directory(d)) => Some(Destination::Directory(d.clone())),
            Some(DestinationSpec::Stream(s)) => Some(Destination::Stream {
                client: clients.kinesis.clone(),
                name: s.clone(),
            }),
        };
        let worker = args
            .worker_id
            .clone()
            .unwrap_or_else(|| config::default_worker_id(&host_name(), std::process::id()));
        let leases =
            LeaseTable::new(clients.dynamodb.clone(), app_name, worker).with_stream(cfg.stream_name.clone());
        let (invoker, function_text) = match &runtime_api {
            Some(options) => {
                let identity = FunctionIdentity {
                    name: cfg.function.name.clone(),
                    memory_size: cfg.function.memory_size,
                    region: cfg.function.region.clone(),
                    timeout: cfg.function.timeout,
                };
                let cwd = std::env::current_dir()?;
                let settings = launch::instance_settings(options, &identity, &cwd)
                    .map_err(|e| ExitError::usage(e.to_string()))?;
                let text = match &options.bootstrap {
                    Bootstrap::Command(c) => format!("{} (Runtime API)", c.join(" ")),
                    Bootstrap::Handler(h) => format!("{} ({})", h.handler, h.runtime.id()),
                    Bootstrap::None => "the Runtime API only (start your function yourself)".into(),
                };
                let kind = InvokerKind::RuntimeApi(RuntimeApiSettings {
                    instance: Arc::new(settings),
                    notes: reporter.clone(),
                });
                (Arc::new(kind), text)
            }
            None => {
                let mut env = invoker::lambda_environment(&cfg.function);
                for (k, v) in &user_env {
                    env.retain(|(name, _)| name != k);
                    env.push((k.clone(), v.clone()));
                }
                let kind = InvokerKind::Exec(ExecSettings {
                    command: cfg.function.command.clone(),
                    env,
                });
                (Arc::new(kind), cfg.function.command.join(" "))
            }
        };
        reporter.note(&format!(
            "consuming {} with {} (lease table {} as worker {}, batch size {}, poll every {})",
            cfg.stream_name,
            function_text,
            leases.name(),
            leases.owner(),
            cfg.batch_size,
            humantime::format_duration(cfg.poll_interval)
        ));
        let json = cfg.json;
        let ctx = Ctx::new(
            cfg,
            clients.kinesis.clone(),
            leases,
            invoker,
            destination,
            reporter.clone(),
            Arc::new(SystemClock),
            stream_arn,
        );
        let summary = supervisor::run(ctx, super::serve::shutdown_signal())
            .await
            .map_err(|e| {
                if e.is_usage() {
                    anyhow::Error::from(ExitError::usage(e.to_string()))
                } else {
                    e.into()
                }
            })?;
        if json {
            let line = serde_json::json!({
                "type": "summary",
                "delivered": summary.delivered,
                "discarded": summary.discarded,
            });
            super::write_stdout(format!("{line}\n").as_bytes())?;
        }
        reporter.note(&format!(
            "done: {} record(s) delivered, {} discarded",
            summary.delivered, summary.discarded
        ));
        Ok(if summary.discarded > 0 {
            exit::RECORDS_DISCARDED
        } else {
            exit::SUCCESS
        })
    })
}

/// The host name (`HOSTNAME`, else /etc/hostname, else `uname -n`), for the default worker id.
fn host_name() -> String {
    if let Ok(h) = std::env::var("HOSTNAME") {
        if !h.trim().is_empty() {
            return h.trim().to_string();
        }
    }
    for path in ["/etc/hostname", "/proc/sys/kernel/hostname"] {
        if let Ok(h) = std::fs::read_to_string(path) {
            if !h.trim().is_empty() {
                return h.trim().to_string();
            }
        }
    }
    std::process::Command::new("uname")
        .arg("-n")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Prints to the terminal: per-batch lines and logs on stderr (with a live status line when
/// stderr is a terminal), JSON objects on stdout with `--json`.
struct ConsoleReporter {
    json: bool,
    bar: Option<indicatif::ProgressBar>,
    lock: Mutex<()>,
}

impl ConsoleReporter {
    fn new(json: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        });
        Self {
            json,
            bar,
            lock: Mutex::new(()),
        }
    }

    fn line(&self, text: &str) {
        let _guard = self.lock.lock();
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    fn json_line(&self, v: &serde_json::Value) {
        let _guard = self.lock.lock();
        let _ = super::write_stdout(format!("{v}\n").as_bytes());
    }
}

impl LogSink for ConsoleReporter {
    fn log(&self, label: &str, line: &str) {
        self.line(&format!("[{label}] {line}"));
    }
}

impl Reporter for ConsoleReporter {
    fn batch(&self, r: &BatchReport) {
        let ms = r.duration.as_millis();
        let mut text = format!(
            "{} {} record(s) {}..{} {ms}ms {}",
            r.shard_id, r.records, r.first_sequence_number, r.last_sequence_number, r.outcome
        );
        if !r.detail.is_empty() {
            text.push_str(&format!(" ({})", r.detail));
        }
        if r.attempt > 1 {
            text.push_str(&format!(" attempt {}", r.attempt));
        }
        self.line(&text);
        if self.json {
            self.json_line(&serde_json::json!({
                "type": "batch",
                "shardId": r.shard_id,
                "records": r.records,
                "firstSequenceNumber": r.first_sequence_number,
                "lastSequenceNumber": r.last_sequence_number,
                "durationMs": u64::try_from(ms).unwrap_or(u64::MAX),
                "outcome": r.outcome,
                "detail": r.detail,
                "attempt": r.attempt,
                "requestId": r.request_id,
            }));
        }
    }

    fn discarded(&self, r: &DiscardReport) {
        self.line(&format!(
            "{} {} record(s) discarded: {} -> {}",
            r.shard_id, r.records, r.condition, r.destination
        ));
        if self.json {
            self.json_line(&serde_json::json!({
                "type": "discard",
                "shardId": r.shard_id,
                "records": r.records,
                "condition": r.condition,
                "destination": r.destination,
            }));
        }
    }

    fn note(&self, message: &str) {
        self.line(&format!("kinlocal: {message}"));
    }

    fn progress(&self, shards: &[ShardProgress]) {
        if let Some(b) = &self.bar {
            let parts: Vec<String> = shards
                .iter()
                .map(|s| {
                    format!(
                        "{} lag {}ms ({} done)",
                        s.shard_id.trim_start_matches("shardId-"),
                        s.lag_ms,
                        s.delivered
                    )
                })
                .collect();
            b.set_message(parts.join(" | "));
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
