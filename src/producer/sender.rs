//! PutRecords: batching (≤ 500 records, ≤ 5 MiB, and — when per-key order matters — each
//! partition key at most once per request), and sending one batch until every record is
//! acknowledged: only the failed entries of a partial failure are resent, after an
//! exponential backoff with full jitter. An acknowledged record is never sent again.
//!
//! The call itself is behind [`PutRecordsApi`] so the resend policy is tested without a server.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::error::SdkError;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use rand::Rng;

use super::stats::Stats;

/// Kinesis' PutRecords limit on records per request.
pub(crate) const MAX_BATCH_RECORDS: usize = 500;
/// PutRecords' limit on a request's data + partition keys (the long-standing 5 MiB).
pub(crate) const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;

/// The error code Kinesis gives a throttled record or request.
pub(crate) const THROTTLED: &str = "ProvisionedThroughputExceededException";

/// Records to send in one PutRecords request.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The entries, in generation order.
    pub entries: Vec<PutRecordsRequestEntry>,
    /// Data + partition key bytes.
    pub bytes: usize,
}

/// Cuts the stream of records into batches.
#[derive(Debug)]
pub(crate) struct BatchBuilder {
    max_records: usize,
    ordered: bool,
    current: Batch,
    keys: HashSet<String>,
}

impl BatchBuilder {
    /// Batches of at most `max_records` (capped at 500). With `ordered`, a batch never holds
    /// two records with the same partition key: PutRecords does not order records within a
    /// request, and a failed record followed by an acknowledged one with the same key would
    /// overtake it on resend.
    pub fn new(max_records: usize, ordered: bool) -> Self {
        Self {
            max_records: max_records.clamp(1, MAX_BATCH_RECORDS),
            ordered,
            current: Batch::default(),
            keys: HashSet::new(),
        }
    }

    /// Adds a record of `size` bytes (data + key); returns the batch it closed, if any.
    pub fn push(&mut self, entry: PutRecordsRequestEntry, size: usize) -> Option<Batch> {
        let full = self.current.entries.len() >= self.max_records
            || (!self.current.entries.is_empty() && self.current.bytes + size > MAX_BATCH_BYTES)
            || (self.ordered && self.keys.contains(entry.partition_key().unwrap_or_default()));
        let closed = if full { self.take() } else { None };
        if self.ordered {
            self.keys
                .insert(entry.partition_key().unwrap_or_default().to_string());
        }
        self.current.bytes += size;
        self.current.entries.push(entry);
        closed
    }

    /// The batch being filled, if it has anything.
    pub fn take(&mut self) -> Option<Batch> {
        self.keys.clear();
        if self.current.entries.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.current))
        }
    }
}

/// The outcome of one entry of a PutRecords response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// Stored in this shard.
    Stored {
        /// The shard that took it.
        shard_id: String,
    },
    /// Not stored.
    Failed {
        /// `ProvisionedThroughputExceededException`, `InternalFailure`, ...
        code: String,
        /// The message that came with it.
        message: String,
    },
}

/// A PutRecords call that failed as a whole (nothing was acknowledged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// Worth trying again (throttling, 5xx, connection trouble).
    pub retryable: bool,
    /// Throttling specifically.
    pub throttled: bool,
    /// What happened.
    pub text: String,
}

/// One PutRecords call.
pub trait PutRecordsApi: Clone + Send + Sync + 'static {
    /// Sends `entries`; the results are in the same order.
    fn put_records(
        &self,
        entries: Vec<PutRecordsRequestEntry>,
    ) -> impl Future<Output = Result<Vec<EntryResult>, CallError>> + Send;
}

/// PutRecords through the AWS SDK to one stream.
#[derive(Debug, Clone)]
pub struct KinesisPut {
    client: aws_sdk_kinesis::Client,
    stream: Arc<str>,
}

impl KinesisPut {
    /// Sends to `stream`. The SDK's own retries are turned off: a blind whole-request retry
    /// could not tell acknowledged records from failed ones, and this module does better.
    pub fn new(client: &aws_sdk_kinesis::Client, stream: &str) -> Self {
        let conf = client
            .config()
            .to_builder()
            .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
            .build();
        Self {
            client: aws_sdk_kinesis::Client::from_conf(conf),
            stream: stream.into(),
        }
    }
}

fn retryable_code(code: &str) -> bool {
    matches!(
        code,
        THROTTLED
            | "LimitExceededException"
            | "ThrottlingException"
            | "KMSThrottlingException"
            | "InternalFailure"
            | "InternalFailureException"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
    )
}

