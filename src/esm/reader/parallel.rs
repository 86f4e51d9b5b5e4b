//! The shard reader with `ParallelizationFactor` > 1 (spec §2.4): records are routed to lanes by
//! partition key ([`crate::esm::lanes::lane_of`]); each lane has its own batcher and runner with
//! at most one batch in flight, and every lane of the shard runs at once. One key is therefore
//! always handled in order and never concurrently, while different keys of one shard overlap.
//!
//! A lane whose batch fails retries, bisects and discards on its own; the other lanes keep
//! going (their keys cannot be reordered by it). The shard checkpoint is the lane tracker's
//! low-water mark ([`CheckpointTracker`]), so it never passes a record a failing lane still
//! holds, and reading stops once `ParallelizationFactor × BatchSize` records wait in the
//! lanes: a lane stuck long enough blocks the shard, as a failing batch does on Lambda.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{ReaderEnd, ShardReader};
use crate::esm::batcher::Batcher;
use crate::esm::checkpoint::Checkpoint;
use crate::esm::events::ShardEvent;
use crate::esm::invoker::InitError;
use crate::esm::lanes::CheckpointTracker;
use crate::esm::record::{PreparedRecord, SequenceNumber};
use crate::esm::runner::{BatchRunner, Decision, PendingBatch};
use crate::esm::EsmError;

/// The batch a lane is working through.
struct LaneBatch {
    /// The ranges still to invoke (moved into the step task while it runs).
    pending: PendingBatch,
    /// Its records not yet done, in order (to mark them done in the tracker).
    outstanding: VecDeque<SequenceNumber>,
    /// Waiting to retry until then.
    retry_at: Option<Instant>,
}

/// One lane: its own buffer, runner and batch.
struct Lane {
    batcher: Batcher,
    /// `None` while a step of this lane runs (the task owns it).
    runner: Option<BatchRunner>,
    batch: Option<LaneBatch>,
    /// When this lane's batching window opened (its previous invocation ended).
    window_start: Instant,
}

impl Lane {
    fn free(&self) -> bool {
        self.runner.is_some() && self.batch.is_none()
    }

    /// Marks the lane batch's records up to `upto` done.
    fn done_upto(&mut self, upto: &SequenceNumber, tracker: &mut CheckpointTracker) {
        let Some(batch) = self.batch.as_mut() else {
            return;
        };
        while batch.outstanding.front().is_some_and(|s| s <= upto) {
            if let Some(seq) = batch.outstanding.pop_front() {
                // Every outstanding record was registered when it was read.
                let _ = tracker.done(&seq);
            }
        }
    }
}

/// One invocation of one lane, run as its own task.
struct Step {
    lane: usize,
    runner: BatchRunner,
    pending: PendingBatch,
    decisions: Vec<Decision>,
}

/// The lanes of one shard.
pub(super) struct Lanes {
    lanes: Vec<Lane>,
    tracker: CheckpointTracker,
    running: JoinSet<Step>,
    /// The last checkpoint written.
    written: Option<SequenceNumber>,
    /// The last record read (delivered to a lane or filtered out): an expired iterator is
    /// renewed after it, since everything before it is in a lane already.
    last_read: Option<SequenceNumber>,
}

impl Lanes {
    /// Lanes around started runners (one per lane, in lane order).
    pub(super) fn new(runners: Vec<BatchRunner>, batcher: impl Fn() -> Batcher) -> Self {
        let now = Instant::now();
        Self {
            lanes: runners
                .into_iter()
                .map(|r| Lane {
                    batcher: batcher(),
                    runner: Some(r),
                    batch: None,
                    window_start: now,
                })
                .collect(),
            tracker: CheckpointTracker::new(),
            running: JoinSet::new(),
            written: None,
            last_read: None,
        }
    }

    fn factor(&self) -> usize {
        self.lanes.len()
    }

    /// A record read from the shard (in shard order), for lane `lane`.
    pub(super) fn push(&mut self, lane: usize, record: PreparedRecord) {
        self.tracker.dispatched(record.sequence_number.clone());
        self.last_read = Some(record.sequence_number.clone());
        let i = lane.min(self.factor().saturating_sub(1));
        if let Some(l) = self.lanes.get_mut(i) {
            l.batcher.extend([record]);
        }
    }

