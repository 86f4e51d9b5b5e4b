//! Assembling an event source mapping from plain settings: find the stream, derive the ARNs
//! and defaults Lambda would have (function name, role, account, application name, worker
//! id), open the on-failure destination and the lease table, choose the invoker. The result,
//! [`Mapping`], is what every task of a run reads (and nobody writes).

use std::sync::Arc;
use std::time::Duration;

use super::config::{self, DestinationSpec, EsmConfig, FunctionConfig, StartingPosition};
use super::destination::Destination;
use super::filter::FilterCriteria;
use super::invoker::exec::ExecSettings;
use super::invoker::runtime_api::instance::{InstanceSettings, NoteSink, ReporterNotes};
use super::invoker::runtime_api::reload::CodeWatcher;
use super::invoker::runtime_api::RuntimeApiSettings;
use super::invoker::{self, InvokerFactory, InvokerKind};
use super::lease_table::LeaseTable;
use super::local_read::LocalEndpoint;
use super::policy::{Clock, RetryPolicy, SystemClock};
use super::poll::PollPolicy;
use super::read_pump::ReadPump;
use super::{EsmError, Reporter};
use crate::aws_error;

/// `consume`'s settings, as plain values (no flag types).
#[derive(Debug, Clone)]
pub(crate) struct ConsumeSettings {
    /// The stream (name or ARN); `None` when the endpoint should hold exactly one.
    pub stream: Option<String>,
    /// The handler command line, already split.
    pub command: Vec<String>,
    /// `StartingPosition`.
    pub starting_position: StartingPosition,
    /// `BatchSize`.
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds`.
    pub maximum_batching_window: Duration,
    /// How each shard's reads are paced (local or AWS, `--poll-interval`).
    pub poll: PollPolicy,
    /// A local endpoint's Kinesis URL, read without the SDK when it is plain `http://`
    /// ([`super::local_read`]); `None` against AWS.
    pub local_kinesis_url: Option<String>,
    /// `TumblingWindowInSeconds` (`None`: off).
    pub tumbling_window: Option<Duration>,
    /// `ParallelizationFactor` (1-10): batches of one shard in flight at once.
    pub parallelization_factor: usize,
    /// `MaximumRetryAttempts` (`None`: infinite).
    pub maximum_retry_attempts: Option<u32>,
    /// `MaximumRecordAgeInSeconds` (`None`: infinite).
    pub maximum_record_age: Option<Duration>,
    /// `BisectBatchOnFunctionError`.
    pub bisect_batch_on_function_error: bool,
    /// `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
    /// `DestinationConfig.OnFailure`.
    pub on_failure: Option<DestinationSpec>,
    /// `FunctionName` (default: from the handler's file name).
    pub function_name: Option<String>,
    /// Execution role (default: `arn:aws:iam::ACCOUNT:role/lambda-role`).
    pub role_arn: Option<String>,
    /// Account in ARNs (default: the stream ARN's, else 000000000000).
    pub account_id: Option<String>,
    /// Region in ARNs and the environment.
    pub region: String,
    /// `MemorySize`.
    pub memory_size: u32,
    /// Function timeout.
    pub timeout: Duration,
    /// Lease table (default: `kinlocal-STREAM-FUNCTION`).
    pub app: Option<String>,
    /// Worker id (default: host name and pid).
    pub worker_id: Option<String>,
    /// Forget the checkpoints first.
    pub reset: bool,
    /// Stop once drained and quiet for this long.
    pub until_idle: Option<Duration>,
    /// How often true lag is counted (`None`: never).
    pub lag_probe: Option<Duration>,
    /// Lease failover time.
    pub failover_time: Duration,
    /// Stop after this many records.
    pub max_records: Option<u64>,
    /// JSON output.
    pub json: bool,
    /// The function behind the Lambda Runtime API, warm per lane (`None`: a process per batch).
    pub runtime_api: Option<Arc<InstanceSettings>>,
    /// The user's variables (`--env`, `--env-file`) for a process per batch (the Runtime API
    /// settings carry their own).
    pub env: Vec<(String, String)>,
    /// `FilterCriteria` (empty: every record is delivered).
    pub filters: FilterCriteria,
    /// `--watch`: files whose change replaces the warm Runtime API processes between batches.
    pub watch: Vec<std::path::PathBuf>,
    /// `--efo [NAME]`: read through this enhanced fan-out consumer (`Some(None)`: named after
    /// the application) instead of polling.
    pub efo: Option<Option<String>>,
}

