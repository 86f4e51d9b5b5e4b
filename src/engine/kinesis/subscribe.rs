//! SubscribeToShard: validates a subscription, then pushes `SubscribeToShardEvent`s over an
//! AWS event stream as records arrive, for up to five minutes.
//!
//! The put path wakes subscriptions through each shard's `changes` watch, so a record reaches
//! a subscriber as soon as its put is stored. An idle subscription still gets an event every
//! [`HEARTBEAT`]. One consumer holds one subscription per shard: a second call within
//! [`RESUBSCRIBE_AFTER`] of the last successful one is refused with `ResourceInUseException`;
//! a later one takes over and the earlier subscription ends with that exception, as AWS does.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;

use super::call::Call;
use super::iterators::{find_shard, start_position};
use super::model::{SubscribeToShardEvent, SubscribeToShardInput};
use super::records::read_shard;
use super::state::ConsumerStatus;
use super::validate::Checks;
use super::{Ctx, Kinesis};
use crate::engine::codec::{encode, Format};
use crate::engine::error::ApiError;
use crate::engine::eventstream;

/// How long a subscription lasts before the stream ends (the client subscribes again).
pub(crate) const SUBSCRIPTION_LIFETIME: Duration = Duration::from_secs(300);
/// The longest a subscriber waits for an event when no records arrive.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);
/// A consumer may subscribe to the same shard again only this long after its last subscription.
pub(crate) const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(5);
/// Bytes of records per event (at least one record is always sent).
const EVENT_BYTES: usize = 4 * 1024 * 1024;
/// Records per event.
const EVENT_RECORDS: usize = 10_000;

/// Who holds a shard for a consumer: `(stream, consumer, shard)`.
type LeaseKey = (String, String, u32);

/// The current subscription of one consumer to one shard.
pub(crate) struct Lease {
    /// When the current subscription started.
    started: Instant,
    /// Bumped by a takeover; the subscription holding the older value ends.
    generation: watch::Sender<u64>,
}

/// The subscriptions held per consumer and shard.
#[derive(Default)]
pub(crate) struct Leases(std::sync::Mutex<HashMap<LeaseKey, Lease>>);

impl Leases {
    /// Takes the lease for `key`, or refuses when the last subscription is too recent: less
    /// than [`RESUBSCRIBE_AFTER`] ago, or than `lifetime` when subscriptions are shortened
    /// below it (for tests), so that a renewal once one ended is accepted.
    fn acquire(&self, key: LeaseKey, lifetime: Duration) -> Result<watch::Receiver<u64>, Instant> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let guard = RESUBSCRIBE_AFTER.min(lifetime);
        match map.get_mut(&key) {
            Some(lease) if now.duration_since(lease.started) < guard => Err(lease.started),
            Some(lease) => {
                lease.started = now;
                lease.generation.send_modify(|g| *g += 1);
                Ok(lease.generation.subscribe())
            }
            None => {
                let (tx, rx) = watch::channel(0);
                map.insert(
                    key,
                    Lease {
                        started: now,
                        generation: tx,
                    },
                );
                Ok(rx)
            }
        }
    }
}

/// One accepted subscription, ready to run.
pub(crate) struct Subscription {
    stream: String,
    stream_created_ms: u64,
    consumer: String,
    consumer_created_ms: u64,
    shard: u32,
    /// Index of the next record to send.
    position: u64,
    /// The request's format: event payloads are encoded in it (JSON or CBOR).
    format: Format,
    changes: watch::Receiver<u64>,
    lease: watch::Receiver<u64>,
}

/// What one look at the shard produced.
enum Step {
    /// An event to send; `true` when it is the last (the shard ended).
    Event(Bytes, bool),
    /// Nothing new.
    Idle,
    /// The subscription cannot go on: an exception message to send, then the stream ends.
    Fail(Bytes),
}

