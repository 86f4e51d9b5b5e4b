//! `ParallelizationFactor` (spec §2.4): which lane of a shard a record goes to, and the shard's
//! checkpoint while lanes progress unevenly.
//!
//! A record's lane is its partition key's MD5 (the hash Kinesis itself routes keys by, so it
//! is stable across runs, machines and versions) modulo the factor: one key always lands in
//! one lane, where records run in order, one batch at a time. The shard checkpoint is the
//! highest sequence number below which every record handed to any lane (or filtered out) is
//! done, so a restart after a crash may deliver records again but never skips one.

use std::collections::VecDeque;

use md5::{Digest, Md5};

use super::record::SequenceNumber;

/// The largest `ParallelizationFactor` Lambda accepts.
pub(crate) const MAX_PARALLELIZATION_FACTOR: usize = 10;

/// The lane (0-based, below `factor`) of a partition key.
pub fn lane_of(partition_key: &str, factor: usize) -> usize {
    if factor <= 1 {
        return 0;
    }
    let digest = Md5::digest(partition_key.as_bytes());
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest);
    let hash = u128::from_be_bytes(bytes);
    // factor ≤ 10, so both conversions are exact.
    usize::try_from(hash % factor as u128).unwrap_or(0)
}

/// Splits records (in shard order) into `factor` lanes, keeping shard order within each lane.
#[cfg(test)]
pub(crate) fn route<T>(
    records: impl IntoIterator<Item = T>,
    factor: usize,
    partition_key: impl Fn(&T) -> &str,
) -> Vec<Vec<T>> {
    let factor = factor.max(1);
    let mut lanes: Vec<Vec<T>> = (0..factor).map(|_| Vec::new()).collect();
    for r in records {
        let lane = lane_of(partition_key(&r), factor);
        lanes[lane].push(r);
    }
    lanes
}

/// The shard checkpoint across lanes: records are registered in shard order as they are
/// handed to a lane (or filtered out), marked done as lanes finish them (success or discard),
/// and the checkpoint is the last record of the longest fully-done prefix.
#[derive(Debug, Default)]
pub(crate) struct CheckpointTracker {
    /// Registered records not yet below the checkpoint, in shard order, with their done flag.
    pending: VecDeque<(SequenceNumber, bool)>,
    checkpoint: Option<SequenceNumber>,
}

/// A record was marked done that the tracker does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sequence number {0} was never handed to a lane (or is already below the checkpoint)")]
pub(crate) struct UnknownRecord(pub String);

