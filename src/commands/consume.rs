//! `kinlocal consume`: validate the flags, find the stream, then hand over to the event source
//! mapping ([`crate::esm`]); print per-batch lines (stderr, or JSON on stdout) and the handler's
//! logs prefixed with the shard id.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cli::{ConsumeArgs, StartingPositionArg};
use crate::esm::config::{self, DestinationSpec, StartingPosition};
use crate::esm::filter::FilterCriteria;
use crate::esm::invoker::reaper;
use crate::esm::invoker::runtime_api::environment::FunctionIdentity;
use crate::esm::invoker::runtime_api::instance::InstanceSettings;
use crate::esm::invoker::runtime_api::launch::{self, Bootstrap};
use crate::esm::invoker::LogSink;
use crate::esm::mapping::{ConsumeSettings, Mapping};
use crate::esm::poll::{self, PollPolicy};
use crate::esm::supervisor::{self, Summary};
use crate::esm::{BatchReport, DiscardReport, EsmError, Reporter, ShardProgress};
use crate::exit::{self, ExitError, Kind};

mod template;

/// Runs `kinlocal consume`.
pub fn run(args: ConsumeArgs) -> anyhow::Result<i32> {
    let mut args = args;
    if let (Some(path), Some(function)) = (args.template.clone(), args.template_function.clone()) {
        let resolved = crate::deploy::load(&path, &function, args.stream.as_deref())
            .map_err(|e| ExitError::usage(format!("--template: {e}")))?;
        let explicit = explicit_flags();
        let notes = template::apply(&mut args, &resolved, &|id| explicit.contains(id))
            .map_err(|e| ExitError::usage(format!("--template {}: {e}", path.display())))?;
        if args.dry_run {
            let text = template::describe(&resolved, &args, &|id| explicit.contains(id), &notes);
            super::write_stdout(text.as_bytes())?;
            return Ok(exit::SUCCESS);
        }
        for n in resolved.warnings.iter().chain(&notes) {
            eprintln!("kinlocal: warning: {n}");
        }
        // The function's environment reaches the handler through kinlocal's own (which every
        // invoker inherits). Variables already set in the shell win; AWS_* are Lambda's own
        // and would also redirect kinlocal's clients, so they are left out. Done before any
        // thread is started.
        if let Some(env) = &resolved.environment {
            for (k, v) in &env.value {
                if !k.starts_with("AWS_") && std::env::var_os(k).is_none() {
                    std::env::set_var(k, v);
                }
            }
        }
    }
    let mut settings = settings(&args)?;
    if settings.tumbling_window.is_some() && settings.parallelization_factor > 1 {
        eprintln!(
            "kinlocal: warning: ParallelizationFactor {} is not applied with a tumbling window: a window's state passes from one invocation to the next, so each shard runs one batch at a time",
            settings.parallelization_factor
        );
        settings.parallelization_factor = 1;
    }
    if let Some(DestinationSpec::Directory(dir)) = &settings.on_failure {
        std::fs::create_dir_all(dir).map_err(|e| {
            ExitError::usage(format!(
                "--on-failure {}: cannot create directory: {e}",
                dir.display()
            ))
        })?;
    }
    let endpoint =
        crate::endpoint::resolve(&args.endpoint.selection()).map_err(|e| ExitError::usage(e.to_string()))?;
    let runtime_api = runtime_api_settings(&args, &settings, &endpoint.region)?;
    let function_text = match &runtime_api {
        Some((_, text)) => text.clone(),
        None => settings.command.join(" "),
    };
    let poll = if endpoint.is_local() {
        PollPolicy::local(args.poll_interval)
    } else {
        if let Some(asked) = args.poll_interval.filter(|d| *d < poll::AWS_MIN_GAP) {
            eprintln!(
                "kinlocal: warning: --poll-interval {} is more than AWS's 5 GetRecords/s per shard; reading each shard every {} instead",
                humantime::format_duration(asked),
                humantime::format_duration(poll::AWS_MIN_GAP)
            );
        }
        PollPolicy::aws(args.poll_interval)
    };
    // True lag costs reads (the shard from each checkpoint): only when the live line or
    // --json shows it, every second locally, every 5 s on AWS (5 reads/s per shard, shared
    // with the consumer itself).
    let shown = settings.json || std::io::stderr().is_terminal();
    let lag_probe = shown.then(|| {
        if endpoint.is_local() {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        }
    });
    let settings = ConsumeSettings {
        poll,
        lag_probe,
        region: endpoint.region.clone(),
        local_kinesis_url: endpoint
            .is_local()
            .then(|| endpoint.kinesis_url.clone())
            .flatten(),
        runtime_api: runtime_api.map(|(s, _)| Arc::new(s)),
        ..settings
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let clients = crate::endpoint::clients(&endpoint, args.endpoint.profile.as_deref()).await;
        let reporter = Arc::new(ConsoleReporter::new(settings.json));
        let json = settings.json;
        let mapping = Mapping::prepare(
            settings,
            clients.kinesis.clone(),
            clients.dynamodb.clone(),
            reporter.clone(),
        )
        .await
        .map_err(esm_error)?;
        let reading = match &mapping.consumer_arn {
            Some(arn) => format!("enhanced fan-out through {arn}"),
            None => format!(
                "poll every {}",
                humantime::format_duration(mapping.config.poll.interval())
            ),
        };
        reporter.note(&format!(
            "consuming {} with {} (lease table {} as worker {}, batch size {}, {reading})",
            mapping.config.stream_name,
            function_text,
            mapping.leases.name(),
            mapping.leases.owner(),
            mapping.config.batch_size,
        ));
        let unknown = mapping.filters.unknown_keys();
        if !unknown.is_empty() {
            reporter.note(&format!(
                "warning: --filter names {} which no Kinesis record has (keys: data, partitionKey, sequenceNumber, approximateArrivalTimestamp, ...); such a pattern matches only with exists:false",
                unknown.join(", ")
            ));
        }
        let summary = supervisor::run(mapping, stop_signals(Arc::clone(&reporter)))
            .await
            .map_err(esm_error)?;
        print_summary(&reporter, json, &summary)?;
        Ok(if !summary.stuck.is_empty() {
            Kind::StoppedWithUndelivered.code()
        } else if summary.discarded > 0 {
            Kind::RecordsDiscarded.code()
        } else {
            exit::SUCCESS
        })
    })
}

