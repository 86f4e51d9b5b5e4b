//! Shards: ListShards (filters, paging, expiring tokens) and resharding (SplitShard,
//! MergeShards, UpdateShardCount).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::call::Call;
use super::model::{
    HashKeyRange, ListShardsInput, MergeShardsInput, SequenceNumberRange, ShardOut, SplitShardInput,
    UpdateShardCountInput,
};
use super::state::{parse_shard_id, shard_id, Event, Mode, Shard, Stream};
use super::streams::check_shard_limit;
use super::validate::Checks;
use super::{hash, Ctx};
use crate::engine::codec::Reply;
use crate::engine::error::ApiError;

/// How long a ListShards `NextToken` stays valid.
const NEXT_TOKEN_TTL_MS: u64 = 300_000;

/// A shard as listed on the wire.
pub(crate) fn shard_out(s: &Shard) -> ShardOut {
    ShardOut {
        shard_id: s.id(),
        parent_shard_id: s.parent.map(shard_id),
        adjacent_parent_shard_id: s.adjacent_parent.map(shard_id),
        hash_key_range: HashKeyRange {
            starting_hash_key: s.start_hash.to_string(),
            ending_hash_key: s.end_hash.to_string(),
        },
        sequence_number_range: SequenceNumberRange {
            starting_sequence_number: s.starting_sequence_number(),
            ending_sequence_number: s.ending_sequence_number(),
        },
    }
}

/// What a ListShards `NextToken` carries.
#[derive(Serialize, Deserialize)]
struct ListShardsToken {
    stream: String,
    stream_created_ms: u64,
    after: u32,
    filter: Option<(String, Option<u32>, Option<u64>)>,
    issued_ms: u64,
    max: usize,
}

fn open_at(s: &Shard, t: u64) -> bool {
    s.created_ms <= t && s.closed_ms.is_none_or(|c| c > t)
}

