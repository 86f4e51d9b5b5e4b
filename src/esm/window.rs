//! Tumbling windows (`TumblingWindowInSeconds`, spec §2.8): which window a record belongs to,
//! the state carried from one invocation of a window to the next, when the final invocation
//! of a window is due, early termination past 1 MB of state, and the envelope fields Lambda
//! adds around `Records`.
//!
//! Pure: time comes in as Unix milliseconds, so the rules are tested without clocks. One
//! [`ShardWindows`] per shard; the reader asks it what to do next ([`ShardWindows::next`]) and
//! tells it how each invocation went.
//!
//! Choices where AWS is silent or terse (README "Tumbling windows"):
//! - Windows are aligned on multiples of their length since the Unix epoch, by arrival time
//!   (AWS's example shows a 120 s window from 07:04:00 to 07:06:00).
//! - The final invocation carries no records, the state of the window, and
//!   `isFinalInvokeForWindow: true`. It is sent once the window's end has passed and the shard
//!   was read up to a time past that end (so no record of the window can still turn up), or as
//!   soon as a record of a later window is next.
//! - A returned state over 1 MB ends the window early: the final invocation is sent at once with
//!   `isWindowTerminatedEarly: true`; later records of the same window start again from `{}`
//!   (as `aws_lambda_events` documents: "subsequent invoke will continue the same window with a
//!   fresh state").
//! - The shard checkpoint moves only after a window's final invocation succeeds: the state lives
//!   in memory, so a restart must re-read the window from its first record to rebuild it.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use super::record::SequenceNumber;

/// Largest state a window may carry (AWS: 1 MB per shard).
pub(crate) const MAX_STATE_BYTES: usize = 1024 * 1024;

/// Why a windowed invocation counts as failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WindowError {
    /// The handler returned nothing usable as a state.
    #[error(
        "with a tumbling window the function must return {{\"state\": {{...}}, \"batchItemFailures\": [...]}}; \
the response has no state"
    )]
    MissingState,
    /// The response is not JSON.
    #[error("with a tumbling window the response must be JSON with a \"state\": {0}")]
    NotJson(String),
}

/// One tumbling window: `[start, end)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    /// Inclusive start.
    pub start_ms: i64,
    /// Exclusive end.
    pub end_ms: i64,
}

impl Window {
    /// The window of `length` holding a record that arrived at `arrival_ms`.
    pub(crate) fn containing(arrival_ms: i64, length: Duration) -> Self {
        let len = i64::try_from(length.as_millis()).unwrap_or(i64::MAX).max(1);
        let start = arrival_ms - arrival_ms.rem_euclid(len);
        Self {
            start_ms: start,
            end_ms: start.saturating_add(len),
        }
    }

    /// Whether a record that arrived at `arrival_ms` belongs here.
    pub fn contains(&self, arrival_ms: i64) -> bool {
        (self.start_ms..self.end_ms).contains(&arrival_ms)
    }
}

/// `2020-12-09T07:04:00Z`: RFC 3339 in UTC, to the second, as in AWS's example (windows are
/// whole seconds long and aligned on whole seconds).
pub fn rfc3339(ms: i64) -> String {
    let t = u64::try_from(ms.max(0))
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// How many leading records (by arrival time, in shard order) share the first one's window: a
/// batch never mixes windows.
pub(crate) fn same_window_prefix(arrivals: impl IntoIterator<Item = i64>, length: Duration) -> usize {
    let mut it = arrivals.into_iter();
    let Some(first) = it.next() else {
        return 0;
    };
    let w = Window::containing(first, length);
    1 + it.take_while(|a| w.contains(*a)).count()
}

/// The fields Lambda adds to a windowed event, alongside `Records`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Envelope<'a> {
    /// The window.
    pub window: Window,
    /// The state returned by the previous invocation of this window (`{}` at its start).
    pub state: &'a Value,
    /// `shardId`.
    pub shard_id: &'a str,
    /// `eventSourceARN`.
    pub event_source_arn: &'a str,
    /// `isFinalInvokeForWindow`.
    pub is_final: bool,
    /// `isWindowTerminatedEarly`.
    pub terminated_early: bool,
}

