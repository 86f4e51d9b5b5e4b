//! Model constraints answered with AWS's ValidationException wording.

use crate::engine::error::{constraint, not_null, ApiError};

/// Collects constraint failures for one request, AWS-style.
#[derive(Default)]
pub(crate) struct Checks(Vec<String>);

impl Checks {
    /// A required member that is missing.
    pub(crate) fn required<T>(&mut self, value: &Option<T>, member: &str) {
        if value.is_none() {
            self.0.push(not_null(member));
        }
    }

    /// A stream name: 1–128 chars of `[a-zA-Z0-9_.-]`.
    pub(crate) fn stream_name(&mut self, value: Option<&str>, member: &str) {
        if let Some(v) = value {
            self.name_like(v, member, 128);
        }
    }

    /// A shard id: 1–128 chars of `[a-zA-Z0-9_.-]`.
    pub(crate) fn shard_id(&mut self, value: Option<&str>, member: &str) {
        if let Some(v) = value {
            self.name_like(v, member, 128);
        }
    }

    fn name_like(&mut self, v: &str, member: &str, max: usize) {
        if v.is_empty() {
            self.0
                .push(constraint(v, member, "have length greater than or equal to 1"));
        } else if v.chars().count() > max {
            self.0.push(constraint(
                v,
                member,
                &format!("have length less than or equal to {max}"),
            ));
        }
        if !v.is_empty()
            && !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            self.0.push(constraint(
                v,
                member,
                "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            ));
        }
    }

    /// An integer within `[min, max]`.
    pub(crate) fn range(&mut self, value: Option<i64>, member: &str, min: i64, max: i64) {
        if let Some(v) = value {
            if v < min {
                self.0.push(constraint(
                    &v.to_string(),
                    member,
                    &format!("have value greater than or equal to {min}"),
                ));
            } else if v > max {
                self.0.push(constraint(
                    &v.to_string(),
                    member,
                    &format!("have value less than or equal to {max}"),
                ));
            }
        }
    }

    /// A string whose length must lie within `[min, max]` characters.
    pub(crate) fn length(&mut self, value: Option<&str>, member: &str, min: usize, max: usize) {
        if let Some(v) = value {
            let n = v.chars().count();
            if n < min {
                self.0.push(constraint(
                    v,
                    member,
                    &format!("have length greater than or equal to {min}"),
                ));
            } else if n > max {
                self.0.push(constraint(
                    v,
                    member,
                    &format!("have length less than or equal to {max}"),
                ));
            }
        }
    }

    /// A value from a fixed set.
    pub(crate) fn one_of(&mut self, value: Option<&str>, member: &str, allowed: &[&str]) {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.0.push(constraint(
                    v,
                    member,
                    &format!("satisfy enum value set: [{}]", allowed.join(", ")),
                ));
            }
        }
    }

    /// A hash key pattern `0|([1-9]\d{0,38})`.
    pub(crate) fn hash_key(&mut self, value: Option<&str>, member: &str) {
        if let Some(v) = value {
            if !super::hash::is_hash_key_pattern(v) {
                self.0.push(constraint(
                    v,
                    member,
                    "satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                ));
            }
        }
    }

    /// A sequence number pattern `0|([1-9]\d{0,128})`.
    pub(crate) fn sequence_number(&mut self, value: Option<&str>, member: &str) {
        if let Some(v) = value {
            let ok = v == "0"
                || (!v.is_empty()
                    && v.len() <= 129
                    && !v.starts_with('0')
                    && v.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                self.0.push(constraint(
                    v,
                    member,
                    "satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
                ));
            }
        }
    }

    /// A free-form failure message.
    pub(crate) fn push(&mut self, failure: String) {
        self.0.push(failure);
    }

    /// `Ok` when nothing failed, else AWS's ValidationException listing every failure.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(&self.0))
        }
    }
}
