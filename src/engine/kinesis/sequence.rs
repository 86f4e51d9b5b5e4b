//! Sequence numbers: 56-digit decimal strings laid out as AWS's are (as reverse-engineered by
//! kinesalite), so they look real, increase within a shard, and decode back to a position.
//!
//! As 47 hex digits: `2` · shard creation seconds (9) · low nibble of the shard index (1) ·
//! per-shard record index (16) · `00` · record arrival seconds (9) · shard index (8) · `2`.
//! The record index sits above the arrival time, so numbers increase with the index.

/// The parts of one sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqParts {
    /// Epoch seconds at which the shard was created.
    pub shard_created_secs: u64,
    /// The shard's index (`shardId-<index>`).
    pub shard_index: u32,
    /// Position of the record in its shard.
    pub index: u64,
    /// Epoch seconds of the record's arrival.
    pub record_secs: u64,
}

/// The index used for a closed shard's `EndingSequenceNumber`: above every record's.
pub(crate) const END_INDEX: u64 = 0x7fff_ffff_ffff_ffff;

/// 192-bit unsigned integer as six little-endian u32 limbs.
type Limbs = [u32; 6];

fn shl_or(v: &mut Limbs, bits: u32, value: u64) {
    // v = (v << bits) | value, for bits <= 64 and value < 2^bits.
    let mut carry: u128 = u128::from(value);
    for limb in v.iter_mut() {
        let wide = (u128::from(*limb) << bits) | carry;
        *limb = wide as u32;
        carry = wide >> 32;
    }
}

impl SeqParts {
    fn to_limbs(self) -> Limbs {
        let mut v: Limbs = [0; 6];
        shl_or(&mut v, 4, 2);
        shl_or(&mut v, 36, self.shard_created_secs & 0xf_ffff_ffff);
        shl_or(&mut v, 4, u64::from(self.shard_index & 0xf));
        shl_or(&mut v, 64, self.index);
        shl_or(&mut v, 8, 0);
        shl_or(&mut v, 36, self.record_secs & 0xf_ffff_ffff);
        shl_or(&mut v, 32, u64::from(self.shard_index));
        shl_or(&mut v, 4, 2);
        v
    }

    /// The decimal string sent on the wire.
    pub fn encode(self) -> String {
        let mut v = self.to_limbs();
        // Digits are produced least significant first, nine at a time (base 10^9), into a
        // stack buffer: this runs once per record put or read, so it allocates only the result.
        let mut digits = [0u8; 64];
        let mut pos = digits.len();
        loop {
            let mut rem: u64 = 0;
            for limb in v.iter_mut().rev() {
                let cur = (rem << 32) | u64::from(*limb);
                *limb = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            let last = v.iter().all(|&l| l == 0);
            for _ in 0..9 {
                pos -= 1;
                digits[pos] = b'0' + (rem % 10) as u8;
                rem /= 10;
                if last && rem == 0 {
                    break;
                }
            }
            if last {
                break;
            }
        }
        digits[pos..].iter().map(|&d| char::from(d)).collect()
    }

    /// Decodes a decimal sequence number of our layout; `None` when it is not one.
    #[cfg(test)]
    pub(crate) fn decode(s: &str) -> Option<Self> {
        if s.is_empty() || s.len() > 60 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut v: Limbs = [0; 6];
        for b in s.bytes() {
            let mut carry = u64::from(b - b'0');
            for limb in v.iter_mut() {
                let cur = u64::from(*limb) * 10 + carry;
                *limb = cur as u32;
                carry = cur >> 32;
            }
            if carry != 0 {
                return None;
            }
        }
        // As a u128 pair: hi holds bits 128..192, lo bits 0..128.
        let lo =
            u128::from(v[0]) | (u128::from(v[1]) << 32) | (u128::from(v[2]) << 64) | (u128::from(v[3]) << 96);
        let hi = u128::from(v[4]) | (u128::from(v[5]) << 32);
        // Total layout width is 188 bits: hi holds bits 128..188.
        if hi >> 60 != 0 {
            return None;
        }
        let bits = |from: u32, width: u32| -> u64 {
            // Extracts `width` bits starting at bit `from` (from the least significant end).
            let mask: u128 = if width >= 128 {
                u128::MAX
            } else {
                (1u128 << width) - 1
            };
            let val = if from >= 128 {
                hi >> (from - 128)
            } else if from + width <= 128 {
                lo >> from
            } else {
                (lo >> from) | (hi << (128 - from))
            };
            (val & mask) as u64
        };
        let trailer = bits(0, 4);
        let shard_index = bits(4, 32);
        let record_secs = bits(36, 36);
        let zero = bits(72, 8);
        let index = bits(80, 64);
        let nibble = bits(144, 4);
        let created = bits(148, 36);
        let leader = bits(184, 4);
        if trailer != 2 || leader != 2 || zero != 0 || nibble != shard_index & 0xf {
            return None;
        }
        Some(Self {
            shard_created_secs: created,
            shard_index: u32::try_from(shard_index).ok()?,
            index,
            record_secs,
        })
    }
}

/// What a client-supplied sequence number says, read the way AWS reads one: by the layout
/// version in its last hex digit (2 today; 1 and 0 are older layouts AWS still recognises).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// 0, 1 or 2.
    pub version: u8,
    /// Epoch seconds at which the shard was created.
    pub shard_created_secs: u64,
    /// The shard index it encodes (negative when its top bit is set, as AWS reads it).
    pub shard_index: i64,
    /// The record index within the shard (version 2 only; 0 otherwise).
    pub index: u64,
    /// Epoch seconds of the record (versions 1 and 2).
    pub record_secs: Option<u64>,
}