impl Envelope<'_> {
    /// Adds the window fields to an event built as `{"Records":[...]}`.
    pub(crate) fn wrap(&self, mut event: Vec<u8>) -> Vec<u8> {
        if event.last() == Some(&b'}') {
            event.pop();
        }
        let tail = serde_json::json!({
            "window": {"start": rfc3339(self.window.start_ms), "end": rfc3339(self.window.end_ms)},
            "state": self.state,
            "shardId": self.shard_id,
            "eventSourceARN": self.event_source_arn,
            "isFinalInvokeForWindow": self.is_final,
            "isWindowTerminatedEarly": self.terminated_early,
        });
        let text = tail.to_string();
        // `text` is `{...}`: splice its members after the records.
        event.push(b',');
        event.extend_from_slice(&text.as_bytes()[1..]);
        event
    }
}

/// Reads the state out of a windowed invocation's response: it must be there (and not null),
/// or the invocation failed. The state is passed on unchanged, whatever its shape.
pub(crate) fn returned_state(response: &[u8]) -> Result<Value, WindowError> {
    let v: Value = serde_json::from_slice(response).map_err(|e| WindowError::NotJson(e.to_string()))?;
    match v.get("state") {
        Some(Value::Null) | None => Err(WindowError::MissingState),
        Some(s) => Ok(s.clone()),
    }
}

/// The window part of one invocation: what the runner wraps around `Records`, and what it
/// learns back (the state the function returned, whether a final invocation went through).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WindowCall {
    /// The window.
    pub window: Window,
    /// The state sent; replaced by the returned one once records of the batch succeed.
    pub state: Value,
    /// `eventSourceARN`.
    pub event_source_arn: String,
    /// `isFinalInvokeForWindow` (the invocation carries no records).
    pub is_final: bool,
    /// `isWindowTerminatedEarly`.
    pub terminated_early: bool,
    /// A final invocation that succeeded (the window may close and be checkpointed).
    pub closed: bool,
}

impl WindowCall {
    /// The event for `records_event` (`{"Records":[...]}`) of `shard_id` in this window.
    pub(crate) fn wrap(&self, shard_id: &str, records_event: Vec<u8>) -> Vec<u8> {
        Envelope {
            window: self.window,
            state: &self.state,
            shard_id,
            event_source_arn: &self.event_source_arn,
            is_final: self.is_final,
            terminated_early: self.terminated_early,
        }
        .wrap(records_event)
    }

    /// `window 07:04:00Z-07:06:00Z` (and `final`) for the per-batch line.
    pub fn describe(&self) -> String {
        let time = |ms: i64| {
            let t = rfc3339(ms);
            t.split_once('T').map_or(t.clone(), |(_, hms)| hms.to_string())
        };
        let mut out = format!(
            "window {}-{}",
            time(self.window.start_ms),
            time(self.window.end_ms)
        );
        if self.is_final {
            out.push_str(" final");
        }
        if self.terminated_early {
            out.push_str(", terminated early");
        }
        out
    }
}

/// What the reader does next for a windowed shard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Invoke with records of this window (at most `take` of the buffered ones, fewer if the
    /// batch size or 6 MB cut first), carrying `state`.
    Batch {
        /// The window.
        window: Window,
        /// How many buffered records belong to it.
        take: usize,
        /// The state to send.
        state: Value,
    },
    /// Send the window's final invocation (no records).
    Final {
        /// The window.
        window: Window,
        /// Its state.
        state: Value,
        /// Ended by the state size, not by time.
        terminated_early: bool,
    },
    /// Nothing to do until more records arrive or time passes.
    Wait,
}

