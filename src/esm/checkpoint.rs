//! The KCL checkpoint of a shard, typed: the one place where the lease table's `checkpoint`
//! strings (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END` or a sequence number) are
//! parsed and printed. The reader, the lease table and `kinlocal status` all go through it.

use std::fmt;
use std::str::FromStr;

use super::record::SequenceNumber;

/// Where a shard's processing stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Checkpoint {
    /// Nothing processed; start at the oldest record (`TRIM_HORIZON`).
    TrimHorizon,
    /// Nothing processed; start after the newest record at the time reading starts (`LATEST`).
    Latest,
    /// Nothing processed; start at the ESM's starting timestamp (`AT_TIMESTAMP`).
    AtTimestamp,
    /// The shard was read to its end (`SHARD_END`).
    ShardEnd,
    /// Every record up to and including this one was processed.
    After(SequenceNumber),
}

/// A `checkpoint` value that is neither a sentinel nor a sequence number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is neither a sequence number nor TRIM_HORIZON, LATEST, AT_TIMESTAMP or SHARD_END")]
pub struct BadCheckpoint(pub String);

impl Checkpoint {
    /// The stored form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::TrimHorizon => "TRIM_HORIZON",
            Self::Latest => "LATEST",
            Self::AtTimestamp => "AT_TIMESTAMP",
            Self::ShardEnd => "SHARD_END",
            Self::After(seq) => seq.as_str(),
        }
    }

    /// The shard was read to its end.
    pub(crate) fn is_shard_end(&self) -> bool {
        matches!(self, Self::ShardEnd)
    }
}

impl FromStr for Checkpoint {
    type Err = BadCheckpoint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "TRIM_HORIZON" => Self::TrimHorizon,
            "LATEST" => Self::Latest,
            "AT_TIMESTAMP" => Self::AtTimestamp,
            "SHARD_END" => Self::ShardEnd,
            seq if !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) => {
                Self::After(SequenceNumber::new(seq))
            }
            other => return Err(BadCheckpoint(other.to_string())),
        })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_round_trips() {
        for s in [
            "TRIM_HORIZON",
            "LATEST",
            "AT_TIMESTAMP",
            "SHARD_END",
            "49590338271490256608559692538361571095921575989136588898",
        ] {
            let c: Checkpoint = s.parse().expect("parses");
            assert_eq!(c.to_string(), s);
        }
        assert_eq!("SHARD_END".parse::<Checkpoint>(), Ok(Checkpoint::ShardEnd));
        assert!(matches!("123".parse::<Checkpoint>(), Ok(Checkpoint::After(_))));
    }

    #[test]
    fn anything_else_is_refused() {
        for s in ["", "trim_horizon", "12a", "-1", "AFTER_SEQUENCE_NUMBER"] {
            assert_eq!(s.parse::<Checkpoint>(), Err(BadCheckpoint(s.to_string())));
        }
    }
}
