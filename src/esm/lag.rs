//! True lag of a shard: how many records are behind its checkpoint and when the oldest of them
//! (the oldest undelivered record) arrived. One computation — reading the shard from the
//! checkpoint, as far as a cap — used by `kinlocal status` and by consume's live line, where a
//! [`Probe`] refreshes it for every lease the consumer holds.
//!
//! `MillisBehindLatest` is not this: it says how far the last *read* is from the tip, and a
//! reader that has read a batch it cannot deliver reports 0 while the batch ages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_sdk_kinesis::types::ShardIteratorType;

use super::checkpoint::Checkpoint;
use super::leases::HeldLease;

/// Records behind a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lag {
    /// Records after the checkpoint (a lower bound when `capped`).
    pub records: u64,
    /// The count stopped at the read cap: there are at least `records`.
    pub capped: bool,
    /// Arrival of the oldest undelivered record (the first after the checkpoint), Unix
    /// milliseconds; `None` when nothing is behind.
    pub oldest_arrival_ms: Option<i64>,
}

impl Lag {
    /// Nothing behind.
    pub(crate) const CAUGHT_UP: Self = Self {
        records: 0,
        capped: false,
        oldest_arrival_ms: None,
    };

    /// How long the oldest undelivered record has been in the stream at `now_ms` (zero when
    /// nothing is behind, or for a clock that is behind the arrival stamp).
    pub fn age(&self, now_ms: i64) -> Duration {
        self.oldest_arrival_ms.map_or(Duration::ZERO, |arrival| {
            Duration::from_millis(u64::try_from(now_ms.saturating_sub(arrival)).unwrap_or(0))
        })
    }

    /// `12 behind, oldest 13m 2s`, `≥20000 behind, oldest 2h`, `caught up`.
    pub fn describe(&self, now_ms: i64) -> String {
        if self.records == 0 && !self.capped {
            return "caught up".into();
        }
        format!(
            "{}{} behind, oldest {}",
            if self.capped { "≥" } else { "" },
            self.records,
            crate::human::age(self.age(now_ms))
        )
    }
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Counts the records of `shard` after `checkpoint`, reading at most `max_reads` GetRecords
/// pages (then the count is a lower bound). `Ok(None)` when it cannot be told: an
/// `AT_TIMESTAMP` checkpoint without the mapping's timestamp. `LATEST` and `SHARD_END` have
/// nothing behind.
pub async fn behind(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
    shard: &str,
    checkpoint: &Checkpoint,
    at_timestamp_ms: Option<i64>,
    max_reads: usize,
) -> Result<Option<Lag>, String> {
    let req = kinesis.get_shard_iterator().stream_name(stream).shard_id(shard);
    let req = match checkpoint {
        Checkpoint::ShardEnd | Checkpoint::Latest => return Ok(Some(Lag::CAUGHT_UP)),
        Checkpoint::TrimHorizon => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
        Checkpoint::After(seq) => req
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .starting_sequence_number(seq.as_str()),
        Checkpoint::AtTimestamp => match at_timestamp_ms {
            Some(ms) => req
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(aws_sdk_kinesis::primitives::DateTime::from_millis(ms)),
            None => return Ok(None),
        },
    };
    let out = req
        .send()
        .await
        .map_err(|e| crate::aws_error::describe("Kinesis", "GetShardIterator", &e).text)?;
    let mut iterator = out.shard_iterator().map(str::to_string);
    let mut lag = Lag::CAUGHT_UP;
    for _ in 0..max_reads {
        let Some(current) = iterator.take() else {
            return Ok(Some(lag));
        };
        let page = kinesis
            .get_records()
            .shard_iterator(current)
            .limit(10_000)
            .send()
            .await
            .map_err(|e| crate::aws_error::describe("Kinesis", "GetRecords", &e).text)?;
        if lag.oldest_arrival_ms.is_none() {
            lag.oldest_arrival_ms = page
                .records()
                .first()
                .and_then(|r| r.approximate_arrival_timestamp())
                .and_then(|t| t.to_millis().ok());
        }
        let n = page.records().len() as u64;
        lag.records += n;
        if n == 0 && page.millis_behind_latest().is_none_or(|m| m == 0) {
            return Ok(Some(lag));
        }
        iterator = page.next_shard_iterator().map(str::to_string);
    }
    lag.capped = iterator.is_some();
    Ok(Some(lag))
}

/// What a [`Probe`] reads with.
#[derive(Debug, Clone)]
pub(crate) struct ProbeSettings {
    /// The stream.
    pub stream: String,
    /// How often every held shard is counted.
    pub every: Duration,
    /// GetRecords pages per shard and count (see [`behind`]).
    pub max_reads: usize,
    /// The mapping's `AT_TIMESTAMP` starting time, for leases that still have it.
    pub at_timestamp_ms: Option<i64>,
}

/// One tracked shard: its lease (where the reader checkpoints) and the last count.
struct Tracked {
    held: Arc<HeldLease>,
    lag: Option<Lag>,
}

type Table = Arc<Mutex<HashMap<String, Tracked>>>;

/// Counts, in the background, the records behind the checkpoint of every lease it tracks.
/// Dropping it stops the task.
pub(crate) struct Probe {
    table: Table,
    task: tokio::task::JoinHandle<()>,
}

impl Probe {
    /// Starts counting every `settings.every` (inside a tokio runtime).
    pub fn start(kinesis: aws_sdk_kinesis::Client, settings: ProbeSettings) -> Self {
        let table: Table = Arc::default();
        let task = tokio::spawn(count_forever(kinesis, settings, Arc::clone(&table)));
        Self { table, task }
    }