/// ListShards.
pub(crate) fn list_shards(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ListShardsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.range(input.max_results, "maxResults", 1, 10_000);
    checks.shard_id(input.exclusive_start_shard_id.as_deref(), "exclusiveStartShardId");
    checks.length(input.next_token.as_deref(), "nextToken", 1, 1_048_576);
    if let Some(f) = &input.shard_filter {
        checks.required(&f.kind, "shardFilter.type");
        checks.one_of(
            f.kind.as_deref(),
            "shardFilter.type",
            &[
                "AFTER_SHARD_ID",
                "AT_TRIM_HORIZON",
                "FROM_TRIM_HORIZON",
                "AT_LATEST",
                "AT_TIMESTAMP",
                "FROM_TIMESTAMP",
            ],
        );
        checks.shard_id(f.shard_id.as_deref(), "shardFilter.shardId");
    }
    checks.finish()?;

    let (name, after, filter, max) = if let Some(token) = &input.next_token {
        if input.stream_name.is_some() || input.stream_arn.is_some() {
            return Err(ApiError::invalid_argument(
                "NextToken and StreamName cannot be provided together.",
            ));
        }
        let t: ListShardsToken = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| ApiError::invalid_argument("Invalid NextToken."))?;
        if ctx.now.saturating_sub(t.issued_ms) > NEXT_TOKEN_TTL_MS {
            return Err(ApiError::new(
                "ExpiredNextTokenException",
                "The NextToken has expired: it is valid for 300 seconds.",
            ));
        }
        let stream = ctx.stream(&t.stream)?;
        if stream.created_ms != t.stream_created_ms {
            return Err(ApiError::invalid_argument("Invalid NextToken."));
        }
        let max = input.max_results.map_or(t.max, |m| m as usize);
        (t.stream, Some(t.after), t.filter, max)
    } else {
        if input.stream_name.is_none() && input.stream_arn.is_none() {
            return Err(ApiError::invalid_argument(
                "Either NextToken or StreamName should be provided.",
            ));
        }
        let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let start = input
            .exclusive_start_shard_id
            .as_deref()
            .map(|id| parse_shard_id(id).unwrap_or(0));
        let filter = match &input.shard_filter {
            None => None,
            Some(f) => {
                let kind = f.kind.clone().unwrap_or_default();
                let shard = match (kind.as_str(), &f.shard_id) {
                    ("AFTER_SHARD_ID", None) => {
                        return Err(ApiError::invalid_argument(
                            "Must specify ShardId in ShardFilter when the filter type is AFTER_SHARD_ID.",
                        ))
                    }
                    (_, Some(id)) => Some(parse_shard_id(id).unwrap_or(0)),
                    _ => None,
                };
                let ts = match (kind.as_str(), f.timestamp) {
                    ("AT_TIMESTAMP" | "FROM_TIMESTAMP", None) => {
                        return Err(ApiError::invalid_argument(format!(
                            "Must specify Timestamp in ShardFilter when the filter type is {kind}."
                        )))
                    }
                    (_, Some(t)) => Some((t * 1000.0).max(0.0) as u64),
                    _ => None,
                };
                Some((kind, shard, ts))
            }
        };
        (
            name,
            start,
            filter,
            input.max_results.map_or(1000, |m| m as usize),
        )
    };

    let stream = ctx.stream(&name)?;
    let horizon = stream.horizon_ms(ctx.now, ctx.cfg.max_retention_ms());
    let selected: Vec<&Shard> = stream
        .shards
        .iter()
        .filter(|s| !s.is_expired(horizon))
        .filter(|s| after.is_none_or(|a| s.index > a))
        .filter(|s| matches_filter(stream, s, filter.as_ref(), horizon))
        .collect();
    let has_more = selected.len() > max;
    let page: Vec<ShardOut> = selected.iter().take(max).map(|s| shard_out(s)).collect();
    let mut out = json!({ "Shards": page });
    if has_more {
        if let Some(last) = selected.get(max.saturating_sub(1)) {
            let token = ListShardsToken {
                stream: name.clone(),
                stream_created_ms: stream.created_ms,
                after: last.index,
                filter,
                issued_ms: ctx.now,
                max,
            };
            let bytes = serde_json::to_vec(&token)
                .map_err(|e| ApiError::internal("InternalFailure", e.to_string()))?;
            out["NextToken"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
    req.reply(&out)
}

fn matches_filter(
    stream: &Stream,
    s: &Shard,
    filter: Option<&(String, Option<u32>, Option<u64>)>,
    horizon: u64,
) -> bool {
    let Some((kind, shard, ts)) = filter else {
        return true;
    };
    let at = |t: u64| t.max(stream.created_ms);
    match kind.as_str() {
        "AFTER_SHARD_ID" => shard.is_none_or(|id| s.index > id),
        "AT_TRIM_HORIZON" => open_at(s, at(horizon)),
        "FROM_TRIM_HORIZON" => true,
        "AT_LATEST" => s.is_open(),
        "AT_TIMESTAMP" => open_at(s, at(ts.unwrap_or(0))),
        "FROM_TIMESTAMP" => {
            let t = at(ts.unwrap_or(0));
            open_at(s, t) || s.created_ms > t
        }
        _ => true,
    }
}

fn shard_not_found(ctx: &Ctx<'_>, id: &str, stream: &str) -> ApiError {
    ApiError::not_found(format!(
        "Could not find shard {id} in stream {stream} under account {}.",
        ctx.cfg.account_id
    ))
}

fn not_eligible(ctx: &Ctx<'_>, id: &str, stream: &str) -> ApiError {
    ApiError::in_use(format!(
        "Shard {id} in stream {stream} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
        ctx.cfg.account_id
    ))
}

fn provisioned_only(ctx: &Ctx<'_>, stream: &Stream, op: &str) -> Result<(), ApiError> {
    if stream.mode == Mode::OnDemand {
        return Err(ApiError::validation(&[format!(
            "{op} is not supported for stream {} under account {} because it is in ON_DEMAND mode",
            stream.name, ctx.cfg.account_id
        )]));
    }
    Ok(())
}

fn open_shard<'s>(ctx: &Ctx<'_>, stream: &'s Stream, id: &str) -> Result<&'s Shard, ApiError> {
    let canonical = super::state::canonical_shard_id(id);
    let shard = parse_shard_id(id)
        .and_then(|i| stream.shards.get(i as usize))
        .ok_or_else(|| shard_not_found(ctx, &canonical, &stream.name))?;
    if !shard.is_open() {
        return Err(not_eligible(ctx, &canonical, &stream.name));
    }
    Ok(shard)
}

/// SplitShard.
pub(crate) fn split_shard(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: SplitShardInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.shard_to_split, "shardToSplit");
    checks.required(&input.new_starting_hash_key, "newStartingHashKey");
    checks.shard_id(input.shard_to_split.as_deref(), "shardToSplit");
    checks.hash_key(input.new_starting_hash_key.as_deref(), "newStartingHashKey");
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let id = input.shard_to_split.unwrap_or_default();
    let key_text = input.new_starting_hash_key.unwrap_or_default();
    let stream = ctx.active_stream(&name)?;
    provisioned_only(ctx, stream, "SplitShard")?;
    let shard = open_shard(ctx, stream, &id)?;
    let key = hash::parse_hash_key(&key_text);
    let valid = key.is_some_and(|k| k > shard.start_hash.saturating_add(1) && k < shard.end_hash);
    if !valid {
        return Err(ApiError::invalid_argument(format!(
            "NewStartingHashKey {key_text} used in SplitShard() on shard {id} in stream {name} under account {} is not both greater than one plus the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
            ctx.cfg.account_id, shard.start_hash, shard.end_hash
        )));
    }
    let index = shard.index;
    check_shard_limit(ctx, 1)?;
    let (at_ms, delay_ms) = (ctx.now, ctx.cfg.update_stream_delay.as_millis() as u64);
    ctx.commit(Event::Split {
        name,
        shard: index,
        new_start: key_text,
        at_ms,
        delay_ms,
    })?;
    req.reply(&json!({}))
}

/// MergeShards.
pub(crate) fn merge_shards(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: MergeShardsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.shard_to_merge, "shardToMerge");
    checks.required(&input.adjacent_shard_to_merge, "adjacentShardToMerge");
    checks.shard_id(input.shard_to_merge.as_deref(), "shardToMerge");
    checks.shard_id(input.adjacent_shard_to_merge.as_deref(), "adjacentShardToMerge");
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let (a_id, b_id) = (
        input.shard_to_merge.unwrap_or_default(),
        input.adjacent_shard_to_merge.unwrap_or_default(),
    );
    let stream = ctx.active_stream(&name)?;
    provisioned_only(ctx, stream, "MergeShards")?;
    let a = open_shard(ctx, stream, &a_id)?;
    let b = open_shard(ctx, stream, &b_id)?;
    // AWS takes the pair in hash-key order: ShardToMerge must sit right below its neighbour.
    let adjacent = a.index != b.index && a.end_hash.checked_add(1) == Some(b.start_hash);
    if !adjacent {
        return Err(ApiError::invalid_argument(format!(
            "Shards {} and {} in stream {name} under account {} are not an adjacent pair of shards eligible for merging",
            a.id(),
            b.id(),
            ctx.cfg.account_id
        )));
    }
    let (shard, adjacent) = (a.index, b.index);
    let (at_ms, delay_ms) = (ctx.now, ctx.cfg.update_stream_delay.as_millis() as u64);
    ctx.commit(Event::Merge {
        name,
        shard,
        adjacent,
        at_ms,
        delay_ms,
    })?;
    req.reply(&json!({}))
}