#[derive(Debug, Clone)]
struct Open {
    window: Window,
    state: Value,
    /// The last record delivered in this window: the checkpoint once the window closes.
    last: Option<SequenceNumber>,
    /// The state grew past 1 MB: the final invocation is due now.
    terminate_early: bool,
}

/// The window state of one shard.
#[derive(Debug, Clone)]
pub(crate) struct ShardWindows {
    length: Duration,
    open: Option<Open>,
}

impl ShardWindows {
    /// Windows of `length` (1 s–900 s).
    pub fn new(length: Duration) -> Self {
        Self { length, open: None }
    }

    /// The window length.
    pub fn length(&self) -> Duration {
        self.length
    }

    /// What to do next, given the arrival times of the buffered records (in shard order), the
    /// current time, and the time up to which the shard has been read (the start of the last
    /// GetRecords that returned everything there was: no record that arrived before it can
    /// still come).
    pub fn next(
        &self,
        buffered: impl IntoIterator<Item = i64>,
        now_ms: i64,
        read_up_to_ms: Option<i64>,
    ) -> Step {
        let mut buffered = buffered.into_iter().peekable();
        let head = buffered.peek().copied();
        if let Some(open) = &self.open {
            let later_record_next = head.is_some_and(|a| a >= open.window.end_ms);
            let time_passed = head.is_none()
                && now_ms >= open.window.end_ms
                && read_up_to_ms.is_some_and(|r| r >= open.window.end_ms);
            if open.terminate_early || later_record_next || time_passed {
                return Step::Final {
                    window: open.window,
                    state: open.state.clone(),
                    terminated_early: open.terminate_early,
                };
            }
        }
        let Some(first) = head else {
            return Step::Wait;
        };
        let window = Window::containing(first, self.length);
        let state = match &self.open {
            Some(open) if open.window == window => open.state.clone(),
            _ => Value::Object(serde_json::Map::new()),
        };
        Step::Batch {
            window,
            take: same_window_prefix(buffered, self.length),
            state,
        }
    }

    /// A batch of `window` succeeded and returned `state`; `last` is its last record (or the
    /// last record it settled, with a partial response).
    pub(crate) fn batch_succeeded(&mut self, window: Window, state: Value, last: Option<SequenceNumber>) {
        let too_big = serde_json::to_vec(&state).map_or(0, |v| v.len()) > MAX_STATE_BYTES;
        let open = match self.open.take() {
            Some(mut o) if o.window == window => {
                o.state = state;
                o.last = last.or(o.last);
                o
            }
            _ => Open {
                window,
                state,
                last,
                terminate_early: false,
            },
        };
        self.open = Some(Open {
            terminate_early: too_big,
            ..open
        });
    }

    /// The final invocation of the open window succeeded: its state is dropped. Returns the
    /// sequence number the shard may now be checkpointed at (the window's last record).
    pub(crate) fn final_succeeded(&mut self) -> Option<SequenceNumber> {
        self.open.take().and_then(|o| o.last)
    }

    /// The window still open, if any.
    pub(crate) fn open_window(&self) -> Option<Window> {
        self.open.as_ref().map(|o| o.window)
    }

