//! Records in and out: PutRecord, PutRecords (per-record results, partial failures) and
//! GetRecords (limits, MillisBehindLatest, the end of a closed shard).

use base64::Engine as _;
use serde_json::json;

use super::call::Call;
use super::iterators::{find_shard, shard_missing, Iterator};
use super::model::{
    Blob, ChildShardOut, GetRecordsInput, GetRecordsOutput, HashKeyRange, PutRecordInput, PutRecordsEntry,
    PutRecordsInput, PutRecordsResultEntry, RecordOut,
};
use super::sequence::Layout;
use super::state::{shard_id, PutBatch, Stream};
use super::validate::Checks;
use super::{hash, Ctx};
use crate::engine::codec::Reply;
use crate::engine::error::{constraint, ApiError};

/// Largest `Data` blob the API model accepts (a stream's own limit may be lower).
pub(crate) const MAX_DATA_BYTES: usize = 10 * 1024 * 1024;
/// Largest PutRecords request (data + partition keys).
pub(crate) const MAX_PUT_RECORDS_BYTES: usize = 10 * 1024 * 1024;
/// Most records in one PutRecords.
pub(crate) const MAX_PUT_RECORDS: usize = 500;
/// Most records one GetRecords returns.
pub(crate) const MAX_GET_RECORDS: usize = 10_000;
/// Most bytes one GetRecords returns.
pub(crate) const MAX_GET_BYTES: usize = 10 * 1024 * 1024;

/// A record ready to store: its shard and its bytes.
struct Prepared {
    shard: u32,
    partition_key: String,
    data: Vec<u8>,
}

fn check_entry(
    checks: &mut Checks,
    prefix: impl std::fmt::Display,
    data: &Option<Blob>,
    pk: &Option<String>,
    ehk: &Option<String>,
) {
    // The common case allocates nothing; member names are only spelled out for a failure.
    let pk_ok = pk
        .as_deref()
        .is_some_and(|k| !k.is_empty() && (k.len() <= 256 || k.chars().count() <= 256));
    let ehk_ok = ehk.as_deref().is_none_or(hash::is_hash_key_pattern);
    if data.is_some() && pk_ok && ehk_ok {
        return;
    }
    checks.required(data, &format!("{prefix}data"));
    checks.required(pk, &format!("{prefix}partitionKey"));
    checks.length(pk.as_deref(), &format!("{prefix}partitionKey"), 1, 256);
    checks.hash_key(ehk.as_deref(), &format!("{prefix}explicitHashKey"));
}

fn prepare(
    stream: &Stream,
    data: Vec<u8>,
    pk: String,
    ehk: Option<&str>,
    member: impl Fn() -> String,
) -> Result<Prepared, ApiError> {
    if data.len() > MAX_DATA_BYTES {
        return Err(ApiError::validation(&[format!(
            "Value at '{}' failed to satisfy constraint: Member must have length less than or equal to {MAX_DATA_BYTES}",
            member()
        )]));
    }
    // The stream's MaxRecordSizeInKiB (1 MiB unless raised) bounds data + partition key.
    let max_record = stream.settings.max_record_kib as usize * 1024;
    if data.len() + pk.len() > max_record {
        return Err(ApiError::invalid_argument(format!(
            "Record size ({} bytes of data + partition key) exceeds the stream's MaxRecordSizeInKiB of {} KiB",
            data.len() + pk.len(),
            stream.settings.max_record_kib
        )));
    }
    let hash_key = match ehk {
        Some(text) => hash::parse_hash_key(text).ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {text}"
            ))
        })?,
        None => hash::partition_hash(&pk),
    };
    let shard = stream.shard_for_hash(hash_key).ok_or_else(|| {
        ApiError::internal(
            "InternalFailure",
            format!("no open shard serves hash key {hash_key}"),
        )
    })?;
    Ok(Prepared {
        shard,
        partition_key: pk,
        data,
    })
}

fn throttled(ctx: &Ctx<'_>, stream: &str, shard: u32) -> String {
    format!(
        "Rate exceeded for shard {} in stream {stream} under account {}.",
        shard_id(shard),
        ctx.cfg.account_id
    )
}

