//! Stream lifecycle: create, delete, describe, list; retention; tags; account limits.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Value};

use super::call::Call;
use super::model::{
    AddTagsInput, CreateStreamInput, DeleteStreamInput, DescribeStreamInput, ListStreamsInput, ListTagsInput,
    RemoveTagsInput, RetentionInput, StreamRef,
};
use super::shards::shard_out;
use super::state::{parse_shard_id, Event, Mode, Stream};
use super::validate::Checks;
use super::Ctx;
use crate::engine::codec::Reply;
use crate::engine::error::ApiError;

/// Open shards allowed per account (AWS's quota in us-east-1, us-west-2 and eu-west-1).
pub(crate) const SHARD_LIMIT: u64 = 20_000;
/// On-demand streams allowed per account.
pub(crate) const ON_DEMAND_STREAM_LIMIT: u64 = 50;
/// Shards an on-demand stream starts with.
pub(crate) const ON_DEMAND_SHARDS: u32 = 4;
/// Tags per stream (and keys per RemoveTagsFromStream).
const MAX_TAGS: usize = 50;
/// Tags per AddTagsToStream request.
const MAX_TAGS_PER_ADD: usize = 200;

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// CreateStream.
pub(crate) fn create_stream(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: CreateStreamInput = req.parse()?;
    let mode_name = input
        .stream_mode_details
        .as_ref()
        .and_then(|m| m.stream_mode.clone());
    let mut checks = Checks::default();
    checks.required(&input.stream_name, "streamName");
    checks.stream_name(input.stream_name.as_deref(), "streamName");
    checks.range(input.shard_count, "shardCount", 1, 100_000);
    checks.one_of(
        mode_name.as_deref(),
        "streamModeDetails.streamMode",
        &["PROVISIONED", "ON_DEMAND"],
    );
    if let Some(m) = &input.stream_mode_details {
        checks.required(&m.stream_mode, "streamModeDetails.streamMode");
    }
    checks.range(input.max_record_size_in_kib, "maxRecordSizeInKiB", 1024, 10_240);
    checks.range(
        input.warm_throughput_mibps,
        "warmThroughputMiBps",
        0,
        i64::from(i32::MAX),
    );
    checks.finish()?;
    let name = input.stream_name.unwrap_or_default();
    // Today's AWS: a stream created with neither a mode nor a shard count is on-demand.
    let mode = match (mode_name.as_deref(), input.shard_count) {
        (Some("ON_DEMAND"), _) | (None, None) => Mode::OnDemand,
        _ => Mode::Provisioned,
    };
    let shards = match (mode, input.shard_count) {
        (Mode::Provisioned, Some(n)) => n as u32,
        (Mode::Provisioned, None) => {
            return Err(ApiError::invalid_argument(
                "ShardCount is required for a stream in PROVISIONED mode",
            ))
        }
        (Mode::OnDemand, Some(_)) => {
            return Err(ApiError::validation(&[
                "ShardCount must not be specified for a stream in ON_DEMAND mode".to_string(),
            ]))
        }
        (Mode::OnDemand, None) => ON_DEMAND_SHARDS,
    };
    if ctx.state.streams.contains_key(&name) {
        return Err(ApiError::in_use(format!(
            "Stream {name} under account {} already exists.",
            ctx.cfg.account_id
        )));
    }
    check_shard_limit(ctx, u64::from(shards))?;
    if mode == Mode::OnDemand
        && ctx
            .state
            .streams
            .values()
            .filter(|s| s.mode == Mode::OnDemand)
            .count() as u64
            >= ON_DEMAND_STREAM_LIMIT
    {
        return Err(ApiError::limit_exceeded(format!(
            "Account {} already has {ON_DEMAND_STREAM_LIMIT} on-demand streams, the limit.",
            ctx.cfg.account_id
        )));
    }
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    if input.warm_throughput_mibps.is_some() && mode != Mode::OnDemand {
        return Err(ApiError::invalid_argument(
            "WarmThroughputMiBps can only be specified for a stream in ON_DEMAND mode.",
        ));
    }
    let delay_ms = ctx.cfg.create_stream_delay.as_millis() as u64;
    let at_ms = ctx.now;
    ctx.commit(Event::CreateStream {
        name,
        shards,
        mode,
        at_ms,
        delay_ms,
        tags,
        max_record_kib: input.max_record_size_in_kib.map(|k| k as u32),
        warm_throughput_mibps: input.warm_throughput_mibps.map(|m| m as u32),
    })?;
    req.reply(&json!({}))
}