    /// A record read and filtered out: done at once.
    pub(super) fn skipped(&mut self, seq: SequenceNumber) {
        self.last_read = Some(seq.clone());
        self.tracker.skipped(seq);
    }

    /// Where an expired iterator is renewed from (`None`: the lease's checkpoint).
    pub(super) fn last_read(&self) -> Option<&SequenceNumber> {
        self.last_read.as_ref()
    }

    fn buffered(&self) -> usize {
        self.lanes.iter().map(|l| l.batcher.len()).sum()
    }

    /// Nothing buffered, no batch in hand, nothing running.
    fn quiet(&self) -> bool {
        self.running.is_empty()
            && self
                .lanes
                .iter()
                .all(|l| l.batch.is_none() && l.batcher.is_empty())
    }

    /// The checkpoint to write, if the tracker moved past the last one written.
    fn checkpoint_due(&self) -> Option<SequenceNumber> {
        let cp = self.tracker.checkpoint()?;
        (self.written.as_ref() != Some(cp)).then(|| cp.clone())
    }

    /// Starts the next step of `lane`'s batch as a task.
    fn launch(&mut self, lane: usize) {
        let Some(l) = self.lanes.get_mut(lane) else {
            return;
        };
        let (Some(mut runner), Some(batch)) = (l.runner.take(), l.batch.as_mut()) else {
            return;
        };
        batch.retry_at = None;
        let mut pending = std::mem::take(&mut batch.pending);
        self.running.spawn(async move {
            let decisions = runner.step(&mut pending).await;
            Step {
                lane,
                runner,
                pending,
                decisions,
            }
        });
    }

    /// Waits for the running steps and gives their runners back (results dropped: used when
    /// the lease is lost or the reader ends on an error).
    pub(super) async fn settle(&mut self) {
        while let Some(joined) = self.running.join_next().await {
            match joined {
                Ok(step) => {
                    if let Some(l) = self.lanes.get_mut(step.lane) {
                        l.runner = Some(step.runner);
                    }
                }
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }
    }

    /// Stops every lane's invoker (after [`Self::settle`]).
    pub(super) async fn shutdown(&mut self) {
        self.settle().await;
        for l in &mut self.lanes {
            if let Some(r) = l.runner.as_mut() {
                r.shutdown().await;
            }
        }
    }

    /// The earliest time something is due: a lane's window closing (unless no new batch will
    /// wait for one), a retry.
    fn next_due(&self, no_windows: bool) -> Option<Instant> {
        self.lanes
            .iter()
            .filter_map(|l| match &l.batch {
                Some(b) => b.retry_at,
                None if !l.batcher.is_empty() && !no_windows => Some(l.batcher.window_end(l.window_start)),
                None => None,
            })
            .min()
    }
}

/// Starts one runner per lane, all at once (a warm process per lane inits in parallel); on
/// an init error the others are shut down again.
pub(super) async fn start_runners(runners: Vec<BatchRunner>) -> Result<Vec<BatchRunner>, InitError> {
    let mut set = JoinSet::new();
    for (i, mut r) in runners.into_iter().enumerate() {
        set.spawn(async move {
            let res = r.start().await;
            (i, r, res)
        });
    }
    let mut started: Vec<(usize, BatchRunner)> = Vec::new();
    let mut failure = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r, Ok(()))) => started.push((i, r)),
            Ok((_, mut r, Err(e))) => {
                r.shutdown().await;
                failure.get_or_insert(e);
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    if let Some(e) = failure {
        for (_, r) in &mut started {
            r.shutdown().await;
        }
        return Err(e);
    }
    started.sort_by_key(|(i, _)| *i);
    Ok(started.into_iter().map(|(_, r)| r).collect())
}

impl ShardReader {
    fn lanes_mut(&mut self) -> Result<&mut Lanes, EsmError> {
        self.lanes
            .as_mut()
            .ok_or_else(|| EsmError::Kinesis(format!("{}: the shard's lanes are gone", self.shard_id)))
    }

    /// Writes the tracker's checkpoint if it moved.
    async fn checkpoint_lanes(&mut self) -> Result<(), EsmError> {
        let Some(cp) = self.lanes_mut()?.checkpoint_due() else {
            return Ok(());
        };
        self.checkpoint(Checkpoint::After(cp.clone())).await?;
        self.lanes_mut()?.written = Some(cp);
        Ok(())
    }

