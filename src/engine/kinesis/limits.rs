//! Per-shard throughput accounting for `--enforce-limits`: writes 1 MiB/s and 1,000 records/s,
//! reads 5 calls/s and 2 MiB/s, over one-second windows.

/// Write limit in bytes per second per shard.
pub const WRITE_BYTES_PER_SEC: u64 = 1024 * 1024;
/// Write limit in records per second per shard.
pub const WRITE_RECORDS_PER_SEC: u64 = 1000;
/// Read limit in GetRecords calls per second per shard.
pub const READ_CALLS_PER_SEC: u64 = 5;
/// Read limit in bytes per second per shard.
pub const READ_BYTES_PER_SEC: u64 = 2 * 1024 * 1024;

/// Usage of one shard in the current one-second window.
#[derive(Debug, Default, Clone)]
pub struct Meter {
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
            *self = Meter {
                window_sec: sec,
                ..Meter::default()
            };
        }
    }

    /// Accounts one record write; `false` when it would exceed the shard's write limit.
    pub fn try_write(&mut self, now_ms: u64, bytes: u64) -> bool {
        self.roll(now_ms);
        if self.write_records + 1 > WRITE_RECORDS_PER_SEC || self.write_bytes + bytes > WRITE_BYTES_PER_SEC {
            return false;
        }
        self.write_records += 1;
        self.write_bytes += bytes;
        true
    }

    /// Accounts one GetRecords call; `false` when the shard's read limit is exhausted.
    pub fn try_read_call(&mut self, now_ms: u64) -> bool {
        self.roll(now_ms);
        if self.read_calls + 1 > READ_CALLS_PER_SEC || self.read_bytes >= READ_BYTES_PER_SEC {
            return false;
        }
        self.read_calls += 1;
        true
    }

    /// Accounts bytes returned by a GetRecords call.
    pub fn add_read_bytes(&mut self, bytes: u64) {
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
    fn read_calls_limited_to_five() {
        let mut m = Meter::default();
        for _ in 0..5 {
            assert!(m.try_read_call(1_000));
        }
        assert!(!m.try_read_call(1_500));
        assert!(m.try_read_call(2_000));
    }
}
