//! Shard iterators: GetShardIterator's five types and the opaque, expiring iterator token.

use base64::Engine as _;
use serde_json::json;

use super::call::Call;
use super::model::GetShardIteratorInput;
use super::sequence::Layout;
use super::state::{parse_shard_id, Shard, Stream};
use super::validate::Checks;
use super::Ctx;
use crate::engine::codec::Reply;
use crate::engine::error::ApiError;

/// What an iterator points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Iterator {
    /// Stream name.
    pub stream: String,
    /// Creation time of the stream (a re-created stream invalidates old iterators).
    pub stream_created_ms: u64,
    /// Shard index.
    pub shard: u32,
    /// Index of the next record to read (records with a lower index are skipped).
    pub position: u64,
    /// When the iterator was issued, epoch ms.
    pub issued_ms: u64,
}

const VERSION: u8 = 2;

/// Every iterator starts with these bytes, as AWS's do (`AAAAAAAAAA` and `E`–`H` in base64).
const HEADER: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];

/// The sealed part of an iterator is a multiple of this, and at least `MIN_SEALED` bytes: AWS's
/// iterators decode to 152–280 bytes, and ours (the header plus 144–176 sealed bytes) do too.
const BLOCK: usize = 16;
const MIN_SEALED: usize = 144;

/// Fixed fields before the stream name: version, stream creation, shard, position, issue
/// time, name length.
const FIXED: usize = 1 + 8 + 4 + 8 + 8 + 1;

fn fnv64(key: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ key;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// XORs `bytes` with a keystream drawn from `key` (splitmix64): enough to make the token
/// opaque; integrity comes from the keyed checksum inside it.
fn mask(key: u64, bytes: &mut [u8]) {
    let mut state = key;
    for chunk in bytes.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        for (b, k) in chunk.iter_mut().zip(z.to_le_bytes()) {
            *b ^= k;
        }
    }
}

impl Iterator {
    /// The opaque token handed to clients: base64 of AWS's header and a sealed body, the size
    /// of AWS's iterators.
    pub(crate) fn encode(&self, key: u64) -> String {
        let name = self.stream.as_bytes();
        let name = &name[..name.len().min(usize::from(u8::MAX))];
        let sealed_len = (FIXED + name.len() + 8).div_ceil(BLOCK).max(MIN_SEALED / BLOCK) * BLOCK;
        let mut b = Vec::with_capacity(HEADER.len() + sealed_len);
        b.extend_from_slice(&HEADER);
        b.push(VERSION);
        b.extend_from_slice(&self.stream_created_ms.to_le_bytes());
        b.extend_from_slice(&self.shard.to_le_bytes());
        b.extend_from_slice(&self.position.to_le_bytes());
        b.extend_from_slice(&self.issued_ms.to_le_bytes());
        b.push(name.len() as u8);
        b.extend_from_slice(name);
        b.resize(HEADER.len() + sealed_len - 8, 0);
        let sum = fnv64(key, &b[HEADER.len()..]);
        b.extend_from_slice(&sum.to_le_bytes());
        mask(key, &mut b[HEADER.len()..]);
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    /// Decodes a token; `None` when it is not one of ours (or not this engine's), or altered.
    pub(crate) fn decode(token: &str, key: u64) -> Option<Self> {
        let mut b = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
        if !(HEADER.len() + MIN_SEALED..=280).contains(&b.len()) || b[..HEADER.len()] != HEADER {
            return None;
        }
        let sealed = &mut b[HEADER.len()..];
        mask(key, sealed);
        let (body, sum) = sealed.split_at(sealed.len() - 8);
        if fnv64(key, body) != u64::from_le_bytes(sum.try_into().ok()?) || body[0] != VERSION {
            return None;
        }
        let u64_at = |i: usize| {
            body.get(i..i + 8)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let name_len = usize::from(*body.get(FIXED - 1)?);
        Some(Self {
            stream_created_ms: u64_at(1)?,
            shard: u32::from_le_bytes(body.get(9..13)?.try_into().ok()?),
            position: u64_at(13)?,
            issued_ms: u64_at(21)?,
            stream: String::from_utf8(body.get(FIXED..FIXED + name_len)?.to_vec()).ok()?,
        })
    }
}

/// "Shard X in stream Y under account Z does not exist"
pub(crate) fn shard_missing(ctx: &Ctx<'_>, id: &str, stream: &str) -> ApiError {
    ApiError::not_found(format!(
        "Shard {id} in stream {stream} under account {} does not exist",
        ctx.cfg.account_id
    ))
}

/// A listed (not expired) shard of `stream` by id.
pub(crate) fn find_shard<'s>(ctx: &Ctx<'_>, stream: &'s Stream, id: &str) -> Result<&'s Shard, ApiError> {
    let horizon = stream.horizon_ms(ctx.now, ctx.cfg.max_retention_ms());
    parse_shard_id(id)
        .and_then(|i| stream.shards.get(i as usize))
        .filter(|s| !s.is_expired(horizon))
        .ok_or_else(|| shard_missing(ctx, &super::state::canonical_shard_id(id), &stream.name))
}

fn parse_timestamp(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).max(0.0).round() as u64),
        serde_json::Value::String(s) => s
            .parse::<f64>()
            .ok()
            .map(|secs| (secs * 1000.0).max(0.0).round() as u64)
            .or_else(|| {
                humantime::parse_rfc3339_weak(s)
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_millis() as u64)
            }),
        _ => None,
    }
}

