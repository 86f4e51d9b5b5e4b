//! The 128-bit hash key space: partition key → MD5 → hash key, and how AWS splits the space
//! across N shards.

use md5::{Digest, Md5};

/// The hash key of a partition key: its UTF-8 bytes through MD5, read as a big-endian u128.
pub(crate) fn partition_hash(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    u128::from_be_bytes(digest.into())
}

/// `⌊2^128 / n⌋` (n ≥ 2), computed without overflowing u128.
fn step(n: u32) -> u128 {
    let n = u128::from(n.max(1));
    let (q, r) = (u128::MAX / n, u128::MAX % n);
    // 2^128 = MAX + 1 = q·n + r + 1.
    if r + 1 == n {
        q + 1
    } else {
        q
    }
}

/// The ranges AWS gives `n` new shards: shard i gets `[i·⌊2^128/n⌋, (i+1)·⌊2^128/n⌋ − 1]`,
/// the last one ends at `2^128 − 1`.
pub(crate) fn uniform_ranges(n: u32) -> Vec<(u128, u128)> {
    if n <= 1 {
        return vec![(0, u128::MAX)];
    }
    uniform_ranges_within(0, u128::MAX, n, step(n))
}

fn uniform_ranges_within(start: u128, end: u128, n: u32, step: u128) -> Vec<(u128, u128)> {
    (0..n)
        .map(|i| {
            let s = start + u128::from(i) * step;
            let e = if i + 1 == n {
                end
            } else {
                start + u128::from(i + 1) * step - 1
            };
            (s, e)
        })
        .collect()
}

/// Parses a decimal hash key (`0|[1-9]\d{0,38}`) in `[0, 2^128 − 1]`.
pub(crate) fn parse_hash_key(s: &str) -> Option<u128> {
    let well_formed = s == "0"
        || (!s.is_empty() && s.len() <= 39 && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return None;
    }
    s.parse::<u128>().ok()
}

/// Whether `s` matches the model's pattern for hash keys, whatever its value.
pub(crate) fn is_hash_key_pattern(s: &str) -> bool {
    s == "0" || (!s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shards_match_aws() {
        let r = uniform_ranges(3);
        assert_eq!(r[0], (0, 113427455640312821154458202477256070484));
        assert_eq!(r[1].0, 113427455640312821154458202477256070485);
        assert_eq!(r[1].1, 226854911280625642308916404954512140969);
        assert_eq!(r[2], (226854911280625642308916404954512140970, u128::MAX));
    }

    #[test]
    fn powers_of_two_split_evenly() {
        let r = uniform_ranges(2);
        assert_eq!(r[0].1, 170141183460469231731687303715884105727);
        assert_eq!(r[1].0, 1u128 << 127);
        let r = uniform_ranges(4);
        assert_eq!(r[1].0, 85070591730234615865843651857942052864);
        assert_eq!(r[3].0, 255211775190703847597530955573826158592);
        assert_eq!(uniform_ranges(1), vec![(0, u128::MAX)]);
    }

    #[test]
    fn md5_vectors() {
        assert_eq!(partition_hash("a"), 16955237001963240173058271559858726497);
        assert_eq!(partition_hash("1"), 261578874264819908609102035485573088411);
        assert_eq!(partition_hash("pk-0"), 318996840767547934070577442296912359277);
    }

    #[test]
    fn hash_key_parsing() {
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(parse_hash_key("340282366920938463463374607431768211456"), None);
        assert_eq!(parse_hash_key("01"), None);
        assert_eq!(parse_hash_key("-1"), None);
        assert!(is_hash_key_pattern("340282366920938463463374607431768211456"));
    }
}