/// UpdateShardCount (UNIFORM_SCALING).
pub(crate) fn update_shard_count(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: UpdateShardCountInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.target_shard_count, "targetShardCount");
    checks.required(&input.scaling_type, "scalingType");
    checks.range(input.target_shard_count, "targetShardCount", 1, 100_000);
    checks.one_of(input.scaling_type.as_deref(), "scalingType", &["UNIFORM_SCALING"]);
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let target = input.target_shard_count.unwrap_or(1) as u64;
    let stream = ctx.active_stream(&name)?;
    provisioned_only(ctx, stream, "UpdateShardCount")?;
    let current = stream.open_shards().count() as u64;
    if target > current * 2 {
        return Err(ApiError::limit_exceeded(format!(
            "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current} Target shard count: {target}"
        )));
    }
    if target * 2 < current {
        return Err(ApiError::limit_exceeded(format!(
            "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {current} Target shard count: {target}"
        )));
    }
    check_shard_limit(ctx, target.saturating_sub(current))?;
    let arn = ctx.stream_arn(&name);
    let (at_ms, delay_ms) = (ctx.now, ctx.cfg.update_stream_delay.as_millis() as u64);
    ctx.commit(Event::UpdateShardCount {
        name: name.clone(),
        target: target as u32,
        at_ms,
        delay_ms,
    })?;
    req.reply(&json!({
        "StreamName": name,
        "CurrentShardCount": current,
        "TargetShardCount": target,
        "StreamARN": arn,
    }))
}
