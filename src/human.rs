//! Numbers for people: ages as `13m 2s`, long sequence numbers abbreviated as `4959…0002`.
//! Machine-readable output (`--json`) keeps the exact values.

use std::time::Duration;

/// An age or a lag in at most two units: `850ms`, `12s`, `13m 2s`, `5h 7m`, `3d 4h`.
pub fn age(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) if secs == 0 => format!("{m}m"),
        (0, 0, m) => format!("{m}m {secs}s"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// A sequence number short enough for a log line: the first 4 and last 4 digits.
pub fn sequence(seq: &str) -> String {
    if seq.len() <= 12 || !seq.is_ascii() {
        return seq.to_string();
    }
    format!("{}…{}", &seq[..4], &seq[seq.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_two_units_at_most() {
        assert_eq!(age(Duration::from_millis(850)), "850ms");
        assert_eq!(age(Duration::from_millis(12_400)), "12s");
        assert_eq!(age(Duration::from_secs(13 * 60 + 2)), "13m 2s");
        assert_eq!(age(Duration::from_secs(120)), "2m");
        assert_eq!(age(Duration::from_secs(5 * 3600 + 7 * 60 + 9)), "5h 7m");
        assert_eq!(age(Duration::from_secs(3600)), "1h");
        assert_eq!(age(Duration::from_secs(3 * 86_400 + 4 * 3600)), "3d 4h");
    }

    #[test]
    fn long_sequence_numbers_are_abbreviated() {
        let s = "49590338271490256608559692538361571095921575989136588898";
        assert_eq!(sequence(s), "4959…8898");
        assert_eq!(sequence("TRIM_HORIZON"), "TRIM_HORIZON");
    }
}
