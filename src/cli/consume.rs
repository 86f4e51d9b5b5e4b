//! Arguments of `kinlocal consume`: Lambda's event source mapping parameters as flags
//! (kebab-case of the ESM parameter names), durations written the human way.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::values;
use super::{EndpointArgs, FunctionRuntimeArgs};
use crate::esm::config::DestinationSpec;

/// Where a shard without a checkpoint starts (`StartingPosition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartingPositionArg {
    /// The oldest record still in the stream (TRIM_HORIZON).
    TrimHorizon,
    /// Only records put after the consumer started (LATEST).
    Latest,
    /// Records that arrived at or after --starting-position-timestamp (AT_TIMESTAMP).
    AtTimestamp,
}

/// `kinlocal consume`: run an executable as a Lambda function mapped to a Kinesis stream.
#[derive(Debug, Args)]
#[command(
    after_help = "The handler reads the batch (Lambda's exact Kinesis event JSON) on stdin; exit 0 \
is success. Its return value is stdout (or the last stdout line if it is JSON). With \
--runtime-api or --handler the function runs warm behind the Lambda Runtime API instead. \
Exit codes: 0 all delivered, 2 bad input or a function that fails to initialize, 3 some records \
went to --on-failure, 1 other failures."
)]
pub struct ConsumeArgs {
    /// The stream to consume (name or ARN); optional when the endpoint has exactly one.
    #[arg(long, short = 's', value_name = "NAME")]
    pub stream: Option<String>,
    /// The handler command line, split with shell quoting rules but never run through a shell
    /// (e.g. --exec 'python3 handler.py'); with --runtime-api, a Lambda bootstrap.
    #[arg(long, short = 'e', value_name = "COMMAND", required_unless_present_any = ["handler", "runtime_api_only", "dry_run"])]
    pub exec: Option<String>,
    /// How the function runs: the Lambda Runtime API, a handler by name, its environment.
    #[command(flatten)]
    pub function: FunctionRuntimeArgs,
    /// With --runtime-api or --handler: hot reload. When a file under PATH changes (a
    /// directory is watched recursively; __pycache__, hidden files and editor backups are
    /// ignored), the warm processes are replaced before their next batch; a batch in flight
    /// finishes on the code it started with. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub watch: Vec<std::path::PathBuf>,
    /// Arguments appended to the --exec command line.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Where a shard with no checkpoint starts (StartingPosition).
    #[arg(long, value_enum, default_value_t = StartingPositionArg::TrimHorizon)]
    pub starting_position: StartingPositionArg,
    /// With --starting-position at-timestamp: Unix seconds or an RFC 3339 time.
    #[arg(long, value_name = "TIME", value_parser = values::timestamp_ms)]
    pub starting_position_timestamp: Option<i64>,
    /// Most records per invocation (BatchSize, 1-10000).
    #[arg(long, short = 'b', default_value_t = 100, value_name = "N")]
    pub batch_size: usize,
    /// How long to gather records before invoking (MaximumBatchingWindowInSeconds, 0-300s).
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = values::duration)]
    pub maximum_batching_window: Duration,
    /// How often each shard is read when it has no backlog [default: 10ms against a local
    /// endpoint, whose empty reads kinlocal's engine also holds open until a record arrives
    /// (15ms against one that answers at once); 200ms with --aws, AWS's 5 GetRecords/s per
    /// shard, which is never exceeded].
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub poll_interval: Option<Duration>,
    /// Read each shard through an enhanced fan-out consumer (SubscribeToShard, records pushed as
    /// they arrive) instead of polling GetRecords: CONSUMER_NAME (default: the --app name) is
    /// registered on the stream, or reused if it exists.
    #[arg(long, value_name = "CONSUMER_NAME", num_args = 0..=1, value_parser = values::consumer_name)]
    pub efo: Option<Option<String>>,
    /// Group records into tumbling windows of this length by arrival time
    /// (TumblingWindowInSeconds, 1s-900s; 0 is off): each invocation carries the window and the
    /// state the previous one returned, and a final invocation closes each window.
    #[arg(long, value_name = "DURATION", value_parser = super::values::tumbling_window)]
    pub tumbling_window: Option<Duration>,
    /// Batches of one shard in flight at once (ParallelizationFactor, 1-10): records go to lanes
    /// by partition key, so one key is always handled in order and never concurrently.
    #[arg(long, default_value_t = 1, value_name = "N", allow_hyphen_values = true, value_parser = super::values::parallelization_factor)]
    pub parallelization_factor: usize,
    /// Retries of a failing batch (MaximumRetryAttempts): -1 is infinite, or 0-10000.
    #[arg(long, default_value = "-1", value_name = "N", allow_hyphen_values = true, value_parser = values::retry_attempts)]
    pub maximum_retry_attempts: values::OrInfinite<u32>,
    /// Discard records older than this (MaximumRecordAgeInSeconds): -1 is infinite, or 60s-7d.
    #[arg(long, default_value = "-1", value_name = "AGE", allow_hyphen_values = true, value_parser = values::duration_or_infinite)]
    pub maximum_record_age: values::OrInfinite<Duration>,
    /// Test only: lift the 60 s minimum of --maximum-record-age (AWS rejects such values).
    #[arg(long, hide = true)]
    pub maximum_record_age_unchecked: bool,
    /// Split a failing batch in two and retry each half (BisectBatchOnFunctionError).
    #[arg(long)]
    pub bisect_batch_on_function_error: bool,
    /// Read the return value as a partial batch response (FunctionResponseTypes:
    /// ReportBatchItemFailures).
    #[arg(long)]
    pub report_batch_item_failures: bool,
    /// Where discarded batches go: a directory (one JSON file each, with the records, like an
    /// S3 destination) or stream:NAME (the record on another stream, like SQS/SNS).
    #[arg(long, value_name = "DEST", value_parser = values::destination)]
    pub on_failure: Option<DestinationSpec>,
    /// Function timeout; the handler's process group is killed after it (1s-900s like Lambda;
    /// shorter values are accepted locally).
    #[arg(long, short = 't', default_value = "3s", value_name = "DURATION", value_parser = values::duration)]
    pub timeout: Duration,
    /// AWS_LAMBDA_FUNCTION_MEMORY_SIZE for the handler (MB, 128-10240).
    #[arg(long, default_value_t = 128, value_name = "MB")]
    pub memory_size: u32,
    /// Function name in ARNs and AWS_LAMBDA_FUNCTION_NAME (default: the handler's file name).
    #[arg(long, value_name = "NAME")]
    pub function_name: Option<String>,
    /// Execution role ARN written as invokeIdentityArn (default: arn:aws:iam::ACCOUNT:role/lambda-role).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Account id in ARNs (default: the stream ARN's account).
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// Lease table (KCL application) name holding the checkpoints (default:
    /// kinlocal-STREAM-FUNCTION).
    #[arg(long, value_name = "NAME", value_parser = values::table_name)]
    pub app: Option<String>,
    /// This consumer's name in the lease table (leaseOwner); unique among the consumers of
    /// one --app (default: HOST:PID).
    #[arg(long, value_name = "ID", value_parser = values::worker_id)]
    pub worker_id: Option<String>,
    /// Consumers sharing an --app take over a lease not renewed for this long (KCL's
    /// failoverTimeMillis); held leases are renewed every third of it.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = values::failover_time)]
    pub failover_time: Duration,
    /// Forget the checkpoints and start again from --starting-position.
    #[arg(long)]
    pub reset: bool,
    /// Exit once every shard this consumer holds is drained, nothing new arrived for DURATION,
    /// and no other shard is waiting for a consumer (none unowned or expired). A shard waiting
    /// to retry a failing batch makes no progress: if it waits for DURATION while nothing else
    /// moves, the run ends with exit 4 (stopped with undelivered records).
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub until_idle: Option<Duration>,
    /// Stop after N records were delivered.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_records: Option<u64>,
    /// Deliver only records matching this FilterCriteria pattern (EventBridge syntax on the
    /// record's JSON `data` and its metadata, e.g. '{"data": {"type": ["buy"]}}'); repeatable,
    /// patterns are ORed. Records matching none are skipped and checkpointed past.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
    /// Read filter patterns from a file in the Lambda API's shape:
    /// {"Filters": [{"Pattern": "{...}"}]}.
    #[arg(long, value_name = "FILE")]
    pub filter_file: Option<std::path::PathBuf>,
    /// Most filters allowed (AWS's quota: 5 by default, raisable to 10 on request).
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=10))]
    pub max_filters: u8,
    /// Read the function and its Kinesis event source mapping from a deployment file: an AWS
    /// SAM or CloudFormation template (YAML or JSON), a serverless.yml, or Terraform (.tf file or
    /// directory). Flags given on the command line override the file.
    #[arg(long, value_name = "FILE", requires = "template_function")]
    pub template: Option<std::path::PathBuf>,
    /// With --template: the function (logical id / config key, or its FunctionName).
    #[arg(
        long = "function",
        id = "template_function",
        value_name = "NAME",
        requires = "template"
    )]
    pub template_function: Option<String>,
    /// With --template: print the resolved mapping, with where each value came from, and exit.
    #[arg(long, requires = "template")]
    pub dry_run: bool,
    /// One JSON object per batch (and a summary) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where to talk to.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}
