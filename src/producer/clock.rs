//! The time written into generated records: the wall clock, or — with `--seed` — a virtual
//! clock that starts at a fixed instant and advances by random steps, so a seeded run
//! reproduces its timestamps too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::{Rng, RngCore};

/// Where the virtual clock starts: 2025-01-01T00:00:00Z.
const VIRTUAL_START_MS: u64 = 1_735_689_600_000;

/// Timestamps for records, one reading per record.
#[derive(Debug, Clone)]
pub(crate) enum EventClock {
    /// The wall clock.
    Real,
    /// Milliseconds since the epoch, advanced 0–20 ms per record.
    Virtual(u64),
}

impl EventClock {
    /// The clock for a run: virtual when seeded.
    pub fn new(seeded: bool) -> Self {
        if seeded {
            Self::Virtual(VIRTUAL_START_MS)
        } else {
            Self::Real
        }
    }

    /// The time of the next record, in milliseconds since the epoch. The virtual clock draws
    /// from `rng`; the real one does not, so seeding never depends on the wall clock.
    pub(crate) fn tick<R: RngCore>(&mut self, rng: &mut R) -> u64 {
        match self {
            Self::Real => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            Self::Virtual(ms) => {
                *ms += rng.random_range(0..=20);
                *ms
            }
        }
    }
}

/// `2025-01-01T00:00:00.123Z` for a time in epoch milliseconds.
pub(crate) fn iso_millis(epoch_ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(epoch_ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn iso_has_milliseconds_and_z() {
        assert_eq!(iso_millis(VIRTUAL_START_MS + 123), "2025-01-01T00:00:00.123Z");
    }

    #[test]
    fn virtual_clock_is_reproducible_and_monotonic() {
        let run = || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(9);
            let mut c = EventClock::new(true);
            (0..100).map(|_| c.tick(&mut rng)).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
    }
}