impl CheckpointTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a record handed to a lane. Records must come in shard order; an older one
    /// (a re-read after an iterator renewal) is ignored.
    pub(crate) fn dispatched(&mut self, seq: SequenceNumber) {
        let newer = self
            .pending
            .back()
            .map(|(last, _)| last)
            .or(self.checkpoint.as_ref())
            .is_none_or(|last| seq > *last);
        if newer {
            self.pending.push_back((seq, false));
        }
    }

    /// Registers a record that needs no lane (filtered out): done at once.
    pub fn skipped(&mut self, seq: SequenceNumber) {
        self.dispatched(seq.clone());
        // Only fails for an old record, which `dispatched` ignored on purpose.
        let _ = self.done(&seq);
    }

    /// Marks one record done (delivered, or discarded to the on-failure destination).
    pub fn done(&mut self, seq: &SequenceNumber) -> Result<(), UnknownRecord> {
        match self.pending.binary_search_by(|(s, _)| s.cmp(seq)) {
            Ok(i) => {
                self.pending[i].1 = true;
                self.settle();
                Ok(())
            }
            Err(_) => Err(UnknownRecord(seq.to_string())),
        }
    }

    /// Marks records done; returns whether the checkpoint moved.
    #[cfg(test)]
    pub(crate) fn done_all<'a>(
        &mut self,
        seqs: impl IntoIterator<Item = &'a SequenceNumber>,
    ) -> Result<bool, UnknownRecord> {
        let before = self.checkpoint.clone();
        for s in seqs {
            self.done(s)?;
        }
        Ok(before != self.checkpoint)
    }

    fn settle(&mut self) {
        while let Some((_, true)) = self.pending.front() {
            if let Some((seq, _)) = self.pending.pop_front() {
                self.checkpoint = Some(seq);
            }
        }
    }

    /// The highest sequence number below which (inclusive) everything is done.
    pub fn checkpoint(&self) -> Option<&SequenceNumber> {
        self.checkpoint.as_ref()
    }

    /// Records handed out and not yet below the checkpoint.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Whether every registered record is done.
    #[cfg(test)]
    pub(crate) fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn seq(n: u64) -> SequenceNumber {
        // Fixed width, like real sequence numbers of one shard.
        SequenceNumber::new(format!("4959{n:0>20}"))
    }

    #[test]
    fn one_key_always_goes_to_one_lane_and_keys_spread() {
        for factor in 1..=MAX_PARALLELIZATION_FACTOR {
            let mut used = vec![0_usize; factor];
            for k in 0..2000 {
                let key = format!("key-{k}");
                let lane = lane_of(&key, factor);
                assert!(lane < factor);
                assert_eq!(lane, lane_of(&key, factor), "stable");
                used[lane] += 1;
            }
            // 2000 keys over ≤10 lanes: every lane gets a fair share.
            assert!(used.iter().all(|&n| n > 2000 / factor / 2), "{factor}: {used:?}");
        }
        assert_eq!(lane_of("anything", 0), 0);
    }

    /// Pinned values: the lane of a key must not change between versions, or a restart with
    /// in-flight records could reorder a key across lanes.
    #[test]
    fn lanes_are_md5_modulo_the_factor() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        let h = 0x0cc1_75b9_c0f1_b6a8_31c3_99e2_6977_2661_u128;
        for f in 2..=10_u128 {
            assert_eq!(lane_of("a", f as usize) as u128, h % f);
        }
    }

    #[test]
    fn routing_keeps_shard_order_within_each_lane() {
        let records: Vec<(String, u32)> = (0..500).map(|i| (format!("k{}", i % 37), i)).collect();
        let lanes = route(records.clone(), 4, |r| r.0.as_str());
        assert_eq!(lanes.iter().map(Vec::len).sum::<usize>(), records.len());
        for lane in &lanes {
            assert!(lane.windows(2).all(|w| w[0].1 < w[1].1), "in order");
        }
        for key in 0..37 {
            let k = format!("k{key}");
            let holding = lanes.iter().filter(|l| l.iter().any(|r| r.0 == k)).count();
            assert_eq!(holding, 1, "{k} is in exactly one lane");
        }
    }

    #[test]
    fn checkpoint_waits_for_the_slowest_lane() {
        let mut t = CheckpointTracker::new();
        for n in 1..=6 {
            t.dispatched(seq(n));
        }
        assert_eq!(t.checkpoint(), None);
        // Lane B finishes 2, 4, 6 first: nothing is safe to checkpoint yet.
        assert_eq!(t.done_all(&[seq(2), seq(4), seq(6)]), Ok(false));
        assert_eq!(t.checkpoint(), None);
        t.done(&seq(1)).ok();
        assert_eq!(t.checkpoint(), Some(&seq(2)));
        t.done(&seq(5)).ok();
        assert_eq!(t.checkpoint(), Some(&seq(2)));
        assert_eq!(t.done_all(&[seq(3)]), Ok(true));
        assert_eq!(t.checkpoint(), Some(&seq(6)));
        assert!(t.is_idle());
        assert_eq!(t.done(&seq(3)), Err(UnknownRecord(seq(3).to_string())));
    }

    #[test]
    fn filtered_records_move_the_checkpoint_when_nothing_is_before_them() {
        let mut t = CheckpointTracker::new();
        t.skipped(seq(1));
        t.skipped(seq(2));
        assert_eq!(
            t.checkpoint(),
            Some(&seq(2)),
            "an all-filtered poll is checkpointed past"
        );
        t.dispatched(seq(3));
        t.skipped(seq(4));
        assert_eq!(t.checkpoint(), Some(&seq(2)), "not past a record still in a lane");
        t.done(&seq(3)).ok();
        assert_eq!(t.checkpoint(), Some(&seq(4)));
    }

    #[test]
    fn re_read_records_are_ignored() {
        let mut t = CheckpointTracker::new();
        t.dispatched(seq(5));
        t.dispatched(seq(3));
        assert_eq!(t.outstanding(), 1);
        t.done(&seq(5)).ok();
        t.dispatched(seq(5));
        assert!(t.is_idle(), "already below the checkpoint");
    }

    /// Random interleavings of lanes finishing their records in lane order: the checkpoint is
    /// always exactly the longest done prefix, never past an unfinished record.
    #[test]
    fn checkpoint_is_the_longest_done_prefix_under_any_interleaving() {
        let mut rng = StdRng::seed_from_u64(7);
        for _round in 0..50 {
            let factor = rng.random_range(1..=10);
            let n = rng.random_range(1..300_u64);
            let mut t = CheckpointTracker::new();
            let mut lanes: Vec<VecDeque<u64>> = vec![VecDeque::new(); factor];
            for i in 0..n {
                t.dispatched(seq(i));
                lanes[lane_of(&format!("k{}", rng.random_range(0..50)), factor)].push_back(i);
            }
            let mut done = vec![false; n as usize];
            while lanes.iter().any(|l| !l.is_empty()) {
                let lane = rng.random_range(0..factor);
                let take = rng.random_range(1..=5);
                let batch: Vec<u64> = (0..take).filter_map(|_| lanes[lane].pop_front()).collect();
                for &i in &batch {
                    done[i as usize] = true;
                }
                t.done_all(&batch.iter().map(|&i| seq(i)).collect::<Vec<_>>())
                    .ok();
                let prefix = done.iter().take_while(|d| **d).count() as u64;
                let want = prefix.checked_sub(1).map(seq);
                assert_eq!(t.checkpoint(), want.as_ref());
            }
            assert!(t.is_idle());
        }
    }
}