    /// Counts this lease's shard from now on.
    pub(crate) fn track(&self, held: &Arc<HeldLease>) {
        lock(&self.table).insert(
            held.key().to_string(),
            Tracked {
                held: Arc::clone(held),
                lag: None,
            },
        );
    }

    /// Keeps counting only the shards in `running` (the others' readers ended).
    pub(crate) fn retain(&self, running: &std::collections::HashSet<String>) {
        lock(&self.table).retain(|shard, _| running.contains(shard));
    }

    /// The last count of a shard (`None`: not counted yet, or it cannot be told).
    pub fn lag(&self, shard_id: &str) -> Option<Lag> {
        lock(&self.table).get(shard_id).and_then(|t| t.lag)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The table stays usable if a holder panicked: it holds plain values.
fn lock(table: &Table) -> std::sync::MutexGuard<'_, HashMap<String, Tracked>> {
    table.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn count_forever(kinesis: aws_sdk_kinesis::Client, settings: ProbeSettings, table: Table) {
    let mut ticker = tokio::time::interval(settings.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let shards: Vec<(String, Arc<HeldLease>)> = lock(&table)
            .iter()
            .map(|(k, t)| (k.clone(), Arc::clone(&t.held)))
            .collect();
        for (shard, held) in shards {
            let checkpoint = held.lock().await.checkpoint.clone();
            // A failed count keeps the previous one: the line must not flicker on a throttle.
            if let Ok(lag) = behind(
                &kinesis,
                &settings.stream,
                &shard,
                &checkpoint,
                settings.at_timestamp_ms,
                settings.max_reads,
            )
            .await
            {
                if let Some(t) = lock(&table).get_mut(&shard) {
                    t.lag = lag;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_and_description() {
        let lag = Lag {
            records: 6776,
            capped: false,
            oldest_arrival_ms: Some(1_000),
        };
        assert_eq!(lag.age(1_000 + 782_000), Duration::from_secs(782));
        assert_eq!(lag.describe(1_000 + 782_000), "6776 behind, oldest 13m 2s");
        assert_eq!(
            lag.age(0),
            Duration::ZERO,
            "a clock behind the stamp is not negative"
        );
        let capped = Lag { capped: true, ..lag };
        assert_eq!(capped.describe(1_000 + 7_200_000), "≥6776 behind, oldest 2h");
        assert_eq!(Lag::CAUGHT_UP.describe(5), "caught up");
        assert_eq!(Lag::CAUGHT_UP.age(5), Duration::ZERO);
    }
}
