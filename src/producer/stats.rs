//! Counters shared by the senders, the progress display and the summary.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Live counters of a run; cheap to update from many tasks.
#[derive(Debug, Default)]
pub struct Stats {
    records: AtomicU64,
    bytes: AtomicU64,
    retried: AtomicU64,
    throttled: AtomicU64,
    requests: AtomicU64,
    per_shard: Mutex<BTreeMap<String, u64>>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Records acknowledged.
    pub records: u64,
    /// Bytes (data + partition key) acknowledged.
    pub bytes: u64,
    /// Record resends (a record resent twice counts twice).
    pub retried: u64,
    /// Records (or whole requests' records) refused with throttling.
    pub throttled: u64,
    /// PutRecords calls made.
    pub requests: u64,
    /// Records acknowledged per shard.
    pub per_shard: BTreeMap<String, u64>,
}

impl Stats {
    /// Counters that list `shards` with 0 from the start, so the summary shows idle shards.
    pub fn with_shards<'a>(shards: impl IntoIterator<Item = &'a str>) -> Self {
        let s = Self::default();
        {
            let mut m = s.per_shard.lock().unwrap_or_else(PoisonError::into_inner);
            for id in shards {
                m.insert(id.to_string(), 0);
            }
        }
        s
    }

    /// Records of one response that were stored: shard → (records, bytes).
    pub(crate) fn add_stored(&self, stored: BTreeMap<String, (u64, u64)>) {
        let mut m = self.per_shard.lock().unwrap_or_else(PoisonError::into_inner);
        for (shard, (n, bytes)) in stored {
            *m.entry(shard).or_default() += n;
            self.records.fetch_add(n, Ordering::Relaxed);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Records about to be resent.
    pub(crate) fn add_retried(&self, n: u64) {
        self.retried.fetch_add(n, Ordering::Relaxed);
    }

    /// Records refused with throttling.
    pub(crate) fn add_throttled(&self, n: u64) {
        self.throttled.fetch_add(n, Ordering::Relaxed);
    }

    /// One PutRecords call.
    pub(crate) fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Records acknowledged so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// A copy of everything.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            records: self.records.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            per_shard: self
                .per_shard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}
