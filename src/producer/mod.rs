//! `kinlocal produce`: generate records (random events, a template, or a replayed file) and
//! send them with PutRecords.
//!
//! The shape of a run:
//! - one generator thread makes records **in order** from one RNG (so `--seed` reproduces the
//!   records and partition keys whatever the send concurrency), paces them for `--rate`, cuts
//!   them into batches and hands the batches over a bounded channel (backpressure);
//! - the async side keeps up to `max_in_flight` PutRecords requests going ([`sender`]), each
//!   resending only its failed entries until acknowledged;
//! - Ctrl+C (the `shutdown` future) stops generating, lets the in-flight batches finish and
//!   returns the summary.
//!
//! With a fixed or `field:` partition key a single request is in flight and a request never
//! holds one key twice, so records of one key arrive in the order they were generated, even
//! when throttled records are resent.

pub mod clock;
pub mod generate;
pub mod partition;
pub mod progress;
pub mod rate;
pub mod replay;
pub mod sender;
pub mod stats;
pub mod summary;
pub mod template;

use std::future::Future;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::streams::{self, Capacity, ShardRange, StreamShape, StreamsError};
use clock::EventClock;
use generate::EventGenerator;
use partition::{KeyChooser, KeyError, KeySpec};
use replay::{Replay, ReplayError, ReplayRecord, MAX_RECORD_BYTES};
use sender::{Backoff, Batch, BatchBuilder, PutRecordsApi, SendError};
use stats::Stats;
use summary::Summary;
use template::Template;

/// Where records come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Random application events of this many bytes.
    Events {
        /// Record size in bytes.
        record_size: usize,
    },
    /// A parsed `--template`.
    Template(Template),
    /// Newline-delimited JSON from a file.
    File(PathBuf),
    /// Newline-delimited JSON from stdin.
    Stdin,
}

/// Everything a run needs besides the endpoint.
#[derive(Debug, Clone)]
pub struct ProduceConfig {
    /// Stream name.
    pub stream: String,
    /// Record source.
    pub source: Source,
    /// Stop after this many records.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Records per second.
    pub rate: Option<f64>,
    /// Records per PutRecords request (1–500).
    pub batch_size: usize,
    /// Requests in flight (forced to 1 when per-key order matters).
    pub max_in_flight: usize,
    /// Partition key strategy.
    pub partition_key: KeySpec,
    /// RNG seed.
    pub seed: Option<u64>,
    /// Resend policy.
    pub backoff: Backoff,
}

impl ProduceConfig {
    /// Defaults for `stream`: random 200-byte events, random keys, 500 per batch, 4 in flight,
    /// until stopped.
    pub fn new(stream: &str) -> Self {
        Self {
            stream: stream.to_string(),
            source: Source::Events { record_size: 200 },
            count: None,
            duration: None,
            rate: None,
            batch_size: sender::MAX_BATCH_RECORDS,
            max_in_flight: 4,
            partition_key: KeySpec::Random,
            seed: None,
            backoff: Backoff::default(),
        }
    }
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    /// Stream set-up failed.
    #[error(transparent)]
    Streams(#[from] StreamsError),
    /// The replayed input is invalid.
    #[error("--from {input}: {source}")]
    Replay {
        /// File name or `-`.
        input: String,
        /// What is wrong.
        source: ReplayError,
    },
    /// A record has no usable partition key.
    #[error("{at} {source}")]
    Key {
        /// `record 3` or `line 3`.
        at: String,
        /// What is wrong.
        source: KeyError,
    },
    /// A record is larger than Kinesis takes.
    #[error("{at} is {size} bytes with its partition key; Kinesis takes at most 1 MiB ({MAX_RECORD_BYTES} bytes) per record")]
    TooLarge {
        /// `record 3` or `line 3`.
        at: String,
        /// Data + key bytes.
        size: usize,
    },
    /// Sending failed.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A bug or an impossible state.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ProduceError {
    /// Whether the user must change a flag or its input (exit 2) rather than retry (exit 1).
    pub(crate) fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::Replay {
                source: ReplayError::InvalidJson { .. }
                    | ReplayError::TooLarge { .. }
                    | ReplayError::NotARecord { .. }
                    | ReplayError::BadRecord { .. },
                ..
            } | Self::Key { .. }
                | Self::TooLarge { .. }
        )
    }
}

/// What a run did, and the error that stopped it, if any (the summary is valid either way).
#[derive(Debug)]
pub struct Outcome {
    /// Counters at the end.
    pub summary: Summary,
    /// Why it stopped early.
    pub error: Option<ProduceError>,
}

