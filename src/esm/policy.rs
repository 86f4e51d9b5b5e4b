//! The retry / bisect / partial-failure / record-age policy, as Lambda applies it to a Kinesis
//! batch (spec §2.5–§2.7). Pure: given a batch, how often it was invoked, what the invocation
//! returned and the time, it says what to do next. The shard reader carries it out.

use std::time::Duration;

use super::record::PreparedRecord;
use super::response::BatchResponse;

/// Why a range of records is discarded (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `MaximumRetryAttempts` exhausted.
    RetryAttemptsExhausted,
    /// A record is older than `MaximumRecordAgeInSeconds`.
    RecordAgeExceeded,
}

impl Condition {
    /// The name Lambda writes in the on-failure record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Self::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// What an invocation came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The function returned (exit 0); its response, classified (ignored unless
    /// `ReportBatchItemFailures` is on).
    Returned(BatchResponse),
    /// Non-zero exit, death by a signal or timeout.
    FunctionError,
}

/// The ESM settings the policy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `MaximumRetryAttempts`; `None` is −1, infinite.
    pub maximum_retry_attempts: Option<u32>,
    /// `MaximumRecordAgeInSeconds`; `None` is −1, infinite.
    pub maximum_record_age: Option<Duration>,
    /// `BisectBatchOnFunctionError`.
    pub bisect_batch_on_function_error: bool,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_batch_item_failures: bool,
    /// First retry delay; doubled on every further attempt.
    pub retry_base_delay: Duration,
    /// Ceiling of the retry delay, so an infinitely failing batch does not spin.
    pub retry_max_delay: Duration,
}

/// What to do before invoking a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BeforeInvoke {
    /// Invoke the whole batch.
    Invoke,
    /// The first `count` records are too old: discard them with `RecordAgeExceeded` (no
    /// `responseContext`), then go on with the rest, if any.
    Expire {
        /// How many leading records expired (arrival times only grow along a shard).
        count: usize,
        /// `approximateInvokeCount`: 1 when never invoked (as AWS reports), else the attempts.
        invoke_count: u32,
    },
}

/// What to do after an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AfterInvoke {
    /// Every record succeeded: checkpoint the last.
    Done,
    /// Checkpoint the records before `from` (they succeeded), wait `delay`, invoke the rest
    /// again. Its attempt count is `attempts`.
    Retry {
        /// First record to retry (0: the whole batch).
        from: usize,
        /// Back-off before the retry.
        delay: Duration,
        /// Invocations already made on the retried range.
        attempts: u32,
    },
    /// Split at `mid` and process `[..mid]` then `[mid..]`, each keeping `attempts`:
    /// splitting does not consume the retry quota.
    Bisect {
        /// Length of the first half.
        mid: usize,
        /// The attempt count both halves start with.
        attempts: u32,
    },
    /// Checkpoint the records before `from`, send `[from..]` to the on-failure destination,
    /// then checkpoint the last record and move on.
    Discard {
        /// First discarded record.
        from: usize,
        /// Why.
        condition: Condition,
        /// `responseContext.functionError`: `Some("Unhandled")`, or `None` (JSON null) when
        /// the last attempt returned a partial batch failure.
        function_error: Option<&'static str>,
        /// `approximateInvokeCount`.
        invoke_count: u32,
    },
}

impl RetryPolicy {
    /// Checks record age before (re)invoking `batch`, which was invoked `attempts` times.
    pub(crate) fn before_invoke(&self, batch: &[PreparedRecord], attempts: u32, now_ms: i64) -> BeforeInvoke {
        let Some(max_age) = self.maximum_record_age else {
            return BeforeInvoke::Invoke;
        };
        let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let count = batch
            .iter()
            .take_while(|r| now_ms.saturating_sub(r.arrival_ms) > max_age_ms)
            .count();
        if count == 0 {
            BeforeInvoke::Invoke
        } else {
            BeforeInvoke::Expire {
                count,
                invoke_count: attempts.max(1),
            }
        }
    }

