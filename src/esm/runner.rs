//! The batch runner of one lane: takes a batch through the policy, the invoker and the
//! response, one invocation per [`BatchRunner::step`], and returns what the reader must do
//! (checkpoint up to a record, discard a range, wait before a retry). It writes nothing
//! itself: the reader owns the shard's checkpoint and the destination; the runner's only I/O
//! is the invoker.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::event;
use super::events::PendingRange;
use super::invoker::{InitError, Invocation, Invoker, Outcome as InvokeOutcome};
use super::policy::{AfterInvoke, BeforeInvoke, Clock, Condition, Outcome, RetryPolicy};
use super::record::{PreparedRecord, SequenceNumber};
use super::response::{self, BatchResponse};
use super::window::{self, WindowCall};
use super::{BatchReport, Reporter};

/// What the reader must do, in the order the runner returns them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Every record up to and including `upto` succeeded: checkpoint after it.
    Completed {
        /// The last record handled.
        upto: SequenceNumber,
        /// How many records this completes.
        records: usize,
    },
    /// Send these records to the on-failure destination, then checkpoint after the last.
    Discard(DiscardRange),
    /// Wait this long, then call [`BatchRunner::step`] again (a failure is being retried).
    Retry {
        /// The back-off.
        after: Duration,
    },
}

/// A range the policy gave up on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiscardRange {
    /// The records, in order (never empty).
    pub records: Vec<PreparedRecord>,
    /// Why.
    pub condition: Condition,
    /// `responseContext.functionError`.
    pub function_error: Option<&'static str>,
    /// `approximateInvokeCount`.
    pub invoke_count: u32,
    /// The last invocation's request id (a fresh one if it was never invoked).
    pub request_id: String,
}

/// A batch being worked through: ranges still to invoke (bisection splits them), in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingBatch {
    /// The top is the next range.
    stack: Vec<(Vec<PreparedRecord>, u32)>,
    last_request_id: Option<String>,
    failed: bool,
    /// With a tumbling window: the envelope every invocation carries, and the state learnt.
    window: Option<WindowCall>,
}

impl PendingBatch {
    /// A batch not yet invoked.
    pub fn new(records: Vec<PreparedRecord>) -> Self {
        let stack = if records.is_empty() {
            Vec::new()
        } else {
            vec![(records, 0)]
        };
        Self {
            stack,
            last_request_id: None,
            failed: false,
            window: None,
        }
    }

    /// Records of one tumbling window, or (`call.is_final`, no records) the window's final
    /// invocation.
    pub fn windowed(records: Vec<PreparedRecord>, call: WindowCall) -> Self {
        let stack = if records.is_empty() && !call.is_final {
            Vec::new()
        } else {
            vec![(records, 0)]
        };
        Self {
            stack,
            last_request_id: None,
            failed: false,
            window: Some(call),
        }
    }

    /// The window part, once the batch is done: the state the function left, whether a final
    /// invocation succeeded.
    pub fn window(&self) -> Option<&WindowCall> {
        self.window.as_ref()
    }

    /// Nothing left to invoke.
    pub(crate) fn is_done(&self) -> bool {
        self.stack.is_empty()
    }

    /// Some invocation of this batch failed (a stop now abandons the rest uncheckpointed,
    /// rather than waiting for retries).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }

    /// The range to be invoked next, with its attempts so far.
    pub(crate) fn next_range(&self) -> Option<PendingRange> {
        let (recs, attempts) = self.stack.last()?;
        Some(PendingRange {
            first_sequence_number: recs
                .first()
                .map(|r| r.sequence_number.to_string())
                .unwrap_or_default(),
            last_sequence_number: recs
                .last()
                .map(|r| r.sequence_number.to_string())
                .unwrap_or_default(),
            records: recs.len(),
            attempts: *attempts,
        })
    }
}

/// Runs batches of one lane.
pub(crate) struct BatchRunner {
    invoker: Box<dyn Invoker>,
    policy: RetryPolicy,
    function_arn: String,
    timeout: Duration,
    shard_id: String,
    lane: usize,
    lanes: usize,
    clock: Arc<dyn Clock>,
    reporter: Arc<dyn Reporter>,
}

/// What a runner is set up with.
pub(crate) struct RunnerSettings {
    /// The retry / bisect / partial-failure / age policy.
    pub policy: RetryPolicy,
    /// The function's ARN (sent with each invocation).
    pub function_arn: String,
    /// The function timeout.
    pub timeout: Duration,
    /// The shard.
    pub shard_id: String,
    /// The lane.
    pub lane: usize,
    /// How many lanes the shard has (`ParallelizationFactor`).
    pub lanes: usize,
    /// Time, for record age.
    pub clock: Arc<dyn Clock>,
    /// Where per-invocation lines go.
    pub reporter: Arc<dyn Reporter>,
}

impl BatchRunner {
    /// A runner invoking through `invoker` (not started yet).
    pub fn new(invoker: Box<dyn Invoker>, s: RunnerSettings) -> Self {
        Self {
            invoker,
            policy: s.policy,
            function_arn: s.function_arn,
            timeout: s.timeout,
            shard_id: s.shard_id,
            lane: s.lane,
            lanes: s.lanes,
            clock: s.clock,
            reporter: s.reporter,
        }
    }

