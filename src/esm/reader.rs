//! One shard's reader: polls GetRecords, batches, hands each batch to its lane's
//! [`BatchRunner`] and carries out the runner's decisions. It is the only writer of its
//! shard's checkpoint (and of the on-failure destination for it); it tells the supervisor what
//! happened through [`ShardEvent`]s and never sees the supervisor's state.
//!
//! One batch in flight at a time, records in shard order; at the shard's end it checkpoints
//! `SHARD_END` and returns the children. It works under a lease this worker holds
//! ([`HeldLease`]): once the lease is lost it stops at once, abandoning the batch in hand
//! without checkpointing (an invocation already running is let finish).
//!
//! With `ParallelizationFactor` > 1 the records read go to lanes by partition key instead of
//! one batcher, and [`parallel`] runs the read loop: a batch in flight per lane, the shard
//! checkpoint at the lanes' low-water mark; the reader still writes it.

mod parallel;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use tokio::time::Instant;

use super::batcher::{Batcher, MAX_PAYLOAD_BYTES};
use super::budget::Budget;
use super::checkpoint::Checkpoint;
use super::config::StartingPosition;
use super::destination::Discarded;
use super::event::{self, EventContext, RawRecord};
use super::events::{EventSender, ShardEvent};
use super::filter::RecordView;
use super::invoker::{FunctionLog, InvokerTarget, LogSink};
use super::lanes;
use super::lease_table::LeaseTableError;
use super::leases::HeldLease;
use super::local_read::{Page, ReadError};
use super::mapping::Mapping;
use super::poll::ReadOutcome;
use super::read_pump::ReadPump;
use super::record::{PreparedRecord, SequenceNumber};
use super::runner::{BatchRunner, Decision, DiscardRange, PendingBatch, RunnerSettings};
use super::shutdown::Shutdown;
use super::subscribe::{FeedItem, ShardFeed};
use super::window::ShardWindows;
use super::{DiscardReport, EsmError, Reporter};

mod windowed;

use windowed::WindowPlan;

/// GetRecords' maximum `Limit`: read as much as there is; batches are cut from the buffer.
const GET_RECORDS_LIMIT: i32 = 10_000;

/// How a reader ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReaderEnd {
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

/// How delivering one batch ended.
enum Delivery {
    /// Every record was delivered or discarded, and checkpointed.
    Finished,
    /// A stop or a lost lease left it unfinished, uncheckpointed.
    Abandoned,
}

/// The reporter as the function's log sink (every invoker kind logs through it).
struct ReporterLogs(Arc<dyn Reporter>);

impl LogSink for ReporterLogs {
    fn log(&self, label: &str, line: &str) {
        self.0.log(label, line);
    }
}

/// What a reader is given by the supervisor: exactly what it needs.
pub(crate) struct ReaderParts {
    /// The mapping (read-only).
    pub mapping: Arc<Mapping>,
    /// The lease it works under.
    pub held: Arc<HeldLease>,
    /// Progress to the supervisor.
    pub events: EventSender,
    /// The run's stop signal.
    pub shutdown: Shutdown,
    /// `--max-records`.
    pub budget: Arc<Budget>,
}

/// The reader of one shard.
pub(crate) struct ShardReader {
    mapping: Arc<Mapping>,
    shard_id: String,
    held: Arc<HeldLease>,
    lost: tokio::sync::watch::Receiver<bool>,
    shutdown: Shutdown,
    events: EventSender,
    budget: Arc<Budget>,
    event_ctx: EventContext,
    batcher: Batcher,
    /// The only lane's runner (`None` with lanes: each lane holds its own).
    runner: Option<BatchRunner>,
    /// The lanes when `ParallelizationFactor` > 1 (records go there instead of `batcher`).
    lanes: Option<parallel::Lanes>,
    iterator: Option<String>,
    /// With `--efo`: the shard's subscription, read instead of polling with `iterator`.
    feed: Option<ShardFeed>,
    /// GetRecords without the SDK, against a plain local endpoint (`None`: through the SDK).
    local_reads: Option<ReadPump>,
    /// When the next GetRecords may start ([`super::poll::PollPolicy`]).
    next_read: Instant,
    /// GetRecords failures in a row (the back-off doubles with each).
    read_failures: u32,
    ended: bool,
    children: Vec<String>,
    /// The last record read, when filters dropped it: once everything before it is
    /// delivered, the checkpoint moves past it (a restart must not read it again).
    filtered_tail: Option<SequenceNumber>,
    /// With `--tumbling-window`: the shard's windows and their states.
    windows: Option<ShardWindows>,
    /// The last record of the open window that is done (checkpointed when the window closes).
    window_last: Option<SequenceNumber>,
    /// When the last GetRecords that left nothing behind started (Unix ms): every record that
    /// arrived before it has been read, so a window that ended by then is complete.
    read_up_to_ms: Option<i64>,
    /// The lag last told to the supervisor: an empty read that leaves it unchanged is not
    /// told (idle shards are read ~100 times a second locally; each message wakes a thread).
    lag_told: Option<i64>,
}

