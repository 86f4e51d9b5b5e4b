//! The one thread that makes a consumer's GetRecords calls to a plain local endpoint
//! ([`super::local_read`]), and holds a read open there until records arrive, as kinlocal's
//! engine does with its long poll, when the endpoint answers at once.
//!
//! Why a thread of its own: an idle shard is read every 10 ms or so against an endpoint that
//! does not long-poll, and what such a read costs is mostly waking threads up (the reader's
//! timer, the answer arriving, tokio's workers waking each other), not the request. Here the
//! reads of every shard are made by one single-threaded runtime on one shared grid of ticks
//! ([`PollPolicy::next_read`]): an idle consumer wakes about once a tick for all its shards,
//! and the shard readers (on the consumer's runtime) wait, asleep, until a read finds records,
//! fails, or has been held for as long as they asked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::local_read::{LocalEndpoint, LocalReads, Page, ReadError};
use super::poll::{PollPolicy, ReadOutcome};

/// One reader's GetRecords, held open for at most `wait`.
struct Job {
    iterator: String,
    limit: i32,
    wait: Option<Duration>,
    reply: oneshot::Sender<Result<Page, ReadError>>,
}

/// A consumer's handle on its read thread (cloned into every shard reader); the thread ends
/// once every handle is dropped.
#[derive(Clone)]
pub(crate) struct ReadPump {
    jobs: mpsc::UnboundedSender<Job>,
}

impl ReadPump {
    /// Starts the thread reading `endpoint`, pacing empty reads by `policy`.
    pub(crate) fn start(endpoint: LocalEndpoint, policy: PollPolicy) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (jobs, queue) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("kinlocal-reads".into())
            .spawn(move || runtime.block_on(serve(endpoint, policy, queue)))?;
        Ok(Self { jobs })
    }

    /// GetRecords from `iterator`, held open for at most `wait`: the first answer with records,
    /// behind the tip, at the shard's end or with an error; else the last empty one once `wait`
    /// has passed. Dropping the future abandons the read.
    pub(crate) async fn get_records(
        &self,
        iterator: String,
        limit: i32,
        wait: Option<Duration>,
    ) -> Result<Page, ReadError> {
        let gone = || ReadError::Transport("kinlocal's read thread has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                iterator,
                limit,
                wait,
                reply,
            })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The thread's loop: each job in its own task, connections reused between jobs.
async fn serve(endpoint: LocalEndpoint, policy: PollPolicy, mut queue: mpsc::UnboundedReceiver<Job>) {
    let idle: Arc<Mutex<Vec<LocalReads>>> = Arc::default();
    while let Some(job) = queue.recv().await {
        let reads = idle
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_else(|| LocalReads::new(endpoint.clone()));
        let idle = Arc::clone(&idle);
        tokio::spawn(async move {
            let Job {
                iterator,
                limit,
                wait,
                mut reply,
            } = job;
            let mut reads = reads;
            let result = tokio::select! {
                r = hold(&mut reads, policy, iterator, limit, wait) => r,
                // The reader stopped waiting (a stop, a lost lease): so does the read.
                () = reply.closed() => return,
            };
            if let Ok(mut v) = idle.lock() {
                v.push(reads);
            }
            let _ = reply.send(result);
        });
    }
}

/// Reads from `iterator` on the policy's grid until a read is worth returning or `wait` has
/// passed (one read when `wait` is `None`). The long-poll hint goes with each read, so
/// kinlocal's engine holds it itself and this loop turns once.
async fn hold(
    reads: &mut LocalReads,
    policy: PollPolicy,
    mut iterator: String,
    limit: i32,
    wait: Option<Duration>,
) -> Result<Page, ReadError> {
    let deadline = Instant::now() + wait.unwrap_or_default();
    loop {
        let started = Instant::now();
        let left = deadline.saturating_duration_since(started);
        let page = reads
            .get_records(&iterator, limit, (!left.is_zero()).then_some(left))
            .await?;
        let next = policy.next_read(started, ReadOutcome::Empty);
        // Less than an interval left (or the endpoint held the read itself): answer now.
        let worth_returning = !page.records.is_empty()
            || page.millis_behind_latest.unwrap_or(0) > 0
            || page.next_shard_iterator.is_none()
            || Instant::now() + policy.interval() >= deadline;
        match &page.next_shard_iterator {
            Some(it) if !worth_returning && next < deadline => iterator = it.clone(),
            _ => return Ok(page),
        }
        tokio::time::sleep_until(next).await;
    }
}