/// The ids of the `consume` flags given on the command line (not defaulted): they override
/// what a `--template` says. Parsed again from the process arguments, which `main` parsed
/// successfully already.
fn explicit_flags() -> std::collections::HashSet<String> {
    use clap::CommandFactory as _;
    let Ok(m) = crate::cli::Cli::command().try_get_matches_from(std::env::args_os()) else {
        return std::collections::HashSet::new();
    };
    let Some(sub) = m.subcommand_matches("consume") else {
        return std::collections::HashSet::new();
    };
    sub.ids()
        .filter(|id| sub.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.as_str().to_string())
        .collect()
}

/// The first SIGINT/SIGTERM stops consuming gracefully (the returned future resolves:
/// polling stops, in-flight batches finish). A second one abandons in-flight batches at once:
/// their handlers' process groups are killed and the process exits 4 without checkpointing
/// them (leases are not released; other consumers take them after the failover time).
fn stop_signals(reporter: Arc<ConsoleReporter>) -> impl std::future::Future<Output = ()> {
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        super::serve::shutdown_signal().await;
        let _ = first_tx.send(());
        super::serve::shutdown_signal().await;
        reporter.note("second interrupt: abandoning in-flight batches uncheckpointed");
        reporter.finish();
        reaper::kill_live();
        reaper::sweep();
        std::process::exit(Kind::StoppedWithUndelivered.code());
    });
    async move {
        let _ = first_rx.await;
    }
}

/// Errors that are the user's to fix exit 2.
fn esm_error(e: EsmError) -> anyhow::Error {
    if e.is_usage() {
        ExitError::usage(e.to_string()).into()
    } else {
        e.into()
    }
}

/// With `--runtime-api`, `--handler` or `--runtime-api-only`: the warm instances' settings,
/// and how to name the function in the opening line.
fn runtime_api_settings(
    args: &ConsumeArgs,
    settings: &ConsumeSettings,
    region: &str,
) -> Result<Option<(InstanceSettings, String)>, ExitError> {
    let f = &args.function;
    if !(f.runtime_api || f.runtime_api_only || f.handler.is_some()) {
        return Ok(None);
    }
    let command = (!settings.command.is_empty()).then(|| settings.command.clone());
    let options = super::invoke::runtime_api_options(f, command)?;
    let identity = FunctionIdentity {
        name: settings
            .function_name
            .clone()
            .unwrap_or_else(|| config::function_name_from(config::script_of(&settings.command))),
        memory_size: settings.memory_size,
        region: region.to_string(),
        timeout: settings.timeout,
    };
    let cwd = std::env::current_dir().map_err(|e| ExitError::usage(format!("no current directory: {e}")))?;
    let instance =
        launch::instance_settings(&options, &identity, &cwd).map_err(|e| ExitError::usage(e.to_string()))?;
    let text = match &options.bootstrap {
        Bootstrap::Command(c) => format!("{} (Runtime API)", c.join(" ")),
        Bootstrap::Handler(h) => format!("{} ({})", h.handler, h.runtime.id()),
        Bootstrap::None => "the Runtime API only (start the function yourself)".into(),
    };
    Ok(Some((instance, text)))
}

