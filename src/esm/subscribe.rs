//! Enhanced fan-out as a shard reader's source of records (`consume --efo`): the stream
//! consumer is registered (or reused), and each shard is read with SubscribeToShard instead of
//! GetRecords. Everything after reading (filters, batches, invocations, checkpoints, children)
//! is the polling path's.
//!
//! A subscription lasts 5 minutes on AWS, then the endpoint ends it; a background task per
//! shard ([`ShardFeed`]) subscribes again at once, after the last record it received
//! (`AFTER_SEQUENCE_NUMBER`, what the last `ContinuationSequenceNumber` names when the event
//! carried records), and forwards every event to the reader through a small channel, so the
//! reader waits on its channel and never on the network. A subscription refused because the
//! last one is too recent (`ResourceInUseException`, within 5 s) or failed is retried with a
//! back-off; the event that ends the shard names its children and ends the task.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::{
    ConsumerStatus, Record, ShardIteratorType, StartingPosition, SubscribeToShardEventStream,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::checkpoint::Checkpoint;
use super::policy::Clock;
use super::EsmError;

/// A subscription the endpoint did not end within this is renewed anyway (AWS ends them after
/// 5 minutes).
const LIFETIME_GUARD: Duration = Duration::from_secs(5 * 60 + 15);
/// How long a new consumer may take to become ACTIVE.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);
/// How often a CREATING consumer is looked at.
const REGISTER_POLL: Duration = Duration::from_millis(250);
/// Events waiting for the reader (each holds up to 10,000 records): a reader busy invoking
/// holds back the subscription, which holds back the endpoint.
const CHANNEL: usize = 2;

/// The default consumer name: the KCL application name (`--app`), as KCL names its consumer.
pub(crate) fn default_consumer_name(app: &str) -> String {
    app.chars().take(128).collect()
}