impl Kinesis {
    /// Validates a SubscribeToShard request and takes the consumer's lease on the shard.
    /// Errors here are ordinary error responses; afterwards they travel as exception events.
    pub(crate) fn subscribe_to_shard(&self, req: &Call) -> Result<Subscription, ApiError> {
        let input: SubscribeToShardInput = req.parse()?;
        let mut checks = Checks::default();
        checks.required(&input.consumer_arn, "consumerARN");
        checks.required(&input.shard_id, "shardId");
        checks.required(&input.starting_position, "startingPosition");
        checks.shard_id(input.shard_id.as_deref(), "shardId");
        let kinds = [
            "AT_SEQUENCE_NUMBER",
            "AFTER_SEQUENCE_NUMBER",
            "TRIM_HORIZON",
            "LATEST",
            "AT_TIMESTAMP",
        ];
        if let Some(p) = &input.starting_position {
            checks.required(&p.kind, "startingPosition.type");
            checks.one_of(p.kind.as_deref(), "startingPosition.type", &kinds);
            checks.sequence_number(p.sequence_number.as_deref(), "startingPosition.sequenceNumber");
        }
        checks.finish()?;
        let sub = self.with_ctx(req.region.as_deref(), |ctx| {
            let arn =
                ctx.parse_consumer_arn(input.consumer_arn.as_deref().unwrap_or_default(), "consumerARN")?;
            let (stream_name, consumer) = ctx.find_consumer(&super::model::ConsumerRef {
                stream_arn: None,
                consumer_name: None,
                consumer_arn: input.consumer_arn.clone(),
            })?;
            if consumer.status(ctx.now) != ConsumerStatus::Active {
                return Err(ApiError::in_use(format!(
                    "Consumer {} under stream {stream_name} under account {} is not ACTIVE.",
                    arn.consumer, ctx.cfg.account_id
                )));
            }
            let stream = ctx.serving_stream(&stream_name)?;
            let shard = find_shard(ctx, stream, input.shard_id.as_deref().unwrap_or_default())?;
            let position = input.starting_position.as_ref().map_or(Ok(0), |p| {
                let kind = p.kind.as_deref().unwrap_or_default();
                let needs_seq = kind == "AT_SEQUENCE_NUMBER" || kind == "AFTER_SEQUENCE_NUMBER";
                if needs_seq != p.sequence_number.is_some() {
                    return Err(ApiError::invalid_argument(format!(
                        "StartingPosition of type {kind} {} a SequenceNumber.",
                        if needs_seq { "requires" } else { "must not have" }
                    )));
                }
                start_position(
                    ctx,
                    stream,
                    shard,
                    kind,
                    p.sequence_number.as_deref(),
                    p.timestamp.as_ref(),
                )
            })?;
            Ok(Subscription {
                stream: stream_name,
                stream_created_ms: stream.created_ms,
                consumer: consumer.name.clone(),
                consumer_created_ms: consumer.created_ms,
                shard: shard.index,
                position,
                format: req.format,
                changes: shard.changes.subscribe(),
                // Replaced below, once the lease is taken outside the state lock.
                lease: watch::channel(0).1,
            })
        })?;
        let key = (sub.stream.clone(), sub.consumer.clone(), sub.shard);
        let lease = self
            .leases
            .acquire(key, self.config.subscription_lifetime)
            .map_err(|_| {
            ApiError::in_use(format!(
                "Another active subscription exists for consumer {} on shard {} of stream {} under account {}; subscribe again at least {} seconds after the previous call.",
                sub.consumer,
                super::state::shard_id(sub.shard),
                sub.stream,
                self.config.account_id,
                RESUBSCRIBE_AFTER.as_secs()
            ))
        })?;
        Ok(Subscription { lease, ..sub })
    }