/// The flags as plain settings, checked as far as they can be without the network.
fn settings(args: &ConsumeArgs) -> Result<ConsumeSettings, ExitError> {
    let usage = |e: &dyn std::fmt::Display| ExitError::usage(e.to_string());
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
            ))
        }
        (_, Some(_)) => {
            return Err(ExitError::usage(
                "--starting-position-timestamp only goes with --starting-position at-timestamp",
            ))
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
    let env = launch::user_environment(&args.function.env_file, &args.function.env).map_err(|e| usage(&e))?;
    let command = exec_command.unwrap_or_default();
    let function_name = args.function_name.clone().or_else(|| {
        args.function
            .handler
            .as_deref()
            .map(launch::function_name_of_handler)
    });
    if let Some(id) = &args.account_id {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ExitError::usage(format!(
                "--account-id '{id}' is not a 12-digit AWS account id"
            )));
        }
    }
    Ok(ConsumeSettings {
        stream: args.stream.clone(),
        command,
        starting_position,
        batch_size: args.batch_size,
        maximum_batching_window: args.maximum_batching_window,
        // Replaced once the endpoint is known (local or AWS).
        poll: PollPolicy::local(args.poll_interval),
        local_kinesis_url: None,
        tumbling_window: args.tumbling_window.filter(|d| !d.is_zero()),
        parallelization_factor: args.parallelization_factor,
        maximum_retry_attempts: args.maximum_retry_attempts.0,
        maximum_record_age: args.maximum_record_age.0,
        bisect_batch_on_function_error: args.bisect_batch_on_function_error,
        report_batch_item_failures: args.report_batch_item_failures,
        on_failure: args.on_failure.clone(),
        function_name,
        role_arn: args.role_arn.clone(),
        account_id: args.account_id.clone(),
        region: String::new(),
        memory_size: args.memory_size,
        timeout: args.timeout,
        app: args.app.clone(),
        worker_id: args.worker_id.clone(),
        reset: args.reset,
        until_idle: args.until_idle,
        // Set once the endpoint is known (how often AWS may be read for it).
        lag_probe: None,
        failover_time: args.failover_time,
        max_records: args.max_records,
        json: args.json,
        runtime_api: None,
        env,
        filters: filters(args)?,
        watch: watch_paths(args)?,
        efo: args.efo.clone(),
    })
}

/// `--watch` paths, checked: they exist, and there is a warm process to replace.
fn watch_paths(args: &ConsumeArgs) -> Result<Vec<std::path::PathBuf>, ExitError> {
    if args.watch.is_empty() {
        return Ok(Vec::new());
    }
    let f = &args.function;
    if f.runtime_api_only {
        return Err(ExitError::usage(
            "--watch replaces the warm processes kinlocal starts; with --runtime-api-only you \
             start (and restart) the function yourself",
        ));
    }
    if !(f.runtime_api || f.handler.is_some()) {
        return Err(ExitError::usage(
            "--watch needs --runtime-api or --handler: with --exec alone every batch starts a \
             fresh process, which already runs the current code",
        ));
    }
    if let Some(missing) = args.watch.iter().find(|p| !p.exists()) {
        return Err(ExitError::usage(format!(
            "--watch {}: no such file or directory",
            missing.display()
        )));
    }
    Ok(args.watch.clone())
}

/// `--filter` patterns and those of `--filter-file`, compiled; an invalid one is refused here,
/// before anything runs.
fn filters(args: &ConsumeArgs) -> Result<FilterCriteria, ExitError> {
    let mut patterns = args.filter.clone();
    if let Some(path) = &args.filter_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ExitError::usage(format!("--filter-file {}: cannot read: {e}", path.display())))?;
        let from_file = FilterCriteria::patterns_from_file_text(&text)
            .map_err(|e| ExitError::usage(format!("--filter-file {}: {e}", path.display())))?;
        patterns.extend(from_file);
    }
    FilterCriteria::compile(&patterns, usize::from(args.max_filters))
        .map_err(|e| ExitError::usage(format!("--filter: {e}")))
}

