//! When a shard reader calls GetRecords next (the poll policy): pure, tested with paused time.
//!
//! Against AWS a shard serves 5 GetRecords per second, shared by all its consumers, so two
//! reads of one shard never start less than [`AWS_MIN_GAP`] apart, whatever they returned;
//! an idle shard is read every `--poll-interval` (200 ms by default, never less).
//!
//! A local endpoint has no such limit, and what matters there is how soon a new record reaches
//! the handler: a read that found records is followed at once by the next, and after an empty
//! read the next starts [`LOCAL_INTERVAL`] after the previous one started. Local reads also
//! carry kinlocal's long-poll hint ([`crate::engine::http::WAIT_HEADER`]): the embedded engine
//! holds an empty read open until a record arrives on the shard or the hint runs out, so an
//! idle consumer makes a couple of reads per second per shard, not a hundred, and a new record
//! is read the moment it is stored. Other local endpoints (the containers of `up --docker`)
//! ignore the header and answer at once; the interval then paces the reads. Since intervals
//! are measured from the start of a read, a read that was held open for longer than the
//! interval is followed at once.
//!
//! Locally, the empty reads of all shards fall on one shared grid of ticks `interval` apart:
//! each is the first tick at least half an interval after the previous read started (so a
//! timer that fires a little late does not skip a tick). An idle consumer then wakes once per
//! tick for all its shards instead of once per shard at scattered times: against an endpoint
//! that answers at once, a wake-up, not the read itself, is most of what an idle read costs.

use std::time::Duration;

use tokio::time::Instant;

/// AWS's 5 GetRecords per second per shard, as the least time between two reads' starts.
pub(crate) const AWS_MIN_GAP: Duration = Duration::from_millis(200);
/// The default interval between empty reads against AWS.
pub(crate) const AWS_INTERVAL: Duration = AWS_MIN_GAP;
/// The default interval between empty reads against a local endpoint (p50 put → handler start
/// about half of it plus a few milliseconds when the endpoint does not long-poll).
pub(crate) const LOCAL_INTERVAL: Duration = Duration::from_millis(10);
/// The default interval between the reads the consumer holds open itself, against a local
/// endpoint that answers at once (BENCHMARKS.md: about 1.5 % of a core for an idle consumer of
/// 4 shards, p50 about 10 ms; at 10 ms 1.5–2.4 %, too close to the 2 % aimed at).
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_millis(15);
/// How long a local endpoint may hold an empty read open waiting for a record.
pub(crate) const LONG_POLL: Duration = Duration::from_millis(500);
/// The first pause after a failed read; doubled for each further failure in a row.
const RETRY_BASE: Duration = Duration::from_millis(100);
/// The longest pause after failed reads.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What a read found, as far as pacing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// Records, or the shard is behind its tip: read again as soon as allowed.
    Backlog,
    /// Nothing new.
    Empty,
}

/// How one consumer paces its reads of each shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// Least time from the start of an empty read to the start of the next.
    interval: Duration,
    /// Least time between the starts of any two reads of one shard.
    min_gap: Duration,
    /// The long-poll hint sent with each read (`None`: never sent).
    long_poll: Option<Duration>,
    /// Whether `interval` is the user's `--poll-interval`.
    explicit: bool,
    /// Where the grid of local idle reads starts (every tick is `interval` after the last).
    epoch: Instant,
}

impl PollPolicy {
    /// Against a local endpoint: `interval` (`--poll-interval`) or [`LOCAL_INTERVAL`] between
    /// empty reads, no gap after a read that found records, long polls.
    pub fn local(interval: Option<Duration>) -> Self {
        Self {
            interval: interval.unwrap_or(LOCAL_INTERVAL),
            min_gap: Duration::ZERO,
            long_poll: Some(LONG_POLL),
            explicit: interval.is_some(),
            epoch: Instant::now(),
        }
    }

    /// Against AWS: `interval` or [`AWS_INTERVAL`] between empty reads, and never two reads of
    /// a shard within [`AWS_MIN_GAP`] (a shorter `--poll-interval` is raised to it).
    pub fn aws(interval: Option<Duration>) -> Self {
        Self {
            interval: interval.unwrap_or(AWS_INTERVAL).max(AWS_MIN_GAP),
            min_gap: AWS_MIN_GAP,
            long_poll: None,
            explicit: interval.is_some(),
            epoch: Instant::now(),
        }
    }