    /// Reads what the subscription has not sent yet; `heartbeat` asks for an event even when
    /// nothing arrived.
    fn step(&self, sub: &mut Subscription, heartbeat: bool) -> Step {
        let format = sub.format;
        let fail = |err: ApiError| {
            let body = serde_json::json!({ "message": err.message });
            Step::Fail(eventstream::exception(
                err.code,
                format,
                encode(format, &body).unwrap_or_default(),
            ))
        };
        self.with_ctx(None, |ctx| {
            // Records past retention are skipped, as a GetRecords reader's would be.
            let cap = ctx.cfg.max_retention_ms();
            if let Some(stream) = ctx.state.streams.get_mut(&sub.stream) {
                let horizon = stream.horizon_ms(ctx.now, cap);
                if let Some(shard) = stream.shards.get_mut(sub.shard as usize) {
                    shard.trim(horizon);
                }
            }
            let Some(stream) = ctx
                .state
                .streams
                .get(&sub.stream)
                .filter(|s| s.created_ms == sub.stream_created_ms && s.deleted_until_ms.is_none())
            else {
                return fail(ctx.stream_not_found(&sub.stream));
            };
            let consumer_ok = stream.consumers.get(&sub.consumer).is_some_and(|c| {
                c.created_ms == sub.consumer_created_ms && c.status(ctx.now) == ConsumerStatus::Active
            });
            if !consumer_ok {
                return fail(ApiError::not_found(format!(
                    "Consumer {} under stream {} under account {} not found.",
                    sub.consumer, sub.stream, ctx.cfg.account_id
                )));
            }
            let Some(shard) = stream.shards.get(sub.shard as usize) else {
                return fail(ApiError::not_found(format!(
                    "Shard {} in stream {} under account {} does not exist",
                    super::state::shard_id(sub.shard),
                    sub.stream,
                    ctx.cfg.account_id
                )));
            };
            let read = read_shard(
                stream,
                sub.shard,
                sub.position,
                EVENT_RECORDS,
                EVENT_BYTES,
                ctx.now,
            );
            let end = read.child_shards.is_some();
            if read.records.is_empty() && !end && !heartbeat {
                return Step::Idle;
            }
            let continuation = (!end).then(|| {
                let last = read.next_position.saturating_sub(1);
                let arrival = last
                    .checked_sub(shard.first_index)
                    .and_then(|i| shard.records.get(i as usize))
                    .map_or(shard.created_ms, |r| r.arrival_ms);
                shard.seq(last, arrival)
            });
            let next = read.next_position;
            let event = SubscribeToShardEvent {
                records: read.records,
                continuation_sequence_number: continuation,
                millis_behind_latest: read.millis_behind,
                child_shards: read.child_shards,
            };
            match encode(format, &event) {
                Ok(payload) => {
                    sub.position = next;
                    Step::Event(eventstream::event("SubscribeToShardEvent", format, payload), end)
                }
                Err(e) => fail(e),
            }
        })
    }

