//! Gathers a shard's records into batches the way Lambda does (spec §2.2): a batch goes out
//! when `BatchSize` records are there, when the batching window (opened when the previous
//! invocation completed) expires, or when one more record would push the event past 6 MB.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::event;
use super::record::PreparedRecord;

/// Lambda's synchronous invocation payload limit ("6 MB", which is 6 MiB).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The records read from one shard and not yet handed out, in shard order.
#[derive(Debug)]
pub(crate) struct Batcher {
    buf: VecDeque<PreparedRecord>,
    batch_size: usize,
    max_bytes: usize,
    window: Duration,
}

impl Batcher {
    /// A batcher for `BatchSize`, `MaximumBatchingWindow` and a payload limit.
    pub fn new(batch_size: usize, window: Duration, max_bytes: usize) -> Self {
        Self {
            buf: VecDeque::new(),
            batch_size: batch_size.max(1),
            max_bytes,
            window,
        }
    }

    /// Appends records read from the shard.
    pub fn extend(&mut self, records: impl IntoIterator<Item = PreparedRecord>) {
        self.buf.extend(records);
    }

    /// Records waiting.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything waiting (after an iterator is renewed from the checkpoint).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// How many leading records the next batch holds: up to `limit` and `BatchSize`, cut
    /// before the record that would take the event past the payload limit; never 0 when
    /// records wait (a single oversized record goes alone).
    fn next_len(&self, limit: usize) -> usize {
        self.next_len_reserving(limit, 0)
    }

    /// [`Self::next_len`] leaving `reserve` bytes of the payload for what goes around the
    /// records (a tumbling window's envelope and state).
    fn next_len_reserving(&self, limit: usize, reserve: usize) -> usize {
        let cap = self.batch_size.min(limit).min(self.buf.len());
        let mut size = event::ENVELOPE_BYTES + reserve;
        for (i, r) in self.buf.iter().take(cap).enumerate() {
            size += r.json.len() + usize::from(i > 0);
            if size > self.max_bytes {
                return i.max(1);
            }
        }
        cap
    }

    /// Whether a full batch is waiting (by count or by size).
    pub fn full(&self) -> bool {
        let n = self.next_len(usize::MAX);
        n >= self.batch_size || n < self.buf.len()
    }

    /// Whether a batch should go out now, the window having opened at `window_start`.
    pub fn ready(&self, window_start: Instant, now: Instant) -> bool {
        !self.buf.is_empty() && (self.window.is_zero() || self.full() || now >= window_start + self.window)
    }

    /// When the window opened at `window_start` expires.
    pub(crate) fn window_end(&self, window_start: Instant) -> Instant {
        window_start + self.window
    }

    /// Takes the next batch (at most `limit` records).
    pub fn take(&mut self, limit: usize) -> Vec<PreparedRecord> {
        self.take_reserving(limit, 0)
    }

    /// Takes the next batch (at most `limit` records), cut so that `reserve` more bytes still
    /// fit in the payload.
    pub(crate) fn take_reserving(&mut self, limit: usize, reserve: usize) -> Vec<PreparedRecord> {
        let n = self.next_len_reserving(limit, reserve);
        self.buf.drain(..n).collect()
    }

    /// Arrival times (Unix ms) of the records waiting, in shard order.
    pub fn arrivals(&self) -> impl Iterator<Item = i64> + '_ {
        self.buf.iter().map(|r| r.arrival_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::record::SequenceNumber;

    fn rec(i: usize, bytes: usize) -> PreparedRecord {
        PreparedRecord {
            sequence_number: SequenceNumber::new(i.to_string()),
            arrival_ms: 0,
            json: vec![b'x'; bytes],
        }
    }

    #[test]
    fn cuts_at_batch_size_in_order() {
        let mut b = Batcher::new(3, Duration::ZERO, MAX_PAYLOAD_BYTES);
        b.extend((1..=7).map(|i| rec(i, 10)));
        let sizes: Vec<Vec<String>> = std::iter::from_fn(|| {
            (!b.is_empty()).then(|| {
                b.take(usize::MAX)
                    .iter()
                    .map(|r| r.sequence_number.to_string())
                    .collect()
            })
        })
        .collect();
        assert_eq!(sizes, vec![vec!["1", "2", "3"], vec!["4", "5", "6"], vec!["7"]]);
    }

    #[test]
    fn cuts_before_the_payload_limit_and_sends_an_oversized_record_alone() {
        let max = 100;
        let mut b = Batcher::new(10, Duration::ZERO, max);
        // envelope 14 + 40 + 1 + 40 = 95 fits; a third would not.
        b.extend((1..=3).map(|i| rec(i, 40)));
        assert!(b.full());
        let first = b.take(usize::MAX);
        assert_eq!(first.len(), 2);
        assert!(event::event_size(&first) <= max);
        b.clear();
        b.extend([rec(9, 500), rec(10, 1)]);
        assert_eq!(b.take(usize::MAX).len(), 1);
        assert_eq!(b.take(usize::MAX).len(), 1);
    }

    #[test]
    fn take_respects_a_record_budget() {
        let mut b = Batcher::new(100, Duration::ZERO, MAX_PAYLOAD_BYTES);
        b.extend((1..=10).map(|i| rec(i, 1)));
        assert_eq!(b.take(4).len(), 4);
        assert_eq!(b.len(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_holds_a_partial_batch_until_it_expires() {
        let mut b = Batcher::new(10, Duration::from_secs(2), MAX_PAYLOAD_BYTES);
        let start = Instant::now();
        assert!(!b.ready(start, Instant::now()), "nothing to send");
        b.extend((1..=3).map(|i| rec(i, 1)));
        assert!(!b.ready(start, Instant::now()));
        tokio::time::advance(Duration::from_millis(1999)).await;
        assert!(!b.ready(start, Instant::now()));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(b.ready(start, Instant::now()));
        b.extend((4..=10).map(|i| rec(i, 1)));
        assert!(
            b.ready(Instant::now(), Instant::now()),
            "a full batch goes at once"
        );
    }
}