/// One GetRecords from `iterator`: without the SDK when the endpoint is a plain local one,
/// else through the SDK; `wait` is kinlocal's long-poll hint (never sent to AWS: the policy
/// gives none there).
async fn read_page(
    kinesis: &aws_sdk_kinesis::Client,
    local: Option<&ReadPump>,
    iterator: String,
    wait: Option<Duration>,
) -> Result<Page, ReadError> {
    if let Some(local) = local {
        return local.get_records(iterator, GET_RECORDS_LIMIT, wait).await;
    }
    let request = kinesis
        .get_records()
        .shard_iterator(iterator)
        .limit(GET_RECORDS_LIMIT);
    let sent = match wait {
        Some(wait) => {
            let ms = wait.as_millis().to_string();
            request
                .customize()
                .mutate_request(move |r| {
                    r.headers_mut()
                        .insert(crate::engine::http::WAIT_HEADER, ms.clone());
                })
                .send()
                .await
        }
        None => request.send().await,
    };
    match sent {
        Ok(out) => Ok(Page {
            child_shards: out
                .child_shards()
                .iter()
                .map(|c| c.shard_id().to_string())
                .collect(),
            records: out.records,
            next_shard_iterator: out.next_shard_iterator,
            millis_behind_latest: out.millis_behind_latest,
        }),
        Err(e) => match e.as_service_error() {
            Some(s) if s.is_expired_iterator_exception() => {
                Err(ReadError::ExpiredIterator(crate::aws_error::detail(&e)))
            }
            _ => Err(ReadError::Transport(crate::aws_error::detail(&e))),
        },
    }
}

/// A record as the filters see it.
fn filter_view<'a>(ctx: &'a EventContext, r: &RawRecord<'a>) -> RecordView<'a> {
    RecordView {
        data: r.data,
        partition_key: r.partition_key,
        sequence_number: r.sequence_number,
        arrival_ms: r.arrival_ms,
        shard_id: &ctx.shard_id,
        role_arn: &ctx.role_arn,
        region: &ctx.region,
        stream_arn: &ctx.stream_arn,
    }
}

impl ShardReader {
    /// A reader of the shard of a lease this worker holds, positioned after its checkpoint,
    /// its invoker started.
    pub async fn open(parts: ReaderParts) -> Result<Self, EsmError> {
        let ReaderParts {
            mapping,
            held,
            events,
            shutdown,
            budget,
        } = parts;
        let shard_id = held.key().to_string();
        let local_reads = mapping.local_reads.clone();
        let config = &mapping.config;
        let logs: Arc<dyn LogSink> = Arc::new(ReporterLogs(Arc::clone(&mapping.reporter)));
        // A tumbling window's state passes from one invocation to the next: one lane per shard
        // (`consume` says so when both are asked for).
        let factor = if config.tumbling_window.is_some() {
            1
        } else {
            config.parallelization_factor.max(1)
        };
        let runners = (0..factor)
            .map(|lane| {
                let invoker = mapping.invokers.create(InvokerTarget {
                    shard_id: shard_id.clone(),
                    lane,
                    logs: FunctionLog::new(Arc::clone(&logs), &shard_id, lane),
                });
                BatchRunner::new(
                    invoker,
                    RunnerSettings {
                        policy: config.policy.clone(),
                        function_arn: config.function.arn(),
                        timeout: config.function.timeout,
                        shard_id: shard_id.clone(),
                        lane,
                        lanes: factor,
                        clock: Arc::clone(&mapping.clock),
                        reporter: Arc::clone(&mapping.reporter),
                    },
                )
            })
            .collect();
        let mut runners = parallel::start_runners(runners).await.map_err(EsmError::Init)?;
        let new_batcher = || {
            Batcher::new(
                config.batch_size,
                config.maximum_batching_window,
                MAX_PAYLOAD_BYTES,
            )
        };
        let (runner, lanes) = if factor > 1 {
            (None, Some(parallel::Lanes::new(runners, new_batcher)))
        } else {
            (runners.pop(), None)
        };
        let event_ctx = EventContext {
            shard_id: shard_id.clone(),
            stream_arn: mapping.stream_arn.clone(),
            region: config.function.region.clone(),
            role_arn: config.function.role_arn.clone(),
        };
        let batcher = new_batcher();
        let lost = held.lost_signal();
        let windows = config.tumbling_window.map(ShardWindows::new);
        let mut reader = Self {
            mapping,
            shard_id,
            held,
            lost,
            shutdown,
            events,
            budget,
            event_ctx,
            batcher,
            runner,
            lanes,
            iterator: None,
            feed: None,
            local_reads,
            next_read: Instant::now(),
            read_failures: 0,
            ended: false,
            children: Vec::new(),
            filtered_tail: None,
            windows,
            window_last: None,
            read_up_to_ms: None,
            lag_told: None,
        };
        if let Err(e) = reader.reposition().await {
            reader.shutdown_invokers().await;
            return Err(e);
        }
        Ok(reader)
    }