/// The ARN of the stream consumer `name` of `stream_arn`: an existing one is reused, else it is
/// registered; either way it is ACTIVE when this returns.
pub async fn consumer_arn(
    kinesis: &aws_sdk_kinesis::Client,
    stream_arn: &str,
    name: &str,
    note: &dyn Fn(&str),
) -> Result<String, EsmError> {
    let err = |op: &str, detail: String| EsmError::Kinesis(format!("{op} {name}: {detail}"));
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    let mut registered = false;
    loop {
        let described = kinesis
            .describe_stream_consumer()
            .stream_arn(stream_arn)
            .consumer_name(name)
            .send()
            .await;
        match described {
            Ok(out) => {
                let Some(c) = out.consumer_description() else {
                    return Err(err(
                        "DescribeStreamConsumer",
                        "no description in the answer".into(),
                    ));
                };
                match c.consumer_status() {
                    ConsumerStatus::Active => {
                        if !registered {
                            note(&format!("enhanced fan-out: reusing the stream consumer {name}"));
                        }
                        return Ok(c.consumer_arn().to_string());
                    }
                    ConsumerStatus::Deleting => {
                        return Err(err(
                            "DescribeStreamConsumer",
                            "the consumer is being deregistered; try again once it is gone, or name another with --efo NAME".into(),
                        ))
                    }
                    _ => {}
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                match kinesis
                    .register_stream_consumer()
                    .stream_arn(stream_arn)
                    .consumer_name(name)
                    .send()
                    .await
                {
                    Ok(_) => {
                        registered = true;
                        note(&format!(
                            "enhanced fan-out: registered the stream consumer {name}"
                        ));
                    }
                    // Another consumer process registered it meanwhile: look again.
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                    Err(e) => return Err(err("RegisterStreamConsumer", crate::aws_error::detail(&e))),
                }
                continue;
            }
            Err(e) => return Err(err("DescribeStreamConsumer", crate::aws_error::detail(&e))),
        }
        if Instant::now() >= deadline {
            return Err(err(
                "DescribeStreamConsumer",
                format!(
                    "still not ACTIVE after {}",
                    humantime::format_duration(REGISTER_TIMEOUT)
                ),
            ));
        }
        tokio::time::sleep(REGISTER_POLL).await;
    }
}

/// Where a subscription of a shard checkpointed at `cp` starts (`at_ms`: the mapping's
/// `AT_TIMESTAMP`); `None` at `SHARD_END` (nothing left to read).
pub fn starting_position(cp: &Checkpoint, at_ms: Option<i64>) -> Option<StartingPosition> {
    let (kind, seq, ts) = match cp {
        Checkpoint::ShardEnd => return None,
        Checkpoint::TrimHorizon => (ShardIteratorType::TrimHorizon, None, None),
        Checkpoint::Latest => (ShardIteratorType::Latest, None, None),
        Checkpoint::AtTimestamp => match at_ms {
            Some(ms) => (
                ShardIteratorType::AtTimestamp,
                None,
                Some(DateTime::from_millis(ms)),
            ),
            None => (ShardIteratorType::TrimHorizon, None, None),
        },
        Checkpoint::After(s) => (
            ShardIteratorType::AfterSequenceNumber,
            Some(s.as_str().to_string()),
            None,
        ),
    };
    StartingPosition::builder()
        .r#type(kind)
        .set_sequence_number(seq)
        .set_timestamp(ts)
        .build()
        .ok()
}

/// What one SubscribeToShard event brought.
#[derive(Debug)]
pub(crate) struct Pushed {
    /// The records, in shard order.
    pub records: Vec<Record>,
    /// `MillisBehindLatest`.
    pub millis_behind: i64,
    /// The shard's children, on the event that ends it.
    pub children: Option<Vec<String>>,
    /// When the event was received (Unix ms, the mapping's clock).
    pub received_ms: i64,
}

/// What the reader gets from its feed.
#[derive(Debug)]
pub(crate) enum FeedItem {
    /// An event.
    Event(Pushed),
    /// A subscription failed (it is retried): worth a line.
    Note(String),
}

/// One shard's subscriptions, renewed by a background task; dropped, the task ends.
pub(crate) struct ShardFeed {
    rx: mpsc::Receiver<FeedItem>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ShardFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a feed's task works with.
struct FeedTask {
    kinesis: aws_sdk_kinesis::Client,
    consumer_arn: String,
    shard_id: String,
    clock: Arc<dyn Clock>,
    tx: mpsc::Sender<FeedItem>,
}

impl ShardFeed {
    /// Subscribes `shard_id` through `consumer_arn` from `start`, and keeps it subscribed.
    pub fn start(
        kinesis: aws_sdk_kinesis::Client,
        consumer_arn: String,
        shard_id: String,
        start: StartingPosition,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let task = FeedTask {
            kinesis,
            consumer_arn,
            shard_id,
            clock,
            tx,
        };
        Self {
            rx,
            task: tokio::spawn(task.run(start)),
        }
    }

    /// The next item, waiting at most `wait`; `None` when nothing came (or the shard's last
    /// event was taken already). Cancel-safe.
    pub async fn next(&mut self, wait: Duration) -> Option<FeedItem> {
        tokio::time::timeout(wait, self.rx.recv()).await.ok().flatten()
    }
}

/// The pause before subscribing again after `failures` failures in a row: 1 s (what AWS's
/// "not within 5 s of the last subscription" needs a few of), doubling up to 10 s.
fn retry_after(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(4);
    Duration::from_secs(1 << exp).min(Duration::from_secs(10))
}

impl FeedTask {
    /// Subscribes, forwards events, renews, until the shard ends or the reader drops its feed.
    async fn run(self, mut start: StartingPosition) {
        let mut failures = 0u32;
        loop {
            let subscribed = self
                .kinesis
                .subscribe_to_shard()
                .consumer_arn(&self.consumer_arn)
                .shard_id(&self.shard_id)
                .starting_position(start.clone())
                .send()
                .await;
            let mut out = match subscribed {
                Ok(out) => out,
                Err(e) => {
                    failures += 1;
                    let too_soon = e
                        .as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception());
                    // Refused as too soon after the last subscription: expected, and quiet.
                    if (!too_soon || failures > 6)
                        && !self
                            .note(format!(
                                "SubscribeToShard failed, retrying: {}",
                                crate::aws_error::detail(&e)
                            ))
                            .await
                    {
                        return;
                    }
                    tokio::time::sleep(retry_after(failures)).await;
                    continue;
                }
            };
            let guard = Instant::now() + LIFETIME_GUARD;
            loop {
                let received = tokio::time::timeout_at(guard, out.event_stream.recv()).await;
                match received {
                    // The endpoint did not end it in time: renew.
                    Err(_) => break,
                    // Ended by the endpoint (its 5 minutes): renew.
                    Ok(Ok(None)) => break,
                    Ok(Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(e)))) => {
                        failures = 0;
                        if let Some(last) = e.records().last() {
                            // The next subscription resumes right after it. (An event without
                            // records does not move the start: its continuation number names
                            // no record, and kinlocal's engine gives an empty shard's first
                            // sequence number there, which AFTER_SEQUENCE_NUMBER would skip.)
                            if let Ok(p) = StartingPosition::builder()
                                .r#type(ShardIteratorType::AfterSequenceNumber)
                                .sequence_number(last.sequence_number())
                                .build()
                            {
                                start = p;
                            }
                        }
                        let children: Vec<String> = e
                            .child_shards()
                            .iter()
                            .map(|c| c.shard_id().to_string())
                            .collect();
                        let end = !children.is_empty();
                        let pushed = Pushed {
                            millis_behind: e.millis_behind_latest(),
                            children: end.then_some(children),
                            received_ms: self.clock.now_ms(),
                            records: e.records,
                        };
                        if self.tx.send(FeedItem::Event(pushed)).await.is_err() || end {
                            return;
                        }
                    }
                    // An event type this SDK does not know: nothing to read in it.
                    Ok(Ok(Some(_))) => {}
                    Ok(Err(e)) => {
                        failures += 1;
                        if !self
                            .note(format!(
                                "subscription failed, subscribing again: {}",
                                crate::aws_error::detail(&e)
                            ))
                            .await
                        {
                            return;
                        }
                        tokio::time::sleep(retry_after(failures)).await;
                        break;
                    }
                }
            }
        }
    }

    /// Tells the reader; `false` once it is gone.
    async fn note(&self, message: String) -> bool {
        self.tx.send(FeedItem::Note(message)).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::record::SequenceNumber;

    #[test]
    fn subscriptions_start_where_the_checkpoint_says() {
        let kind = |cp: &Checkpoint, at| starting_position(cp, at).map(|p| p.r#type().clone());
        assert_eq!(
            kind(&Checkpoint::TrimHorizon, None),
            Some(ShardIteratorType::TrimHorizon)
        );
        assert_eq!(kind(&Checkpoint::Latest, None), Some(ShardIteratorType::Latest));
        assert_eq!(kind(&Checkpoint::ShardEnd, None), None);
        let at = starting_position(&Checkpoint::AtTimestamp, Some(1_700_000_000_500)).expect("at");
        assert_eq!(at.r#type(), &ShardIteratorType::AtTimestamp);
        assert_eq!(
            at.timestamp().map(|t| t.to_millis().ok()),
            Some(Some(1_700_000_000_500))
        );
        let after = starting_position(&Checkpoint::After(SequenceNumber::new("4959")), None).expect("after");
        assert_eq!(after.r#type(), &ShardIteratorType::AfterSequenceNumber);
        assert_eq!(after.sequence_number(), Some("4959"));
    }

    #[test]
    fn resubscribing_backs_off_from_one_second() {
        let waits: Vec<u64> = (1..=7).map(|n| retry_after(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 10, 10, 10]);
        assert_eq!(default_consumer_name(&"a".repeat(300)).len(), 128);
    }
}
