//! The embedded engine: a Kinesis- and DynamoDB-compatible server on one address.
//!
//! `run(listener, engine, shutdown)` serves until `shutdown` resolves, then lets in-flight
//! requests finish. The engine never knows about the consumer or the producer: it is a
//! server, and could be its own crate.

pub mod clock;
pub mod codec;
pub mod conn;
pub mod dynamodb;
pub mod error;
pub(crate) mod eventstream;
pub mod http;
pub mod journal;
pub mod kinesis;
pub(crate) mod sigv4;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

/// Everything the engine can be told at start.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Region written into ARNs.
    pub region: String,
    /// Account id written into ARNs and error messages.
    pub account_id: String,
    /// Where streams, records and tables are journaled; `None` keeps state in memory.
    pub data_dir: Option<PathBuf>,
    /// Enforce per-shard throughput limits with `ProvisionedThroughputExceededException`.
    pub enforce_limits: bool,
    /// How long a new stream stays `CREATING`.
    pub create_stream_delay: Duration,
    /// How long a deleted stream stays `DELETING` before it is gone.
    pub delete_stream_delay: Duration,
    /// How long a stream stays `UPDATING` after a reshard or a retention change.
    pub update_stream_delay: Duration,
    /// How long a new table stays `CREATING`.
    pub create_table_delay: Duration,
    /// How long a shard iterator stays valid (AWS: 5 minutes).
    pub iterator_ttl: Duration,
    /// The engine's notion of now (tests shift it).
    pub clock: clock::Clock,
    /// When journal writes are forced to disk (`--fsync`).
    pub fsync: journal::Fsync,
    /// Salvage damaged journals instead of refusing to start (`--repair`).
    pub repair: bool,
    /// The Kinesis journal is compacted once it has grown by this much past twice its size
    /// after the last compaction.
    pub journal_compact_min_bytes: u64,
    /// Request timeouts, idle timeout and the connection cap.
    pub conn: conn::ConnLimits,
    /// Records older than this are trimmed whatever a stream's retention period says
    /// (`serve --max-retention`): bounds memory and disk of a long-running engine.
    pub max_retention: Option<Duration>,
    /// How long a SubscribeToShard subscription lasts (AWS: 5 minutes); shorter only to test
    /// clients' renewals (`serve --subscription-lifetime`, hidden).
    pub subscription_lifetime: Duration,
    /// Whether a GetRecords carrying kinlocal's long-poll hint is held open; off only to stand
    /// in for an endpoint that answers every read at once (`serve --no-long-poll`, hidden).
    pub long_polls: bool,
}

impl EngineConfig {
    /// [`Self::max_retention`] in milliseconds.
    pub(crate) fn max_retention_ms(&self) -> Option<u64> {
        self.max_retention
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// How journals are opened.
    pub(crate) fn journal_options(&self) -> journal::JournalOptions {
        journal::JournalOptions {
            fsync: self.fsync,
            repair: self.repair,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            data_dir: None,
            enforce_limits: false,
            create_stream_delay: Duration::ZERO,
            delete_stream_delay: Duration::ZERO,
            update_stream_delay: Duration::ZERO,
            create_table_delay: Duration::ZERO,
            iterator_ttl: Duration::from_secs(300),
            clock: clock::Clock::default(),
            fsync: journal::Fsync::default(),
            repair: false,
            journal_compact_min_bytes: 64 * 1024 * 1024,
            conn: conn::ConnLimits::default(),
            max_retention: None,
            subscription_lifetime: kinesis::subscribe::SUBSCRIPTION_LIFETIME,
            long_polls: true,
        }
    }
}

/// Failures to start the engine (serving errors are answered to clients instead).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The data directory could not be read or written.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The offending path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A journal is damaged or cannot be opened.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// The journal holds an entry this version cannot read.
    #[error("journal {path} is damaged: {detail}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
}

/// The shared state behind every connection.
pub struct Engine {
    /// The Kinesis side.
    pub kinesis: kinesis::Kinesis,
    /// The DynamoDB side (lease tables).
    pub dynamodb: dynamodb::DynamoDb,
    /// What every connection is held to.
    pub(crate) limits: conn::ConnLimits,
    /// [`EngineConfig::long_polls`].
    pub(crate) long_polls: bool,
}

impl Engine {
    /// Builds the engine, replaying the journals under `config.data_dir` when given.
    pub fn open(config: EngineConfig) -> Result<Arc<Self>, EngineError> {
        let config = Arc::new(config);
        Ok(Arc::new(Self {
            limits: config.conn,
            long_polls: config.long_polls,
            kinesis: kinesis::Kinesis::open(config.clone())?,
            dynamodb: dynamodb::DynamoDb::open(config)?,
        }))
    }
}

/// The connection builder: HTTP/1.1 and cleartext HTTP/2 with prior knowledge on one port.
///
/// The Node.js SDK v3 speaks HTTP/2 to an `http://` endpoint by default and `SubscribeToShard`
/// is an HTTP/2 operation for most SDKs, while boto3, the CLI and the Rust SDK speak HTTP/1.1;
/// the builder reads the first bytes of a connection and picks the protocol from the preface.
fn connection_builder(limits: &conn::ConnLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.request_timeout);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// Serves `engine` on `listener` until `shutdown` resolves; then waits for in-flight requests.
pub async fn run(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let limits = engine.limits;
    let builder = connection_builder(&limits);
    // One permit per open connection: past the cap, new clients wait in the listen backlog
    // instead of the engine running out of file descriptors.
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(conn) => conn,
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
                };
                let _ = stream.set_nodelay(true);
                let engine = engine.clone();
                let request_timeout = limits.request_timeout;
                let service = service_fn(move |req| {
                    let engine = engine.clone();
                    async move {
                        // Headers are bounded by hyper; this bounds the body (a client that
                        // never finishes its upload) and the operation.
                        match tokio::time::timeout(request_timeout, http::handle(engine, req)).await {
                            Ok(answer) => answer,
                            Err(_) => Ok(conn::request_timeout_response()),
                        }
                    }
                });
                let activity = conn::Activity::new();
                let io = TokioIo::new(conn::Tracked::new(stream, activity.clone()));
                let conn = builder.serve_connection(io, service).into_owned();
                let conn = graceful.watch(conn);
                let idle = limits.idle_timeout;
                tokio::spawn(async move {
                    let _permit = permit;
                    let mut conn = std::pin::pin!(conn);
                    loop {
                        tokio::select! {
                            _ = &mut conn => break,
                            () = tokio::time::sleep_until(activity.idle_deadline(idle)) => {
                                // Nothing moved either way for `idle`: drop (close) it.
                                if tokio::time::Instant::now() >= activity.idle_deadline(idle) {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    // In-flight requests get a bounded grace period.
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}

/// Binds `host:port` (port 0 picks a free one) and returns the listener with its real address.
pub async fn bind(host: &str, port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