    fn send(&self, event: ShardEvent) {
        // The supervisor outlives its readers; a closed channel means it is gone anyway.
        let _ = self.events.send(event);
    }

    /// Asked to stop, or the lease was lost.
    fn stopping(&self) -> bool {
        self.shutdown.is_shutdown() || self.held.is_lost()
    }

    /// Sleeps, waking early when asked to stop or when the lease is lost; returns whether it
    /// slept the whole time.
    async fn pause(&mut self, d: Duration) -> bool {
        if self.stopping() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = self.shutdown.recv() => false,
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

    /// Stops the invoker of every lane (letting running invocations finish).
    async fn shutdown_invokers(&mut self) {
        if let Some(r) = self.runner.as_mut() {
            r.shutdown().await;
        }
        if let Some(l) = self.lanes.as_mut() {
            l.shutdown().await;
        }
    }

    /// A fresh iterator after the last checkpoint (or at the starting position); drops what
    /// was buffered beyond it. Used at start and when an iterator expired. With lanes, after
    /// the last record read instead: what the lanes hold stays there, in flight or not.
    async fn reposition(&mut self) -> Result<(), EsmError> {
        self.batcher.clear();
        self.filtered_tail = None;
        // Records after the checkpoint are read again: an open window starts again with them.
        if let Some(w) = &mut self.windows {
            *w = ShardWindows::new(w.length());
        }
        self.window_last = None;
        let read = self.lanes.as_ref().and_then(|l| l.last_read()).cloned();
        let cp = match read {
            Some(seq) => Checkpoint::After(seq),
            None => self.held.lock().await.checkpoint.clone(),
        };
        if let Some(consumer_arn) = self.mapping.consumer_arn.clone() {
            let at_ms = match self.mapping.config.starting_position {
                StartingPosition::AtTimestamp(ms) => Some(ms),
                _ => None,
            };
            self.iterator = None;
            self.feed = super::subscribe::starting_position(&cp, at_ms).map(|start| {
                ShardFeed::start(
                    self.mapping.kinesis.clone(),
                    consumer_arn,
                    self.shard_id.clone(),
                    start,
                    Arc::clone(&self.mapping.clock),
                )
            });
            self.ended = self.feed.is_none();
            return Ok(());
        }
        let req = self
            .mapping
            .kinesis
            .get_shard_iterator()
            .stream_name(&self.mapping.config.stream_name)
            .shard_id(&self.shard_id);
        let req = match &cp {
            Checkpoint::ShardEnd => {
                self.ended = true;
                self.iterator = None;
                return Ok(());
            }
            Checkpoint::TrimHorizon => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            Checkpoint::Latest => req.shard_iterator_type(ShardIteratorType::Latest),
            Checkpoint::AtTimestamp => match self.mapping.config.starting_position {
                StartingPosition::AtTimestamp(ms) => req
                    .shard_iterator_type(ShardIteratorType::AtTimestamp)
                    .timestamp(aws_sdk_kinesis::primitives::DateTime::from_millis(ms)),
                _ => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            },
            Checkpoint::After(seq) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq.as_str()),
        };
        let out = req.send().await.map_err(|e| {
            EsmError::Kinesis(format!(
                "GetShardIterator {}: {}",
                self.shard_id,
                crate::aws_error::detail(&e)
            ))
        })?;
        self.iterator = out.shard_iterator().map(str::to_string);
        if self.iterator.is_none() {
            self.ended = true;
        }
        Ok(())
    }

