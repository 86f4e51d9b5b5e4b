//! `kinlocal produce`: check the flags and inputs, set up the stream, run the producer with
//! progress on stderr, print the summary.

use std::path::Path;
use std::sync::Arc;

use crate::cli::ProduceArgs;
use crate::exit::{ExitError, SUCCESS};
use crate::producer::progress::{ProgressMode, Reporter};
use crate::producer::replay::{self, ReplayError};
use crate::producer::sender::KinesisPut;
use crate::producer::stats::Stats;
use crate::producer::template::Template;
use crate::producer::{self, ProduceConfig, Source};

/// Runs `kinlocal produce`.
pub fn run(args: ProduceArgs) -> anyhow::Result<i32> {
    // Everything the user can get wrong is checked before the first request.
    let (source, known_total) = source(&args)?;
    let total = match (args.count, known_total) {
        (Some(c), Some(k)) => Some(c.min(k)),
        (c, k) => c.or(k),
    };
    let config = ProduceConfig {
        source,
        count: args.count,
        duration: args.duration,
        rate: args.rate,
        batch_size: usize::from(args.batch_size),
        max_in_flight: usize::from(args.max_in_flight),
        partition_key: args.partition_key.clone(),
        seed: args.seed,
        ..ProduceConfig::new(&args.stream)
    };
    let rt = super::runtime()?;
    rt.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let shards = producer::prepare(&clients.kinesis, &args.stream, args.shards)
            .await
            .map_err(|e| exit_for(&e))?;
        let stats = Arc::new(Stats::with_shards(shards.iter().map(|s| s.shard_id.as_str())));
        let reporter = Reporter::start(stats.clone(), ProgressMode::for_stderr(), total);
        let api = KinesisPut::new(&clients.kinesis, &args.stream);
        let outcome = producer::run(api, config, shards, stats, interrupted()).await;
        reporter.finish();
        // A record the user must fix stopped the run before anything was sent: the error alone
        // says it; a summary of nothing would only come before it and bury it.
        let nothing_sent = outcome.summary.records == 0 && outcome.summary.requests == 0;
        let usage_error = outcome
            .error
            .as_ref()
            .is_some_and(producer::ProduceError::is_usage);
        if !(usage_error && nothing_sent) {
            let summary = if args.json {
                outcome.summary.to_json_line()
            } else {
                outcome.summary.to_text()
            };
            super::write_stdout(summary.as_bytes())?;
        }
        match outcome.error {
            Some(e) => Err(exit_for(&e).into()),
            None => Ok(SUCCESS),
        }
    })
}

fn exit_for(e: &producer::ProduceError) -> ExitError {
    ExitError::new(e.into(), e.to_string())
}

/// The record source, and how many records it holds when that is known (a replayed file).
fn source(args: &ProduceArgs) -> Result<(Source, Option<u64>), ExitError> {
    if let Some(path) = &args.template {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ExitError::usage(format!("--template {}: cannot read it: {e}", path.display())))?;
        let template = Template::parse(&text)
            .map_err(|e| ExitError::usage(format!("--template {}:{e}", path.display())))?;
        return Ok((Source::Template(template), None));
    }
    if let Some(path) = &args.from {
        if path == Path::new("-") {
            return Ok((Source::Stdin, None));
        }
        let n = replay::validate_file(path).map_err(|e| match e {
            ReplayError::Io(io) => {
                ExitError::usage(format!("--from {}: cannot read it: {io}", path.display()))
            }
            other => ExitError::usage(format!("--from {}: {other}", path.display())),
        })?;
        return Ok((Source::File(path.clone()), Some(n)));
    }
    Ok((
        Source::Events {
            record_size: usize::try_from(args.record_size).unwrap_or(200),
        },
        None,
    ))
}

/// Resolves on the first SIGINT/SIGTERM; a second one quits at once.
async fn interrupted() {
    super::serve::shutdown_signal().await;
    eprintln!("kinlocal: stopping after the requests in flight (press Ctrl+C again to quit now)");
    tokio::spawn(async {
        super::serve::shutdown_signal().await;
        std::process::exit(130);
    });
}