/// The closing line (and the JSON summary with `--json`), naming every shard that stopped
/// with a batch still failing.
fn print_summary(reporter: &ConsoleReporter, json: bool, summary: &Summary) -> anyhow::Result<()> {
    if json {
        let stuck: Vec<serde_json::Value> = summary
            .stuck
            .iter()
            .map(|(shard, r)| {
                serde_json::json!({
                    "shard_id": shard,
                    "first_sequence_number": r.first_sequence_number,
                    "last_sequence_number": r.last_sequence_number,
                    "records": r.records,
                    "attempts": r.attempts,
                })
            })
            .collect();
        let line = serde_json::json!({
            "type": "summary",
            "delivered": summary.delivered,
            "discarded": summary.discarded,
            "undelivered": summary.stuck.iter().map(|(_, r)| r.records).sum::<usize>(),
            "stuck": stuck,
        });
        super::write_stdout(format!("{line}\n").as_bytes())?;
    }
    for (shard, r) in &summary.stuck {
        reporter.note(&format!(
            "{shard}: stopped with {} undelivered record(s) {}..{} still failing after {} attempt(s); not checkpointed, a restart retries them",
            r.records, r.first_sequence_number, r.last_sequence_number, r.attempts
        ));
    }
    let undelivered: usize = summary.stuck.iter().map(|(_, r)| r.records).sum();
    if undelivered > 0 {
        reporter.note(&format!(
            "stopped with undelivered records: {} delivered, {} discarded, {undelivered} undelivered on {} shard(s)",
            summary.delivered,
            summary.discarded,
            summary.stuck.len()
        ));
    } else {
        reporter.note(&format!(
            "done: {} record(s) delivered, {} discarded",
            summary.delivered, summary.discarded
        ));
    }
    Ok(())
}

/// Prints to the terminal: per-batch lines and logs on stderr (with a live status line when
/// stderr is a terminal), JSON objects on stdout with `--json`.
struct ConsoleReporter {
    json: bool,
    bar: Option<indicatif::ProgressBar>,
    lock: Mutex<()>,
    /// The last `--json` progress object: when, and whether a shard was behind then.
    last_progress: Mutex<(Option<std::time::Instant>, bool)>,
}