    /// One GetRecords, held open for at most `wait_cap` by an endpoint that long-polls; returns
    /// whether the shard has a backlog, and sets when the next read may start.
    async fn poll(&mut self, wait_cap: Duration) -> Result<bool, EsmError> {
        if self.feed.is_some() {
            return Ok(self.poll_feed(wait_cap).await);
        }
        let Some(it) = self.iterator.clone() else {
            self.ended = true;
            return Ok(false);
        };
        let started_ms = self.mapping.clock.now_ms();
        let policy = self.mapping.config.poll;
        let started = Instant::now();
        let wait = policy.long_poll(wait_cap);
        let read = read_page(&self.mapping.kinesis, self.local_reads.as_ref(), it, wait);
        // A long poll is cut short by a stop or a lost lease (the loop then sees which).
        let res = tokio::select! {
            res = read => res,
            () = self.shutdown.recv() => return Ok(false),
            _ = self.lost.changed() => return Ok(false),
        };
        let out = match res {
            Ok(o) => {
                self.read_failures = 0;
                o
            }
            Err(ReadError::ExpiredIterator(_)) => {
                self.mapping.reporter.note(&format!(
                    "{}: shard iterator expired; renewing from the last checkpoint",
                    self.shard_id
                ));
                self.reposition().await?;
                self.next_read = policy.next_read(started, ReadOutcome::Backlog);
                return Ok(true);
            }
            Err(e) => {
                // Throttling and transient failures are "before invocation" errors: retried,
                // never counted against the function.
                self.mapping
                    .reporter
                    .note(&format!("{}: GetRecords failed, retrying: {e}", self.shard_id));
                self.read_failures = self.read_failures.saturating_add(1);
                self.next_read = Instant::now() + policy.retry_after(self.read_failures);
                return Ok(false);
            }
        };
        let lag = out.millis_behind_latest.unwrap_or(0);
        let up_to_ms = (lag == 0 && out.records.len() < GET_RECORDS_LIMIT as usize).then_some(started_ms);
        self.iterator = out.next_shard_iterator;
        let end = self.iterator.is_none().then_some(out.child_shards);
        let backlog = self.take_read(&out.records, lag, end, up_to_ms);
        let outcome = if backlog {
            ReadOutcome::Backlog
        } else {
            ReadOutcome::Empty
        };
        // The read thread paces the reads it holds open; the next one follows the answer on
        // the grid, not the start of a read that thread may have repeated several times.
        let paced_from = if self.local_reads.is_some() {
            Instant::now()
        } else {
            started
        };
        self.next_read = policy.next_read(paced_from, outcome);
        Ok(backlog)
    }

    /// With `--efo`: the next event of the shard's subscription, waiting at most `wait_cap`
    /// (at least 10 ms, at most 1 s); returns whether the shard has a backlog.
    async fn poll_feed(&mut self, wait_cap: Duration) -> bool {
        // Pushed events pace the reads: the next look is at once, and waits on the channel.
        self.next_read = Instant::now();
        let wait = wait_cap.clamp(Duration::from_millis(10), Duration::from_secs(1));
        let Some(feed) = self.feed.as_mut() else {
            return false;
        };
        let item = tokio::select! {
            item = feed.next(wait) => item,
            () = self.shutdown.recv() => return false,
            _ = self.lost.changed() => return false,
        };
        match item {
            Some(FeedItem::Event(p)) => {
                // Caught up when the event left the endpoint: everything that arrived up to
                // then was in it (a second's margin for the trip).
                let up_to_ms = (p.millis_behind == 0).then_some(p.received_ms - 1000);
                self.take_read(&p.records, p.millis_behind, p.children, up_to_ms)
            }
            Some(FeedItem::Note(n)) => {
                self.mapping.reporter.note(&format!("{}: {n}", self.shard_id));
                false
            }
            None => {
                // A live subscription pushes every record as it arrives: nothing for `wait`
                // means nothing arrived before then either (same margin).
                let quiet_ms = self.mapping.clock.now_ms() - 1000;
                self.read_up_to_ms = self.read_up_to_ms.max(Some(quiet_ms));
                false
            }
        }
    }

