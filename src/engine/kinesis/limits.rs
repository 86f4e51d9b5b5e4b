//! Per-shard throughput accounting for `--enforce-limits`: writes 1 MiB/s and 1,000 records/s,
//! reads 5 calls/s and 2 MiB/s, over one-second windows.
//!
//! A record larger than a second's write allowance (records go up to 10 MiB since 2025) is
//! accepted into an otherwise unused window; the excess is carried into the following
//! windows, so the shard still sustains 1 MiB/s.

/// Write limit in bytes per second per shard.
pub(crate) const WRITE_BYTES_PER_SEC: u64 = 1024 * 1024;
/// Write limit in records per second per shard.
pub(crate) const WRITE_RECORDS_PER_SEC: u64 = 1000;
/// Read limit in GetRecords calls per second per shard.
pub(crate) const READ_CALLS_PER_SEC: u64 = 5;
/// Read limit in bytes per second per shard.
pub(crate) const READ_BYTES_PER_SEC: u64 = 2 * 1024 * 1024;

/// Usage of one shard in the current one-second window.
#[derive(Debug, Default, Clone)]
pub(crate) struct Meter {
    window_sec: u64,
    write_bytes: u64,
    write_records: u64,
    read_calls: u64,
    read_bytes: u64,
}

impl Meter {
    fn roll(&mut self, now_ms: u64) {
        let sec = now_ms / 1000;
        if sec != self.window_sec {
            let elapsed = sec.saturating_sub(self.window_sec);
            let carried = self
                .write_bytes
                .saturating_sub(WRITE_BYTES_PER_SEC.saturating_mul(elapsed));
            *self = Meter {
                window_sec: sec,
                write_bytes: carried,
                ..Meter::default()
            };
        }
    }

    /// Accounts one record write; `false` when it would exceed the shard's write limit.
    pub(crate) fn try_write(&mut self, now_ms: u64, bytes: u64) -> bool {
        self.roll(now_ms);
        let fits = self.write_bytes == 0 || self.write_bytes + bytes <= WRITE_BYTES_PER_SEC;
        if self.write_records + 1 > WRITE_RECORDS_PER_SEC || !fits {
            return false;
        }
        self.write_records += 1;
        self.write_bytes += bytes;
        true
    }

    /// Accounts one GetRecords call; `false` when the shard's read limit is exhausted.
    pub(crate) fn try_read_call(&mut self, now_ms: u64) -> bool {
        self.roll(now_ms);
        if self.read_calls + 1 > READ_CALLS_PER_SEC || self.read_bytes >= READ_BYTES_PER_SEC {
            return false;
        }
        self.read_calls += 1;
        true
    }

    /// Accounts bytes returned by a GetRecords call.
    pub(crate) fn add_read_bytes(&mut self, bytes: u64) {
        self.read_bytes += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_limit_resets_each_second() {
        let mut m = Meter::default();
        for _ in 0..1000 {
            assert!(m.try_write(5_000, 10));
        }
        assert!(!m.try_write(5_999, 10));
        assert!(m.try_write(6_000, 10));
    }

    #[test]
    fn a_large_record_takes_an_empty_window_and_its_excess_carries_over() {
        let mut m = Meter::default();
        let ten_mib = 10 * WRITE_BYTES_PER_SEC;
        assert!(m.try_write(1_000, ten_mib));
        assert!(!m.try_write(1_500, 1));
        // Nine seconds later 1 MiB of the excess remains; at ten the shard is free again.
        assert!(!m.try_write(10_000, 1));
        assert!(m.try_write(11_000, 10));
    }

    #[test]
    fn read_calls_limited_to_five() {
        let mut m = Meter::default();
        for _ in 0..5 {
            assert!(m.try_read_call(1_000));
        }
        assert!(!m.try_read_call(1_500));
        assert!(m.try_read_call(2_000));
    }
}
