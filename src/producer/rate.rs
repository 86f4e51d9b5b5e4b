//! `--rate R`: pacing by deadline. Record n is due at `start + n / R`; computing each due time
//! from the start (not from the previous record) means sleep overshoot never accumulates, so
//! the average rate holds. Sleeps are at least a few milliseconds so that high rates send
//! small batches rather than one request per record.

use std::time::{Duration, Instant};

/// Shortest sleep: records due within it are sent together.
pub(crate) const MIN_SLEEP: Duration = Duration::from_millis(5);

/// When each record is due.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacer {
    start: Instant,
    rate: f64,
}

impl Pacer {
    /// `rate` records per second from `start`.
    pub fn new(start: Instant, rate: f64) -> Self {
        Self { start, rate }
    }

    /// When record `n` (0-based) is due.
    pub(crate) fn due(&self, n: u64) -> Instant {
        #[allow(clippy::cast_precision_loss)]
        let secs = n as f64 / self.rate;
        self.start + Duration::from_secs_f64(secs.min(1e12))
    }

    /// `None` when record `n` may go now; else when to wake up (at least `MIN_SLEEP` away).
    pub(crate) fn wait_until(&self, n: u64, now: Instant) -> Option<Instant> {
        let due = self.due(n);
        (due > now).then(|| due.max(now + MIN_SLEEP))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_follow_the_rate_from_the_start() {
        let start = Instant::now();
        let p = Pacer::new(start, 100.0);
        assert_eq!(p.due(0), start);
        assert_eq!(p.due(100), start + Duration::from_secs(1));
        assert_eq!(p.due(250), start + Duration::from_millis(2500));
    }

    #[test]
    fn due_records_go_and_early_ones_wait_at_least_min_sleep() {
        let start = Instant::now();
        let p = Pacer::new(start, 10_000.0);
        assert_eq!(p.wait_until(0, start), None);
        let wake = p.wait_until(1, start).expect("not yet");
        assert_eq!(wake, start + MIN_SLEEP);
        let p = Pacer::new(start, 2.0);
        assert_eq!(p.wait_until(1, start), Some(start + Duration::from_millis(500)));
        assert_eq!(p.wait_until(1, start + Duration::from_millis(500)), None);
    }

    #[test]
    fn simulated_run_holds_the_rate() {
        // Walk a virtual clock the way the generator does: send what is due, then sleep.
        let start = Instant::now();
        let rate = 1234.0;
        let p = Pacer::new(start, rate);
        let mut now = start;
        let end = start + Duration::from_secs(10);
        let mut n = 0u64;
        while now < end {
            match p.wait_until(n, now) {
                None => n += 1,
                Some(wake) => now = wake.min(end),
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let achieved = n as f64 / 10.0;
        assert!((achieved - rate).abs() / rate < 0.01, "{achieved}");
    }
}
