//! Exponential backoff: the one doubling rule every retry and wait loop uses (a failing batch,
//! an on-failure destination, a stream becoming `ACTIVE`, a PutRecords resend).

use std::time::Duration;

/// Delays that start at `base` and double on every attempt up to `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The delay before the first retry.
    pub base: Duration,
    /// The largest delay.
    pub cap: Duration,
}

impl Backoff {
    /// Starts at `base`, doubles up to `cap`.
    pub const fn new(base: Duration, cap: Duration) -> Self {
        Self { base, cap }
    }

    /// The delay before attempt number `attempt` (1-based): `min(cap, base × 2^(attempt−1))`.
    pub fn delay(&self, attempt: u32) -> Duration {
        // 2^20 × any sensible base is past any sensible cap; the shift must not overflow.
        let shift = attempt.saturating_sub(1).min(20);
        self.base.saturating_mul(1 << shift).min(self.cap)
    }

    /// The delay with full jitter (`jitter` in `[0, 1)`), so that many clients retrying at
    /// once spread out: `jitter × delay(attempt)`.
    pub(crate) fn jittered(&self, attempt: u32, jitter: f64) -> Duration {
        self.delay(attempt).mul_f64(jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let delays: Vec<u128> = (1..=7).map(|a| b.delay(a).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(b.delay(0), Duration::from_millis(100), "attempt 0 is the first");
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(2), "no overflow");
    }

    #[test]
    fn full_jitter_scales_the_delay() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        assert_eq!(b.jittered(3, 0.5), Duration::from_millis(200));
        assert_eq!(b.jittered(3, 0.0), Duration::ZERO);
        assert_eq!(b.jittered(3, 7.0), Duration::from_millis(400), "clamped to 1");
    }
}