    /// Starts the invoker (a warm invoker's init happens here).
    pub async fn start(&mut self) -> Result<(), InitError> {
        self.invoker.start().await
    }

    /// Stops the invoker.
    pub async fn shutdown(&mut self) {
        self.invoker.shutdown().await;
    }

    /// Runs the next range of `batch` (at most one invocation) and says what follows, in
    /// order. An empty answer means "nothing to write; step again" (after a bisection).
    pub async fn step(&mut self, batch: &mut PendingBatch) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let Some((mut recs, attempts)) = batch.stack.pop() else {
            return decisions;
        };
        if let BeforeInvoke::Expire { count, invoke_count } =
            self.policy.before_invoke(&recs, attempts, self.clock.now_ms())
        {
            let rest = recs.split_off(count.min(recs.len()));
            let request_id = batch
                .last_request_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            decisions.push(Decision::Discard(DiscardRange {
                records: recs,
                condition: Condition::RecordAgeExceeded,
                function_error: None,
                invoke_count,
                request_id,
            }));
            recs = rest;
            if recs.is_empty() {
                return decisions;
            }
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        batch.last_request_id = Some(request_id.clone());
        let report = self
            .invoker
            .invoke(Invocation {
                request_id: request_id.clone(),
                payload: Arc::new(match &batch.window {
                    Some(w) => w.wrap(&self.shard_id, event::build(&recs)),
                    None => event::build(&recs),
                }),
                deadline: SystemTime::now() + self.timeout,
                timeout: self.timeout,
                function_arn: self.function_arn.clone(),
                shard_id: self.shard_id.clone(),
                lane: self.lane,
            })
            .await;
        let (mut outcome, mut label, mut detail) = self.judge(&report.outcome, &recs);
        // With a tumbling window the response must carry a state, or the invocation failed.
        let mut returned_state = None;
        if let (Some(w), InvokeOutcome::Returned(value)) = (&batch.window, &report.outcome) {
            match window::returned_state(value) {
                Ok(state) => returned_state = Some(state),
                Err(e) => (outcome, label, detail) = (Outcome::FunctionError, "error", e.to_string()),
            }
            if detail.is_empty() {
                detail = w.describe();
            }
        }
        let attempts = attempts + 1;
        self.reporter.batch(&BatchReport {
            shard_id: self.shard_id.clone(),
            lane: (self.lanes > 1).then_some(self.lane),
            records: recs.len(),
            first_sequence_number: recs
                .first()
                .map(|r| r.sequence_number.to_string())
                .unwrap_or_default(),
            last_sequence_number: recs
                .last()
                .map(|r| r.sequence_number.to_string())
                .unwrap_or_default(),
            duration: report.duration,
            outcome: label,
            detail,
            attempt: attempts,
            request_id: request_id.clone(),
        });
        let after = self.policy.after_invoke(&recs, attempts, outcome);
        if let (Some(w), Some(state)) = (batch.window.as_mut(), returned_state) {
            // The returned state stands for the records that succeeded: none, it is not kept.
            match after {
                AfterInvoke::Done => {
                    w.state = state;
                    w.closed = w.is_final;
                }
                AfterInvoke::Retry { from, .. } | AfterInvoke::Discard { from, .. } if from > 0 => {
                    w.state = state;
                }
                _ => {}
            }
        }
        match after {
            AfterInvoke::Done => decisions.extend(completed(&recs)),
            AfterInvoke::Retry {
                from,
                delay,
                attempts,
            } => {
                let rest = recs.split_off(from.min(recs.len()));
                decisions.extend(completed(&recs));
                batch.failed = true;
                batch.stack.push((rest, attempts));
                decisions.push(Decision::Retry { after: delay });
            }
            AfterInvoke::Bisect { mid, attempts } => {
                let right = recs.split_off(mid.min(recs.len()));
                batch.failed = true;
                batch.stack.push((right, attempts));
                batch.stack.push((recs, attempts));
            }
            AfterInvoke::Discard {
                from,
                condition,
                function_error,
                invoke_count,
            } => {
                let rest = recs.split_off(from.min(recs.len()));
                decisions.extend(completed(&recs));
                if !rest.is_empty() {
                    decisions.push(Decision::Discard(DiscardRange {
                        records: rest,
                        condition,
                        function_error,
                        invoke_count,
                        request_id,
                    }));
                }
            }
        }
        decisions
    }

    /// The policy's view of an invocation's outcome, and the per-batch line's label and detail.
    fn judge(&self, outcome: &InvokeOutcome, recs: &[PreparedRecord]) -> (Outcome, &'static str, String) {
        let InvokeOutcome::Returned(value) = outcome else {
            return (
                Outcome::FunctionError,
                outcome.failure_label(),
                outcome.describe(),
            );
        };
        let r = if self.policy.report_batch_item_failures {
            response::classify_returned(value, recs)
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
}

/// `Completed` for a non-empty prefix that succeeded.
fn completed(recs: &[PreparedRecord]) -> Option<Decision> {
    recs.last().map(|last| Decision::Completed {
        upto: last.sequence_number.clone(),
        records: recs.len(),
    })
}
