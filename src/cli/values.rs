//! Value parsers shared by every subcommand's flags: one duration syntax with one message, and
//! counts that explain themselves (clap's own messages name internal types or, for `-5`, say
//! "unexpected argument"), plus the flag-only types they produce. Domain modules never see
//! these: commands turn them into plain settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::esm::config::DestinationSpec;

/// The one message for a bad duration, whichever flag it is.
pub(crate) const DURATION_HINT: &str = "expected a duration like 500ms, 2s or 1m";

/// A duration: `500ms`, `2s`, `1m`, `1h30m`; a bare number is seconds, as in Lambda's API.
pub fn duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(t).map_err(|_| format!("'{s}' is not a duration: {DURATION_HINT}"))
}

/// A duration longer than zero.
pub(crate) fn positive_duration(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d.is_zero() {
        return Err(format!("'{s}' is zero: {DURATION_HINT}, longer than zero"));
    }
    Ok(d)
}

/// A tumbling window (`TumblingWindowInSeconds`): whole seconds from 1s to 900s, or 0 (off,
/// as in Lambda's API: it turns off a window a `--template` sets).
pub fn tumbling_window(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d.subsec_nanos() != 0 || d.as_secs() > 900 {
        return Err(format!(
            "'{s}' is not a tumbling window: expected whole seconds from 1s to 900s (15m), like 30s or 2m, or 0 (off)"
        ));
    }
    Ok(d)
}

/// A setting where `-1` means infinite (`None`); a distinct type so clap keeps the `Option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrInfinite<T>(pub Option<T>);

/// `-1` (infinite) or a duration (`--maximum-record-age`).
pub(crate) fn duration_or_infinite(s: &str) -> Result<OrInfinite<Duration>, String> {
    if s.trim() == "-1" {
        Ok(OrInfinite(None))
    } else {
        duration(s).map(|d| OrInfinite(Some(d)))
    }
}

/// `-1` (infinite) or a count 0–10,000 (`--maximum-retry-attempts`).
pub(crate) fn retry_attempts(s: &str) -> Result<OrInfinite<u32>, String> {
    match s.trim().parse::<i64>() {
        Ok(-1) => Ok(OrInfinite(None)),
        Ok(n @ 0..=10_000) => Ok(OrInfinite(u32::try_from(n).ok())),
        _ => Err(format!("'{s}' is not -1 (infinite) or a count from 0 to 10000")),
    }
}

/// `--on-failure`: `stream:NAME` or a directory path.
pub fn destination(s: &str) -> Result<DestinationSpec, String> {
    if let Some(name) = s.strip_prefix("stream:") {
        if name.is_empty() {
            return Err("'stream:' needs a stream name, e.g. stream:failures".into());
        }
        return Ok(DestinationSpec::Stream(name.to_string()));
    }
    if s.is_empty() {
        return Err("expected a directory or stream:NAME".into());
    }
    Ok(DestinationSpec::Directory(PathBuf::from(s)))
}

/// `--env KEY=VALUE`: a variable name (letters, digits and `_`, not starting with a digit)
/// and any value.
pub(crate) fn env_pair(s: &str) -> Result<(String, String), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!("'{s}' is not KEY=VALUE"));
    };
    crate::esm::invoker::runtime_api::environment::check_name(k)?;
    Ok((k.to_string(), v.to_string()))
}

/// `--worker-id`: a non-empty `leaseOwner` value without control characters.
pub(crate) fn worker_id(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("a worker id cannot be empty".into());
    }
    if s.chars().any(char::is_control) || s.len() > 256 {
        return Err("a worker id is at most 256 printable characters".into());
    }
    Ok(s.to_string())
}

/// `--failover-time`: long enough to renew three times over a network round trip.
pub(crate) fn failover_time(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d < Duration::from_millis(300) {
        return Err(format!(
            "{s} is too short: leases are renewed every third of it (at least 300ms)"
        ));
    }
    Ok(d)
}

/// A whole number of at least 1 (`--count`).
pub(crate) fn positive_count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 1 => u64::try_from(n).map_err(|_| format!("'{s}' is too large")),
        Ok(_) => Err(format!(
            "'{s}' is not a count: expected a whole number of at least 1"
        )),
        Err(_) => Err(format!("'{s}' is not a count: expected a whole number like 100")),
    }
}

/// `ParallelizationFactor`: batches of one shard in flight at once, 1 to 10 as on Lambda.
pub fn parallelization_factor(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n @ 1..=10) => usize::try_from(n).map_err(|_| format!("'{s}' is too large")),
        Ok(_) => Err(format!(
            "'{s}' is out of range: ParallelizationFactor is 1 to 10 (batches of one shard at once)"
        )),
        Err(_) => Err(format!("'{s}' is not a whole number from 1 to 10")),
    }
}

/// A stream consumer name (`--efo`): 1 to 128 of `A-Z a-z 0-9 _ . -`, as Kinesis requires.
pub(crate) fn consumer_name(s: &str) -> Result<String, String> {
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if (1..=128).contains(&s.len()) && ok_chars {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' cannot name a stream consumer: use 1 to 128 letters, digits, '_', '.' or '-'"
        ))
    }
}

/// A DynamoDB table name (what `--app` becomes): 3 to 255 of `A-Z a-z 0-9 _ . -`.
pub fn table_name(s: &str) -> Result<String, String> {
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if (3..=255).contains(&s.len()) && ok_chars {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' cannot name a DynamoDB table: use 3 to 255 letters, digits, '_', '.' or '-'"
        ))
    }
}

