//! One shard's reader: polls GetRecords, batches, invokes, applies the policy, checkpoints.
//! One batch in flight at a time, records in shard order; at the shard's end it checkpoints
//! `SHARD_END` and hands the children to the supervisor. It works under a lease this worker
//! holds ([`HeldLease`]): once the lease is lost to another worker it stops at once, abandoning
//! the batch in hand without checkpointing (an invocation already running is let finish).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use tokio::time::Instant;

use super::batcher::{Batcher, MAX_PAYLOAD_BYTES};
use super::checkpoint::{CheckpointError, SHARD_END};
use super::config::StartingPosition;
use super::destination::Discarded;
use super::event::{self, EventContext, RawRecord};
use super::invoker::{self, FunctionLog, Invocation, Invoker, InvokerTarget};
use super::leases::HeldLease;
use super::policy::{AfterInvoke, BeforeInvoke, Condition, Outcome};
use super::record::PreparedRecord;
use super::response::{self, BatchResponse};
use super::supervisor::Ctx;
use super::{BatchReport, DiscardReport, EsmError};

/// GetRecords' maximum `Limit`: read as much as there is; batches are cut from the buffer.
const GET_RECORDS_LIMIT: i32 = 10_000;

/// How a reader ended.
#[derive(Debug)]
pub enum ReaderEnd {
    /// The shard was read to its end and `SHARD_END` checkpointed.
    ShardEnded {
        /// Children named by GetRecords (empty if the endpoint does not say).
        children: Vec<String>,
    },
    /// Asked to stop.
    Stopped,
    /// Another worker took the lease: stopped without checkpointing what was in hand.
    Lost,
}

/// The reporter as the function's log sink.
struct ReporterLogs(Arc<dyn super::Reporter>);

impl invoker::LogSink for ReporterLogs {
    fn log(&self, label: &str, line: &str) {
        self.0.log(label, line);
    }
}

/// The reader of one shard.
pub struct ShardReader {
    ctx: Arc<Ctx>,
    invoker: Box<dyn Invoker>,
    shard_id: String,
    held: Arc<HeldLease>,
    lost: tokio::sync::watch::Receiver<bool>,
    event_ctx: EventContext,
    batcher: Batcher,
    iterator: Option<String>,
    ended: bool,
    children: Vec<String>,
    stop: tokio::sync::watch::Receiver<bool>,
}

fn kinesis_err<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_kinesis::error::SdkError<E, R>,
) -> String {
    aws_sdk_kinesis::error::DisplayErrorContext(e).to_string()
}

impl ShardReader {
    /// A reader of the shard of a lease this worker holds, positioned after its checkpoint.
    pub async fn open(ctx: Arc<Ctx>, held: Arc<HeldLease>) -> Result<Self, EsmError> {
        let shard_id = held.key().to_string();
        let logs: Arc<dyn invoker::LogSink> = Arc::new(ReporterLogs(Arc::clone(&ctx.reporter)));
        let mut invoker = ctx.invokers.create(InvokerTarget {
            shard_id: shard_id.clone(),
            lane: 0,
            logs: FunctionLog::new(logs, &shard_id, 0),
        });
        invoker.start().await.map_err(EsmError::Init)?;
        let event_ctx = EventContext {
            shard_id: shard_id.clone(),
            stream_arn: ctx.stream_arn.clone(),
            region: ctx.config.function.region.clone(),
            role_arn: ctx.config.function.role_arn.clone(),
        };
        let batcher = Batcher::new(
            ctx.config.batch_size,
            ctx.config.maximum_batching_window,
            MAX_PAYLOAD_BYTES,
        );
        let stop = ctx.shared.stop.subscribe();
        let lost = held.lost_signal();
        let mut reader = Self {
            ctx,
            invoker,
            shard_id,
            held,
            lost,
            event_ctx,
            batcher,
            iterator: None,
            ended: false,
            children: Vec::new(),
            stop,
        };
        reader.reposition().await?;
        Ok(reader)
    }

    /// Asked to stop, or the lease was lost.
    fn stopping(&self) -> bool {
        *self.stop.borrow() || self.held.is_lost()
    }

