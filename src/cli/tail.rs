//! Arguments of `kinlocal tail`.

use clap::{Args, ValueEnum};

use super::EndpointArgs;

/// Where `tail` starts reading each shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TailStart {
    /// The oldest record still in the stream (TRIM_HORIZON).
    TrimHorizon,
    /// Only records put from now on (LATEST).
    Latest,
    /// Records that arrived at or after --starting-position-timestamp (AT_TIMESTAMP).
    AtTimestamp,
}

/// `kinlocal tail`: print a stream's records, like `kcat -C` for Kinesis.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --follow, tail stops once every shard is caught up; with it, tail also reads the \
                  shards a reshard creates (after their parents). --json prints one line per record, \
                  {\"ShardId\",\"SequenceNumber\",\"ApproximateArrivalTimestamp\",\"PartitionKey\",\"Data\"} \
                  with the data in base64: the form `kinlocal produce --from FILE` replays with each \
                  record's own partition key."
)]
pub struct TailArgs {
    /// Stream to read.
    #[arg(value_name = "STREAM", default_value = crate::streams::DEFAULT_STREAM)]
    pub stream: String,
    /// Where to start in each shard (the same words as `consume`).
    #[arg(long, value_enum, default_value_t = TailStart::Latest)]
    pub starting_position: TailStart,
    /// With --starting-position at-timestamp: Unix seconds or an RFC 3339 time.
    #[arg(long, value_name = "TIME", value_parser = super::values::timestamp_ms)]
    pub starting_position_timestamp: Option<i64>,
    /// Start right after this sequence number (needs --shard).
    #[arg(long, value_name = "N", requires = "shard", conflicts_with = "starting_position",
          value_parser = super::values::sequence_number)]
    pub after_sequence_number: Option<String>,
    /// Read only this shard (`shardId-000000000001`, or just `1`).
    #[arg(long, value_name = "ID")]
    pub shard: Option<String>,
    /// Keep reading new records until Ctrl+C instead of stopping when caught up.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Print only records with this partition key.
    #[arg(long, short = 'k', value_name = "KEY")]
    pub partition_key: Option<String>,
    /// Print only records matching this pattern, in the syntax of Lambda's FilterCriteria
    /// (e.g. '{"data":{"type":["order"]}}'); repeatable: a record matching any is printed.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
    /// Stop after N records.
    #[arg(long, short = 'n', value_name = "N", allow_negative_numbers = true,
          value_parser = super::values::positive_count)]
    pub count: Option<u64>,
    /// Print each record's data base64-encoded (for binary data).
    #[arg(long, conflicts_with = "json")]
    pub base64: bool,
    /// One JSON line per record, with AWS's member names and the data in base64 (what
    /// `produce --from` and `event --records-from` replay).
    #[arg(long)]
    pub json: bool,
    /// Where to talk to.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}