    fn with_ctx<T>(&self, region: Option<&str>, f: impl FnOnce(&mut Ctx<'_>) -> T) -> T {
        let now = self.config.clock.now_ms();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut ctx = Ctx {
            cfg: &self.config,
            state: &mut inner.state,
            journal: &mut inner.journal,
            now,
            iterator_key: self.iterator_key,
            region: region.unwrap_or(&self.config.region),
        };
        f(&mut ctx)
    }
}

/// Where a running subscription writes its frames (the response body).
pub(crate) trait EventSink {
    /// Sends one frame; `false` once the client has gone.
    fn send(&mut self, frame: Bytes) -> impl std::future::Future<Output = bool> + Send;
}

impl Subscription {
    /// Pushes events until the shard ends, the lifetime passes, a takeover, or the client leaves.
    pub(crate) async fn run(mut self, kinesis: &Kinesis, sink: &mut impl EventSink) {
        let deadline = Instant::now() + kinesis.config.subscription_lifetime;
        let initial = encode(self.format, &serde_json::json!({})).unwrap_or_default();
        if !sink
            .send(eventstream::event("initial-response", self.format, initial))
            .await
        {
            return;
        }
        let mut heartbeat = true;
        let mut last_event = Instant::now();
        let mut changes_open = true;
        let mut taken_over = false;
        loop {
            if taken_over || self.lease.has_changed().unwrap_or(true) {
                let body = serde_json::json!({
                    "message": format!(
                        "Another subscription of consumer {} to shard {} took over this one.",
                        self.consumer,
                        super::state::shard_id(self.shard)
                    )
                });
                let frame = eventstream::exception(
                    "ResourceInUseException",
                    self.format,
                    encode(self.format, &body).unwrap_or_default(),
                );
                let _ = sink.send(frame).await;
                return;
            }
            self.changes.borrow_and_update();
            match kinesis.step(&mut self, heartbeat) {
                Step::Event(frame, end) => {
                    if !sink.send(frame).await || end {
                        return;
                    }
                    last_event = Instant::now();
                    heartbeat = false;
                    // More records may be waiting: look again before sleeping.
                    continue;
                }
                Step::Fail(frame) => {
                    let _ = sink.send(frame).await;
                    return;
                }
                Step::Idle => {}
            }
            if Instant::now() >= deadline {
                return;
            }
            let beat = last_event + HEARTBEAT;
            tokio::select! {
                biased;
                () = tokio::time::sleep_until(deadline) => return,
                _ = self.lease.changed() => taken_over = true,
                changed = self.changes.changed(), if changes_open => {
                    // The shard is gone (stream deleted): the next step reports it.
                    if changed.is_err() { changes_open = false; }
                }
                () = tokio::time::sleep_until(beat) => heartbeat = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::codec::Request;
    use crate::engine::EngineConfig;

    /// Frames a subscription wrote, decoded to `(event or exception type, JSON payload)`.
    struct Recorded(tokio::sync::mpsc::UnboundedSender<(String, serde_json::Value)>);

    impl EventSink for Recorded {
        async fn send(&mut self, frame: Bytes) -> bool {
            let Ok(msg) = aws_smithy_eventstream::frame::read_message_from(frame) else {
                return false;
            };
            let kind = msg
                .headers()
                .iter()
                .find(|h| matches!(h.name().as_str(), ":event-type" | ":exception-type"))
                .and_then(|h| h.value().as_string().ok())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            let json = serde_json::from_slice(msg.payload()).unwrap_or_default();
            self.0.send((kind, json)).is_ok()
        }
    }

    fn call(k: &Kinesis, op: &str, body: serde_json::Value) -> serde_json::Value {
        let body = body.to_string();
        let req = Request {
            format: Format::Json11,
            body: body.as_bytes(),
        };
        let reply = k.handle(op, &req).expect(op);
        serde_json::from_slice(&reply.0).expect("json reply")
    }

    fn subscribe(k: &Kinesis, consumer: &str) -> Result<Subscription, ApiError> {
        let body = serde_json::json!({
            "ConsumerARN": consumer,
            "ShardId": "shardId-000000000000",
            "StartingPosition": {"Type": "LATEST"},
        })
        .to_string();
        k.subscribe_to_shard(&Call::decode(
            "SubscribeToShard",
            Format::Json11,
            Bytes::from(body),
        )?)
    }

    fn engine() -> (Arc<Kinesis>, String) {
        let k = Arc::new(Kinesis::open(Arc::new(EngineConfig::default())).expect("opens"));
        call(
            &k,
            "CreateStream",
            serde_json::json!({"StreamName": "s", "ShardCount": 1}),
        );
        let reg = call(
            &k,
            "RegisterStreamConsumer",
            serde_json::json!({
                "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                "ConsumerName": "c",
            }),
        );
        let arn = reg["Consumer"]["ConsumerARN"].as_str().expect("arn").to_string();
        (k, arn)
    }

    #[tokio::test(start_paused = true)]
    async fn a_subscription_heartbeats_every_five_seconds_and_ends_after_five_minutes() {
        let (k, arn) = engine();
        let sub = subscribe(&k, &arn).expect("subscribed");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = k.clone();
        let task = tokio::spawn(async move { sub.run(&runner, &mut Recorded(tx)).await });
        let mut events = Vec::new();
        let started = Instant::now();
        while let Some(e) = rx.recv().await {
            events.push((e.0, started.elapsed()));
        }
        task.await.expect("runner");
        assert_eq!(events[0].0, "initial-response");
        assert_eq!(started.elapsed(), SUBSCRIPTION_LIFETIME);
        // After the initial response, an event at once and one per heartbeat until the five
        // minutes are over (the stream ends at 300 s, without a last heartbeat).
        let beats = SUBSCRIPTION_LIFETIME.as_secs() / HEARTBEAT.as_secs();
        assert_eq!(events.len() as u64, 1 + beats);
        assert_eq!(events[1].1, Duration::ZERO);
        for pair in events[1..].windows(2) {
            assert_eq!(pair[1].1 - pair[0].1, HEARTBEAT);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_subscription_takes_over_and_the_first_ends_with_resource_in_use() {
        let (k, arn) = engine();
        let first = subscribe(&k, &arn).expect("subscribed");
        assert_eq!(
            subscribe(&k, &arn).err().map(|e| e.code),
            Some("ResourceInUseException")
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = k.clone();
        let task = tokio::spawn(async move { first.run(&runner, &mut Recorded(tx)).await });
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
        let _second = subscribe(&k, &arn).expect("takes over after five seconds");
        let mut last = None;
        while let Some(e) = rx.recv().await {
            last = Some(e);
        }
        task.await.expect("runner");
        let (kind, body) = last.expect("events");
        assert_eq!(kind, "ResourceInUseException");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