    /// The shard ended: a window still open gets its final invocation (children start fresh).
    pub(crate) fn shard_ended(&self) -> Option<Step> {
        self.open.as_ref().map(|o| Step::Final {
            window: o.window,
            state: o.state.clone(),
            terminated_early: o.terminate_early,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MIN: Duration = Duration::from_secs(120);
    /// 2020-12-09T07:04:00Z, the start of AWS's example window.
    const T0: i64 = 1_607_497_440_000;

    fn seq(n: u64) -> Option<SequenceNumber> {
        Some(SequenceNumber::new(format!("{}", 1000 + n)))
    }

    #[test]
    fn windows_are_aligned_on_their_length() {
        let w = Window::containing(T0 + 35_000, MIN);
        assert_eq!((w.start_ms, w.end_ms), (T0, T0 + 120_000));
        assert_eq!(rfc3339(w.start_ms), "2020-12-09T07:04:00Z");
        assert_eq!(rfc3339(w.end_ms), "2020-12-09T07:06:00Z");
        assert!(w.contains(T0) && !w.contains(T0 + 120_000), "[start, end)");
        assert_eq!(Window::containing(T0 + 120_000, MIN).start_ms, T0 + 120_000);
        let one = Window::containing(1_999, Duration::from_secs(1));
        assert_eq!((one.start_ms, one.end_ms), (1_000, 2_000));
    }

    #[test]
    fn batches_never_mix_windows() {
        let arrivals = [T0 + 1, T0 + 50_000, T0 + 119_999, T0 + 120_000, T0 + 120_001];
        assert_eq!(same_window_prefix(arrivals, MIN), 3);
        assert_eq!(same_window_prefix(arrivals[3..].iter().copied(), MIN), 2);
        assert_eq!(same_window_prefix([], MIN), 0);
    }

    #[test]
    fn state_starts_empty_and_is_carried_within_a_window() {
        let mut w = ShardWindows::new(MIN);
        let Step::Batch { window, take, state } = w.next([T0 + 5, T0 + 6], T0 + 10, None) else {
            panic!("expected a batch");
        };
        assert_eq!((take, state), (2, json!({})));
        w.batch_succeeded(window, json!({"count": 2}), seq(2));
        assert_eq!(
            w.next([], T0 + 20, Some(T0 + 20)),
            Step::Wait,
            "window still open"
        );
        let Step::Batch { state, .. } = w.next([T0 + 30], T0 + 31, None) else {
            panic!("expected a batch");
        };
        assert_eq!(state, json!({"count": 2}));
    }

    #[test]
    fn final_invoke_once_the_end_has_passed_and_the_shard_was_read_past_it() {
        let mut w = ShardWindows::new(MIN);
        let window = Window::containing(T0 + 5, MIN);
        w.batch_succeeded(window, json!({"n": "1"}), seq(1));
        let end = T0 + 120_000;
        assert_eq!(w.next([], end - 1, Some(end - 1)), Step::Wait);
        assert_eq!(
            w.next([], end + 5, Some(end - 1)),
            Step::Wait,
            "not read past the end yet"
        );
        let expected = Step::Final {
            window,
            state: json!({"n": "1"}),
            terminated_early: false,
        };
        assert_eq!(w.next([], end + 5, Some(end)), expected);
        assert_eq!(
            w.final_succeeded(),
            seq(1),
            "the checkpoint moves after the final invoke"
        );
        assert_eq!(w.next([], end + 10, Some(end + 10)), Step::Wait, "sent once");
        assert_eq!(w.open_window(), None);
    }

    #[test]
    fn a_record_of_a_later_window_closes_the_open_one_first() {
        let mut w = ShardWindows::new(MIN);
        let first = Window::containing(T0, MIN);
        w.batch_succeeded(first, json!({"a": 1}), seq(1));
        let later = [T0 + 130_000];
        assert!(matches!(w.next(later, T0 + 130_001, None), Step::Final { window, .. } if window == first));
        w.final_succeeded();
        let Step::Batch { window, state, .. } = w.next(later, T0 + 130_001, None) else {
            panic!("expected a batch");
        };
        assert_eq!(window.start_ms, T0 + 120_000);
        assert_eq!(state, json!({}), "a new window starts with a fresh state");
    }

    #[test]
    fn state_over_one_megabyte_terminates_the_window_early() {
        let mut w = ShardWindows::new(MIN);
        let window = Window::containing(T0, MIN);
        let big = json!({"blob": "x".repeat(MAX_STATE_BYTES)});
        w.batch_succeeded(window, big.clone(), seq(1));
        let Step::Final {
            terminated_early,
            state,
            ..
        } = w.next([T0 + 10], T0 + 11, None)
        else {
            panic!("expected the final invoke at once");
        };
        assert!(terminated_early);
        assert_eq!(state, big);
        w.final_succeeded();
        let Step::Batch {
            window: again, state, ..
        } = w.next([T0 + 10], T0 + 11, None)
        else {
            panic!("expected a batch");
        };
        assert_eq!(again, window, "the same window continues");
        assert_eq!(state, json!({}), "with a fresh state");
        // Exactly at the limit is fine.
        let mut ok = ShardWindows::new(MIN);
        let at_limit = json!("y".repeat(MAX_STATE_BYTES - 2));
        ok.batch_succeeded(window, at_limit, seq(1));
        assert_eq!(ok.next([], T0 + 1, None), Step::Wait);
    }

    #[test]
    fn shard_end_closes_the_open_window() {
        let mut w = ShardWindows::new(MIN);
        assert_eq!(w.shard_ended(), None);
        w.batch_succeeded(Window::containing(T0, MIN), json!({}), seq(1));
        assert!(matches!(w.shard_ended(), Some(Step::Final { .. })));
    }

    #[test]
    fn the_response_must_carry_a_state() {
        assert_eq!(
            returned_state(br#"{"state": {"a": "1"}, "batchItemFailures": []}"#),
            Ok(json!({"a": "1"}))
        );
        assert_eq!(
            returned_state(br#"{"state": {"1": 282}}"#),
            Ok(json!({"1": 282})),
            "passed through unchanged"
        );
        assert_eq!(
            returned_state(br#"{"batchItemFailures": []}"#),
            Err(WindowError::MissingState)
        );
        assert_eq!(
            returned_state(br#"{"state": null}"#),
            Err(WindowError::MissingState)
        );
        assert!(matches!(returned_state(b"ok"), Err(WindowError::NotJson(_))));
    }

    #[test]
    fn envelope_has_aws_field_names_and_deserializes_into_aws_lambda_events() {
        let records = br#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1607497475.0},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-kinesis-role","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream"}]}"#;
        let state = json!({"1": "282", "2": "715"});
        let env = Envelope {
            window: Window::containing(T0 + 1, MIN),
            state: &state,
            shard_id: "shardId-000000000006",
            event_source_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
            is_final: false,
            terminated_early: false,
        };
        let event = env.wrap(records.to_vec());
        let v: Value = serde_json::from_slice(&event).expect("valid JSON");
        assert_eq!(
            v["window"],
            json!({"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"})
        );
        assert_eq!(v["state"], state);
        assert_eq!(v["shardId"], "shardId-000000000006");
        assert_eq!(v["isFinalInvokeForWindow"], false);
        assert_eq!(v["isWindowTerminatedEarly"], false);
        assert_eq!(v["Records"].as_array().map(Vec::len), Some(1));
        let typed: aws_lambda_events::event::kinesis::KinesisTimeWindowEvent =
            serde_json::from_slice(&event).expect("aws_lambda_events accepts it");
        assert_eq!(typed.kinesis_event.records.len(), 1);
        let props = typed.time_window_properties;
        assert_eq!(props.state.get("2").map(String::as_str), Some("715"));
        assert_eq!(props.shard_id.as_deref(), Some("shardId-000000000006"));
        assert_eq!(props.window.start.to_rfc3339(), "2020-12-09T07:04:00+00:00");
        assert!(!props.is_final_invoke_for_window);

        let empty = json!({});
        let last = Envelope {
            state: &empty,
            is_final: true,
            terminated_early: true,
            ..env
        }
        .wrap(br#"{"Records":[]}"#.to_vec());
        let typed: aws_lambda_events::event::kinesis::KinesisTimeWindowEvent =
            serde_json::from_slice(&last).expect("final invoke deserializes");
        assert!(typed.kinesis_event.records.is_empty());
        assert!(typed.time_window_properties.is_final_invoke_for_window);
        assert!(typed.time_window_properties.is_window_terminated_early);
    }
}