    /// Sleeps, waking early when asked to stop or when the lease is lost; returns whether it
    /// slept the whole time.
    async fn pause(&mut self, d: Duration) -> bool {
        if self.stopping() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            _ = self.stop.changed() => false,
            _ = self.lost.changed() => false,
        }
    }

    /// How a reader that stopped early ended.
    fn stopped(&self) -> ReaderEnd {
        if self.held.is_lost() {
            ReaderEnd::Lost
        } else {
            ReaderEnd::Stopped
        }
    }

    /// A fresh iterator after the last checkpoint (or at the starting position); drops what
    /// was buffered beyond it. Used at start and when an iterator expired.
    async fn reposition(&mut self) -> Result<(), EsmError> {
        self.batcher.clear();
        let cp = self.held.lock().await.checkpoint.clone();
        if cp == SHARD_END {
            self.ended = true;
            self.iterator = None;
            return Ok(());
        }
        let mut req = self
            .ctx
            .kinesis
            .get_shard_iterator()
            .stream_name(&self.ctx.config.stream_name)
            .shard_id(&self.shard_id);
        req = match cp.as_str() {
            "TRIM_HORIZON" => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            "LATEST" => req.shard_iterator_type(ShardIteratorType::Latest),
            "AT_TIMESTAMP" => match self.ctx.config.starting_position {
                StartingPosition::AtTimestamp(ms) => req
                    .shard_iterator_type(ShardIteratorType::AtTimestamp)
                    .timestamp(aws_sdk_kinesis::primitives::DateTime::from_millis(ms)),
                _ => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            },
            seq => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq),
        };
        let out = req.send().await.map_err(|e| {
            EsmError::Kinesis(format!("GetShardIterator {}: {}", self.shard_id, kinesis_err(&e)))
        })?;
        self.iterator = out.shard_iterator().map(str::to_string);
        if self.iterator.is_none() {
            self.ended = true;
        }
        Ok(())
    }

    /// One GetRecords; returns how many records arrived and whether the shard has a backlog.
    async fn poll(&mut self) -> Result<(usize, bool), EsmError> {
        let Some(it) = self.iterator.clone() else {
            self.ended = true;
            return Ok((0, false));
        };
        let res = self
            .ctx
            .kinesis
            .get_records()
            .shard_iterator(it)
            .limit(GET_RECORDS_LIMIT)
            .send()
            .await;
        let out = match res {
            Ok(o) => o,
            Err(e) => {
                let svc = e.as_service_error();
                if svc.is_some_and(|s| s.is_expired_iterator_exception()) {
                    self.ctx.reporter.note(&format!(
                        "{}: shard iterator expired; renewing from the last checkpoint",
                        self.shard_id
                    ));
                    self.reposition().await?;
                    return Ok((0, true));
                }
                // Throttling and transient failures are "before invocation" errors: retried,
                // never counted against the function.
                self.ctx.reporter.note(&format!(
                    "{}: GetRecords failed, retrying: {}",
                    self.shard_id,
                    kinesis_err(&e)
                ));
                self.pause(self.ctx.config.poll_interval.max(Duration::from_millis(100)))
                    .await;
                return Ok((0, false));
            }
        };
        let n = out.records().len();
        let prepared: Vec<PreparedRecord> = out
            .records()
            .iter()
            .map(|r| {
                let arrival_ms = r
                    .approximate_arrival_timestamp()
                    .and_then(|t| t.to_millis().ok())
                    .unwrap_or(0);
                event::prepare(
                    &self.event_ctx,
                    &RawRecord {
                        partition_key: r.partition_key().unwrap_or_default(),
                        sequence_number: r.sequence_number(),
                        data: r.data().as_ref(),
                        arrival_ms,
                    },
                )
            })
            .collect();
        self.batcher.extend(prepared);
        let lag = out.millis_behind_latest().unwrap_or(0);
        self.iterator = out.next_shard_iterator().map(str::to_string);
        if self.iterator.is_none() {
            self.ended = true;
            self.children = out
                .child_shards()
                .iter()
                .map(|c| c.shard_id().to_string())
                .collect();
        }
        self.ctx.shared.set_lag(&self.shard_id, lag);
        if n > 0 {
            self.ctx.shared.touch();
        }
        Ok((n, n > 0 || lag > 0))
    }

    /// Reads the shard until its end, until asked to stop, or until the lease is lost.
    pub async fn run(mut self) -> Result<ReaderEnd, EsmError> {
        let end = self.read().await;
        self.invoker.shutdown().await;
        match end {
            Err(EsmError::Checkpoint(CheckpointError::LeaseLost(_))) => {
                self.held.mark_lost();
                Ok(ReaderEnd::Lost)
            }
            other => other,
        }
    }

    async fn read(&mut self) -> Result<ReaderEnd, EsmError> {
        let mut window_start = Instant::now();
        loop {
            if self.stopping() {
                return Ok(self.stopped());
            }
            let mut backlog = false;
            if !self.ended && self.batcher.len() < self.ctx.config.batch_size {
                let (_, b) = self.poll().await?;
                backlog = b;
            }
            let now = Instant::now();
            if self.batcher.ready(window_start, now) || (self.ended && !self.batcher.is_empty()) {
                let budget = self.ctx.shared.reserve(self.ctx.config.batch_size);
                if budget == 0 {
                    // --max-records reached: the supervisor is stopping everyone.
                    let _ = self.ctx.shared.stop.send(true);
                    return Ok(self.stopped());
                }
                let batch = self.batcher.take(budget);
                self.ctx.shared.unreserve(budget - batch.len());
                self.ctx.shared.set_idle(&self.shard_id, false);
                let finished = self.process(batch).await?;
                window_start = Instant::now();
                if self.ctx.shared.budget_spent() {
                    let _ = self.ctx.shared.stop.send(true);
                }
                if !finished {
                    return Ok(self.stopped());
                }
                continue;
            }
            if self.ended && self.batcher.is_empty() {
                let children = std::mem::take(&mut self.children);
                {
                    let mut lease = self.held.lock().await;
                    if self.held.is_lost() {
                        return Ok(ReaderEnd::Lost);
                    }
                    self.ctx.leases.shard_end(&mut lease, &children).await?;
                }
                self.ctx.shared.set_idle(&self.shard_id, true);
                return Ok(ReaderEnd::ShardEnded { children });
            }
            let idle = self.batcher.is_empty() && !backlog;
            self.ctx.shared.set_idle(&self.shard_id, idle);
            if backlog && self.batcher.len() < self.ctx.config.batch_size && self.batcher.is_empty() {
                continue;
            }
            // Wait for the next poll, or for the window to close if that comes first.
            let mut wait = self.ctx.config.poll_interval;
            if !self.batcher.is_empty() {
                let until_window = self
                    .batcher
                    .window_end(window_start)
                    .saturating_duration_since(now);
                wait = wait.min(until_window);
                if backlog {
                    wait = Duration::ZERO;
                }
            }
            if !wait.is_zero() && !self.pause(wait).await {
                return Ok(self.stopped());
            }
        }
    }

    /// Checkpoints under the lease lock; a lost lease is never written to (the write would fail
    /// its condition anyway: another worker moved the counter).
    async fn checkpoint(&mut self, seq: &str) -> Result<(), EsmError> {
        let mut lease = self.held.lock().await;
        if self.held.is_lost() {
            return Err(CheckpointError::LeaseLost(self.shard_id.clone()).into());
        }
        self.ctx.leases.checkpoint(&mut lease, seq).await?;
        Ok(())
    }

    /// Runs one batch to completion under the policy: success, retries, bisection, discards.
    /// Returns `false` if a stop request left it unfinished (abandoned uncheckpointed).
    async fn process(&mut self, batch: Vec<PreparedRecord>) -> Result<bool, EsmError> {
        let policy = self.ctx.config.policy.clone();
        let mut last_request_id: Option<String> = None;
        // Work in order: the top of the stack is the next range (bisect pushes halves).
        let mut stack: Vec<(Vec<PreparedRecord>, u32)> = vec![(batch, 0)];
        while let Some((mut recs, attempts)) = stack.pop() {
            if let BeforeInvoke::Expire { count, invoke_count } =
                policy.before_invoke(&recs, attempts, self.ctx.clock.now_ms())
            {
                let rest = recs.split_off(count.min(recs.len()));
                let rid = last_request_id
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                self.discard(&recs, Condition::RecordAgeExceeded, None, invoke_count, &rid)
                    .await?;
                recs = rest;
                if recs.is_empty() {
                    continue;
                }
            }
            if self.held.is_lost() || (attempts > 0 && self.stopping()) {
                return Ok(false);
            }
            let request_id = uuid::Uuid::new_v4().to_string();
            last_request_id = Some(request_id.clone());
            let payload = Arc::new(event::build(&recs));
            let timeout = self.ctx.config.function.timeout;
            let result = self
                .invoker
                .invoke(Invocation {
                    request_id: request_id.clone(),
                    payload,
                    deadline: std::time::SystemTime::now() + timeout,
                    timeout,
                    function_arn: self.ctx.config.function.arn(),
                    shard_id: self.shard_id.clone(),
                    lane: 0,
                })
                .await;
            let (outcome, label, detail) = match &result.outcome {
                invoker::Outcome::Returned(value) => {
                    let r = if policy.report_batch_item_failures {
                        response::classify_returned(value, &recs)
                    } else {
                        BatchResponse::Success
                    };
                    match r {
                        BatchResponse::Success => (Outcome::Returned(r), "ok", String::new()),
                        BatchResponse::Partial { first_failed } => (
                            Outcome::Returned(r),
                            "partial",
                            format!(
                                "failed from {}",
                                recs.get(first_failed)
                                    .map(|r| r.sequence_number.to_string())
                                    .unwrap_or_default()
                            ),
                        ),
                        BatchResponse::CompleteFailure => (
                            Outcome::Returned(r),
                            "failed",
                            "batchItemFailures has an invalid item".to_string(),
                        ),
                    }
                }
                failed => (Outcome::FunctionError, failed.failure_label(), failed.describe()),
            };
            let attempts = attempts + 1;
            self.ctx.reporter.batch(&BatchReport {
                shard_id: self.shard_id.clone(),
                records: recs.len(),
                first_sequence_number: recs
                    .first()
                    .map(|r| r.sequence_number.to_string())
                    .unwrap_or_default(),
                last_sequence_number: recs
                    .last()
                    .map(|r| r.sequence_number.to_string())
                    .unwrap_or_default(),
                duration: result.duration,
                outcome: label,
                detail,
                attempt: attempts,
                request_id: request_id.clone(),
            });
            match policy.after_invoke(&recs, attempts, outcome) {
                AfterInvoke::Done => {
                    self.succeeded(&recs).await?;
                }
                AfterInvoke::Retry {
                    from,
                    delay,
                    attempts,
                } => {
                    let rest = recs.split_off(from.min(recs.len()));
                    self.succeeded(&recs).await?;
                    if self.stopping() || !self.pause(delay).await {
                        return Ok(false);
                    }
                    stack.push((rest, attempts));
                }
                AfterInvoke::Bisect { mid, attempts } => {
                    if self.stopping() {
                        return Ok(false);
                    }
                    let right = recs.split_off(mid.min(recs.len()));
                    stack.push((right, attempts));
                    stack.push((recs, attempts));
                }
                AfterInvoke::Discard {
                    from,
                    condition,
                    function_error,
                    invoke_count,
                } => {
                    let rest = recs.split_off(from.min(recs.len()));
                    self.succeeded(&recs).await?;
                    self.discard(&rest, condition, function_error, invoke_count, &request_id)
                        .await?;
                }
            }
        }
        Ok(true)
    }

    /// Checkpoints after records that succeeded (nothing to do for an empty prefix).
    async fn succeeded(&mut self, recs: &[PreparedRecord]) -> Result<(), EsmError> {
        let Some(last) = recs.last() else {
            return Ok(());
        };
        self.checkpoint(last.sequence_number.as_str()).await?;
        self.ctx.shared.delivered(&self.shard_id, recs.len() as u64);
        Ok(())
    }

    /// Sends a range to the on-failure destination (retrying until it is accepted: the shard
    /// stays blocked meanwhile), then checkpoints past it.
    async fn discard(
        &mut self,
        recs: &[PreparedRecord],
        condition: Condition,
        function_error: Option<&'static str>,
        invoke_count: u32,
        request_id: &str,
    ) -> Result<(), EsmError> {
        let Some(last) = recs.last() else {
            return Ok(());
        };
        if self.held.is_lost() {
            // The new owner re-reads this range and decides for itself.
            return Err(CheckpointError::LeaseLost(self.shard_id.clone()).into());
        }
        let function_arn = self.ctx.config.function.arn();
        let shard_id = self.shard_id.clone();
        let stream_arn = self.ctx.stream_arn.clone();
        let d = Discarded {
            request_id,
            function_arn: &function_arn,
            condition,
            invoke_count,
            function_error,
            shard_id: &shard_id,
            stream_arn: &stream_arn,
            records: recs,
            at: std::time::SystemTime::now(),
        };
        let ctx = Arc::clone(&self.ctx);
        let destination = match &ctx.destination {
            None => "none".to_string(),
            Some(dest) => {
                let mut delay = Duration::from_millis(100);
                loop {
                    match dest.send(&d).await {
                        Ok(w) => break w,
                        Err(e) => {
                            self.ctx
                                .reporter
                                .note(&format!("{}: {e}; retrying", self.shard_id));
                            if !self.pause(delay).await {
                                if self.held.is_lost() {
                                    return Err(CheckpointError::LeaseLost(shard_id).into());
                                }
                                return Err(e.into());
                            }
                            delay = (delay * 2).min(Duration::from_secs(5));
                        }
                    }
                }
            }
        };
        self.ctx
            .shared
            .discarded
            .fetch_add(recs.len() as u64, Ordering::Relaxed);
        self.ctx.reporter.discarded(&DiscardReport {
            shard_id: self.shard_id.clone(),
            records: recs.len(),
            condition: condition.as_str(),
            destination,
        });
        let seq = last.sequence_number.to_string();
        self.checkpoint(&seq).await
    }
}
