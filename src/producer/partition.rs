//! Partition key strategies: `random` (spread exactly evenly over the open shards), a fixed
//! string, or `field:PATH` taken from each record so per-key order can be checked downstream.
//!
//! Why `random` also sets an `ExplicitHashKey`: random partition keys hash (MD5) uniformly, but
//! "uniformly" still leaves a few percent of imbalance on short runs. `random` therefore walks
//! the open shards round-robin and gives each record a random hash key inside the next shard's
//! range, so N records over S shards land exactly ⌊N/S⌋ or ⌈N/S⌉ per shard. The partition key
//! itself stays a random string, as a consumer would expect.

use rand::{Rng, RngCore};

use crate::streams::ShardRange;

/// Kinesis' longest partition key, in Unicode characters.
pub(crate) const MAX_KEY_CHARS: usize = 256;

/// How to choose each record's partition key (the value of `--partition-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySpec {
    /// A random key per record, spread evenly over the shards.
    Random,
    /// The same key for every record (all go to one shard, in order).
    Fixed(String),
    /// The value at this path of each record's JSON (`user.id` → `["user", "id"]`).
    Field(Vec<String>),
}

impl KeySpec {
    /// Parses `random`, `field:PATH` or a fixed key.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "random" {
            return Ok(Self::Random);
        }
        if let Some(path) = s.strip_prefix("field:") {
            let parts: Vec<String> = path.split('.').map(str::to_string).collect();
            if parts.iter().any(String::is_empty) {
                return Err(format!(
                    "'{path}' is not a field path: use dot-separated names, e.g. field:user.id"
                ));
            }
            return Ok(Self::Field(parts));
        }
        check_key(s).map_err(|e| format!("{e} (or use 'random' or 'field:PATH')"))?;
        Ok(Self::Fixed(s.to_string()))
    }

    /// Whether records with one key must stay in order (everything but `random`).
    pub(crate) fn keeps_order(&self) -> bool {
        !matches!(self, Self::Random)
    }
}

fn check_key(key: &str) -> Result<(), String> {
    let n = key.chars().count();
    if n == 0 || n > MAX_KEY_CHARS {
        return Err(format!(
            "a partition key must be 1 to {MAX_KEY_CHARS} characters, this one has {n}"
        ));
    }
    Ok(())
}

/// Why a record has no usable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The record is not JSON (field keys need JSON).
    #[error("is not JSON, so --partition-key field:{path} cannot read it")]
    NotJson {
        /// The path asked for.
        path: String,
    },
    /// The path does not exist in the record.
    #[error("has no field '{path}' (--partition-key field:{path})")]
    Missing {
        /// The path asked for.
        path: String,
    },
    /// The field is an object, array or null, or too long.
    #[error("has a field '{path}' that cannot be a partition key: {why}")]
    Unusable {
        /// The path asked for.
        path: String,
        /// Why.
        why: String,
    },
}

/// A key chosen for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChosenKey {
    /// The `PartitionKey`.
    pub partition_key: String,
    /// The `ExplicitHashKey` (decimal), for `random` only.
    pub explicit_hash_key: Option<String>,
}

/// Chooses keys for a sequence of records.
#[derive(Debug, Clone)]
pub(crate) struct KeyChooser {
    spec: KeySpec,
    shards: Vec<ShardRange>,
    next_shard: usize,
}

impl KeyChooser {
    /// A chooser for `spec`; `shards` are the stream's open shards (used by `random`; when empty
    /// `random` sends no explicit hash key and relies on MD5).
    pub fn new(spec: KeySpec, shards: Vec<ShardRange>) -> Self {
        Self {
            spec,
            shards,
            next_shard: 0,
        }
    }

