//! Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers and DeregisterStreamConsumer (SubscribeToShard lives in [`super::subscribe`]).

use base64::Engine as _;
use serde_json::{json, Value};

use super::call::Call;
use super::model::{ConsumerRef, ListConsumersInput, RegisterConsumerInput};
use super::state::{Consumer, ConsumerStatus, Event};
use super::validate::Checks;
use super::Ctx;
use crate::engine::codec::Reply;
use crate::engine::error::{constraint, ApiError};

/// Consumers one stream may have (AWS's quota).
pub(crate) const MAX_CONSUMERS: usize = 20;
/// Consumers that may be `CREATING` at once in one account.
pub(crate) const MAX_CREATING: usize = 5;

/// The parts of `arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<epoch>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsumerArn {
    /// The region named.
    pub region: String,
    /// The account named.
    pub account: String,
    /// The stream's name.
    pub stream: String,
    /// ConsumerName.
    pub consumer: String,
    /// The consumer's creation time, epoch seconds.
    pub created_secs: u64,
}

impl ConsumerArn {
    /// Parses a consumer ARN; `None` when it does not have the consumer ARN's shape.
    pub(crate) fn parse(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (lit, partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if lit != "arn" || !partition.starts_with("aws") || service != "kinesis" {
            return None;
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let rest = resource.strip_prefix("stream/")?;
        let (stream, rest) = rest.split_once("/consumer/")?;
        let (consumer, epoch) = rest.rsplit_once(':')?;
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        };
        if !name_ok(stream) || !name_ok(consumer) {
            return None;
        }
        Some(Self {
            region: region.to_string(),
            account: account.to_string(),
            stream: stream.to_string(),
            consumer: consumer.to_string(),
            created_secs: epoch.parse().ok()?,
        })
    }
}

impl Ctx<'_> {
    /// The ARN of a consumer of `stream`.
    pub(crate) fn consumer_arn(&self, stream: &str, consumer: &Consumer) -> String {
        format!(
            "{}/consumer/{}:{}",
            self.stream_arn(stream),
            consumer.name,
            consumer.created_ms / 1000
        )
    }

    fn consumer_not_found(&self, stream: &str, consumer: &str) -> ApiError {
        ApiError::not_found(format!(
            "Consumer {consumer} under stream {stream} under account {} not found.",
            self.cfg.account_id
        ))
    }

    /// Finds a consumer (not yet gone) by ARN, or by stream ARN and name:
    /// returns `(stream name, consumer)`.
    pub(crate) fn find_consumer(&self, input: &ConsumerRef) -> Result<(String, Consumer), ApiError> {
        let mut checks = Checks::default();
        checks.stream_name(input.consumer_name.as_deref(), "consumerName");
        checks.length(input.stream_arn.as_deref(), "streamARN", 1, 2048);
        checks.length(input.consumer_arn.as_deref(), "consumerARN", 1, 2048);
        checks.finish()?;
        let (stream, consumer, created_secs) =
            match (&input.consumer_arn, &input.stream_arn, &input.consumer_name) {
                (Some(arn), _, _) => {
                    let parsed = self.parse_consumer_arn(arn, "consumerARN")?;
                    (parsed.stream, parsed.consumer, Some(parsed.created_secs))
                }
                (None, Some(stream_arn), Some(name)) => {
                    (self.resolve_name(None, Some(stream_arn))?, name.clone(), None)
                }
                _ => {
                    return Err(ApiError::invalid_argument(
                        "Either ConsumerARN or both ConsumerName and StreamARN must be specified.",
                    ))
                }
            };
        let s = self.stream(&stream)?;
        let found = s
            .consumers
            .get(&consumer)
            .filter(|c| created_secs.is_none_or(|secs| secs == c.created_ms / 1000))
            .filter(|c| c.deleting_until_ms.is_none_or(|until| self.now < until));
        match found {
            Some(c) => Ok((stream, c.clone())),
            None => Err(self.consumer_not_found(&stream, &consumer)),
        }
    }

    /// Parses a consumer ARN of this account and region (another one names nothing here).
    pub(crate) fn parse_consumer_arn(&self, arn: &str, member: &str) -> Result<ConsumerArn, ApiError> {
        let parsed = ConsumerArn::parse(arn).ok_or_else(|| {
            ApiError::validation(&[constraint(
                arn,
                member,
                "satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
            )])
        })?;
        if parsed.account != self.cfg.account_id || parsed.region != self.region {
            return Err(self.consumer_not_found(&parsed.stream, &parsed.consumer));
        }
        Ok(parsed)
    }
}

fn consumer_json(ctx: &Ctx<'_>, stream: &str, c: &Consumer) -> Value {
    json!({
        "ConsumerName": c.name,
        "ConsumerARN": ctx.consumer_arn(stream, c),
        "ConsumerStatus": c.status(ctx.now).as_str(),
        "ConsumerCreationTimestamp": c.created_ms as f64 / 1000.0,
    })
}