    /// Decides what follows an invocation of `batch`; `attempts` counts it.
    pub(crate) fn after_invoke(
        &self,
        batch: &[PreparedRecord],
        attempts: u32,
        outcome: Outcome,
    ) -> AfterInvoke {
        let exhausted = self.maximum_retry_attempts.is_some_and(|max| attempts > max);
        match outcome {
            Outcome::Returned(response) => {
                let response = if self.report_batch_item_failures {
                    response
                } else {
                    BatchResponse::Success
                };
                let from = match response {
                    BatchResponse::Success => return AfterInvoke::Done,
                    BatchResponse::Partial { first_failed } => first_failed.min(batch.len()),
                    BatchResponse::CompleteFailure => 0,
                };
                if exhausted {
                    AfterInvoke::Discard {
                        from,
                        condition: Condition::RetryAttemptsExhausted,
                        function_error: None,
                        invoke_count: attempts,
                    }
                } else {
                    AfterInvoke::Retry {
                        from,
                        delay: self.retry_delay(attempts),
                        attempts,
                    }
                }
            }
            Outcome::FunctionError => {
                if self.bisect_batch_on_function_error && batch.len() > 1 {
                    // The failed invocation does not count against the halves.
                    return AfterInvoke::Bisect {
                        mid: batch.len() / 2,
                        attempts: attempts.saturating_sub(1),
                    };
                }
                if exhausted {
                    AfterInvoke::Discard {
                        from: 0,
                        condition: Condition::RetryAttemptsExhausted,
                        function_error: Some("Unhandled"),
                        invoke_count: attempts,
                    }
                } else {
                    AfterInvoke::Retry {
                        from: 0,
                        delay: self.retry_delay(attempts),
                        attempts,
                    }
                }
            }
        }
    }

    /// Exponential back-off: base, 2·base, 4·base … capped.
    pub(crate) fn retry_delay(&self, attempts: u32) -> Duration {
        crate::backoff::Backoff::new(self.retry_base_delay, self.retry_max_delay).delay(attempts)
    }
}

/// Where "now" comes from, so that record age can be tested with paused time.
pub trait Clock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that follows tokio's (pausable) time from a fixed start, for tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokioClock {
    start_ms: i64,
    start: tokio::time::Instant,
}

#[cfg(test)]
impl TokioClock {
    /// A clock reading `start_ms` now.
    pub(crate) fn starting_at(start_ms: i64) -> Self {
        Self {
            start_ms,
            start: tokio::time::Instant::now(),
        }
    }
}

#[cfg(test)]
impl Clock for TokioClock {
    fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.start_ms.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::record::SequenceNumber;