/// GetShardIterator.
pub(crate) fn get_shard_iterator(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: GetShardIteratorInput = req.parse()?;
    let kinds = [
        "AT_SEQUENCE_NUMBER",
        "AFTER_SEQUENCE_NUMBER",
        "TRIM_HORIZON",
        "LATEST",
        "AT_TIMESTAMP",
    ];
    let mut checks = Checks::default();
    checks.required(&input.shard_id, "shardId");
    checks.required(&input.shard_iterator_type, "shardIteratorType");
    checks.shard_id(input.shard_id.as_deref(), "shardId");
    checks.one_of(input.shard_iterator_type.as_deref(), "shardIteratorType", &kinds);
    checks.sequence_number(
        input.starting_sequence_number.as_deref(),
        "startingSequenceNumber",
    );
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let id = input.shard_id.unwrap_or_default();
    let kind = input.shard_iterator_type.unwrap_or_default();
    let stream = ctx.serving_stream(&name)?;
    let shard = find_shard(ctx, stream, &id)?;
    let needs_seq = kind == "AT_SEQUENCE_NUMBER" || kind == "AFTER_SEQUENCE_NUMBER";
    match (&input.starting_sequence_number, needs_seq) {
        (None, true) | (Some(_), false) => {
            return Err(ApiError::invalid_argument(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and {} StartingSequenceNumber.",
                if input.starting_sequence_number.is_some() { "also a" } else { "no" }
            )));
        }
        _ => {}
    }
    let position = start_position(
        ctx,
        stream,
        shard,
        &kind,
        input.starting_sequence_number.as_deref(),
        input.timestamp.as_ref(),
    )?;
    let it = Iterator {
        stream: name,
        stream_created_ms: stream.created_ms,
        shard: shard.index,
        position,
        issued_ms: ctx.now,
    };
    req.reply(&json!({ "ShardIterator": it.encode(ctx.iterator_key) }))
}

/// The index a reader starting at `kind` (with its sequence number or timestamp) reads first.
pub(crate) fn start_position(
    ctx: &Ctx<'_>,
    stream: &Stream,
    shard: &Shard,
    kind: &str,
    seq: Option<&str>,
    timestamp: Option<&serde_json::Value>,
) -> Result<u64, ApiError> {
    let horizon = stream.horizon_ms(ctx.now, ctx.cfg.max_retention_ms());
    let trimmed_first = shard.first_index + shard.records.partition_point(|r| r.arrival_ms < horizon) as u64;
    Ok(match kind {
        "TRIM_HORIZON" => trimmed_first,
        "LATEST" => shard.next_index(),
        "AT_TIMESTAMP" => {
            let ts = timestamp.ok_or_else(|| {
                ApiError::invalid_argument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                )
            })?;
            let ms = parse_timestamp(ts)
                .ok_or_else(|| ApiError::invalid_argument("The timestamp parameter is not a valid time."))?;
            if ms > ctx.now {
                return Err(ApiError::invalid_argument(format!(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {ms}, currentTimestampInMillis: {}",
                    ctx.now
                )));
            } else {
                shard.index_at_time(ms).max(trimmed_first)
            }
        }
        _ => {
            let seq = seq.unwrap_or_default();
            let invalid = |why: &str| {
                ApiError::invalid_argument(format!(
                    "StartingSequenceNumber {seq} used in GetShardIterator on shard {} in stream {} under account {} is invalid{why}.",
                    shard.id(),
                    stream.name,
                    ctx.cfg.account_id
                ))
            };
            let parts = Layout::parse(seq).ok_or_else(|| invalid(""))?;
            if parts.shard_index != i64::from(shard.index) {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
                    super::state::shard_id_signed(parts.shard_index),
                    shard.id()
                )));
            }
            if parts.version != 2 || parts.shard_created_secs != shard.created_ms / 1000 {
                // AWS fails internally on an old-layout number of the right shard.
                if parts.version == 0 {
                    return Err(ApiError::internal("InternalFailure", ""));
                }
                return Err(invalid(" because it did not come from this stream"));
            }
            let at = if kind == "AFTER_SEQUENCE_NUMBER" {
                parts.index.saturating_add(1)
            } else {
                parts.index
            };
            at.max(trimmed_first)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterator_round_trips_and_rejects_tampering() {
        let it = Iterator {
            stream: "orders".into(),
            stream_created_ms: 1,
            shard: 2,
            position: 3,
            issued_ms: 4,
        };
        let tok = it.encode(42);
        assert_eq!(Iterator::decode(&tok, 42), Some(it.clone()));
        assert_eq!(Iterator::decode(&tok, 43), None, "another engine's iterator");
        assert_eq!(Iterator::decode("garbage", 42), None);
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&tok)
            .expect("base64");
        bytes[40] ^= 1;
        let altered = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(Iterator::decode(&altered, 42), None, "an altered iterator");
    }

    #[test]
    fn iterators_are_the_size_of_aws_ones() {
        for name in ["s", &"n".repeat(128)] {
            let it = Iterator {
                stream: name.to_string(),
                stream_created_ms: u64::MAX,
                shard: u32::MAX,
                position: u64::MAX,
                issued_ms: u64::MAX,
            };
            let tok = it.encode(7);
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&tok)
                .expect("base64");
            assert!((152..=280).contains(&raw.len()), "{} bytes", raw.len());
            assert!(
                tok.starts_with("AAAAAAAAAA") && "EFGH".contains(&tok[10..11]),
                "{tok}"
            );
            assert_eq!(Iterator::decode(&tok, 7), Some(it));
        }
    }
}
