//! The event source mapping: what Lambda does when a function is mapped to a Kinesis stream.
//!
//! [`mapping`] assembles a run from plain settings (stream, ARNs, defaults, destination,
//! lease table, invoker). The [`supervisor`] owns the run-wide state: it follows the shard
//! lineage, shares shards with other consumers through the lease table ([`leases`] over
//! [`lease_table`]), starts one [`reader`] per lease gained, and hears from readers only
//! through typed [`events`]. Each reader polls its shard, fills a [`batcher`], builds the exact
//! Lambda [`event`] and hands batches to its lane's [`runner`], which goes through the pure
//! [`policy`], the [`invoker`] and the [`response`] and returns decisions; the reader alone
//! writes its shard's [`checkpoint`] and the on-failure [`destination`]. Only AWS SDK clients
//! are used, so the same code runs against the embedded engine, a container or AWS.

pub mod batcher;
pub mod budget;
pub mod checkpoint;
pub mod config;
pub mod destination;
pub mod event;
pub mod events;
pub mod filter;
pub mod invoker;
pub mod lag;
pub mod lanes;
pub mod lease_table;
pub mod leases;
pub(crate) mod local_read;
mod local_request;
pub mod mapping;
pub mod policy;
pub mod poll;
pub(crate) mod read_pump;
mod read_sweep;
pub mod reader;
pub mod record;
pub mod response;
pub mod runner;
pub mod shutdown;
pub mod subscribe;
pub mod supervisor;
pub mod window;

#[cfg(test)]
mod run_tests;

use std::time::Duration;

/// Why consuming could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum EsmError {
    /// The stream does not exist.
    #[error("stream {0} not found (create it, or check --stream and --endpoint-url)")]
    StreamNotFound(String),
    /// The on-failure destination stream does not exist.
    #[error("on-failure destination stream {0} not found (create it, or fix --on-failure)")]
    DestinationStreamNotFound(String),
    /// No stream was named and the endpoint does not hold exactly one.
    #[error("{0}")]
    WhichStream(String),
    /// The endpoint could not be reached.
    #[error(
        "cannot reach the Kinesis/DynamoDB endpoint: {0} (is `kinlocal up` running? check --endpoint-url)"
    )]
    Unreachable(String),
    /// A Kinesis call failed.
    #[error("kinesis: {0}")]
    Kinesis(String),
    /// The lease table failed.
    #[error(transparent)]
    LeaseTable(#[from] lease_table::LeaseTableError),
    /// The function could not be initialised.
    #[error("the function failed to initialise: {0}")]
    Init(invoker::InitError),
    /// The on-failure destination failed.
    #[error(transparent)]
    Destination(#[from] destination::DestinationError),
    /// `--watch` could not watch a path.
    #[error(transparent)]
    Watch(#[from] invoker::runtime_api::reload::WatchError),
}

impl EsmError {
    /// Whether this is the user's to fix before anything runs (exit 2). An unreachable
    /// endpoint is a run-time failure (exit 1), as in every other subcommand.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::StreamNotFound(_)
                | Self::DestinationStreamNotFound(_)
                | Self::WhichStream(_)
                // A bad handler name or a bootstrap that will not start: fix the function.
                | Self::Init(_)
                | Self::Watch(_)
        )
    }
}

/// How one invocation went, for the per-batch line.
#[derive(Debug, Clone)]
pub struct BatchReport {
    /// The shard.
    pub shard_id: String,
    /// The lane within the shard when `ParallelizationFactor` > 1 (`None`: one lane).
    pub lane: Option<usize>,
    /// Records in the invocation.
    pub records: usize,
    /// First sequence number.
    pub first_sequence_number: String,
    /// Last sequence number.
    pub last_sequence_number: String,
    /// Handler wall time.
    pub duration: Duration,
    /// `ok`, `partial`, `error`, `timeout`.
    pub outcome: &'static str,
    /// Details: exit status, first failed sequence number…
    pub detail: String,
    /// Which attempt on this range this was (1 = first).
    pub attempt: u32,
    /// The request id.
    pub request_id: String,
}

/// A range that went to the on-failure destination.
#[derive(Debug, Clone)]
pub struct DiscardReport {
    /// The shard.
    pub shard_id: String,
    /// How many records.
    pub records: usize,
    /// `RetryAttemptsExhausted` / `RecordAgeExceeded`.
    pub condition: &'static str,
    /// Where the record went (`none` without a destination).
    pub destination: String,
}

/// Per-shard progress for the live status line.
#[derive(Debug, Clone, Default)]
pub struct ShardProgress {
    /// The shard.
    pub shard_id: String,
    /// `MillisBehindLatest` of the last read.
    pub lag_ms: i64,
    /// Records delivered so far.
    pub delivered: u64,
    /// True lag: records behind the checkpoint and the oldest one's arrival (`None`: not
    /// counted, see `EsmConfig::lag_probe`).
    pub behind: Option<lag::Lag>,
}

/// Where the consumer tells humans and scripts what happens.
pub trait Reporter: invoker::LogSink {
    /// One line per invocation.
    fn batch(&self, report: &BatchReport);
    /// A range was discarded.
    fn discarded(&self, report: &DiscardReport);
    /// Something worth a line that is not a batch (shard started/ended, transient errors).
    fn note(&self, message: &str);
    /// Periodic per-shard progress (a live status line on a terminal).
    fn progress(&self, shards: &[ShardProgress]);
    /// The run is over: clear any live line.
    fn finish(&self) {}
}
