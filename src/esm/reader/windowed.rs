//! Tumbling windows in the shard reader (`--tumbling-window`): what goes next (a batch of one
//! window, or a window's final invocation, as [`ShardWindows`] decides), and the checkpoint
//! held back until the window's final invocation succeeds (the state lives in memory: a
//! restart must read the window again from its first record to rebuild it).

use super::{
    Checkpoint, Delivery, EsmError, PendingBatch, SequenceNumber, ShardEvent, ShardReader, ShardWindows,
};
use crate::esm::window::{Step, WindowCall};

/// What the read loop does next with a windowed shard.
pub(super) enum WindowPlan {
    /// No tumbling window: the batcher alone decides.
    Off,
    /// The open window's final invocation is due.
    Final(WindowCall),
    /// A batch of at most `take` records, all of `call`'s window.
    Batch {
        /// The window part of the invocations.
        call: WindowCall,
        /// Records of the window at the head of the buffer.
        take: usize,
    },
    /// Nothing yet (the batching window is open, or the window's end has not been read past).
    Wait,
}

/// Payload bytes to keep free for the envelope around the records (the state is sent whole).
pub(super) fn envelope_bytes(call: Option<&WindowCall>) -> usize {
    call.map_or(0, |c| {
        serde_json::to_vec(&c.state).map_or(0, |v| v.len()) + 256 + c.event_source_arn.len()
    })
}

impl ShardReader {
    fn window_call(&self, step: Step) -> Option<(WindowCall, usize)> {
        let call = |window, state, is_final, terminated_early| WindowCall {
            window,
            state,
            event_source_arn: self.mapping.stream_arn.clone(),
            is_final,
            terminated_early,
            closed: false,
        };
        match step {
            Step::Final {
                window,
                state,
                terminated_early,
            } => Some((call(window, state, true, terminated_early), 0)),
            Step::Batch { window, take, state } => Some((call(window, state, false, false), take)),
            Step::Wait => None,
        }
    }

    /// What comes next; `ready` says whether the batcher would send a batch now.
    pub(super) fn window_plan(&self, ready: bool) -> WindowPlan {
        let Some(windows) = &self.windows else {
            return WindowPlan::Off;
        };
        let step = windows.next(
            self.batcher.arrivals(),
            self.mapping.clock.now_ms(),
            self.read_up_to_ms,
        );
        match self.window_call(step) {
            Some((call, _)) if call.is_final => WindowPlan::Final(call),
            // A batch that cannot grow (a later window's records wait behind it) goes at once.
            Some((call, take)) if ready || take < self.batcher.len() => WindowPlan::Batch { call, take },
            _ => WindowPlan::Wait,
        }
    }

    /// The final invocation of a window still open when the shard ended.
    pub(super) fn window_at_shard_end(&self) -> Option<WindowCall> {
        let step = self.windows.as_ref()?.shard_ended()?;
        self.window_call(step).map(|(call, _)| call)
    }

    /// Whether a window is open: records delivered in it wait for its final invocation to be
    /// checkpointed.
    pub(super) fn window_open(&self) -> bool {
        self.windows.as_ref().is_some_and(|w| w.open_window().is_some())
    }

    /// Records up to `upto` are done (delivered or discarded): checkpointed now, or, with
    /// tumbling windows, once their window's final invocation succeeds.
    pub(super) async fn settle(&mut self, upto: SequenceNumber) -> Result<(), EsmError> {
        if self.windows.is_some() {
            self.window_last = Some(upto);
            return Ok(());
        }
        self.checkpoint(Checkpoint::After(upto)).await
    }

    /// A windowed batch is done: its window keeps the state the function returned last.
    pub(super) fn window_batch_done(&mut self, pending: &PendingBatch) {
        let (Some(windows), Some(call)) = (self.windows.as_mut(), pending.window()) else {
            return;
        };
        if !call.is_final {
            windows.batch_succeeded(call.window, call.state.clone(), self.window_last.take());
        }
    }

    /// Sends a window's final invocation (retried like any batch). Once it succeeds, or its
    /// retries run out, the window closes: its state is dropped and the shard is
    /// checkpointed after the window's last record.
    pub(super) async fn deliver_final(&mut self, call: WindowCall) -> Result<Delivery, EsmError> {
        let what = call.describe();
        let mut pending = PendingBatch::windowed(Vec::new(), call);
        if let Delivery::Abandoned = self.deliver(&mut pending).await? {
            return Ok(Delivery::Abandoned);
        }
        if !pending.window().is_some_and(|c| c.closed) {
            self.mapping.reporter.note(&format!(
                "{}: {what} invocation failed and its retries ran out; the window is closed without it",
                self.shard_id
            ));
        }
        if let Some(seq) = self.windows.as_mut().and_then(ShardWindows::final_succeeded) {
            self.checkpoint(Checkpoint::After(seq)).await?;
        }
        self.send(ShardEvent::Delivered {
            shard_id: self.shard_id.clone(),
            records: 0,
        });
        Ok(Delivery::Finished)
    }
}
