//! `--max-records`: a budget of records the readers draw from before each batch, so that the
//! run stops after exactly that many were handed to the function.

use std::sync::atomic::{AtomicU64, Ordering};

/// What is left of `--max-records` (nothing to count without the flag).
#[derive(Debug)]
pub struct Budget {
    remaining: Option<AtomicU64>,
}

impl Budget {
    /// A budget of `max` records, or an unlimited one.
    pub fn new(max: Option<u64>) -> Self {
        Self {
            remaining: max.map(AtomicU64::new),
        }
    }

    /// Takes up to `want` records.
    pub(crate) fn reserve(&self, want: usize) -> usize {
        let Some(rem) = &self.remaining else {
            return want;
        };
        let want = want as u64;
        let mut cur = rem.load(Ordering::Relaxed);
        loop {
            let take = cur.min(want);
            match rem.compare_exchange(cur, cur - take, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return usize::try_from(take).unwrap_or(0),
                Err(now) => cur = now,
            }
        }
    }

    /// Gives back what a batch did not use.
    pub(crate) fn unreserve(&self, n: usize) {
        if let Some(rem) = &self.remaining {
            rem.fetch_add(n as u64, Ordering::AcqRel);
        }
    }

    /// Whether everything was handed out.
    pub(crate) fn spent(&self) -> bool {
        self.remaining
            .as_ref()
            .is_some_and(|r| r.load(Ordering::Acquire) == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_exactly_the_budget() {
        let b = Budget::new(Some(250));
        assert_eq!(b.reserve(100), 100);
        assert_eq!(b.reserve(100), 100);
        assert_eq!(b.reserve(100), 50);
        assert!(b.spent());
        b.unreserve(20);
        assert!(!b.spent());
        assert_eq!(b.reserve(100), 20);
        let unlimited = Budget::new(None);
        assert_eq!(unlimited.reserve(100), 100);
        assert!(!unlimited.spent());
    }
}