/// PutRecord.
pub(crate) fn put_record(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: PutRecordInput = req.parse()?;
    let mut checks = Checks::default();
    check_entry(
        &mut checks,
        "",
        &input.data,
        &input.partition_key,
        &input.explicit_hash_key,
    );
    checks.sequence_number(
        input.sequence_number_for_ordering.as_deref(),
        "sequenceNumberForOrdering",
    );
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.serving_stream(&name)?;
    let p = prepare(
        stream,
        input.data.map(|b| b.0).unwrap_or_default(),
        input.partition_key.unwrap_or_default(),
        input.explicit_hash_key.as_deref(),
        || "data".to_string(),
    )?;
    let now = ctx.now;
    if let Some(seq) = input.sequence_number_for_ordering.as_deref() {
        // Any layout AWS reads is accepted, unless it names a time still to come.
        let readable = Layout::parse(seq).is_some_and(|l| l.record_secs.is_none_or(|s| s * 1000 <= now));
        if !readable {
            return Err(ApiError::invalid_argument(format!(
                "ExclusiveMinimumSequenceNumber {seq} used in PutRecord on stream {name} under account {} is invalid.",
                ctx.cfg.account_id
            )));
        }
    }
    if ctx.cfg.enforce_limits {
        let bytes = (p.data.len() + p.partition_key.len()) as u64;
        let msg = throttled(ctx, &name, p.shard);
        let stream = ctx.serving_stream_mut(&name)?;
        if let Some(s) = stream.shards.get_mut(p.shard as usize) {
            if !s.meter.try_write(now, bytes) {
                return Err(ApiError::new("ProvisionedThroughputExceededException", msg));
            }
        }
    }
    let shard = p.shard;
    let placed = ctx.commit_put(PutBatch {
        name: name.clone(),
        records: vec![(shard, now, p.partition_key.into(), p.data.into())],
    })?;
    let stream = ctx.stream(&name)?;
    let (sh, index, arrival) = placed
        .first()
        .copied()
        .ok_or_else(|| ApiError::internal("InternalFailure", "record was not stored"))?;
    let s = &stream.shards[sh as usize];
    let mut out = json!({
        "ShardId": s.id(),
        "SequenceNumber": s.seq(index, arrival),
    });
    // AWS names the encryption only when there is one.
    if stream.settings.kms_key.is_some() {
        out["EncryptionType"] = json!("KMS");
    }
    req.reply(&out)
}

/// PutRecords.
pub(crate) fn put_records(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: PutRecordsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.records, "records");
    let entries: Vec<PutRecordsEntry> = input.records.unwrap_or_default();
    if entries.is_empty() {
        checks.push(constraint(
            "[]",
            "records",
            "have length greater than or equal to 1",
        ));
    }
    if entries.len() > MAX_PUT_RECORDS {
        checks.push(format!(
            "Value '[...]' at 'records' failed to satisfy constraint: Member must have length less than or equal to {MAX_PUT_RECORDS}"
        ));
    }
    for (i, e) in entries.iter().enumerate() {
        let prefix = format!("records.{}.member.", i + 1);
        check_entry(
            &mut checks,
            &prefix,
            &e.data,
            &e.partition_key,
            &e.explicit_hash_key,
        );
    }
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.serving_stream(&name)?;
    let mut prepared = Vec::with_capacity(entries.len());
    let mut total = 0usize;
    for (i, e) in entries.into_iter().enumerate() {
        let p = prepare(
            stream,
            e.data.map(|b| b.0).unwrap_or_default(),
            e.partition_key.unwrap_or_default(),
            e.explicit_hash_key.as_deref(),
            || format!("records.{}.member.data", i + 1),
        )?;
        total += p.data.len() + p.partition_key.len();
        prepared.push(p);
    }
    if total > MAX_PUT_RECORDS_BYTES {
        return Err(ApiError::invalid_argument("Records size exceeds 10 MB limit"));
    }
    let now = ctx.now;
    // Decide throttling per record before storing anything.
    let mut accepted = vec![true; prepared.len()];
    if ctx.cfg.enforce_limits {
        let stream = ctx.serving_stream_mut(&name)?;
        for (ok, p) in accepted.iter_mut().zip(&prepared) {
            if let Some(s) = stream.shards.get_mut(p.shard as usize) {
                *ok = s
                    .meter
                    .try_write(now, (p.data.len() + p.partition_key.len()) as u64);
            }
        }
    }
    let mut failures: Vec<Option<String>> = Vec::with_capacity(prepared.len());
    let mut batch = PutBatch {
        name: name.clone(),
        records: Vec::with_capacity(prepared.len()),
    };
    for (ok, p) in accepted.iter().zip(prepared) {
        if *ok {
            batch
                .records
                .push((p.shard, now, p.partition_key.into(), p.data.into()));
            failures.push(None);
        } else {
            failures.push(Some(throttled(ctx, &name, p.shard)));
        }
    }
    let placed = ctx.commit_put(batch)?;
    let stream = ctx.stream(&name)?;
    // Shard ids spelled once per shard, not once per record.
    let shard_ids: Vec<String> = stream.shards.iter().map(|s| s.id()).collect();
    let mut placed = placed.into_iter();
    let mut failed = 0usize;
    let mut results = Vec::with_capacity(failures.len());
    for f in failures {
        match f {
            Some(message) => {
                failed += 1;
                results.push(PutRecordsResultEntry {
                    sequence_number: None,
                    shard_id: None,
                    error_code: Some("ProvisionedThroughputExceededException"),
                    error_message: Some(message),
                });
            }
            None => {
                let (sh, index, arrival) = placed
                    .next()
                    .ok_or_else(|| ApiError::internal("InternalFailure", "record was not stored"))?;
                let s = &stream.shards[sh as usize];
                results.push(PutRecordsResultEntry {
                    sequence_number: Some(s.seq(index, arrival)),
                    shard_id: shard_ids.get(sh as usize).map(String::as_str),
                    error_code: None,
                    error_message: None,
                });
            }
        }
    }
    let mut out = json!({
        "FailedRecordCount": failed,
        "Records": results,
    });
    if stream.settings.kms_key.is_some() {
        out["EncryptionType"] = json!("KMS");
    }
    req.reply(&out)
}