/// LimitExceededException when `more` open shards would pass the account's shard quota.
pub(crate) fn check_shard_limit(ctx: &Ctx<'_>, more: u64) -> Result<(), ApiError> {
    let open: u64 = ctx
        .state
        .streams
        .values()
        .map(|s| s.open_shards().count() as u64)
        .sum();
    if open + more > SHARD_LIMIT {
        return Err(ApiError::limit_exceeded(format!(
            "This request would exceed the shard limit for the account {} in {}. Current limit of shards: {SHARD_LIMIT}. Existing shards: {open}. Requested shards: {more}.",
            ctx.cfg.account_id, ctx.region
        )));
    }
    Ok(())
}

pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    for (k, v) in tags {
        checks.length(Some(k), "tags.key", 1, 128);
        checks.length(Some(v), "tags.value", 0, 256);
    }
    checks.finish()?;
    // AWS's tag alphabet: Unicode letters, digits, white space and `_ . : / = + - @`.
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    for (k, v) in tags {
        if !allowed(k) || !allowed(v) {
            return Err(ApiError::invalid_argument(
                "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . : / = + - @.",
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::invalid_argument(
                "Some tags start with 'aws:', which is reserved.",
            ));
        }
    }
    Ok(())
}

/// DeleteStream.
pub(crate) fn delete_stream(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: DeleteStreamInput = req.parse()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.stream(&name)?;
    if stream.deleted_until_ms.is_some() {
        return Err(ctx.stream_not_found(&name));
    }
    // Registered consumers keep a stream alive unless the caller says otherwise.
    if !stream.consumers.is_empty() && input.enforce_consumer_deletion != Some(true) {
        return Err(ApiError::in_use(format!(
            "Stream {name} under account {} has registered consumers; deregister them or set EnforceConsumerDeletion.",
            ctx.cfg.account_id
        )));
    }
    let until_ms = ctx.now + ctx.cfg.delete_stream_delay.as_millis() as u64;
    ctx.commit(Event::DeleteStream { name, until_ms })?;
    ctx.state.purge_deleted(ctx.now);
    req.reply(&json!({}))
}

fn stream_mode(stream: &Stream) -> Value {
    json!({ "StreamMode": stream.mode.as_str() })
}

/// `EnhancedMonitoring`, `EncryptionType` and (when encrypted) `KeyId`, shared by both describes.
fn settings_fields(stream: &Stream, out: &mut serde_json::Map<String, Value>) {
    out.insert(
        "EnhancedMonitoring".into(),
        json!([{ "ShardLevelMetrics": stream.settings.shard_level_metrics }]),
    );
    match &stream.settings.kms_key {
        Some(key) => {
            out.insert("EncryptionType".into(), json!("KMS"));
            out.insert("KeyId".into(), json!(key));
        }
        None => {
            out.insert("EncryptionType".into(), json!("NONE"));
        }
    }
}