/// Makes sure the stream exists (creating it with `shards` when given) and is writable;
/// returns its open shards.
pub(crate) async fn prepare(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    shards: Option<u32>,
) -> Result<Vec<ShardRange>, ProduceError> {
    match shards {
        Some(n) => {
            let shape = StreamShape {
                capacity: Capacity::Provisioned { shards: n },
                retention_hours: None,
            };
            streams::ensure_stream(client, stream, &shape, true).await?;
        }
        None => match streams::describe(client, stream).await? {
            None => {
                return Err(StreamsError::NotFound {
                    name: stream.to_string(),
                    hint: format!(": pass --shards N to create it, or run `kinlocal create-stream {stream}`"),
                }
                .into())
            }
            Some(info) if info.status == "CREATING" => {
                streams::wait_active(client, stream, streams::WAIT_TIMEOUT).await?;
            }
            Some(info) if info.status == "DELETING" => {
                return Err(StreamsError::Deleting(stream.to_string()).into())
            }
            Some(_) => {}
        },
    }
    Ok(streams::open_shards(client, stream).await?)
}

/// Runs the producer until the count, the duration or the input is exhausted, or `shutdown`
/// resolves. `shards` come from [`prepare`]; `stats` may be watched while it runs.
pub async fn run<A: PutRecordsApi>(
    api: A,
    config: ProduceConfig,
    shards: Vec<ShardRange>,
    stats: Arc<Stats>,
    shutdown: impl Future<Output = ()>,
) -> Outcome {
    let start = Instant::now();
    // A replay keeps its order: record lines carry their own keys, whatever --partition-key says.
    let ordered =
        config.partition_key.keeps_order() || matches!(config.source, Source::File(_) | Source::Stdin);
    let max_in_flight = if ordered { 1 } else { config.max_in_flight.max(1) };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::channel::<Result<Batch, ProduceError>>(max_in_flight * 2);

    let generator = Generator {
        keys: KeyChooser::new(config.partition_key.clone(), shards),
        config: config.clone(),
        start,
        ordered,
        stop: stop.clone(),
    };
    let spawned = std::thread::Builder::new()
        .name("kinlocal-produce-gen".into())
        .spawn(move || generator.run(&tx));
    // The thread is never joined: it ends when its channel closes, and a thread blocked
    // reading stdin must not hold up Ctrl+C.
    if let Err(e) = spawned {
        return Outcome {
            summary: Summary::new(&config.stream, stats.snapshot(), start.elapsed(), false),
            error: Some(ProduceError::Internal(format!(
                "cannot start generator thread: {e}"
            ))),
        };
    }

    let mut in_flight: JoinSet<Result<(), SendError>> = JoinSet::new();
    let mut error: Option<ProduceError> = None;
    let mut interrupted = false;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => {
                interrupted = true;
                break;
            }
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Some(e) = join_error(done) {
                    error = Some(e);
                    break;
                }
            }
            next = rx.recv(), if in_flight.len() < max_in_flight => match next {
                Some(Ok(batch)) => {
                    let api = api.clone();
                    let stats = stats.clone();
                    let backoff = config.backoff;
                    in_flight.spawn(async move {
                        sender::send_batch(&api, batch, &stats, &backoff).await
                    });
                }
                Some(Err(e)) => {
                    error = Some(e);
                    break;
                }
                None => break,
            },
        }
    }
    // Stop generating; batches still queued were never sent and are not counted.
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    while let Some(done) = in_flight.join_next().await {
        if let Some(e) = join_error(done) {
            error.get_or_insert(e);
        }
    }
    Outcome {
        summary: Summary::new(&config.stream, stats.snapshot(), start.elapsed(), interrupted),
        error,
    }
}

fn join_error(done: Result<Result<(), SendError>, tokio::task::JoinError>) -> Option<ProduceError> {
    match done {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.into()),
        Err(e) => Some(ProduceError::Internal(format!("send task failed: {e}"))),
    }
}

/// The record source as the generator thread holds it.
enum Records {
    Events(EventGenerator),
    Template(Template, EventClock),
    Replay(Replay<Box<dyn BufRead + Send>>, String),
}

