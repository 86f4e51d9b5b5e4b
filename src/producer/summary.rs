//! The end-of-run summary: a few human lines, or one JSON object for scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::stats::Snapshot;

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Stream written to.
    pub stream: String,
    /// Records acknowledged.
    pub records: u64,
    /// Bytes acknowledged (data + partition keys).
    pub bytes: u64,
    /// Records acknowledged per shard.
    pub shards: BTreeMap<String, u64>,
    /// Record resends after throttling or other failures.
    pub retries: u64,
    /// Records refused with ProvisionedThroughputExceededException.
    pub throttled: u64,
    /// PutRecords calls.
    pub requests: u64,
    /// Seconds from the first record to the last acknowledgement.
    pub elapsed_seconds: f64,
    /// `records / elapsed_seconds`.
    pub records_per_second: f64,
    /// Stopped by Ctrl+C.
    pub interrupted: bool,
}

impl Summary {
    /// Builds the summary from the final counters.
    pub fn new(stream: &str, s: Snapshot, elapsed: Duration, interrupted: bool) -> Self {
        let secs = elapsed.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let rate = if secs > 0.0 { s.records as f64 / secs } else { 0.0 };
        Self {
            stream: stream.to_string(),
            records: s.records,
            bytes: s.bytes,
            shards: s.per_shard,
            retries: s.retried,
            throttled: s.throttled,
            requests: s.requests,
            elapsed_seconds: (secs * 1000.0).round() / 1000.0,
            records_per_second: (rate * 10.0).round() / 10.0,
            interrupted,
        }
    }

    /// One JSON object and a newline.
    pub fn to_json_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// A few lines for people.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} records ({}) to '{}' in {:.2} s: {:.0} records/s",
            if self.interrupted {
                "interrupted after"
            } else {
                "sent"
            },
            self.records,
            human_bytes(self.bytes),
            self.stream,
            self.elapsed_seconds,
            self.records_per_second
        );
        let width = self.shards.keys().map(String::len).max().unwrap_or(0);
        for (shard, n) in &self.shards {
            let _ = writeln!(out, "  {shard:<width$}  {n}");
        }
        let _ = writeln!(
            out,
            "  {} PutRecords calls, {} records resent ({} throttled)",
            self.requests, self.retries, self.throttled
        );
        out
    }
}

/// `1.9 MiB`, `512 B`.
pub(crate) fn human_bytes(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.1} KiB", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", f / (1024.0 * 1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_carry_the_figures() {
        let snap = Snapshot {
            records: 1000,
            bytes: 200_000,
            retried: 3,
            throttled: 3,
            requests: 3,
            per_shard: [
                ("shardId-000000000000".to_string(), 500),
                ("shardId-000000000001".to_string(), 500),
            ]
            .into_iter()
            .collect(),
        };
        let s = Summary::new("orders", snap, Duration::from_millis(500), false);
        let v: serde_json::Value = serde_json::from_str(&s.to_json_line()).expect("json");
        assert_eq!(v["records"], 1000);
        assert_eq!(v["shards"]["shardId-000000000001"], 500);
        assert_eq!(v["records_per_second"], 2000.0);
        assert_eq!(v["retries"], 3);
        let text = s.to_text();
        assert!(
            text.starts_with("sent 1000 records (195.3 KiB) to 'orders'"),
            "{text}"
        );
        assert!(text.contains("shardId-000000000001  500"));
    }
}
