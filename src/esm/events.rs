//! What a shard reader tells the supervisor while it works: typed progress events over a
//! channel. The supervisor is the only owner of run-wide state (totals, lag, idleness, stuck
//! shards) and builds it from these; readers never write it.

use tokio::sync::mpsc;

/// A range of records of one shard that is failing and waiting for a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRange {
    /// First sequence number of the range.
    pub first_sequence_number: String,
    /// Last sequence number of the range.
    pub last_sequence_number: String,
    /// Records in it.
    pub records: usize,
    /// Invocations made on it so far.
    pub attempts: u32,
}

/// One thing a shard reader did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardEvent {
    /// A GetRecords call returned `records` records, `lag_ms` behind the tip.
    Polled {
        /// The shard.
        shard_id: String,
        /// Records read.
        records: usize,
        /// `MillisBehindLatest`.
        lag_ms: i64,
    },
    /// The shard has nothing buffered, nothing in flight and read nothing new (or the reverse).
    Idle {
        /// The shard.
        shard_id: String,
        /// Whether it is drained.
        idle: bool,
    },
    /// Records the function handled; their checkpoint is written.
    Delivered {
        /// The shard.
        shard_id: String,
        /// How many.
        records: u64,
    },
    /// Records sent to the on-failure destination; their checkpoint is written.
    Discarded {
        /// The shard.
        shard_id: String,
        /// How many.
        records: u64,
    },
    /// A batch failed and waits for a retry; the shard makes no progress until it succeeds
    /// or is discarded.
    Stuck {
        /// The shard.
        shard_id: String,
        /// What is pending.
        range: PendingRange,
    },
    /// The retry wait after [`ShardEvent::Stuck`] is over: the range is being invoked again.
    Retrying {
        /// The shard.
        shard_id: String,
    },
    /// `--max-records` were all handed out: the run should stop.
    BudgetSpent,
}

/// The sending side readers get.
pub(crate) type EventSender = mpsc::UnboundedSender<ShardEvent>;
/// The supervisor's side.
pub(crate) type EventReceiver = mpsc::UnboundedReceiver<ShardEvent>;

/// A new channel.
pub fn channel() -> (EventSender, EventReceiver) {
    mpsc::unbounded_channel()
}
