//! DynamoDB numbers: exact decimals of up to 38 significant digits, magnitude 1e-130..<1e126.
//!
//! Kept as sign + significant digits + exponent, never as f64, so that `"0.1"` stays 0.1, two
//! spellings of one value (`"1.50"`, `"1.5"`, `"15e-1"`) are the same number, and comparison is
//! numeric. Answered in the plain notation DynamoDB answers with (`"1E+2"` comes back `"100"`).

use std::cmp::Ordering;
use std::fmt;

/// Most significant digits DynamoDB stores in a number.
const MAX_DIGITS: usize = 38;
/// Largest decimal exponent (`exp` below) of a storable number: below 1e126.
const MAX_EXP: i32 = 126;
/// Smallest decimal exponent of a storable non-zero number: 1e-130 and up.
const MIN_EXP: i32 = -129;

/// An exact decimal: `0.d1 d2 d3 … × 10^exp`, negative when `neg`.
///
/// Invariants: `digits` holds values 0..=9 with no leading or trailing zero; zero is the empty
/// digit list with `exp == 0` and `neg == false`. So derived equality is numeric equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Number {
    neg: bool,
    digits: Vec<u8>,
    exp: i32,
}

/// Why a string is not a storable number, in DynamoDB's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Not a number at all.
    Invalid,
    /// Magnitude of 1e126 or more.
    Overflow,
    /// Non-zero magnitude below 1e-130.
    Underflow,
    /// More than 38 significant digits.
    TooPrecise,
}

impl NumberError {
    /// DynamoDB's message for this failure, given the offending text.
    pub(crate) fn message(&self, text: &str) -> String {
        match self {
            NumberError::Invalid if text.is_empty() => {
                "The parameter cannot be converted to a numeric value".to_string()
            }
            NumberError::Invalid => format!("The parameter cannot be converted to a numeric value: {text}"),
            NumberError::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
                    .to_string()
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
                    .to_string()
            }
            NumberError::TooPrecise => {
                "Attempting to store more than 38 significant digits in a Number".to_string()
            }
        }
    }
}

impl Number {
    /// Zero.
    pub(crate) fn zero() -> Self {
        Self {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// Parses a decimal (`-12.5`, `1e3`, `.5`, `+7`) and checks DynamoDB's limits.
    pub(crate) fn parse(text: &str) -> Result<Self, NumberError> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = bytes.first() {
            if c == b'-' || c == b'+' {
                neg = c == b'-';
                i = 1;
            }
        }
        let mut mantissa = Vec::new();
        let mut int_len: i64 = 0;
        let mut seen_point = false;
        let mut any_digit = false;
        while i < bytes.len() {
            match bytes[i] {
                d @ b'0'..=b'9' => {
                    mantissa.push(d - b'0');
                    any_digit = true;
                    if !seen_point {
                        int_len += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !any_digit {
            return Err(NumberError::Invalid);
        }
        let mut exp10: i64 = 0;
        if i < bytes.len() {
            if bytes[i] != b'e' && bytes[i] != b'E' {
                return Err(NumberError::Invalid);
            }
            let rest = &text[i + 1..];
            let (negative_exp, digits) = match rest.as_bytes().first() {
                Some(b'+') => (false, &rest[1..]),
                Some(b'-') => (true, &rest[1..]),
                _ => (false, rest),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NumberError::Invalid);
            }
            // Anything beyond a few thousand is out of range either way; clamp to stay in i64.
            let magnitude: i64 = if digits.len() > 6 {
                1_000_000
            } else {
                digits.parse().map_err(|_| NumberError::Invalid)?
            };
            exp10 = if negative_exp { -magnitude } else { magnitude };
        }
        let lead = mantissa.iter().take_while(|&&d| d == 0).count();
        let mut digits = mantissa.split_off(lead);
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Self::zero());
        }
        let exp = int_len - lead as i64 + exp10;
        Self::checked(neg, digits, exp)
    }

    /// Builds a number from normalized parts, enforcing the storable range.
    fn checked(neg: bool, digits: Vec<u8>, exp: i64) -> Result<Self, NumberError> {
        if digits.is_empty() {
            return Ok(Self::zero());
        }
        if exp > i64::from(MAX_EXP) {
            return Err(NumberError::Overflow);
        }
        if exp < i64::from(MIN_EXP) {
            return Err(NumberError::Underflow);
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        Ok(Self {
            neg,
            digits,
            exp: exp as i32,
        })
    }

    /// Whether this is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The sum, or why it cannot be stored.
    pub(crate) fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        // Align both as integers scaled by 10^low: value = coefficient × 10^low.
        let low = (self.exp - self.digits.len() as i32).min(other.exp - other.digits.len() as i32);
        let a = self.coefficient(low);
        let b = other.coefficient(low);
        let (neg, coeff) = if self.neg == other.neg {
            (self.neg, add_mag(&a, &b))
        } else {
            match cmp_mag(&a, &b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.neg, sub_mag(&a, &b)),
                Ordering::Less => (other.neg, sub_mag(&b, &a)),
            }
        };
        // coeff is most-significant-first; strip leading zeros, then trailing ones.
        let lead = coeff.iter().take_while(|&&d| d == 0).count();
        let mut digits = coeff[lead..].to_vec();
        let exp = i64::from(low) + digits.len() as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        Self::checked(neg, digits, exp)
    }

    /// The difference `self - other`.
    pub(crate) fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negated())
    }

    fn negated(&self) -> Number {
        let mut n = self.clone();
        if !n.is_zero() {
            n.neg = !n.neg;
        }
        n
    }

    /// Digits of `|self| / 10^low` (an integer), most significant first.
    fn coefficient(&self, low: i32) -> Vec<u8> {
        let zeros = (self.exp - self.digits.len() as i32 - low).max(0) as usize;
        let mut v = self.digits.clone();
        v.extend(std::iter::repeat_n(0, zeros));
        v
    }
}