/// RegisterStreamConsumer.
pub(crate) fn register(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: RegisterConsumerInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.stream_arn, "streamARN");
    checks.required(&input.consumer_name, "consumerName");
    checks.stream_name(input.consumer_name.as_deref(), "consumerName");
    checks.finish()?;
    let name = ctx.resolve_name(None, input.stream_arn.as_deref())?;
    let consumer = input.consumer_name.unwrap_or_default();
    let stream = ctx.stream(&name)?;
    if stream.deleted_until_ms.is_some() {
        return Err(ctx.stream_not_found(&name));
    }
    if stream.consumers.contains_key(&consumer) {
        return Err(ApiError::in_use(format!(
            "Consumer {consumer} under stream {name} under account {} already exists.",
            ctx.cfg.account_id
        )));
    }
    if stream.consumers.len() >= MAX_CONSUMERS {
        return Err(ApiError::limit_exceeded(format!(
            "Stream {name} under account {} already has {MAX_CONSUMERS} consumers, the limit.",
            ctx.cfg.account_id
        )));
    }
    let creating = ctx
        .state
        .streams
        .values()
        .flat_map(|s| s.consumers.values())
        .filter(|c| c.status(ctx.now) == ConsumerStatus::Creating)
        .count();
    if creating >= MAX_CREATING {
        return Err(ApiError::limit_exceeded(format!(
            "Account {} already has {MAX_CREATING} consumers in CREATING status; wait until one is ACTIVE.",
            ctx.cfg.account_id
        )));
    }
    if let Some(tags) = &input.tags {
        super::streams::check_tags(tags)?;
    }
    let at_ms = ctx.now;
    let delay_ms = ctx.cfg.update_stream_delay.as_millis() as u64;
    ctx.commit(Event::RegisterConsumer {
        name: name.clone(),
        consumer: consumer.clone(),
        at_ms,
        delay_ms,
    })?;
    let c = ctx
        .stream(&name)?
        .consumers
        .get(&consumer)
        .cloned()
        .ok_or_else(|| ApiError::internal("InternalFailure", "consumer was not registered"))?;
    req.reply(&json!({ "Consumer": consumer_json(ctx, &name, &c) }))
}

/// DescribeStreamConsumer.
pub(crate) fn describe(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ConsumerRef = req.parse()?;
    let (stream, c) = ctx.find_consumer(&input)?;
    let mut out = consumer_json(ctx, &stream, &c);
    out["StreamARN"] = json!(ctx.stream_arn(&stream));
    req.reply(&json!({ "ConsumerDescription": out }))
}

/// DeregisterStreamConsumer.
pub(crate) fn deregister(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ConsumerRef = req.parse()?;
    let (stream, c) = ctx.find_consumer(&input)?;
    if c.status(ctx.now) == ConsumerStatus::Deleting {
        return Err(ApiError::in_use(format!(
            "Consumer {} under stream {stream} under account {} is already being deleted.",
            c.name, ctx.cfg.account_id
        )));
    }
    let until_ms = ctx.now + ctx.cfg.delete_stream_delay.as_millis() as u64;
    ctx.commit(Event::DeregisterConsumer {
        name: stream,
        consumer: c.name,
        until_ms,
    })?;
    ctx.state.purge_deleted(ctx.now);
    req.reply(&json!({}))
}

/// ListStreamConsumers (paging by an opaque `NextToken`).
pub(crate) fn list(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: ListConsumersInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.stream_arn, "streamARN");
    checks.range(input.max_results, "maxResults", 1, 10_000);
    checks.length(input.next_token.as_deref(), "nextToken", 1, 1_048_576);
    checks.finish()?;
    let name = ctx.resolve_name(None, input.stream_arn.as_deref())?;
    let stream = ctx.stream(&name)?;
    let after = match &input.next_token {
        None => None,
        Some(token) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| {
                    let (created, after) = t.split_once('/')?;
                    (created.parse::<u64>().ok()? == stream.created_ms).then(|| after.to_string())
                })
                .ok_or_else(|| ApiError::invalid_argument("Invalid NextToken."))?,
        ),
    };
    let limit = input.max_results.unwrap_or(100) as usize;
    let listed: Vec<&Consumer> = stream
        .consumers
        .values()
        .filter(|c| c.deleting_until_ms.is_none_or(|until| ctx.now < until))
        .filter(|c| after.as_deref().is_none_or(|a| c.name.as_str() > a))
        .collect();
    let has_more = listed.len() > limit;
    let page: Vec<&Consumer> = listed.into_iter().take(limit).collect();
    let consumers: Vec<Value> = page.iter().map(|c| consumer_json(ctx, &name, c)).collect();
    let mut out = json!({ "Consumers": consumers });
    if has_more {
        if let Some(last) = page.last() {
            out["NextToken"] = json!(base64::engine::general_purpose::STANDARD
                .encode(format!("{}/{}", stream.created_ms, last.name)));
        }
    }
    req.reply(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_arns_parse() {
        let arn = ConsumerArn::parse(
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app-1:1700000000",
        )
        .expect("valid");
        assert_eq!(arn.stream, "orders");
        assert_eq!(arn.consumer, "app-1");
        assert_eq!(arn.created_secs, 1_700_000_000);
        for bad in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app:x",
            "arn:aws:kinesis:us-east-1:0:stream/orders/consumer/app:1",
            "arn:aws:sqs:us-east-1:000000000000:stream/orders/consumer/app:1",
        ] {
            assert_eq!(ConsumerArn::parse(bad), None, "{bad}");
        }
    }
}