/// An event source mapping ready to run: its settings and everything its tasks work with.
pub struct Mapping {
    /// The settings, defaults filled in.
    pub config: EsmConfig,
    /// Kinesis.
    pub kinesis: aws_sdk_kinesis::Client,
    /// The lease table.
    pub leases: LeaseTable,
    /// Makes one invoker per lane.
    pub invokers: Arc<dyn InvokerFactory>,
    /// The on-failure destination.
    pub destination: Option<Destination>,
    /// Output.
    pub reporter: Arc<dyn Reporter>,
    /// Time, for record age.
    pub clock: Arc<dyn Clock>,
    /// The stream ARN written into events.
    pub stream_arn: String,
    /// `FilterCriteria`: records matching none are skipped before batching.
    pub filters: FilterCriteria,
    /// The enhanced fan-out consumer shards are read through (`None`: GetRecords polling).
    pub consumer_arn: Option<String>,
    /// The thread GetRecords goes through, without the SDK, to a plain local endpoint
    /// (`None`: through the SDK).
    pub(crate) local_reads: Option<ReadPump>,
}

/// The stream as found by [`preflight`].
#[derive(Debug, Clone)]
pub(crate) struct StreamInfo {
    /// Its name.
    pub name: String,
    /// Its ARN as the endpoint reports it.
    pub arn: String,
}

impl Mapping {
    /// Checks the stream (and a destination stream), derives every default and opens what
    /// the run needs. Errors that are the user's to fix say so ([`EsmError::is_usage`]).
    pub(crate) async fn prepare(
        s: ConsumeSettings,
        kinesis: aws_sdk_kinesis::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        reporter: Arc<dyn Reporter>,
    ) -> Result<Self, EsmError> {
        let dest_stream = match &s.on_failure {
            Some(DestinationSpec::Stream(name)) => Some(name.as_str()),
            _ => None,
        };
        let stream = preflight(&kinesis, s.stream.as_deref(), dest_stream).await?;
        let account_id = s
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
        let function_name = s
            .function_name
            .clone()
            .unwrap_or_else(|| config::function_name_from(config::script_of(&s.command)));
        let role_arn = s
            .role_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{account_id}:role/lambda-role"));
        let stream_arn = format!("arn:aws:kinesis:{}:{account_id}:stream/{}", s.region, stream.name);
        let app_name = s
            .app
            .clone()
            .unwrap_or_else(|| config::default_app_name(&stream.name, &function_name));
        let function = FunctionConfig {
            command: s.command.clone(),
            name: function_name,
            role_arn,
            region: s.region.clone(),
            account_id,
            memory_size: s.memory_size,
            timeout: s.timeout,
        };
        let config = EsmConfig {
            stream_name: stream.name.clone(),
            starting_position: s.starting_position,
            batch_size: s.batch_size,
            maximum_batching_window: s.maximum_batching_window,
            poll: s.poll,
            tumbling_window: s.tumbling_window,
            parallelization_factor: s
                .parallelization_factor
                .clamp(1, super::lanes::MAX_PARALLELIZATION_FACTOR),
            policy: RetryPolicy {
                maximum_retry_attempts: s.maximum_retry_attempts,
                maximum_record_age: s.maximum_record_age,
                bisect_batch_on_function_error: s.bisect_batch_on_function_error,
                report_batch_item_failures: s.report_batch_item_failures,
                retry_base_delay: s.poll.function_retry_base(),
                retry_max_delay: Duration::from_secs(5),
            },
            on_failure: s.on_failure.clone(),
            function,
            app_name: app_name.clone(),
            reset: s.reset,
            until_idle: s.until_idle,
            lag_probe: s.lag_probe,
            failover_time: s.failover_time,
            max_records: s.max_records,
            json: s.json,
        };
        let destination = match &config.on_failure {
            None => None,
            Some(DestinationSpec::Directory(d)) => Some(Destination::Directory(d.clone())),
            Some(DestinationSpec::Stream(name)) => Some(Destination::Stream {
                client: kinesis.clone(),
                name: name.clone(),
            }),
        };
        let worker = s
            .worker_id
            .clone()
            .unwrap_or_else(|| config::default_worker_id(&host_name(), std::process::id()));
        let consumer_arn = match &s.efo {
            None => None,
            Some(name) => {
                let name = name
                    .clone()
                    .unwrap_or_else(|| super::subscribe::default_consumer_name(&app_name));
                let note = |n: &str| reporter.note(n);
                Some(super::subscribe::consumer_arn(&kinesis, &stream.arn, &name, &note).await?)
            }
        };
        let leases = LeaseTable::new(dynamodb, app_name, worker).with_stream(config.stream_name.clone());
        let invokers = Arc::new(invoker_kind(&config.function, &s, &reporter)?);
        let local_reads = match s
            .local_kinesis_url
            .as_deref()
            .and_then(|url| LocalEndpoint::from_url(url, &s.region))
        {
            Some(endpoint) => Some(
                ReadPump::start(endpoint, config.poll)
                    .map_err(|e| EsmError::Kinesis(format!("cannot start the read thread: {e}")))?,
            ),
            None => None,
        };
        Ok(Self {
            config,
            kinesis,
            leases,
            invokers,
            destination,
            reporter,
            clock: Arc::new(SystemClock),
            stream_arn,
            filters: s.filters,
            consumer_arn,
            local_reads,
        })
    }
}