/// GetRecords.
pub(crate) fn get_records(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: GetRecordsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.shard_iterator, "shardIterator");
    checks.length(input.shard_iterator.as_deref(), "shardIterator", 1, 512);
    checks.range(input.limit, "limit", 1, MAX_GET_RECORDS as i64);
    checks.finish()?;
    let token = input.shard_iterator.unwrap_or_default();
    let it = Iterator::decode(&token, ctx.iterator_key)
        .ok_or_else(|| ApiError::invalid_argument("Invalid ShardIterator."))?;
    let ttl = ctx.cfg.iterator_ttl.as_millis() as u64;
    if ctx.now.saturating_sub(it.issued_ms) > ttl {
        return Err(ApiError::new(
            "ExpiredIteratorException",
            format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ttl} milliseconds.",
                humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(it.issued_ms)),
                humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ctx.now)),
            ),
        ));
    }
    let id = shard_id(it.shard);
    let missing = shard_missing(ctx, &id, &it.stream);
    let stream = match ctx.serving_stream(&it.stream) {
        Ok(s) if s.created_ms == it.stream_created_ms => s,
        _ => return Err(missing),
    };
    find_shard(ctx, stream, &id)?;
    let now = ctx.now;
    let enforce = ctx.cfg.enforce_limits;
    let account = ctx.cfg.account_id.clone();
    let limit = input.limit.map_or(MAX_GET_RECORDS, |l| l as usize);
    let key = ctx.iterator_key;
    let cap = ctx.cfg.max_retention_ms();
    let stream = ctx.serving_stream_mut(&it.stream)?;
    let horizon = stream.horizon_ms(now, cap);
    let stream_name = stream.name.clone();
    {
        let Some(shard) = stream.shards.get_mut(it.shard as usize) else {
            return Err(missing);
        };
        shard.trim(horizon);
        if enforce && !shard.meter.try_read_call(now) {
            return Err(ApiError::new(
                "ProvisionedThroughputExceededException",
                format!("Rate exceeded for Shard - {id} in stream {stream_name} under account {account}."),
            ));
        }
    }
    let stream: &Stream = stream;
    let read = read_shard(stream, it.shard, it.position, limit, MAX_GET_BYTES, now);
    let bytes = read.bytes;
    let next_iterator = if read.child_shards.is_some() {
        None
    } else {
        let next = Iterator {
            position: read.next_position,
            issued_ms: now,
            ..it.clone()
        };
        Some(next.encode(key))
    };
    let reply = req.reply(&GetRecordsOutput {
        records: read.records,
        next_shard_iterator: next_iterator,
        millis_behind_latest: read.millis_behind,
        child_shards: read.child_shards,
    })?;
    if enforce {
        if let Ok(stream) = ctx.serving_stream_mut(&it.stream) {
            if let Some(shard) = stream.shards.get_mut(it.shard as usize) {
                shard.meter.add_read_bytes(bytes as u64);
            }
        }
    }
    Ok(reply)
}