/// Creation times at or past this many seconds are refused (AWS's bound).
const MAX_CREATED_SECS: u64 = 16_025_175_000;

impl Layout {
    /// Parses a decimal sequence number; `None` where AWS calls it invalid.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut v: Limbs = [0; 6];
        for b in s.bytes() {
            let mut carry = u64::from(b - b'0');
            for limb in v.iter_mut() {
                let cur = u64::from(*limb) * 10 + carry;
                *limb = cur as u32;
                carry = cur >> 32;
            }
            if carry != 0 {
                // Wider than 192 bits: no layout is that wide.
                return None;
            }
        }
        let bit_len = |v: &Limbs| {
            v.iter()
                .enumerate()
                .rev()
                .find(|(_, &l)| l != 0)
                .map_or(0, |(i, &l)| i as u32 * 32 + (32 - l.leading_zeros()))
        };
        // Numbers below 2^124 are read as if 2^124 were added (the version-0 range).
        if bit_len(&v) <= 124 {
            v[3] |= 1 << 28;
        }
        let bits = bit_len(&v);
        let hex: String = v.iter().rev().map(|l| format!("{l:08x}")).collect::<String>();
        let hex = hex.trim_start_matches('0');
        let field = |from: usize, to: usize| hex.get(from..to).and_then(|h| u64::from_str_radix(h, 16).ok());
        let version = if bits <= 129 {
            0
        } else if bits == 186 && (v[5] >> 24) & 1 == 0 && hex.len() == 47 {
            // Below 1.5 * 2^185 (and above 2^185, which ends in 0): the last hex digit.
            match field(46, 47)? {
                1 => 1,
                2 => 2,
                _ => return None,
            }
        } else {
            return None;
        };
        match version {
            2 => {
                let created = field(1, 10)?;
                let index_hex = hex.get(11..27)?;
                if created >= MAX_CREATED_SECS || index_hex.as_bytes()[0] > b'7' {
                    return None;
                }
                Some(Self {
                    version,
                    shard_created_secs: created,
                    shard_index: signed_shard(field(38, 46)?),
                    index: u64::from_str_radix(index_hex, 16).ok()?,
                    record_secs: Some(field(29, 38)?),
                })
            }
            1 => Some(Self {
                version,
                shard_created_secs: field(1, 10)?,
                shard_index: i64::try_from(field(38, 46)?).ok()?,
                index: 0,
                record_secs: Some(field(13, 22)?),
            }),
            0 => {
                let created = field(1, 10)?;
                if created >= MAX_CREATED_SECS {
                    return None;
                }
                Some(Self {
                    version,
                    shard_created_secs: created,
                    shard_index: i64::try_from(field(28, 32)?).ok()?,
                    index: 0,
                    record_secs: None,
                })
            }
            _ => None,
        }
    }
}

/// An 8-hex-digit shard index, negative when its top bit is set.
fn signed_shard(raw: u64) -> i64 {
    if raw >= 0x8000_0000 {
        raw as i64 - 0x1_0000_0000
    } else {
        raw as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_doc_example_decodes() {
        let p =
            SeqParts::decode("49590338271490256608559692538361571095921575989136588898").expect("decodes");
        assert_eq!(p.shard_index, 6);
        assert_eq!(p.record_secs, 1545084650);
        assert_eq!(
            p.encode(),
            "49590338271490256608559692538361571095921575989136588898"
        );
    }

    #[test]
    fn round_trip_and_order() {
        let base = SeqParts {
            shard_created_secs: 1_700_000_000,
            shard_index: 3,
            index: 1,
            record_secs: 1_700_000_005,
        };
        let a = base.encode();
        let b = SeqParts {
            index: 2,
            record_secs: 1_700_000_001,
            ..base
        }
        .encode();
        assert_eq!(a.len(), 56);
        assert_eq!(SeqParts::decode(&a), Some(base));
        assert!(b.len() == a.len() && b > a, "index dominates arrival time");
        let end = SeqParts {
            index: END_INDEX,
            ..base
        }
        .encode();
        assert!(end.len() > a.len() || end > a);
    }

    #[test]
    fn layouts_read_as_aws_reads_them() {
        let ours = SeqParts {
            shard_created_secs: 1_700_000_000,
            shard_index: 3,
            index: 42,
            record_secs: 1_700_000_005,
        };
        let l = Layout::parse(&ours.encode()).expect("ours parse");
        assert_eq!(
            l,
            Layout {
                version: 2,
                shard_created_secs: 1_700_000_000,
                shard_index: 3,
                index: 42,
                record_secs: Some(1_700_000_005),
            }
        );
        // AWS's documented example, a version-2 number.
        let aws = Layout::parse("49590338271490256608559692538361571095921575989136588898").expect("aws");
        assert_eq!(
            (aws.version, aws.shard_index, aws.shard_created_secs),
            (2, 6, 1_542_776_258)
        );
        // Small numbers are version 0 (2^124 is added); they encode a shard in their low digits.
        let small = Layout::parse("1").expect("small");
        assert_eq!((small.version, small.shard_index), (0, 1));
        for bad in [
            "",
            "12a",
            // A version-2 number ending in another digit.
            "49590338271490256608559692538361571095921575989136588899",
            // Past 1.5 * 2^185.
            "73559785961562665201200657303214840813699477864812904450",
            &"9".repeat(129),
        ] {
            assert_eq!(Layout::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage_does_not_decode() {
        assert_eq!(SeqParts::decode("123"), None);
        assert_eq!(SeqParts::decode(""), None);
        assert_eq!(SeqParts::decode("12a"), None);
        assert_eq!(SeqParts::decode(&"9".repeat(60)), None);
    }
}
