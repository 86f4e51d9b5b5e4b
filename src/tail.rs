//! `tail`: read a stream's shards from a starting position and hand each record to the caller,
//! until every shard is caught up or, following, until stopped. Talks to Kinesis through the
//! SDK only, so it reads the embedded engine, a container or AWS alike.

use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;

use crate::aws_error::{self, AwsError};

/// Where to start in each shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// `TRIM_HORIZON`.
    TrimHorizon,
    /// `LATEST`.
    Latest,
    /// `AT_TIMESTAMP`, Unix milliseconds.
    AtTimestamp(i64),
    /// `AFTER_SEQUENCE_NUMBER` (one shard).
    AfterSequenceNumber(String),
}

/// What to read.
#[derive(Debug, Clone)]
pub struct TailSettings {
    /// Stream name.
    pub stream: String,
    /// Starting position.
    pub start: Start,
    /// Only this shard.
    pub shard: Option<String>,
    /// Keep polling when caught up.
    pub follow: bool,
    /// Least time between two GetRecords on one shard: AWS allows 5 per second per shard.
    pub min_poll_interval: Duration,
    /// Pause when every shard is caught up and following.
    pub idle_pause: Duration,
}

/// One record read.
#[derive(Debug, Clone)]
pub struct TailedRecord {
    /// The shard it came from.
    pub shard_id: String,
    /// `PartitionKey`.
    pub partition_key: String,
    /// `SequenceNumber`.
    pub sequence_number: String,
    /// `ApproximateArrivalTimestamp`, Unix milliseconds.
    pub arrival_ms: i64,
    /// The record's bytes.
    pub data: Vec<u8>,
}

/// Why reading stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The stream does not exist.
    #[error("stream '{0}' does not exist (check the name, or create it with `kinlocal create-stream {0}`)")]
    StreamNotFound(String),
    /// `--shard` names no shard of the stream.
    #[error("stream '{stream}' has no shard {shard} (its shards: {known})")]
    NoSuchShard {
        /// Stream.
        stream: String,
        /// What was asked for.
        shard: String,
        /// The shard ids it has.
        known: String,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl From<&TailError> for crate::exit::Kind {
    fn from(e: &TailError) -> Self {
        match e {
            TailError::StreamNotFound(_) => Self::StreamNotFound,
            TailError::NoSuchShard { .. } => Self::Usage,
            TailError::Aws(a) => a.into(),
        }
    }
}

/// `shardId-000000000001` from `shardId-000000000001` or `1`.
pub fn shard_id(s: &str) -> String {
    match s.parse::<u64>() {
        Ok(n) => format!("shardId-{n:012}"),
        Err(_) => s.to_string(),
    }
}

struct Cursor {
    shard_id: String,
    iterator: Option<String>,
    caught_up: bool,
    next_poll: tokio::time::Instant,
}

/// Reads until caught up (or forever with `follow`), calling `each` per record in shard order;
/// `each` returns `false` to stop.
pub async fn tail(
    client: &Client,
    settings: &TailSettings,
    mut each: impl FnMut(TailedRecord) -> bool,
) -> Result<(), TailError> {
    let shards = shard_ids(client, &settings.stream).await?;
    let chosen: Vec<String> = match &settings.shard {
        Some(wanted) => {
            let wanted = shard_id(wanted);
            if !shards.contains(&wanted) {
                return Err(TailError::NoSuchShard {
                    stream: settings.stream.clone(),
                    shard: wanted,
                    known: shards.join(", "),
                });
            }
            vec![wanted]
        }
        None => shards,
    };
    let mut cursors = Vec::new();
    for shard in chosen {
        let iterator = iterator(client, &settings.stream, &shard, &settings.start).await?;
        cursors.push(Cursor {
            shard_id: shard,
            iterator,
            caught_up: false,
            next_poll: tokio::time::Instant::now(),
        });
    }
    loop {
        let mut got_any = false;
        for c in &mut cursors {
            let Some(it) = c.iterator.clone() else {
                c.caught_up = true;
                continue;
            };
            tokio::time::sleep_until(c.next_poll).await;
            c.next_poll = tokio::time::Instant::now() + settings.min_poll_interval;
            let page = client
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .map_err(|e| aws_error::describe("Kinesis", "GetRecords", &e))?;
            let records = page.records();
            got_any |= !records.is_empty();
            for r in records {
                let record = TailedRecord {
                    shard_id: c.shard_id.clone(),
                    partition_key: r.partition_key().unwrap_or_default().to_string(),
                    sequence_number: r.sequence_number().to_string(),
                    arrival_ms: r
                        .approximate_arrival_timestamp()
                        .and_then(|t| t.to_millis().ok())
                        .unwrap_or(0),
                    data: r.data().as_ref().to_vec(),
                };
                if !each(record) {
                    return Ok(());
                }
            }
            c.iterator = page.next_shard_iterator().map(str::to_string);
            c.caught_up = records.is_empty() && page.millis_behind_latest().is_none_or(|m| m == 0);
        }
        let all_caught_up = cursors.iter().all(|c| c.caught_up || c.iterator.is_none());
        if all_caught_up && !settings.follow {
            return Ok(());
        }
        if cursors.iter().all(|c| c.iterator.is_none()) {
            return Ok(()); // every shard closed and read to its end
        }
        if !got_any {
            tokio::time::sleep(settings.idle_pause).await;
        }
    }
}

async fn shard_ids(client: &Client, stream: &str) -> Result<Vec<String>, TailError> {
    let shards = crate::streams::list_shards(client, stream).await.map_err(|e| {
        if aws_error::code(&e) == Some("ResourceNotFoundException") {
            TailError::StreamNotFound(stream.to_string())
        } else {
            TailError::from(aws_error::describe("Kinesis", "ListShards", &e))
        }
    })?;
    Ok(shards.iter().map(|s| s.shard_id().to_string()).collect())
}

async fn iterator(
    client: &Client,
    stream: &str,
    shard: &str,
    start: &Start,
) -> Result<Option<String>, TailError> {
    let req = client.get_shard_iterator().stream_name(stream).shard_id(shard);
    let req = match start {
        Start::TrimHorizon => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
        Start::Latest => req.shard_iterator_type(ShardIteratorType::Latest),
        Start::AtTimestamp(ms) => req
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(aws_sdk_kinesis::primitives::DateTime::from_millis(*ms)),
        Start::AfterSequenceNumber(seq) => req
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .starting_sequence_number(seq),
    };
    let out = req
        .send()
        .await
        .map_err(|e| aws_error::describe("Kinesis", "GetShardIterator", &e))?;
    Ok(out.shard_iterator().map(str::to_string))
}
