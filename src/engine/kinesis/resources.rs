//! Operations addressed by ARN to a stream or a consumer: TagResource, UntagResource,
//! ListTagsForResource, and Put/Get/DeleteResourcePolicy.

use std::collections::BTreeMap;

use serde_json::json;

use super::call::Call;
use super::model::ResourceInput;
use super::parse_stream_arn;
use super::state::Event;
use super::validate::Checks;
use super::Ctx;
use crate::engine::codec::Reply;
use crate::engine::error::{constraint, ApiError};

/// Tags a stream or a consumer may carry.
const MAX_TAGS: usize = 50;

/// What a `ResourceARN` names: `(stream, consumer)`.
fn resolve(ctx: &Ctx<'_>, arn: Option<&str>) -> Result<(String, Option<String>), ApiError> {
    let mut checks = Checks::default();
    checks.required(&arn, "resourceARN");
    checks.length(arn, "resourceARN", 1, 2048);
    checks.finish()?;
    let arn = arn.unwrap_or_default();
    if arn.contains("/consumer/") {
        let parsed = ctx.parse_consumer_arn(arn, "resourceARN")?;
        let (stream, consumer) = ctx.find_consumer(&super::model::ConsumerRef {
            stream_arn: None,
            consumer_name: None,
            consumer_arn: Some(arn.to_string()),
        })?;
        debug_assert_eq!(parsed.stream, stream);
        return Ok((stream, Some(consumer.name)));
    }
    if parse_stream_arn(arn).is_none() {
        return Err(ApiError::validation(&[constraint(
            arn,
            "resourceARN",
            "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        )]));
    }
    let name = ctx.resolve_name(None, Some(arn))?;
    ctx.stream(&name)?;
    Ok((name, None))
}

fn tags_of<'s>(
    ctx: &'s Ctx<'_>,
    stream: &str,
    consumer: Option<&str>,
) -> Result<&'s BTreeMap<String, String>, ApiError> {
    let s = ctx.stream(stream)?;
    Ok(match consumer {
        None => &s.tags,
        Some(c) => s.consumers.get(c).map_or(&s.tags, |c| &c.tags),
    })
}

/// TagResource.
pub(crate) fn tag(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ResourceInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.tags, "tags");
    checks.finish()?;
    let tags = input.tags.unwrap_or_default();
    if tags.is_empty() || tags.len() > MAX_TAGS {
        return Err(ApiError::validation(&[constraint(
            &format!("{} tags", tags.len()),
            "tags",
            &format!("have length less than or equal to {MAX_TAGS} and greater than or equal to 1"),
        )]));
    }
    super::streams::check_tags(&tags)?;
    let (stream, consumer) = resolve(ctx, input.resource_arn.as_deref())?;
    let existing = tags_of(ctx, &stream, consumer.as_deref())?;
    let total = existing
        .keys()
        .chain(tags.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if total > MAX_TAGS {
        return Err(ApiError::limit_exceeded(format!(
            "Failed to add tags to {} because a resource cannot have more than {MAX_TAGS} tags.",
            input.resource_arn.unwrap_or_default()
        )));
    }
    match consumer {
        None => ctx.commit(Event::AddTags { name: stream, tags })?,
        Some(consumer) => ctx.commit(Event::ConsumerTags {
            name: stream,
            consumer,
            set: tags,
            remove: Vec::new(),
        })?,
    }
    req.reply(&json!({}))
}

/// UntagResource.
pub(crate) fn untag(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ResourceInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.tag_keys, "tagKeys");
    checks.finish()?;
    let keys = input.tag_keys.unwrap_or_default();
    if keys.is_empty() || keys.len() > MAX_TAGS {
        return Err(ApiError::validation(&[constraint(
            &format!("{} keys", keys.len()),
            "tagKeys",
            &format!("have length less than or equal to {MAX_TAGS} and greater than or equal to 1"),
        )]));
    }
    let (stream, consumer) = resolve(ctx, input.resource_arn.as_deref())?;
    match consumer {
        None => ctx.commit(Event::RemoveTags { name: stream, keys })?,
        Some(consumer) => ctx.commit(Event::ConsumerTags {
            name: stream,
            consumer,
            set: BTreeMap::new(),
            remove: keys,
        })?,
    }
    req.reply(&json!({}))
}

/// ListTagsForResource.
pub(crate) fn list_tags(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ResourceInput = req.parse()?;
    let (stream, consumer) = resolve(ctx, input.resource_arn.as_deref())?;
    let tags: Vec<_> = tags_of(ctx, &stream, consumer.as_deref())?
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    req.reply(&json!({ "Tags": tags }))
}

fn policy_of(ctx: &Ctx<'_>, stream: &str, consumer: Option<&str>) -> Result<Option<String>, ApiError> {
    let s = ctx.stream(stream)?;
    Ok(match consumer {
        None => s.settings.policy.clone(),
        Some(c) => s.consumers.get(c).and_then(|c| c.policy.clone()),
    })
}

/// PutResourcePolicy.
pub(crate) fn put_policy(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ResourceInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.policy, "policy");
    checks.length(input.policy.as_deref(), "policy", 1, 20_480);
    checks.finish()?;
    let policy = input.policy.unwrap_or_default();
    if !serde_json::from_str::<serde_json::Value>(&policy).is_ok_and(|v| v.is_object()) {
        return Err(ApiError::invalid_argument(
            "Policy is not a valid JSON policy document.",
        ));
    }
    let (stream, consumer) = resolve(ctx, input.resource_arn.as_deref())?;
    ctx.commit(Event::Policy {
        name: stream,
        consumer,
        policy: Some(policy),
    })?;
    req.reply(&json!({}))
}

/// GetResourcePolicy (a resource without a policy answers an empty policy document).
pub(crate) fn get_policy(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ResourceInput = req.parse()?;
    let (stream, consumer) = resolve(ctx, input.resource_arn.as_deref())?;
    let policy = policy_of(ctx, &stream, consumer.as_deref())?.unwrap_or_else(|| "{}".to_string());
    req.reply(&json!({ "Policy": policy }))
}

/// DeleteResourcePolicy.
pub(crate) fn delete_policy(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ResourceInput = req.parse()?;
    let (stream, consumer) = resolve(ctx, input.resource_arn.as_deref())?;
    if policy_of(ctx, &stream, consumer.as_deref())?.is_none() {
        return Err(ApiError::not_found(format!(
            "No resource policy found for resource ARN {}.",
            input.resource_arn.unwrap_or_default()
        )));
    }
    ctx.commit(Event::Policy {
        name: stream,
        consumer,
        policy: None,
    })?;
    req.reply(&json!({}))
}