    fn recs(arrivals: &[i64]) -> Vec<PreparedRecord> {
        arrivals
            .iter()
            .enumerate()
            .map(|(i, a)| PreparedRecord {
                sequence_number: SequenceNumber::new((i + 1).to_string()),
                arrival_ms: *a,
                json: Vec::new(),
            })
            .collect()
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            maximum_retry_attempts: None,
            maximum_record_age: None,
            bisect_batch_on_function_error: false,
            report_batch_item_failures: false,
            retry_base_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_secs(2),
        }
    }

    #[test]
    fn success_checkpoints_the_whole_batch() {
        let p = policy();
        let b = recs(&[0, 0, 0]);
        assert_eq!(
            p.after_invoke(&b, 1, Outcome::Returned(BatchResponse::Success)),
            AfterInvoke::Done
        );
    }

    #[test]
    fn partial_responses_are_ignored_unless_reported() {
        let mut p = policy();
        let b = recs(&[0, 0, 0]);
        let partial = Outcome::Returned(BatchResponse::Partial { first_failed: 1 });
        assert_eq!(p.after_invoke(&b, 1, partial), AfterInvoke::Done);
        p.report_batch_item_failures = true;
        assert_eq!(
            p.after_invoke(&b, 1, partial),
            AfterInvoke::Retry {
                from: 1,
                delay: Duration::from_millis(100),
                attempts: 1
            }
        );
    }

    /// approximateInvokeCount = MaximumRetryAttempts + 1 on exhaustion (2 → 3, 3 → 4, 1 → 2).
    #[test]
    fn retries_are_counted_like_aws() {
        for max in [0_u32, 1, 2, 3] {
            let mut p = policy();
            p.maximum_retry_attempts = Some(max);
            let b = recs(&[0, 0]);
            let mut attempts = 0;
            let decision = loop {
                attempts += 1;
                match p.after_invoke(&b, attempts, Outcome::FunctionError) {
                    AfterInvoke::Retry {
                        from: 0, attempts: a, ..
                    } => assert_eq!(a, attempts),
                    other => break other,
                }
            };
            assert_eq!(
                decision,
                AfterInvoke::Discard {
                    from: 0,
                    condition: Condition::RetryAttemptsExhausted,
                    function_error: Some("Unhandled"),
                    invoke_count: max + 1,
                }
            );
        }
    }

    #[test]
    fn exhausted_partial_failure_discards_from_the_lowest_failure_with_null_error() {
        let mut p = policy();
        p.report_batch_item_failures = true;
        p.maximum_retry_attempts = Some(0);
        let b = recs(&[0, 0, 0]);
        assert_eq!(
            p.after_invoke(
                &b,
                1,
                Outcome::Returned(BatchResponse::Partial { first_failed: 2 })
            ),
            AfterInvoke::Discard {
                from: 2,
                condition: Condition::RetryAttemptsExhausted,
                function_error: None,
                invoke_count: 1,
            }
        );
        // A malformed item fails the whole batch.
        assert_eq!(
            p.after_invoke(&b, 1, Outcome::Returned(BatchResponse::CompleteFailure)),
            AfterInvoke::Discard {
                from: 0,
                condition: Condition::RetryAttemptsExhausted,
                function_error: None,
                invoke_count: 1,
            }
        );
    }

    #[test]
    fn bisect_splits_without_consuming_retries_down_to_single_records() {
        let mut p = policy();
        p.bisect_batch_on_function_error = true;
        p.maximum_retry_attempts = Some(0);
        let b = recs(&[0, 0, 0, 0, 0]);
        assert_eq!(
            p.after_invoke(&b, 1, Outcome::FunctionError),
            AfterInvoke::Bisect { mid: 2, attempts: 0 }
        );
        assert_eq!(
            p.after_invoke(&b[..1], 1, Outcome::FunctionError),
            AfterInvoke::Discard {
                from: 0,
                condition: Condition::RetryAttemptsExhausted,
                function_error: Some("Unhandled"),
                invoke_count: 1,
            }
        );
        // A partial failure splits at the reported record, never bisects.
        p.report_batch_item_failures = true;
        p.maximum_retry_attempts = None;
        assert!(matches!(
            p.after_invoke(
                &b,
                1,
                Outcome::Returned(BatchResponse::Partial { first_failed: 3 })
            ),
            AfterInvoke::Retry { from: 3, .. }
        ));
    }

    #[test]
    fn retry_delay_doubles_up_to_the_ceiling() {
        let p = policy();
        let delays: Vec<u128> = (1..=7).map(|a| p.retry_delay(a).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1600, 2000, 2000]);
    }

    /// With infinite retries and a maximum age, a failing batch is retried until its records
    /// are too old, then discarded as RecordAgeExceeded (spec §2.5), driven by paused time.
    #[tokio::test(start_paused = true)]
    async fn record_age_ends_infinite_retries() {
        let mut p = policy();
        p.maximum_record_age = Some(Duration::from_secs(60));
        let clock = TokioClock::starting_at(1_000_000);
        let b = recs(&[1_000_000, 1_000_000, 1_005_000]);
        let mut attempts = 0;
        loop {
            match p.before_invoke(&b, attempts, clock.now_ms()) {
                BeforeInvoke::Invoke => {}
                BeforeInvoke::Expire { count, invoke_count } => {
                    assert_eq!(count, 2, "only the two records older than 60 s");
                    assert_eq!(invoke_count, attempts);
                    break;
                }
            }
            attempts += 1;
            match p.after_invoke(&b, attempts, Outcome::FunctionError) {
                AfterInvoke::Retry { delay, .. } => tokio::time::sleep(delay).await,
                other => panic!("unexpected {other:?}"),
            }
        }
        // 100+200+400+800+1600 ms, then 2 s steps until 60 s have passed.
        assert!(attempts > 5 && attempts < 40, "{attempts} attempts");
        assert!(clock.now_ms() - 1_000_000 > 60_000);
    }

    #[tokio::test(start_paused = true)]
    async fn records_already_too_old_are_expired_before_any_invocation() {
        let mut p = policy();
        p.maximum_record_age = Some(Duration::from_secs(60));
        let clock = TokioClock::starting_at(0);
        tokio::time::advance(Duration::from_secs(120)).await;
        let now = clock.now_ms();
        let b = recs(&[now - 61_000, now - 1_000, now]);
        assert_eq!(
            p.before_invoke(&b, 0, now),
            BeforeInvoke::Expire {
                count: 1,
                invoke_count: 1
            }
        );
        assert_eq!(p.before_invoke(&b[1..], 0, now), BeforeInvoke::Invoke);
    }
}