/// The invoker the settings ask for.
fn invoker_kind(
    function: &FunctionConfig,
    s: &ConsumeSettings,
    reporter: &Arc<dyn Reporter>,
) -> Result<InvokerKind, EsmError> {
    if let Some(instance) = &s.runtime_api {
        let notes: Arc<dyn NoteSink> = Arc::new(ReporterNotes(Arc::clone(reporter)));
        let reload = if s.watch.is_empty() {
            None
        } else {
            Some(Arc::new(CodeWatcher::start(&s.watch, Arc::clone(&notes))?))
        };
        return Ok(InvokerKind::RuntimeApi(RuntimeApiSettings {
            instance: Arc::clone(instance),
            notes,
            reload,
        }));
    }
    let mut env = invoker::lambda_environment(function);
    for (k, v) in &s.env {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    Ok(InvokerKind::Exec(ExecSettings {
        command: function.command.clone(),
        env,
    }))
}

/// Finds the stream (the only one, if none is named) and checks a destination stream exists.
/// Errors here are the user's to fix (exit 2).
pub(crate) async fn preflight(
    kinesis: &aws_sdk_kinesis::Client,
    stream: Option<&str>,
    destination_stream: Option<&str>,
) -> Result<StreamInfo, EsmError> {
    let name = match stream {
        Some(s) => s.rsplit_once(":stream/").map_or(s, |(_, n)| n).to_string(),
        None => {
            let names = crate::streams::stream_names(kinesis).await.map_err(|e| {
                if aws_error::is_unreachable(&e) {
                    EsmError::Unreachable(aws_error::detail(&e))
                } else {
                    EsmError::Kinesis(aws_error::detail(&e))
                }
            })?;
            match names.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(EsmError::WhichStream(
                        "no stream exists: create one, or pass --stream NAME".into(),
                    ))
                }
                many => {
                    return Err(EsmError::WhichStream(format!(
                        "several streams exist ({}): pass --stream NAME",
                        many.join(", ")
                    )))
                }
            }
        }
    };
    let describe = |n: String| async move { kinesis.describe_stream_summary().stream_name(n).send().await };
    let summary = match describe(name.clone()).await {
        Ok(s) => s,
        Err(e) if aws_error::is_unreachable(&e) => return Err(EsmError::Unreachable(aws_error::detail(&e))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Err(EsmError::StreamNotFound(name))
        }
        Err(e) => return Err(EsmError::Kinesis(aws_error::detail(&e))),
    };
    let arn = summary
        .stream_description_summary()
        .map(|d| d.stream_arn().to_string())
        .unwrap_or_default();
    if let Some(dest) = destination_stream {
        match describe(dest.to_string()).await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Err(EsmError::DestinationStreamNotFound(dest.into()))
            }
            Err(e) => return Err(EsmError::Kinesis(aws_error::detail(&e))),
        }
    }
    Ok(StreamInfo { name, arn })
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
