//! The one thread that makes a consumer's GetRecords calls to a plain local endpoint
//! ([`super::local_read`]), and holds a read open until records arrive when the endpoint does
//! not do so itself.
//!
//! Why a thread of its own: an idle shard is read every 15 ms or so against an endpoint that
//! does not long-poll, and what such a read costs is mostly waking threads up (the reader's
//! timer, the answer arriving, tokio's workers waking each other), not the request. Here one
//! single-threaded runtime makes every read, and the shard readers (on the consumer's runtime)
//! wait, asleep, until a read finds records, fails, or has been held for as long as they asked.
//! kinlocal's engine holds a read itself (its answer says so): each read there is one request
//! on a connection of its own. Once an endpoint has answered a read at once, the reads go to
//! the [`Sweeper`], which holds them on one shared grid of ticks ([`PollPolicy::next_read`]),
//! all shards in one pipelined write per tick.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::local_read::{LocalEndpoint, LocalReads, Page, ReadError};
use super::poll::PollPolicy;
use super::read_sweep::Sweeper;

/// One reader's GetRecords, held open for at most `wait`.
pub(super) struct Job {
    pub(super) iterator: String,
    pub(super) limit: i32,
    pub(super) wait: Option<Duration>,
    pub(super) reply: oneshot::Sender<Result<Page, ReadError>>,
}

/// A consumer's handle on its read thread (cloned into every shard reader); the thread ends
/// once every handle is dropped.
#[derive(Clone)]
pub(crate) struct ReadPump {
    jobs: mpsc::UnboundedSender<Job>,
    /// Jobs for the [`Sweeper`]'s thread, once the endpoint is known to answer at once.
    sweeps: std::sync::mpsc::Sender<Job>,
    answers_at_once: Arc<AtomicBool>,
}

impl ReadPump {
    /// Starts the thread reading `endpoint`, pacing empty reads by `policy`.
    pub(crate) fn start(endpoint: LocalEndpoint, policy: PollPolicy) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let (sweeps, sweep_queue) = std::sync::mpsc::channel();
        let answers_at_once = Arc::new(AtomicBool::new(false));
        let sweeper = Sweeper::new(endpoint.clone(), policy.for_sweeps());
        std::thread::Builder::new()
            .name("kinlocal-sweeps".into())
            .spawn(move || sweeper.run(sweep_queue))?;
        let flag = Arc::clone(&answers_at_once);
        std::thread::Builder::new()
            .name("kinlocal-reads".into())
            .spawn(move || runtime.block_on(serve(endpoint, flag, queue)))?;
        Ok(Self {
            jobs,
            sweeps,
            answers_at_once,
        })
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
        let job = Job {
            iterator,
            limit,
            wait,
            reply,
        };
        if self.answers_at_once.load(Ordering::Relaxed) {
            self.sweeps.send(job).map_err(|_| gone())?;
        } else {
            self.jobs.send(job).map_err(|_| gone())?;
        }
        answer.await.map_err(|_| gone())?
    }
}

/// The read thread's loop: each job in its own task (connections reused between jobs), its
/// long-poll hint sent along. An answer without the engine's word that it held the read sets
/// `answers_at_once`: the jobs that follow go to the sweeps.
async fn serve(
    endpoint: LocalEndpoint,
    answers_at_once: Arc<AtomicBool>,
    mut queue: mpsc::UnboundedReceiver<Job>,
) {
    let idle: Arc<Mutex<Vec<LocalReads>>> = Arc::default();
    while let Some(job) = queue.recv().await {
        let reads = idle
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_else(|| LocalReads::new(endpoint.clone()));
        let idle = Arc::clone(&idle);
        let answers_at_once = Arc::clone(&answers_at_once);
        tokio::spawn(async move {
            let Job {
                iterator,
                limit,
                wait,
                mut reply,
            } = job;
            let mut reads = reads;
            // Held by kinlocal's engine; answered at once by other endpoints, whose reads the
            // sweeps hold from then on.
            let result = tokio::select! {
                r = reads.get_records(&iterator, limit, wait) => r,
                // The reader stopped waiting (a stop, a lost lease): so does the read.
                () = reply.closed() => return,
            };
            if reads.long_polls() == Some(false) {
                answers_at_once.store(true, Ordering::Relaxed);
            }
            if let Ok(mut v) = idle.lock() {
                v.push(reads);
            }
            let _ = reply.send(result);
        });
    }
}