    /// The key for `data`. Draws from `rng` only for `random`, always the same number of times,
    /// so a seed reproduces the same keys.
    pub(crate) fn choose<R: RngCore>(&mut self, data: &[u8], rng: &mut R) -> Result<ChosenKey, KeyError> {
        match &self.spec {
            KeySpec::Random => {
                let partition_key = format!("{:032x}", rng.random::<u128>());
                let explicit_hash_key = if self.shards.is_empty() {
                    None
                } else {
                    let shard = &self.shards[self.next_shard % self.shards.len()];
                    self.next_shard = (self.next_shard + 1) % self.shards.len();
                    Some(rng.random_range(shard.start..=shard.end).to_string())
                };
                Ok(ChosenKey {
                    partition_key,
                    explicit_hash_key,
                })
            }
            KeySpec::Fixed(k) => Ok(ChosenKey {
                partition_key: k.clone(),
                explicit_hash_key: None,
            }),
            KeySpec::Field(path) => Ok(ChosenKey {
                partition_key: field_key(data, path)?,
                explicit_hash_key: None,
            }),
        }
    }
}

/// The value at `path` in the JSON record `data`, as a partition key: strings as they are,
/// numbers and booleans as their JSON text. Array elements are addressed by index (`items.0`).
pub(crate) fn field_key(data: &[u8], path: &[String]) -> Result<String, KeyError> {
    let joined = || path.join(".");
    let value: serde_json::Value =
        serde_json::from_slice(data).map_err(|_| KeyError::NotJson { path: joined() })?;
    let mut cur = &value;
    for part in path {
        let next = match cur {
            serde_json::Value::Object(m) => m.get(part),
            serde_json::Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        cur = next.ok_or_else(|| KeyError::Missing { path: joined() })?;
    }
    let key = match cur {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        other => {
            let kind = match other {
                serde_json::Value::Null => "null",
                serde_json::Value::Array(_) => "an array",
                _ => "an object",
            };
            return Err(KeyError::Unusable {
                path: joined(),
                why: format!("it is {kind}"),
            });
        }
    };
    check_key(&key).map_err(|why| KeyError::Unusable { path: joined(), why })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn three_shards() -> Vec<ShardRange> {
        let third = u128::MAX / 3;
        (0..3u128)
            .map(|i| ShardRange {
                shard_id: format!("shardId-{i:012}"),
                start: i * third + u128::from(i > 0),
                end: if i == 2 { u128::MAX } else { (i + 1) * third },
            })
            .collect()
    }

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(KeySpec::parse("random"), Ok(KeySpec::Random));
        assert_eq!(
            KeySpec::parse("field:user.id"),
            Ok(KeySpec::Field(vec!["user".into(), "id".into()]))
        );
        assert_eq!(KeySpec::parse("tenant-7"), Ok(KeySpec::Fixed("tenant-7".into())));
        assert!(KeySpec::parse("field:").is_err());
        assert!(KeySpec::parse("field:user..id").is_err());
        assert!(KeySpec::parse("").is_err());
        assert!(KeySpec::parse(&"x".repeat(257)).is_err());
    }

    #[test]
    fn random_walks_the_shards_round_robin() {
        let shards = three_shards();
        let mut chooser = KeyChooser::new(KeySpec::Random, shards.clone());
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for i in 0..30 {
            let key = chooser.choose(b"{}", &mut rng).expect("key");
            let h: u128 = key
                .explicit_hash_key
                .expect("explicit hash key")
                .parse()
                .expect("decimal");
            let shard = &shards[i % 3];
            assert!(
                shard.start <= h && h <= shard.end,
                "record {i} in shard {}",
                i % 3
            );
            assert_eq!(key.partition_key.len(), 32);
        }
    }

    #[test]
    fn field_keys_come_from_the_record() {
        let rec = br#"{"user":{"id":"u-1","n":7,"ok":true,"tags":["a","b"],"x":null}}"#;
        let p = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(field_key(rec, &p("user.id")), Ok("u-1".into()));
        assert_eq!(field_key(rec, &p("user.n")), Ok("7".into()));
        assert_eq!(field_key(rec, &p("user.ok")), Ok("true".into()));
        assert_eq!(field_key(rec, &p("user.tags.1")), Ok("b".into()));
        assert!(matches!(
            field_key(rec, &p("user.name")),
            Err(KeyError::Missing { .. })
        ));
        assert!(matches!(
            field_key(rec, &p("user.x")),
            Err(KeyError::Unusable { .. })
        ));
        assert!(matches!(
            field_key(b"not json", &p("a")),
            Err(KeyError::NotJson { .. })
        ));
    }
}