impl PutRecordsApi for KinesisPut {
    async fn put_records(&self, entries: Vec<PutRecordsRequestEntry>) -> Result<Vec<EntryResult>, CallError> {
        let res = self
            .client
            .put_records()
            .stream_name(self.stream.as_ref())
            .set_records(Some(entries))
            .send()
            .await;
        match res {
            Ok(out) => Ok(out
                .records()
                .iter()
                .map(|r| match (r.error_code(), r.shard_id()) {
                    (None, Some(shard)) => EntryResult::Stored {
                        shard_id: shard.to_string(),
                    },
                    (code, _) => EntryResult::Failed {
                        code: code.unwrap_or("MissingShardId").to_string(),
                        message: r.error_message().unwrap_or_default().to_string(),
                    },
                })
                .collect()),
            Err(e) => {
                let text = crate::aws_error::describe("Kinesis", "PutRecords", &e).to_string();
                let (retryable, throttled) = match &e {
                    SdkError::ServiceError(s) => {
                        let code = aws_sdk_kinesis::error::ProvideErrorMetadata::code(s.err());
                        let server_side = s.raw().status().as_u16() >= 500;
                        (
                            code.is_some_and(retryable_code) || server_side,
                            code == Some(THROTTLED) || code == Some("LimitExceededException"),
                        )
                    }
                    SdkError::ConstructionFailure(_) => (false, false),
                    // Timeouts, connection errors, unreadable responses: nothing acknowledged.
                    _ => (true, false),
                };
                Err(CallError {
                    retryable,
                    throttled,
                    text,
                })
            }
        }
    }
}

/// Exponential backoff with full jitter, and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay ceiling of the first resend.
    pub base: Duration,
    /// Largest delay ceiling.
    pub cap: Duration,
    /// Calls for one record before the run fails (the record is reported, never dropped
    /// silently).
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(50),
            cap: Duration::from_secs(2),
            max_attempts: 40,
        }
    }
}

impl Backoff {
    /// The delay before resend number `attempt` (1-based), `jitter` in `[0, 1)`:
    /// `jitter × min(cap, base × 2^(attempt−1))`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        crate::backoff::Backoff::new(self.base, self.cap).jittered(attempt, jitter)
    }
}

/// Why a batch could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The endpoint refused the request for a reason retrying cannot fix.
    #[error("{0}")]
    Fatal(String),
    /// Records kept failing.
    #[error(
        "{records} records still failed after {attempts} attempts (last error: {last}); they were not sent"
    )]
    GaveUp {
        /// How many records of the batch were not acknowledged.
        records: usize,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// The response does not match the request.
    #[error("PutRecords answered {got} results for {sent} records")]
    Mismatch {
        /// Records sent.
        sent: usize,
        /// Results received.
        got: usize,
    },
}