/// DescribeStream (with paging over shards).
pub(crate) fn describe_stream(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: DescribeStreamInput = req.parse()?;
    let mut checks = Checks::default();
    checks.range(input.limit, "limit", 1, 10_000);
    checks.shard_id(input.exclusive_start_shard_id.as_deref(), "exclusiveStartShardId");
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.stream(&name)?;
    let horizon = stream.horizon_ms(ctx.now, ctx.cfg.max_retention_ms());
    let limit = input.limit.unwrap_or(100) as usize;
    let after = input
        .exclusive_start_shard_id
        .as_deref()
        .map(|id| parse_shard_id(id).map_or(-1, i64::from))
        .unwrap_or(-1);
    let listed: Vec<_> = stream
        .shards
        .iter()
        .filter(|s| !s.is_expired(horizon) && i64::from(s.index) > after)
        .collect();
    let has_more = listed.len() > limit;
    let shards: Vec<_> = listed.into_iter().take(limit).map(shard_out).collect();
    let mut out = json!({
        "StreamDescription": {
            "StreamName": stream.name,
            "StreamARN": ctx.stream_arn(&stream.name),
            "StreamStatus": stream.status(ctx.now).as_str(),
            "StreamModeDetails": stream_mode(stream),
            "Shards": shards,
            "HasMoreShards": has_more,
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": secs(stream.created_ms),
        }
    });
    if let Some(desc) = out["StreamDescription"].as_object_mut() {
        settings_fields(stream, desc);
    }
    req.reply(&out)
}

/// DescribeStreamSummary.
pub(crate) fn describe_stream_summary(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: StreamRef = req.parse()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.stream(&name)?;
    let mut out = json!({
        "StreamDescriptionSummary": {
            "StreamName": stream.name,
            "StreamARN": ctx.stream_arn(&stream.name),
            "StreamStatus": stream.status(ctx.now).as_str(),
            "StreamModeDetails": stream_mode(stream),
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": secs(stream.created_ms),
            "OpenShardCount": stream.open_shards().count(),
            "MaxRecordSizeInKiB": stream.settings.max_record_kib,
            "ConsumerCount": stream.consumers.values().filter(|c| c.deleting_until_ms.is_none_or(|u| ctx.now < u)).count(),
        }
    });
    if let Some(desc) = out["StreamDescriptionSummary"].as_object_mut() {
        settings_fields(stream, desc);
        if let Some(warm) = super::settings::warm_throughput(stream) {
            desc.insert("WarmThroughput".into(), warm);
        }
    }
    req.reply(&out)
}

/// ListStreams (paging by `ExclusiveStartStreamName` or `NextToken`).
pub(crate) fn list_streams(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ListStreamsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.range(input.limit, "limit", 1, 10_000);
    checks.stream_name(
        input.exclusive_start_stream_name.as_deref(),
        "exclusiveStartStreamName",
    );
    checks.finish()?;
    let after = match (&input.next_token, &input.exclusive_start_stream_name) {
        (Some(token), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::invalid_argument("Invalid NextToken."))?,
        ),
        (None, Some(name)) => Some(name.clone()),
        (None, None) => None,
    };
    let limit = input.limit.unwrap_or(100) as usize;
    let names: Vec<&Stream> = ctx
        .state
        .streams
        .values()
        .filter(|s| after.as_deref().is_none_or(|a| s.name.as_str() > a))
        .collect();
    let has_more = names.len() > limit;
    let page: Vec<&Stream> = names.into_iter().take(limit).collect();
    let summaries: Vec<Value> = page
        .iter()
        .map(|s| {
            json!({
                "StreamName": s.name,
                "StreamARN": ctx.stream_arn(&s.name),
                "StreamStatus": s.status(ctx.now).as_str(),
                "StreamModeDetails": stream_mode(s),
                "StreamCreationTimestamp": secs(s.created_ms),
            })
        })
        .collect();
    let mut out = json!({
        "StreamNames": page.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "HasMoreStreams": has_more,
        "StreamSummaries": summaries,
    });
    if has_more {
        if let Some(last) = page.last() {
            out["NextToken"] = json!(base64::engine::general_purpose::STANDARD.encode(&last.name));
        }
    }
    req.reply(&out)
}