    /// Gives every free lane whose batch is ready its next batch. Returns `false` once
    /// `--max-records` is spent.
    fn start_batches(&mut self, now: Instant) -> Result<bool, EsmError> {
        let batch_size = self.mapping.config.batch_size;
        let ended = self.ended;
        let budget = std::sync::Arc::clone(&self.budget);
        let mut started = Vec::new();
        let lanes = self.lanes_mut()?;
        for (i, l) in lanes.lanes.iter_mut().enumerate() {
            let ready = l.batcher.ready(l.window_start, now) || (ended && !l.batcher.is_empty());
            if !l.free() || !ready {
                continue;
            }
            let allowed = budget.reserve(batch_size);
            if allowed == 0 {
                return Ok(false);
            }
            let records = l.batcher.take(allowed);
            budget.unreserve(allowed - records.len());
            l.batch = Some(LaneBatch {
                outstanding: records.iter().map(|r| r.sequence_number.clone()).collect(),
                pending: PendingBatch::new(records),
                retry_at: None,
            });
            started.push(i);
        }
        for i in started {
            lanes.launch(i);
        }
        Ok(true)
    }

    /// Lanes whose retry wait is over invoke again.
    fn start_retries(&mut self, now: Instant) -> Result<(), EsmError> {
        let lanes = self.lanes_mut()?;
        let due: Vec<usize> = lanes
            .lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.runner.is_some()
                    && l.batch
                        .as_ref()
                        .and_then(|b| b.retry_at)
                        .is_some_and(|t| t <= now)
            })
            .map(|(i, _)| i)
            .collect();
        for i in &due {
            lanes.launch(*i);
        }
        for _ in due {
            self.send(ShardEvent::Retrying {
                shard_id: self.shard_id.clone(),
            });
        }
        Ok(())
    }

    /// Leaves the failing batches undelivered (a stop does not wait for retries): each is
    /// reported as stuck, none is checkpointed.
    fn abandon_failing(&mut self) -> Result<(), EsmError> {
        let shard_id = self.shard_id.clone();
        let mut stuck = Vec::new();
        for l in &mut self.lanes_mut()?.lanes {
            let failing = l.runner.is_some() && l.batch.as_ref().is_some_and(|b| b.pending.has_failed());
            if failing {
                if let Some(range) = l.batch.take().and_then(|b| b.pending.next_range()) {
                    stuck.push(range);
                }
            }
        }
        for range in stuck {
            self.send(ShardEvent::Stuck {
                shard_id: shard_id.clone(),
                range,
            });
        }
        Ok(())
    }

    /// Carries out what one lane's step decided, then sets the lane up for what follows.
    async fn finish_step(&mut self, step: Step, stopping: bool) -> Result<(), EsmError> {
        let Step {
            lane,
            runner,
            pending,
            decisions,
        } = step;
        let mut retry_at = None;
        for decision in decisions {
            match decision {
                Decision::Completed { upto, records } => {
                    let lanes = self.lanes_mut()?;
                    if let Some(l) = lanes.lanes.get_mut(lane) {
                        l.done_upto(&upto, &mut lanes.tracker);
                    }
                    self.send(ShardEvent::Delivered {
                        shard_id: self.shard_id.clone(),
                        records: records as u64,
                    });
                }
                Decision::Discard(range) => {
                    let Some(last) = range.records.last().map(|r| r.sequence_number.clone()) else {
                        continue;
                    };
                    self.send_discard(&range).await?;
                    let lanes = self.lanes_mut()?;
                    if let Some(l) = lanes.lanes.get_mut(lane) {
                        l.done_upto(&last, &mut lanes.tracker);
                    }
                    self.send(ShardEvent::Discarded {
                        shard_id: self.shard_id.clone(),
                        records: range.records.len() as u64,
                    });
                }
                Decision::Retry { after } => {
                    retry_at = Some(Instant::now() + after);
                    if let Some(range) = pending.next_range() {
                        self.send(ShardEvent::Stuck {
                            shard_id: self.shard_id.clone(),
                            range,
                        });
                    }
                }
            }
        }
        self.checkpoint_lanes().await?;
        let lanes = self.lanes_mut()?;
        let Some(l) = lanes.lanes.get_mut(lane) else {
            return Ok(());
        };
        l.runner = Some(runner);
        if pending.is_done() {
            l.batch = None;
            l.window_start = Instant::now();
            if self.budget.spent() {
                self.send(ShardEvent::BudgetSpent);
            }
            return Ok(());
        }
        let failed = pending.has_failed();
        let next = pending.next_range();
        if stopping && failed {
            // A stop does not wait for a failing batch: left undelivered, uncheckpointed.
            l.batch = None;
            if let Some(range) = next {
                self.send(ShardEvent::Stuck {
                    shard_id: self.shard_id.clone(),
                    range,
                });
            }
            return Ok(());
        }
        if let Some(b) = l.batch.as_mut() {
            b.pending = pending;
            b.retry_at = retry_at;
        }
        if retry_at.is_none() {
            // A bisection: the first half goes at once.
            lanes.launch(lane);
        }
        Ok(())
    }

    /// The read loop with lanes: poll while the lanes have room, start a batch on every free
    /// lane that has one ready, carry out each lane's decisions as its step ends.
    pub(super) async fn read_lanes(&mut self) -> Result<ReaderEnd, EsmError> {
        let poll_interval = self.mapping.config.poll.interval();
        let room = self.mapping.config.parallelization_factor * self.mapping.config.batch_size;
        let mut idle: Option<bool> = None;
        let mut stopping = false;
        // Whether the last read found more behind it.
        let mut backlog = false;
        loop {
            if self.held.is_lost() {
                self.lanes_mut()?.settle().await;
                return Ok(ReaderEnd::Lost);
            }
            if self.stopping() && !stopping {
                stopping = true;
                self.abandon_failing()?;
            }
            let now = Instant::now();
            let may_poll = !stopping && !self.ended && self.lanes_mut()?.buffered() < room;
            if may_poll && now >= self.next_read {
                // A read is held open (long poll) only while no lane has work: the loop does
                // not see finished batches while it reads.
                let cap = if self.lanes_mut()?.quiet() {
                    Duration::MAX
                } else {
                    Duration::ZERO
                };
                // Sets `next_read` as the poll policy says.
                backlog = self.poll(cap).await?;
                // An all-filtered read moves the checkpoint by itself.
                self.checkpoint_lanes().await?;
            }
            let now = Instant::now();
            if !stopping {
                if !self.start_batches(now)? {
                    self.send(ShardEvent::BudgetSpent);
                    stopping = true;
                }
                self.start_retries(now)?;
            }
            let quiet = self.lanes_mut()?.quiet();
            if self.ended && quiet && !stopping {
                return self.end_of_shard().await;
            }
            if stopping {
                self.abandon_failing()?;
                if self.lanes_mut()?.running.is_empty() {
                    return Ok(self.stopped());
                }
            }
            let now_idle = quiet && !backlog;
            if idle != Some(now_idle) {
                idle = Some(now_idle);
                self.set_idle(now_idle);
            }
            let may_poll = !stopping && !self.ended && self.lanes_mut()?.buffered() < room;
            let next_poll = self.next_read;
            let ended = self.ended;
            let Self {
                lanes,
                shutdown,
                lost,
                ..
            } = self;
            let Some(lanes) = lanes.as_mut() else {
                return Ok(ReaderEnd::Stopped);
            };
            // Stopping, buffered records never go out: their windows are no reason to wake.
            let mut wake = lanes.next_due(ended || stopping);
            if may_poll {
                wake = Some(wake.map_or(next_poll, |w| w.min(next_poll)));
            }
            let wake = wake.unwrap_or_else(|| Instant::now() + poll_interval.max(Duration::from_millis(10)));
            let finished = tokio::select! {
                Some(joined) = lanes.running.join_next(), if !lanes.running.is_empty() => match joined {
                    Ok(step) => Some(step),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => None,
                },
                () = tokio::time::sleep_until(wake) => None,
                () = shutdown.recv(), if !stopping => None,
                _ = lost.changed() => None,
            };
            if let Some(step) = finished {
                if self.held.is_lost() {
                    // The new owner re-reads whatever this step did; nothing is written.
                    if let Some(l) = self.lanes_mut()?.lanes.get_mut(step.lane) {
                        l.runner = Some(step.runner);
                    }
                    continue;
                }
                let stopping_now = stopping || self.stopping();
                self.finish_step(step, stopping_now).await?;
            }
        }
    }
}