impl ConsoleReporter {
    fn new(json: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Self {
            json,
            bar,
            lock: Mutex::new(()),
            last_progress: Mutex::new((None, false)),
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
        // Sequence numbers are 56 digits: abbreviated here, whole in --json.
        let lane = r.lane.map(|l| format!(" lane {l}")).unwrap_or_default();
        // A window's final invocation carries no records, so no range.
        let range = if r.records == 0 {
            String::new()
        } else {
            format!(
                " {}..{}",
                crate::human::sequence(&r.first_sequence_number),
                crate::human::sequence(&r.last_sequence_number)
            )
        };
        let mut text = format!(
            "{}{lane} {} record(s){range} {ms}ms {}",
            r.shard_id, r.records, r.outcome
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
                "shard_id": r.shard_id,
                "lane": r.lane.unwrap_or(0),
                "records": r.records,
                "first_sequence_number": r.first_sequence_number,
                "last_sequence_number": r.last_sequence_number,
                "duration_ms": u64::try_from(ms).unwrap_or(u64::MAX),
                "outcome": r.outcome,
                "detail": r.detail,
                "attempt": r.attempt,
                "request_id": r.request_id,
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
                "shard_id": r.shard_id,
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
        let now_ms = crate::esm::lag::now_ms();
        if let Some(b) = &self.bar {
            b.set_message(live_line(
                shards,
                super::terminal_width().saturating_sub(4),
                now_ms,
            ));
        }
        if self.json {
            // Once a second while a shard is behind, and once more when all caught up: a quiet
            // consumer stays quiet.
            let behind = shards.iter().any(|s| s.behind.is_some_and(|l| l.records > 0));
            let counted = shards.iter().any(|s| s.behind.is_some());
            let mut last = self
                .last_progress
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = last.0.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
            if counted && due && (behind || last.1) {
                *last = (Some(std::time::Instant::now()), behind);
                drop(last);
                self.json_line(&progress_json(shards, now_ms));
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The live status line: every shard when they fit the width, else a summary (total
/// delivered and behind, the shard with the oldest undelivered record). True lag (records
/// behind the checkpoint, the oldest one's age at `now_ms`) when counted, else the last read's
/// `MillisBehindLatest`.
fn live_line(shards: &[ShardProgress], width: usize, now_ms: i64) -> String {
    let describe = |s: &ShardProgress| match s.behind {
        Some(lag) => lag.describe(now_ms),
        None => format!(
            "lag {}",
            crate::human::age(Duration::from_millis(u64::try_from(s.lag_ms).unwrap_or(0)))
        ),
    };
    let each: Vec<String> = shards
        .iter()
        .map(|s| format!("{} {} ({} done)", s.shard_id, describe(s), s.delivered))
        .collect();
    let all = each.join(" | ");
    if all.chars().count() <= width {
        return all;
    }
    let delivered: u64 = shards.iter().map(|s| s.delivered).sum();
    let behind: u64 = shards.iter().filter_map(|s| s.behind).map(|l| l.records).sum();
    let capped = shards.iter().filter_map(|s| s.behind).any(|l| l.capped);
    let slowest = shards.iter().max_by_key(|s| match s.behind {
        Some(lag) => (1, lag.age(now_ms).as_millis(), lag.records),
        None => (0, u128::try_from(s.lag_ms).unwrap_or(0), 0),
    });
    let total = if shards.iter().any(|s| s.behind.is_some()) {
        format!(", {}{behind} behind", if capped { "≥" } else { "" })
    } else {
        String::new()
    };
    match slowest {
        Some(slowest) => format!(
            "{} shards, {delivered} done{total}; slowest {} {}",
            shards.len(),
            slowest.shard_id,
            describe(slowest)
        ),
        None => String::new(),
    }
}

/// The `--json` progress object: per shard, true lag as counted and the last read's
/// `MillisBehindLatest`.
fn progress_json(shards: &[ShardProgress], now_ms: i64) -> serde_json::Value {
    let each: Vec<serde_json::Value> = shards
        .iter()
        .map(|s| {
            serde_json::json!({
                "shard_id": s.shard_id,
                "delivered": s.delivered,
                "behind_records": s.behind.map(|l| l.records),
                "behind_capped": s.behind.is_some_and(|l| l.capped),
                "oldest_undelivered_arrival_ms": s.behind.and_then(|l| l.oldest_arrival_ms),
                "oldest_undelivered_age_ms": s.behind.map(|l| u64::try_from(l.age(now_ms).as_millis()).unwrap_or(u64::MAX)),
                "millis_behind_latest": s.lag_ms,
            })
        })
        .collect();
    serde_json::json!({ "type": "progress", "shards": each })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::esm::lag::Lag;

    fn shard(n: u32, lag_ms: i64) -> ShardProgress {
        ShardProgress {
            shard_id: format!("shardId-{n:012}"),
            lag_ms,
            delivered: 10,
            behind: None,
        }
    }

    fn behind(n: u32, records: u64, age_ms: i64, now_ms: i64) -> ShardProgress {
        ShardProgress {
            behind: Some(Lag {
                records,
                capped: false,
                oldest_arrival_ms: (records > 0).then_some(now_ms - age_ms),
            }),
            ..shard(n, 0)
        }
    }

    #[test]
    fn the_live_line_fits_or_summarises() {
        let now = 1_700_000_000_000;
        let two = [shard(0, 0), shard(1, 782_000)];
        assert_eq!(
            live_line(&two, 200, now),
            "shardId-000000000000 lag 0ms (10 done) | shardId-000000000001 lag 13m 2s (10 done)"
        );
        let eight: Vec<_> = (0..8).map(|n| shard(n, i64::from(n) * 1000)).collect();
        let line = live_line(&eight, 76, now);
        assert_eq!(line, "8 shards, 80 done; slowest shardId-000000000007 lag 7s");
        assert!(line.chars().count() <= 76);
    }

    #[test]
    fn the_live_line_shows_true_lag_when_counted() {
        let now = 1_700_000_000_000;
        // A stuck shard: MillisBehindLatest of its last read says 0, the count says otherwise.
        let two = [behind(0, 0, 0, now), behind(1, 6776, 782_000, now)];
        assert_eq!(
            live_line(&two, 200, now),
            "shardId-000000000000 caught up (10 done) | shardId-000000000001 6776 behind, oldest 13m 2s (10 done)"
        );
        let eight: Vec<_> = (0..8)
            .map(|n| behind(n, u64::from(n), i64::from(n) * 1000, now))
            .collect();
        let line = live_line(&eight, 90, now);
        assert_eq!(
            line,
            "8 shards, 80 done, 28 behind; slowest shardId-000000000007 7 behind, oldest 7s"
        );
        let v = progress_json(&two, now);
        assert_eq!(v["type"], "progress");
        assert_eq!(v["shards"][1]["behind_records"], 6776);
        assert_eq!(v["shards"][1]["oldest_undelivered_age_ms"], 782_000);
        assert_eq!(
            v["shards"][0]["oldest_undelivered_arrival_ms"],
            serde_json::Value::Null
        );
    }
}