    /// What a read (GetRecords or a pushed event) found: records (filtered, prepared, handed to
    /// the batcher or the lanes), the lag, the children when the shard ended, and up to when
    /// everything that arrived has been read (for tumbling windows); returns whether the shard
    /// has a backlog.
    fn take_read(
        &mut self,
        records: &[aws_sdk_kinesis::types::Record],
        lag: i64,
        end: Option<Vec<String>>,
        up_to_ms: Option<i64>,
    ) -> bool {
        let n = records.len();
        let filters = &self.mapping.filters;
        let factor = self.mapping.config.parallelization_factor;
        let mut prepared: Vec<(usize, PreparedRecord)> = Vec::with_capacity(n);
        for r in records {
            let arrival_ms = r
                .approximate_arrival_timestamp()
                .and_then(|t| t.to_millis().ok())
                .unwrap_or(0);
            let raw = RawRecord {
                partition_key: r.partition_key().unwrap_or_default(),
                sequence_number: r.sequence_number(),
                data: r.data().as_ref(),
                arrival_ms,
            };
            // FilterCriteria: a record matching no filter is consumed without an invocation.
            if !filters.is_empty() && !filters.matches(&filter_view(&self.event_ctx, &raw)) {
                self.filtered_tail = Some(SequenceNumber::new(raw.sequence_number));
                continue;
            }
            self.filtered_tail = None;
            let lane = lanes::lane_of(raw.partition_key, factor);
            prepared.push((lane, event::prepare(&self.event_ctx, &raw)));
        }
        self.accept(prepared);
        if up_to_ms.is_some() {
            self.read_up_to_ms = self.read_up_to_ms.max(up_to_ms);
        }
        if let Some(children) = end {
            self.ended = true;
            self.children = children;
        }
        if n > 0 || self.lag_told != Some(lag) {
            self.lag_told = Some(lag);
            self.send(ShardEvent::Polled {
                shard_id: self.shard_id.clone(),
                records: n,
                lag_ms: lag,
            });
        }
        n > 0 || lag > 0
    }

    /// Records read (and not filtered out), each with its lane: into the batcher, or with lanes
    /// into theirs (a filtered-out tail then counts as done at once).
    fn accept(&mut self, records: Vec<(usize, PreparedRecord)>) {
        match self.lanes.as_mut() {
            None => self.batcher.extend(records.into_iter().map(|(_, r)| r)),
            Some(lanes) => {
                for (lane, r) in records {
                    lanes.push(lane, r);
                }
                if let Some(seq) = self.filtered_tail.take() {
                    lanes.skipped(seq);
                }
            }
        }
    }

    fn set_idle(&self, idle: bool) {
        self.send(ShardEvent::Idle {
            shard_id: self.shard_id.clone(),
            idle,
        });
    }

    /// Reads the shard until its end, until asked to stop, or until the lease is lost; the
    /// invoker is shut down on the way out.
    pub async fn run(mut self) -> Result<ReaderEnd, EsmError> {
        let end = if self.lanes.is_some() {
            self.read_lanes().await
        } else {
            self.read().await
        };
        self.shutdown_invokers().await;
        match end {
            Err(EsmError::LeaseTable(LeaseTableError::LeaseLost(_))) => {
                self.held.mark_lost();
                Ok(ReaderEnd::Lost)
            }
            other => other,
        }
    }