    /// The interval between empty reads.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How the sweeps pace the reads they hold open (an endpoint that answers at once): on
    /// the same grid, [`SWEEP_INTERVAL`] apart unless the user gave `--poll-interval`.
    pub(crate) fn for_sweeps(&self) -> Self {
        if self.explicit || !self.min_gap.is_zero() {
            *self
        } else {
            Self {
                interval: SWEEP_INTERVAL,
                ..*self
            }
        }
    }

    /// The first retry delay of a failing batch: the user's `--poll-interval` (at least 10 ms)
    /// when given, else 200 ms, so that the short local default does not hasten retries.
    pub(crate) fn function_retry_base(&self) -> Duration {
        if self.explicit {
            self.interval.max(Duration::from_millis(10))
        } else {
            AWS_INTERVAL
        }
    }

    /// The long-poll hint to send with a read, at most `cap` (the time until a batching window
    /// closes); `None` when none is to be sent.
    pub(crate) fn long_poll(&self, cap: Duration) -> Option<Duration> {
        self.long_poll.map(|d| d.min(cap)).filter(|d| !d.is_zero())
    }

    /// When the next read of a shard may start, given when the last one started and what it
    /// found.
    pub(crate) fn next_read(&self, started: Instant, outcome: ReadOutcome) -> Instant {
        match outcome {
            ReadOutcome::Backlog => started + self.min_gap,
            // Against AWS the spacing is exact (the grid's tolerance could bring two reads
            // closer than AWS_MIN_GAP).
            ReadOutcome::Empty if !self.min_gap.is_zero() || self.interval.is_zero() => {
                started + self.interval.max(self.min_gap)
            }
            ReadOutcome::Empty => self.tick_at_or_after(started + self.interval / 2),
        }
    }

    /// The first tick of the grid of idle reads at or after `t`.
    fn tick_at_or_after(&self, t: Instant) -> Instant {
        let since = t.saturating_duration_since(self.epoch).as_nanos();
        let step = self.interval.as_nanos().max(1);
        let ticks = since.div_ceil(step);
        u64::try_from(ticks * step)
            .map(|ns| self.epoch + Duration::from_nanos(ns))
            .unwrap_or(t)
    }

