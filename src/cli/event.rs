//! Arguments of `kinlocal event`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// `kinlocal event`: print a Kinesis event exactly as `consume` would deliver it.
#[derive(Debug, Args)]
#[command(after_help = "Example, in a handler's test: kinlocal event --record '{\"id\":1}' | ./handler.py")]
pub struct EventArgs {
    /// A record's data (any text, usually JSON); repeatable, in order.
    #[arg(long, value_name = "DATA", required_unless_present_any = ["records_from", "random"])]
    pub record: Vec<String>,
    /// Records from newline-delimited JSON, as `produce --from` replays it: one record's data
    /// per line, or the record lines `tail --json` prints (their partition keys are kept);
    /// '-' reads stdin.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["record", "random"])]
    pub records_from: Option<PathBuf>,
    /// N random JSON records (the ones `produce` generates).
    #[arg(long, value_name = "N", conflicts_with = "record",
          value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub random: Option<u16>,
    /// Seed for reproducible --random records.
    #[arg(long, value_name = "S", requires = "random")]
    pub seed: Option<u64>,
    /// Stream name in `eventSourceARN`.
    #[arg(long, value_name = "NAME", default_value = crate::streams::DEFAULT_STREAM)]
    pub stream: String,
    /// Shard id in `eventID` (and `shardId` with --tumbling-window).
    #[arg(long, value_name = "ID", default_value = "shardId-000000000000")]
    pub shard_id: String,
    /// One partition key for every record [default: pk-0, pk-1, …].
    #[arg(long, short = 'k', value_name = "KEY")]
    pub partition_key: Option<String>,
    /// `awsRegion` and the region in the ARNs.
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id in the ARNs.
    #[arg(long, value_name = "ID", default_value = "000000000000")]
    pub account_id: String,
    /// `invokeIdentityArn` [default: arn:aws:iam::ACCOUNT:role/lambda-role, as consume].
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Wrap the records in the envelope of a tumbling window of this length (the first
    /// invocation of the window: empty state).
    #[arg(long, value_name = "DURATION", value_parser = super::values::positive_duration)]
    pub tumbling_window: Option<Duration>,
    /// Pretty-print the event (the bytes consume sends are compact).
    #[arg(long)]
    pub pretty: bool,
}