    async fn read(&mut self) -> Result<ReaderEnd, EsmError> {
        let mut window_start = Instant::now();
        let mut idle: Option<bool> = None;
        // What the last read said (kept while the policy makes the reader wait for the next).
        let mut backlog = false;
        loop {
            if self.stopping() {
                return Ok(self.stopped());
            }
            let wants_read = !self.ended && self.batcher.len() < self.mapping.config.batch_size;
            if wants_read && Instant::now() >= self.next_read {
                // A read held open (long poll) must not outlast the batching window, nor the
                // open tumbling window (its final invocation follows a read past its end).
                let mut cap = if self.batcher.is_empty() {
                    Duration::MAX
                } else {
                    self.batcher
                        .window_end(window_start)
                        .saturating_duration_since(Instant::now())
                };
                if let Some(w) = self.windows.as_ref().and_then(|w| w.open_window()) {
                    let left = w.end_ms.saturating_sub(self.mapping.clock.now_ms()).max(0);
                    cap = cap.min(Duration::from_millis(left.unsigned_abs()));
                }
                backlog = self.poll(cap).await?;
            }
            if self.batcher.is_empty() && !self.window_open() {
                if let Some(seq) = self.filtered_tail.take() {
                    // Nothing before it is pending: a filtered-out tail (or a whole poll) is done.
                    self.checkpoint(Checkpoint::After(seq)).await?;
                }
            }
            let now = Instant::now();
            let mut ready = self.batcher.ready(window_start, now) || (self.ended && !self.batcher.is_empty());
            let (mut window_call, mut limit) = (None, usize::MAX);
            match self.window_plan(ready) {
                WindowPlan::Off => {}
                WindowPlan::Final(call) => {
                    let delivery = self.deliver_final(call).await?;
                    window_start = Instant::now();
                    if let Delivery::Abandoned = delivery {
                        return Ok(self.stopped());
                    }
                    continue;
                }
                WindowPlan::Batch { call, take } => (ready, window_call, limit) = (true, Some(call), take),
                WindowPlan::Wait => ready = false,
            }
            if ready {
                let batch_size = self.mapping.config.batch_size;
                let budget = self.budget.reserve(batch_size);
                if budget == 0 {
                    // --max-records reached: the supervisor is stopping everyone.
                    self.send(ShardEvent::BudgetSpent);
                    return Ok(self.stopped());
                }
                let reserve = windowed::envelope_bytes(window_call.as_ref());
                let batch = self.batcher.take_reserving(budget.min(limit), reserve);
                self.budget.unreserve(budget - batch.len());
                if idle != Some(false) {
                    idle = Some(false);
                    self.set_idle(false);
                }
                let mut pending = match window_call {
                    Some(call) => PendingBatch::windowed(batch, call),
                    None => PendingBatch::new(batch),
                };
                let delivery = self.deliver(&mut pending).await?;
                self.window_batch_done(&pending);
                window_start = Instant::now();
                if self.budget.spent() {
                    self.send(ShardEvent::BudgetSpent);
                }
                if let Delivery::Abandoned = delivery {
                    return Ok(self.stopped());
                }
                continue;
            }
            if self.ended && self.batcher.is_empty() {
                // The shard's end closes its open window (children start fresh ones).
                if let Some(call) = self.window_at_shard_end() {
                    if let Delivery::Abandoned = self.deliver_final(call).await? {
                        return Ok(self.stopped());
                    }
                }
                return self.end_of_shard().await;
            }
            let now_idle = self.batcher.is_empty() && !backlog && !self.window_open();
            if idle != Some(now_idle) {
                idle = Some(now_idle);
                self.set_idle(now_idle);
            }
            // Wait for the next read the policy allows, or for the window to close if that
            // comes first.
            let now = Instant::now();
            let mut wait = if !self.ended && self.batcher.len() < self.mapping.config.batch_size {
                self.next_read.saturating_duration_since(now)
            } else {
                Duration::MAX
            };
            if !self.batcher.is_empty() {
                let until_window = self
                    .batcher
                    .window_end(window_start)
                    .saturating_duration_since(now);
                wait = wait.min(until_window);
            }
            // A bound, should nothing above give a deadline.
            let wait = wait.min(Duration::from_secs(1));
            if !wait.is_zero() && !self.pause(wait).await {
                return Ok(self.stopped());
            }
        }
    }

    /// Everything of the shard is done: checkpoints `SHARD_END` and names the children.
    async fn end_of_shard(&mut self) -> Result<ReaderEnd, EsmError> {
        let children = std::mem::take(&mut self.children);
        {
            let mut lease = self.held.lock().await;
            if self.held.is_lost() {
                return Ok(ReaderEnd::Lost);
            }
            self.mapping.leases.shard_end(&mut lease, &children).await?;
        }
        self.set_idle(true);
        Ok(ReaderEnd::ShardEnded { children })
    }