impl super::Kinesis {
    /// For kinlocal's long poll ([`crate::engine::http::WAIT_HEADER`]): when the GetRecords
    /// `req` would find nothing yet (a valid iterator at the tip of an open shard), a receiver
    /// that changes when that shard does (a put, a reshard). `None` when the read has something
    /// to answer at once: records, the shard's end, or an error.
    pub(crate) fn tip_watch(&self, req: &Call) -> Option<tokio::sync::watch::Receiver<u64>> {
        let input: GetRecordsInput = req.parse().ok()?;
        let it = Iterator::decode(input.shard_iterator.as_deref()?, self.iterator_key)?;
        let guard = self.lock();
        let stream = guard.state.streams.get(&it.stream)?;
        if stream.created_ms != it.stream_created_ms {
            return None;
        }
        let shard = stream.shards.get(it.shard as usize)?;
        (shard.is_open() && it.position >= shard.next_index()).then(|| shard.changes.subscribe())
    }
}

/// What one read of a shard found (GetRecords and SubscribeToShard share it).
pub(crate) struct ShardRead<'a> {
    /// The records, oldest first.
    pub records: Vec<RecordOut<'a>>,
    /// Index of the next record to read.
    pub next_position: u64,
    /// How far the read is behind the shard's newest record.
    pub millis_behind: u64,
    /// Set once a closed shard has been read to its end: the shards that continue it.
    pub child_shards: Option<Vec<ChildShardOut>>,
    /// Bytes of data and partition keys returned.
    pub bytes: usize,
}

/// The children of a closed shard, as GetRecords and SubscribeToShard name them.
pub(crate) fn child_shards(stream: &Stream, shard: &super::state::Shard) -> Vec<ChildShardOut> {
    shard
        .children
        .iter()
        .filter_map(|&c| stream.shards.get(c as usize))
        .map(|c| ChildShardOut {
            shard_id: c.id(),
            parent_shards: [c.parent, c.adjacent_parent]
                .into_iter()
                .flatten()
                .map(shard_id)
                .collect(),
            hash_key_range: HashKeyRange {
                starting_hash_key: c.start_hash.to_string(),
                ending_hash_key: c.end_hash.to_string(),
            },
        })
        .collect()
}

/// Reads up to `limit` records (and about `max_bytes`) of shard `index` from `position`.
pub(crate) fn read_shard(
    stream: &Stream,
    index: u32,
    position: u64,
    limit: usize,
    max_bytes: usize,
    now: u64,
) -> ShardRead<'_> {
    let Some(shard) = stream.shards.get(index as usize) else {
        return ShardRead {
            records: Vec::new(),
            next_position: position,
            millis_behind: 0,
            child_shards: None,
            bytes: 0,
        };
    };
    let start = position.max(shard.first_index);
    let offset = (start - shard.first_index) as usize;
    let mut bytes = 0usize;
    let mut records = Vec::new();
    for (i, r) in shard.records.iter().enumerate().skip(offset) {
        let size = r.data.len() + r.partition_key.len();
        if records.len() >= limit || (!records.is_empty() && bytes + size > max_bytes) {
            break;
        }
        bytes += size;
        let index = shard.first_index + i as u64;
        records.push(RecordOut {
            sequence_number: shard.seq(index, r.arrival_ms),
            approximate_arrival_timestamp: r.arrival_ms as f64 / 1000.0,
            data: base64::engine::general_purpose::STANDARD.encode(&r.data),
            partition_key: &r.partition_key,
            encryption_type: stream.settings.kms_key.as_ref().map(|_| "KMS"),
        });
    }
    let next_position = start + records.len() as u64;
    let at_end = next_position >= shard.next_index();
    let millis_behind = if at_end {
        0
    } else {
        let next = (next_position - shard.first_index) as usize;
        shard
            .records
            .get(next)
            .map_or(0, |r| now.saturating_sub(r.arrival_ms))
    };
    let child_shards = (at_end && !shard.is_open()).then(|| child_shards(stream, shard));
    ShardRead {
        records,
        next_position,
        millis_behind,
        child_shards,
        bytes,
    }
}
