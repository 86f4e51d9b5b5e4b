//! The records a shard reader hands on: Kinesis sequence numbers (compared by numeric value,
//! never as integers) and a record already serialised into its Lambda event entry.

use std::cmp::Ordering;
use std::fmt;

/// A Kinesis sequence number: a decimal string of about 56 digits, wider than `u128`.
/// Ordered by numeric value (length first, then digits), which is what shard order means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SequenceNumber(String);

impl SequenceNumber {
    /// Wraps a sequence number as Kinesis returned it. Leading zeros never occur on the wire,
    /// so comparing by length then digits is comparing by value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The decimal string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record read from a shard, with its Lambda event entry serialised once at read time so that
/// batching can cut at 6 MB on exact sizes and retries re-send the same bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRecord {
    /// Its sequence number (the partial-batch-response identifier).
    pub sequence_number: SequenceNumber,
    /// Server-side arrival time, Unix milliseconds (record age is measured from it).
    pub arrival_ms: i64,
    /// The record's entry in `Records`, exactly as it goes on the wire.
    pub json: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_by_value_not_as_text() {
        let small = SequenceNumber::new("9");
        let big = SequenceNumber::new("10");
        assert!(small < big, "a shorter decimal is smaller");
        let a = SequenceNumber::new("49590338271490256608559692538361571095921575989136588898");
        let b = SequenceNumber::new("49590338271490256608559692540925702759324208523137515618");
        assert!(a < b);
        assert_eq!(a.cmp(&a.clone()), Ordering::Equal);
    }
}