    /// Runs one batch to completion through the runner, carrying out its decisions: success,
    /// retries, bisection, discards.
    async fn deliver(&mut self, pending: &mut PendingBatch) -> Result<Delivery, EsmError> {
        while !pending.is_done() {
            if self.held.is_lost() || (pending.has_failed() && self.stopping()) {
                if !self.held.is_lost() {
                    self.report_stuck(pending);
                }
                return Ok(Delivery::Abandoned);
            }
            let Some(runner) = self.runner.as_mut() else {
                return Ok(Delivery::Abandoned);
            };
            for decision in runner.step(pending).await {
                match decision {
                    Decision::Completed { upto, records } => {
                        self.settle(upto).await?;
                        self.send(ShardEvent::Delivered {
                            shard_id: self.shard_id.clone(),
                            records: records as u64,
                        });
                    }
                    Decision::Discard(range) => self.discard(range).await?,
                    Decision::Retry { after } => {
                        self.report_stuck(pending);
                        if self.stopping() || !self.pause(after).await {
                            return Ok(Delivery::Abandoned);
                        }
                        self.send(ShardEvent::Retrying {
                            shard_id: self.shard_id.clone(),
                        });
                    }
                }
            }
        }
        Ok(Delivery::Finished)
    }

    /// Tells the supervisor which range is failing and waits (or is left) undelivered.
    fn report_stuck(&self, pending: &PendingBatch) {
        if let Some(range) = pending.next_range() {
            self.send(ShardEvent::Stuck {
                shard_id: self.shard_id.clone(),
                range,
            });
        }
    }

    /// Checkpoints under the lease lock; a lost lease is never written to (the write would fail
    /// its condition anyway: another worker moved the counter).
    async fn checkpoint(&mut self, checkpoint: Checkpoint) -> Result<(), EsmError> {
        let mut lease = self.held.lock().await;
        if self.held.is_lost() {
            return Err(LeaseTableError::LeaseLost(self.shard_id.clone()).into());
        }
        self.mapping.leases.checkpoint(&mut lease, &checkpoint).await?;
        Ok(())
    }

    /// Sends a range to the on-failure destination (retrying until it is accepted: the shard
    /// stays blocked meanwhile), then checkpoints past it.
    async fn discard(&mut self, range: DiscardRange) -> Result<(), EsmError> {
        let Some(last) = range.records.last() else {
            return Ok(());
        };
        let last = last.sequence_number.clone();
        self.send_discard(&range).await?;
        self.settle(last).await?;
        self.send(ShardEvent::Discarded {
            shard_id: self.shard_id.clone(),
            records: range.records.len() as u64,
        });
        Ok(())
    }

    /// Sends a range to the on-failure destination, retrying until it is accepted, and reports
    /// it; checkpointing past it is the caller's.
    async fn send_discard(&mut self, range: &DiscardRange) -> Result<(), EsmError> {
        if self.held.is_lost() {
            // The new owner re-reads this range and decides for itself.
            return Err(LeaseTableError::LeaseLost(self.shard_id.clone()).into());
        }
        let function_arn = self.mapping.config.function.arn();
        let mapping = Arc::clone(&self.mapping);
        let d = Discarded {
            request_id: &range.request_id,
            function_arn: &function_arn,
            condition: range.condition,
            invoke_count: range.invoke_count,
            function_error: range.function_error,
            shard_id: &self.shard_id,
            stream_arn: &mapping.stream_arn,
            records: &range.records,
            at: std::time::SystemTime::now(),
        };
        let destination = match &mapping.destination {
            None => "none".to_string(),
            Some(dest) => {
                let backoff =
                    crate::backoff::Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
                let mut attempt = 1;
                loop {
                    match dest.send(&d).await {
                        Ok(w) => break w,
                        Err(e) => {
                            mapping
                                .reporter
                                .note(&format!("{}: {e}; retrying", self.shard_id));
                            let slept = tokio::select! {
                                () = tokio::time::sleep(backoff.delay(attempt)) => true,
                                () = self.shutdown.recv() => false,
                                _ = self.lost.changed() => false,
                            };
                            if !slept || self.held.is_lost() {
                                if self.held.is_lost() {
                                    return Err(LeaseTableError::LeaseLost(self.shard_id.clone()).into());
                                }
                                return Err(e.into());
                            }
                            attempt += 1;
                        }
                    }
                }
            }
        };
        mapping.reporter.discarded(&DiscardReport {
            shard_id: self.shard_id.clone(),
            records: range.records.len(),
            condition: range.condition.as_str(),
            destination,
        });
        Ok(())
    }
}
