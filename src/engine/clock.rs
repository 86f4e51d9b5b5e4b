//! The engine's clock: wall time plus an offset that tests can move (to age records past
//! retention, expire iterators, or make records look old to a consumer).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, shiftable by a shared offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The current time in epoch milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        (wall + self.offset_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Moves the clock by `ms` (negative moves it back). Shared by every clone.
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