/// An RFC 3339 time or Unix seconds (fractions allowed), as Unix milliseconds.
pub(crate) fn timestamp_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            #[allow(clippy::cast_possible_truncation)]
            return Ok((secs * 1000.0).round() as i64);
        }
    }
    humantime::parse_rfc3339_weak(t)
        .ok()
        .and_then(|st| st.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(|| {
            format!("'{s}' is neither Unix seconds nor an RFC 3339 time like 2024-05-01T12:00:00Z")
        })
}

/// A Kinesis sequence number: decimal digits only (kept as text: wider than u128).
pub fn sequence_number(s: &str) -> Result<String, String> {
    let t = s.trim();
    if !t.is_empty() && t.len() <= 128 && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(format!("'{s}' is not a sequence number: expected decimal digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_windows_are_whole_seconds_from_1s_to_900s() {
        assert_eq!(tumbling_window("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(tumbling_window("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(tumbling_window("900"), Ok(Duration::from_secs(900)));
        assert_eq!(tumbling_window("0"), Ok(Duration::ZERO), "off");
        for bad in ["901s", "16m", "1500ms", "soon", "-1"] {
            let e = tumbling_window(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn one_duration_syntax_one_message() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(
            duration("soon"),
            Err("'soon' is not a duration: expected a duration like 500ms, 2s or 1m".into())
        );
        assert!(positive_duration("0s").is_err());
        assert!(positive_duration("1s").is_ok());
        assert_eq!(duration_or_infinite("-1"), Ok(OrInfinite(None)));
        assert_eq!(
            duration_or_infinite("90s"),
            Ok(OrInfinite(Some(Duration::from_secs(90))))
        );
        assert_eq!(
            duration_or_infinite("later"),
            Err("'later' is not a duration: expected a duration like 500ms, 2s or 1m".into())
        );
    }

    #[test]
    fn retry_attempts_range() {
        assert_eq!(retry_attempts("-1"), Ok(OrInfinite(None)));
        assert_eq!(retry_attempts("0"), Ok(OrInfinite(Some(0))));
        assert_eq!(retry_attempts("10000"), Ok(OrInfinite(Some(10_000))));
        assert!(retry_attempts("10001").is_err());
        assert!(retry_attempts("-2").is_err());
    }

    #[test]
    fn destinations_parse() {
        assert_eq!(
            destination("stream:dlq"),
            Ok(DestinationSpec::Stream("dlq".into()))
        );
        assert_eq!(destination("out/"), Ok(DestinationSpec::Directory("out/".into())));
        assert!(destination("stream:").is_err());
        assert!(destination("").is_err());
    }

    #[test]
    fn env_pairs_split_at_the_first_equals_sign() {
        assert_eq!(env_pair("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert_eq!(env_pair("EMPTY="), Ok(("EMPTY".into(), String::new())));
        assert!(env_pair("novalue").is_err());
        assert!(env_pair("=x").is_err());
        assert!(env_pair("1A=x").is_err());
        assert!(env_pair("A-B=x").is_err());
    }

    #[test]
    fn worker_ids_must_be_printable() {
        assert_eq!(worker_id("w1").as_deref(), Ok("w1"));
        assert!(worker_id(" ").is_err());
        assert!(worker_id("a\tb").is_err());
    }

    #[test]
    fn failover_time_leaves_room_for_three_renewals() {
        assert_eq!(failover_time("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(failover_time("1s"), Ok(Duration::from_secs(1)));
        assert!(failover_time("100ms").is_err());
        assert!(failover_time("soon").is_err());
    }

    #[test]
    fn consumer_names_follow_kinesis() {
        assert_eq!(consumer_name("orders-app_1.v2"), Ok("orders-app_1.v2".into()));
        assert!(consumer_name("").is_err());
        assert!(consumer_name("a b").is_err());
        assert!(consumer_name(&"x".repeat(129)).is_err());
        assert!(consumer_name(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn table_names_follow_dynamodb() {
        assert!(table_name("orders-app_1.v2").is_ok());
        assert!(table_name("vs").is_err());
        assert!(table_name("a b c").is_err());
        assert!(table_name(&"x".repeat(256)).is_err());
    }

    #[test]
    fn timestamps_and_sequence_numbers() {
        assert_eq!(timestamp_ms("1700000000.5"), Ok(1_700_000_000_500));
        assert_eq!(timestamp_ms("2024-05-01T12:00:00Z"), Ok(1_714_564_800_000));
        assert!(timestamp_ms("yesterday").is_err());
        assert_eq!(timestamp_ms("1545084650.987"), Ok(1_545_084_650_987));
        assert_eq!(timestamp_ms("1970-01-01T00:00:01Z"), Ok(1000));
        assert!(sequence_number("4959").is_ok());
        assert!(sequence_number("49x").is_err());
    }

    #[test]
    fn parallelization_factors_are_1_to_10() {
        assert_eq!(parallelization_factor("1"), Ok(1));
        assert_eq!(parallelization_factor(" 10 "), Ok(10));
        for bad in ["0", "11", "-1"] {
            assert_eq!(
                parallelization_factor(bad),
                Err(format!(
                    "'{bad}' is out of range: ParallelizationFactor is 1 to 10 (batches of one shard at once)"
                ))
            );
        }
        assert!(parallelization_factor("four").is_err());
    }

    #[test]
    fn counts_are_whole_and_positive() {
        assert_eq!(positive_count("100"), Ok(100));
        assert_eq!(
            positive_count("-5"),
            Err("'-5' is not a count: expected a whole number of at least 1".into())
        );
        assert!(positive_count("0").is_err());
        assert!(positive_count("ten").is_err());
    }
}