/// Adds two magnitudes given most-significant-first.
fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut s = carry;
        if i > 0 {
            i -= 1;
            s += a[i];
        }
        if j > 0 {
            j -= 1;
            s += b[j];
        }
        out.push(s % 10);
        carry = s / 10;
    }
    out.reverse();
    out
}

/// `a - b` for magnitudes with `a >= b`, most-significant-first.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut i, mut j, mut borrow) = (a.len(), b.len(), 0i8);
    while i > 0 {
        i -= 1;
        let mut d = a[i] as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = if d < 0 { 1 } else { 0 };
        out.push((d + 10 * borrow) as u8);
    }
    out.reverse();
    out
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    let a = &a[a.iter().take_while(|&&d| d == 0).count()..];
    let b = &b[b.iter().take_while(|&&d| d == 0).count()..];
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| -> i8 {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        // Same sign, both non-zero: larger exponent is larger magnitude; then the digits
        // (no trailing zeros, so a lexicographic compare is a numeric one).
        let mag = self
            .exp
            .cmp(&other.exp)
            .then_with(|| self.digits.cmp(&other.digits));
        if sa < 0 {
            mag.reverse()
        } else {
            mag
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.neg {
            s.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        let len = self.digits.len() as i32;
        if self.exp <= 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-self.exp) as usize));
            s.extend(self.digits.iter().map(digit));
        } else if self.exp >= len {
            s.extend(self.digits.iter().map(digit));
            s.extend(std::iter::repeat_n('0', (self.exp - len) as usize));
        } else {
            let (int, frac) = self.digits.split_at(self.exp as usize);
            s.extend(int.iter().map(digit));
            s.push('.');
            s.extend(frac.iter().map(digit));
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn normalizes_like_dynamodb() {
        for (input, out) in [
            ("1.50", "1.5"),
            ("01", "1"),
            ("-0", "0"),
            ("0.000", "0"),
            ("1E+2", "100"),
            ("1e2", "100"),
            ("15e-1", "1.5"),
            (".5", "0.5"),
            ("+7", "7"),
            ("-0.00120", "-0.0012"),
            (
                "123456789012345678901234567890.12345678",
                "123456789012345678901234567890.12345678",
            ),
            ("1e-130", &format!("0.{}1", "0".repeat(129))),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn rejects_what_dynamodb_rejects() {
        for bad in [
            "", "abc", "1..2", "1e", "e5", "--1", "1 ", " 1", "0x10", "1e+-2", ".",
        ] {
            assert_eq!(Number::parse(bad), Err(NumberError::Invalid), "{bad:?}");
        }
        assert_eq!(Number::parse("1e126"), Err(NumberError::Overflow));
        assert!(Number::parse("9.9999e125").is_ok());
        assert_eq!(Number::parse("1e-131"), Err(NumberError::Underflow));
        assert_eq!(
            Number::parse("123456789012345678901234567890123456789"),
            Err(NumberError::TooPrecise)
        );
        assert!(Number::parse("12345678901234567890123456789012345678").is_ok());
        assert!(Number::parse("1e99999999999999").is_err());
    }

    #[test]
    fn compares_numerically() {
        let mut v: Vec<Number> = ["10", "9", "-1", "-10", "0", "0.5", "1e2", "-0.01", "99.9"]
            .iter()
            .map(|s| n(s))
            .collect();
        v.sort();
        let out: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(out, ["-10", "-1", "-0.01", "0", "0.5", "9", "10", "99.9", "100"]);
        assert_eq!(n("1.50"), n("1.5"));
    }

    #[test]
    fn adds_and_subtracts_exactly() {
        assert_eq!(n("0.1").add(&n("0.2")).map(|x| x.to_string()), Ok("0.3".into()));
        assert_eq!(n("5").add(&n("-5")).map(|x| x.to_string()), Ok("0".into()));
        assert_eq!(
            n("100").sub(&n("0.001")).map(|x| x.to_string()),
            Ok("99.999".into())
        );
        assert_eq!(n("-3").sub(&n("4")).map(|x| x.to_string()), Ok("-7".into()));
        assert_eq!(n("999").add(&n("1")).map(|x| x.to_string()), Ok("1000".into()));
        assert_eq!(
            n("1e10").add(&n("1e-10")).map(|x| x.to_string()),
            Ok("10000000000.0000000001".into())
        );
        assert_eq!(n("1e20").add(&n("1e-20")), Err(NumberError::TooPrecise));
        assert_eq!(n("1e125").add(&n("1e-125")), Err(NumberError::TooPrecise));
        assert_eq!(n("9.9e125").add(&n("9.9e125")), Err(NumberError::Overflow));
    }
}