impl Records {
    fn open(source: &Source, seeded: bool) -> Result<Self, ProduceError> {
        Ok(match source {
            Source::Events { record_size } => {
                Self::Events(EventGenerator::new(*record_size, EventClock::new(seeded)))
            }
            Source::Template(t) => Self::Template(t.clone(), EventClock::new(seeded)),
            Source::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| ProduceError::Replay {
                    input: path.display().to_string(),
                    source: e.into(),
                })?;
                Self::Replay(
                    Replay::new(Box::new(std::io::BufReader::with_capacity(1 << 16, file))),
                    path.display().to_string(),
                )
            }
            Source::Stdin => Self::Replay(
                Replay::new(Box::new(std::io::BufReader::new(std::io::stdin()))),
                "-".into(),
            ),
        })
    }

    /// The next record: its data, and its own key when the input gives one (record lines).
    fn next(&mut self, rng: &mut StdRng, index: u64) -> Result<Option<ReplayRecord>, ProduceError> {
        let generated = |data| Ok(Some(ReplayRecord { data, key: None }));
        match self {
            Self::Events(g) => generated(g.next(rng)),
            Self::Template(t, clock) => generated(t.render(rng, index, clock)),
            Self::Replay(r, input) => r.next_record().map_err(|source| ProduceError::Replay {
                input: input.clone(),
                source,
            }),
        }
    }

    /// How to name record `index` in a message.
    fn describe(&self, index: u64) -> String {
        match self {
            Self::Replay(r, _) => format!("line {}", r.line()),
            _ => format!("record {}", index + 1),
        }
    }
}

struct Generator {
    config: ProduceConfig,
    keys: KeyChooser,
    start: Instant,
    ordered: bool,
    stop: Arc<AtomicBool>,
}

type BatchTx = mpsc::Sender<Result<Batch, ProduceError>>;

impl Generator {
    fn run(mut self, tx: &BatchTx) {
        let mut batches = BatchBuilder::new(self.config.batch_size, self.ordered);
        let result = self.fill(&mut batches, tx);
        // Whatever was made before an input error still goes out.
        if let Some(last) = batches.take() {
            if !self.stop.load(Ordering::Relaxed) {
                let _ = tx.blocking_send(Ok(last));
            }
        }
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    }

    /// Makes records until done; `Ok` also when the receiver went away.
    fn fill(&mut self, batches: &mut BatchBuilder, tx: &BatchTx) -> Result<(), ProduceError> {
        let c = &self.config;
        let mut rng = c.seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64);
        let mut records = Records::open(&c.source, c.seed.is_some())?;
        let deadline = c.duration.map(|d| self.start + d);
        let pacer = c.rate.map(|r| rate::Pacer::new(self.start, r));
        let mut index: u64 = 0;
        loop {
            if c.count.is_some_and(|n| index >= n) || self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if deadline.is_some() || pacer.is_some() {
                let now = Instant::now();
                if deadline.is_some_and(|d| now >= d) {
                    return Ok(());
                }
                if let Some(wake) = pacer.and_then(|p| p.wait_until(index, now)) {
                    // Send what is due before sleeping, so records leave on time.
                    if let Some(b) = batches.take() {
                        if tx.blocking_send(Ok(b)).is_err() {
                            return Ok(());
                        }
                    }
                    self.sleep_until(deadline.map_or(wake, |d| wake.min(d)));
                    continue;
                }
            }
            let Some(ReplayRecord { data, key: own_key }) = records.next(&mut rng, index)? else {
                return Ok(());
            };
            let key = match own_key {
                Some(k) => k,
                None => self
                    .keys
                    .choose(&data, &mut rng)
                    .map_err(|source| ProduceError::Key {
                        at: records.describe(index),
                        source,
                    })?,
            };
            let size = data.len() + key.partition_key.len();
            if size > MAX_RECORD_BYTES {
                return Err(ProduceError::TooLarge {
                    at: records.describe(index),
                    size,
                });
            }
            let entry = PutRecordsRequestEntry::builder()
                .data(Blob::new(data))
                .partition_key(key.partition_key)
                .set_explicit_hash_key(key.explicit_hash_key)
                .build()
                .map_err(|e| ProduceError::Internal(e.to_string()))?;
            if let Some(full) = batches.push(entry, size) {
                if tx.blocking_send(Ok(full)).is_err() {
                    return Ok(());
                }
            }
            index += 1;
        }
    }

    /// Sleeps until `when`, waking early when asked to stop.
    fn sleep_until(&self, when: Instant) {
        loop {
            let now = Instant::now();
            if now >= when || self.stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep((when - now).min(Duration::from_millis(50)));
        }
    }
}