/// Increase/DecreaseStreamRetentionPeriod.
pub(crate) fn change_retention(ctx: &mut Ctx<'_>, req: &Call, increase: bool) -> Result<Reply, ApiError> {
    let input: RetentionInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.retention_period_hours, "retentionPeriodHours");
    checks.range(input.retention_period_hours, "retentionPeriodHours", 1, 8760 * 10);
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let hours = input.retention_period_hours.unwrap_or(24);
    let stream = ctx.active_stream(&name)?;
    let current = i64::from(stream.retention_hours);
    if hours < 24 {
        return Err(ApiError::invalid_argument(format!(
            "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
        )));
    }
    if hours > 8760 {
        return Err(ApiError::invalid_argument(format!(
            "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is too long."
        )));
    }
    if increase && hours < current {
        return Err(ApiError::invalid_argument(format!(
            "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
        )));
    }
    if !increase && hours > current {
        return Err(ApiError::invalid_argument(format!(
            "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
        )));
    }
    let at_ms = ctx.now;
    let delay_ms = ctx.cfg.update_stream_delay.as_millis() as u64;
    ctx.commit(Event::Retention {
        name: name.clone(),
        hours: hours as u32,
        at_ms,
        delay_ms,
    })?;
    // A shorter retention trims at once.
    let cap = ctx.cfg.max_retention_ms();
    if let Some(stream) = ctx.state.streams.get_mut(&name) {
        let horizon = stream.horizon_ms(at_ms, cap);
        for shard in &mut stream.shards {
            shard.trim(horizon);
        }
    }
    req.reply(&json!({}))
}

/// AddTagsToStream.
pub(crate) fn add_tags(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: AddTagsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.tags, "tags");
    checks.finish()?;
    let tags = input.tags.unwrap_or_default();
    if tags.is_empty() || tags.len() > MAX_TAGS_PER_ADD {
        return Err(ApiError::validation(&[crate::engine::error::constraint(
            &format!("{} tags", tags.len()),
            "tags",
            &format!("have length less than or equal to {MAX_TAGS_PER_ADD} and greater than or equal to 1"),
        )]));
    }
    check_tags(&tags)?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.stream(&name)?;
    let total = stream
        .tags
        .keys()
        .chain(tags.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if total > MAX_TAGS {
        return Err(ApiError::invalid_argument(format!(
            "Failed to add tags to stream {name} under account {} because a given stream cannot have more than {MAX_TAGS} tags.",
            ctx.cfg.account_id
        )));
    }
    ctx.commit(Event::AddTags { name, tags })?;
    req.reply(&json!({}))
}

/// RemoveTagsFromStream.
pub(crate) fn remove_tags(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: RemoveTagsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.tag_keys, "tagKeys");
    checks.finish()?;
    let keys = input.tag_keys.unwrap_or_default();
    if keys.is_empty() || keys.len() > MAX_TAGS {
        return Err(ApiError::validation(&[crate::engine::error::constraint(
            &format!("{} keys", keys.len()),
            "tagKeys",
            &format!("have length less than or equal to {MAX_TAGS} and greater than or equal to 1"),
        )]));
    }
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    ctx.stream(&name)?;
    ctx.commit(Event::RemoveTags { name, keys })?;
    req.reply(&json!({}))
}

/// ListTagsForStream.
pub(crate) fn list_tags(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ListTagsInput = req.parse()?;
    let mut checks = Checks::default();
    checks.range(input.limit, "limit", 1, 50);
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.stream(&name)?;
    let limit = input.limit.unwrap_or(50) as usize;
    let after = input.exclusive_start_tag_key;
    let tags: Vec<(&String, &String)> = stream
        .tags
        .iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a))
        .collect();
    let has_more = tags.len() > limit;
    let page: Vec<Value> = tags
        .into_iter()
        .take(limit)
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    req.reply(&json!({ "Tags": page, "HasMoreTags": has_more }))
}

/// DescribeLimits.
pub(crate) fn describe_limits(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let _: Value = req.parse()?;
    let open: usize = ctx.state.streams.values().map(|s| s.open_shards().count()).sum();
    let on_demand = ctx
        .state
        .streams
        .values()
        .filter(|s| s.mode == Mode::OnDemand)
        .count();
    req.reply(&json!({
        "ShardLimit": SHARD_LIMIT,
        "OpenShardCount": open,
        "OnDemandStreamCount": on_demand,
        "OnDemandStreamCountLimit": ON_DEMAND_STREAM_LIMIT,
    }))
}