    /// The pause after `failures` failed reads in a row (throttling, a network error): doubling
    /// from 100 ms (or the interval, if longer) up to 5 s.
    pub(crate) fn retry_after(&self, failures: u32) -> Duration {
        let base = RETRY_BASE.max(self.interval).max(self.min_gap);
        let exp = failures.saturating_sub(1).min(16);
        base.saturating_mul(1 << exp).min(RETRY_MAX.max(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// Drives `reads` reads of one shard through the policy on a paused clock, each taking
    /// `takes` and finding what `outcome(i)` says; returns the start time of each read.
    async fn schedule(
        policy: PollPolicy,
        reads: usize,
        takes: Duration,
        outcome: impl Fn(usize) -> ReadOutcome,
    ) -> Vec<Instant> {
        let mut starts = Vec::new();
        let mut next = Instant::now();
        for i in 0..reads {
            tokio::time::sleep_until(next).await;
            let started = Instant::now();
            starts.push(started);
            tokio::time::sleep(takes).await;
            next = policy.next_read(started, outcome(i));
        }
        starts
    }

    /// The most reads that started within any one second.
    fn max_per_second(starts: &[Instant]) -> usize {
        (0..starts.len())
            .map(|i| {
                starts[i..]
                    .iter()
                    .take_while(|t| t.duration_since(starts[i]) < Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn local_reads_follow_at_once_after_records_and_every_10ms_when_idle() {
        let p = PollPolicy::local(None);
        let t0 = Instant::now();
        let starts = schedule(p, 6, MS(1), |i| {
            if i < 3 {
                ReadOutcome::Backlog
            } else {
                ReadOutcome::Empty
            }
        })
        .await;
        let at: Vec<u64> = starts
            .iter()
            .map(|t| t.duration_since(t0).as_millis() as u64)
            .collect();
        // Three reads with records back to back (each takes 1 ms), then empty reads on the
        // 10 ms grid: the first tick at least 5 ms after the last read started.
        assert_eq!(at, vec![0, 1, 2, 3, 10, 20]);
        assert_eq!(p.long_poll(Duration::MAX), Some(LONG_POLL));
        assert_eq!(p.long_poll(MS(40)), Some(MS(40)), "held no longer than a window");
        assert_eq!(p.long_poll(Duration::ZERO), None);
    }

    #[test]
    fn sweeps_read_every_15ms_unless_told_otherwise() {
        assert_eq!(PollPolicy::local(None).for_sweeps().interval(), SWEEP_INTERVAL);
        assert_eq!(PollPolicy::local(Some(MS(40))).for_sweeps().interval(), MS(40));
        assert_eq!(PollPolicy::aws(None).for_sweeps().interval(), AWS_INTERVAL);
        let p = PollPolicy::local(None).for_sweeps();
        // Still one grid from the same start: ticks 15 ms apart.
        let t0 = p.epoch;
        assert_eq!(p.next_read(t0 + MS(1), ReadOutcome::Empty), t0 + MS(15));
        assert_eq!(p.next_read(t0 + MS(16), ReadOutcome::Empty), t0 + MS(30));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_shards_are_read_on_the_same_ticks() {
        let p = PollPolicy::local(None);
        let t0 = Instant::now();
        // Four shards whose last reads started at scattered times (and one late timer).
        let ticks: Vec<u64> = [MS(0), MS(3), MS(7), MS(9) + Duration::from_micros(900)]
            .iter()
            .map(|offset| {
                let next = p.next_read(t0 + *offset, ReadOutcome::Empty);
                next.duration_since(t0).as_micros() as u64
            })
            .collect();
        // All on the grid: the wake-ups of all shards are shared.
        assert_eq!(ticks, vec![10_000, 10_000, 20_000, 20_000]);
        // A timer that fired late does not skip a tick; none is read twice within half an
        // interval.
        let late = p.next_read(t0 + MS(10) + Duration::from_micros(800), ReadOutcome::Empty);
        assert_eq!(late - t0, MS(20));
        let early = p.next_read(t0 + MS(16), ReadOutcome::Empty);
        assert_eq!(early - t0, MS(30));
        // Against AWS the interval is kept exactly.
        let aws = PollPolicy::aws(None);
        let at = Instant::now() + MS(3);
        assert_eq!(aws.next_read(at, ReadOutcome::Empty) - at, MS(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_held_open_by_a_long_poll_is_followed_at_once() {
        let p = PollPolicy::local(None);
        let starts = schedule(p, 3, LONG_POLL, |_| ReadOutcome::Empty).await;
        assert_eq!(starts[1] - starts[0], LONG_POLL);
        assert_eq!(starts[2] - starts[1], LONG_POLL);
    }

    #[tokio::test(start_paused = true)]
    async fn the_users_interval_overrides_the_local_default() {
        let p = PollPolicy::local(Some(MS(250)));
        assert_eq!(p.interval(), MS(250));
        let starts = schedule(p, 3, MS(2), |_| ReadOutcome::Empty).await;
        assert_eq!(starts[1] - starts[0], MS(250));
    }

    #[tokio::test(start_paused = true)]
    async fn aws_reads_stay_within_five_per_second_per_shard() {
        // Whatever the reads find, however fast they answer, and whatever --poll-interval says.
        for interval in [None, Some(MS(1)), Some(MS(50)), Some(MS(200)), Some(MS(1000))] {
            let p = PollPolicy::aws(interval);
            assert_eq!(p.long_poll(Duration::MAX), None, "AWS never gets kinlocal's hint");
            for takes in [Duration::ZERO, MS(3), MS(120)] {
                let backlog = schedule(p, 40, takes, |_| ReadOutcome::Backlog).await;
                assert!(max_per_second(&backlog) <= 5, "{interval:?} {takes:?}");
                let idle = schedule(p, 40, takes, |_| ReadOutcome::Empty).await;
                assert!(max_per_second(&idle) <= 5, "{interval:?} {takes:?}");
                let mixed = schedule(p, 40, takes, |i| {
                    if i % 3 == 0 {
                        ReadOutcome::Empty
                    } else {
                        ReadOutcome::Backlog
                    }
                })
                .await;
                assert!(max_per_second(&mixed) <= 5, "{interval:?} {takes:?}");
            }
        }
        assert_eq!(PollPolicy::aws(None).interval(), MS(200));
        assert_eq!(PollPolicy::aws(Some(MS(50))).interval(), MS(200));
        assert_eq!(PollPolicy::aws(Some(MS(1000))).interval(), MS(1000));
    }

    #[test]
    fn failed_reads_back_off_doubling_up_to_five_seconds() {
        let p = PollPolicy::local(None);
        let waits: Vec<Duration> = (1..=8).map(|n| p.retry_after(n)).collect();
        assert_eq!(
            waits,
            vec![
                MS(100),
                MS(200),
                MS(400),
                MS(800),
                MS(1600),
                MS(3200),
                MS(5000),
                MS(5000)
            ]
        );
        assert_eq!(PollPolicy::aws(Some(MS(1000))).retry_after(1), MS(1000));
        assert_eq!(p.retry_after(u32::MAX), MS(5000));
    }
}