/// Sends `batch` until every record is acknowledged, resending only failed entries.
pub(crate) async fn send_batch<A: PutRecordsApi>(
    api: &A,
    batch: Batch,
    stats: &Stats,
    backoff: &Backoff,
) -> Result<(), SendError> {
    let mut pending = batch.entries;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        stats.add_request();
        let last = match api.put_records(pending.clone()).await {
            Ok(results) => {
                if results.len() != pending.len() {
                    return Err(SendError::Mismatch {
                        sent: pending.len(),
                        got: results.len(),
                    });
                }
                let mut failed = Vec::new();
                let mut stored: BTreeMap<String, (u64, u64)> = BTreeMap::new();
                let mut throttled = 0;
                let mut last = String::new();
                for (entry, result) in pending.into_iter().zip(results) {
                    match result {
                        EntryResult::Stored { shard_id } => {
                            let size =
                                entry.data().as_ref().len() + entry.partition_key().map_or(0, str::len);
                            let slot = stored.entry(shard_id).or_default();
                            slot.0 += 1;
                            slot.1 += size as u64;
                        }
                        EntryResult::Failed { code, message } => {
                            if code == THROTTLED {
                                throttled += 1;
                            }
                            last = format!("{code}: {message}");
                            failed.push(entry);
                        }
                    }
                }
                stats.add_stored(stored);
                stats.add_throttled(throttled);
                if failed.is_empty() {
                    return Ok(());
                }
                pending = failed;
                last
            }
            Err(e) if e.retryable => {
                if e.throttled {
                    stats.add_throttled(pending.len() as u64);
                }
                e.text
            }
            Err(e) => return Err(SendError::Fatal(e.text)),
        };
        if attempt >= backoff.max_attempts {
            return Err(SendError::GaveUp {
                records: pending.len(),
                attempts: attempt,
                last,
            });
        }
        stats.add_retried(pending.len() as u64);
        let jitter: f64 = rand::rng().random();
        tokio::time::sleep(backoff.delay(attempt, jitter)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kinesis::primitives::Blob;
    use std::sync::Mutex;

    fn entry(i: usize, key: &str) -> PutRecordsRequestEntry {
        PutRecordsRequestEntry::builder()
            .data(Blob::new(format!("{{\"i\":{i}}}")))
            .partition_key(key)
            .build()
            .expect("entry")
    }

    #[test]
    fn batches_respect_count_bytes_and_keys() {
        let mut b = BatchBuilder::new(3, false);
        let closed: Vec<usize> = (0..7)
            .filter_map(|i| b.push(entry(i, "k"), 10))
            .map(|b| b.entries.len())
            .collect();
        assert_eq!(closed, vec![3, 3]);
        assert_eq!(b.take().map(|b| b.entries.len()), Some(1));
        assert!(b.take().is_none());

        let mut b = BatchBuilder::new(500, false);
        assert!(b.push(entry(0, "a"), MAX_BATCH_BYTES - 5).is_none());
        let closed = b.push(entry(1, "b"), 10).expect("bytes limit closes the batch");
        assert_eq!(closed.entries.len(), 1);

        let mut b = BatchBuilder::new(500, true);
        assert!(b.push(entry(0, "a"), 1).is_none());
        assert!(b.push(entry(1, "b"), 1).is_none());
        let closed = b.push(entry(2, "a"), 1).expect("repeated key closes the batch");
        assert_eq!(closed.entries.len(), 2);
        assert!(
            b.push(entry(3, "b"), 1).is_none(),
            "keys reset with the new batch"
        );
    }

    #[test]
    fn backoff_grows_to_the_cap_with_full_jitter() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(50));
        assert_eq!(b.delay(2, 1.0), Duration::from_millis(100));
        assert_eq!(b.delay(4, 1.0), Duration::from_millis(400));
        assert_eq!(b.delay(30, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(3, 0.5), Duration::from_millis(100));
        assert_eq!(b.delay(3, 0.0), Duration::ZERO);
    }

    /// Real time, tiny delays (tokio's paused clock needs a feature this crate does not enable).
    fn fast() -> Backoff {
        Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(4),
            max_attempts: 40,
        }
    }

    /// Fails every other record on the first two calls, with throttling.
    #[derive(Clone, Default)]
    struct Flaky {
        calls: Arc<Mutex<Vec<Vec<String>>>>,
    }

    impl PutRecordsApi for Flaky {
        async fn put_records(
            &self,
            entries: Vec<PutRecordsRequestEntry>,
        ) -> Result<Vec<EntryResult>, CallError> {
            let n = {
                let mut calls = self.calls.lock().expect("lock");
                calls.push(
                    entries
                        .iter()
                        .map(|e| e.partition_key().unwrap_or_default().to_string())
                        .collect(),
                );
                calls.len()
            };
            if n == 3 {
                return Err(CallError {
                    retryable: true,
                    throttled: true,
                    text: "whole request throttled".into(),
                });
            }
            Ok(entries
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    if n < 3 && i % 2 == 0 {
                        EntryResult::Failed {
                            code: THROTTLED.into(),
                            message: "Rate exceeded".into(),
                        }
                    } else {
                        EntryResult::Stored {
                            shard_id: "shardId-000000000000".into(),
                        }
                    }
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn only_failed_entries_are_resent() {
        let api = Flaky::default();
        let stats = Stats::default();
        let batch = Batch {
            entries: (0..8).map(|i| entry(i, &format!("k{i}"))).collect(),
            bytes: 0,
        };
        send_batch(&api, batch, &stats, &fast()).await.expect("delivered");
        let calls = api.calls.lock().expect("lock").clone();
        assert_eq!(calls[0], ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"]);
        assert_eq!(calls[1], ["k0", "k2", "k4", "k6"]);
        assert_eq!(calls[2], ["k0", "k4"]);
        assert_eq!(calls[3], ["k0", "k4"], "whole-request failure resends the same");
        assert_eq!(calls.len(), 4);
        let s = stats.snapshot();
        assert_eq!(s.records, 8);
        assert_eq!(s.retried, 4 + 2 + 2);
        assert_eq!(s.throttled, 4 + 2 + 2);
        assert_eq!(s.requests, 4);
    }

    #[derive(Clone)]
    struct Always(Result<(), CallError>);

    impl PutRecordsApi for Always {
        async fn put_records(
            &self,
            entries: Vec<PutRecordsRequestEntry>,
        ) -> Result<Vec<EntryResult>, CallError> {
            match &self.0 {
                Ok(()) => Ok(entries
                    .iter()
                    .map(|_| EntryResult::Failed {
                        code: THROTTLED.into(),
                        message: "Rate exceeded".into(),
                    })
                    .collect()),
                Err(e) => Err(e.clone()),
            }
        }
    }

    #[tokio::test]
    async fn gives_up_loudly_and_fatal_errors_stop_at_once() {
        let stats = Stats::default();
        let batch = || Batch {
            entries: vec![entry(0, "a"), entry(1, "b")],
            bytes: 0,
        };
        let backoff = Backoff {
            max_attempts: 5,
            ..fast()
        };
        let err = send_batch(&Always(Ok(())), batch(), &stats, &backoff)
            .await
            .expect_err("gives up");
        assert!(
            matches!(
                err,
                SendError::GaveUp {
                    records: 2,
                    attempts: 5,
                    ..
                }
            ),
            "{err}"
        );
        let fatal = Always(Err(CallError {
            retryable: false,
            throttled: false,
            text: "ResourceNotFoundException: Stream x not found".into(),
        }));
        let before = stats.snapshot().requests;
        let err = send_batch(&fatal, batch(), &stats, &backoff)
            .await
            .expect_err("fatal");
        assert!(matches!(err, SendError::Fatal(_)));
        assert_eq!(stats.snapshot().requests, before + 1);
    }
}
