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

/// One shard's reading state.
struct Cursor {
    shard_id: String,
    /// Its parents (`ParentShardId`, `AdjacentParentShardId`) among the shards being read: it is
    /// read only once they are read to their ends, so records of one key come out in order.
    parents: Vec<String>,
    /// Where it starts: the requested position for the shards listed at start, `TRIM_HORIZON`
    /// for shards a reshard created later (all of their records are new).
    start: Start,
    state: State,
    caught_up: bool,
    next_poll: tokio::time::Instant,
}

enum State {
    /// Waiting for its parents.
    Waiting,
    /// Reading from this iterator.
    Reading(String),
    /// Closed and read to its end.
    Done,
}

/// A shard as ListShards describes it.
struct Listed {
    shard_id: String,
    parents: Vec<String>,
}

/// The shards being read, in the order they were found.
struct Cursors {
    all: Vec<Cursor>,
}

impl Cursors {
    fn known(&self, shard: &str) -> bool {
        self.all.iter().any(|c| c.shard_id == shard)
    }

    fn done(&self, shard: &str) -> bool {
        self.all
            .iter()
            .any(|c| c.shard_id == shard && matches!(c.state, State::Done))
    }

    /// Adds the shards not read yet; a shard's parents that are not read are left out of its
    /// wait (they are past retention, or not asked for).
    fn add(&mut self, listed: Vec<Listed>, start: &Start) {
        for l in &listed {
            if self.known(&l.shard_id) {
                continue;
            }
            let parents = l
                .parents
                .iter()
                .filter(|p| self.known(p) || listed.iter().any(|o| &o.shard_id == *p))
                .cloned()
                .collect();
            self.all.push(Cursor {
                shard_id: l.shard_id.clone(),
                parents,
                start: start.clone(),
                state: State::Waiting,
                caught_up: false,
                next_poll: tokio::time::Instant::now(),
            });
        }
    }
}

/// Reads until caught up (or forever with `follow`), calling `each` per record in shard order;
/// `each` returns `false` to stop. Without `--shard`, the shards a reshard creates while reading
/// (children of a split or merge, the new shards of UpdateShardCount) are read too, each after
/// its parents.
pub async fn tail(
    client: &Client,
    settings: &TailSettings,
    mut each: impl FnMut(TailedRecord) -> bool,
) -> Result<(), TailError> {
    let listed = list_shards(client, &settings.stream).await?;
    let listed = match &settings.shard {
        Some(wanted) => {
            let wanted = shard_id(wanted);
            if !listed.iter().any(|l| l.shard_id == wanted) {
                let known: Vec<&str> = listed.iter().map(|l| l.shard_id.as_str()).collect();
                return Err(TailError::NoSuchShard {
                    stream: settings.stream.clone(),
                    shard: wanted,
                    known: known.join(", "),
                });
            }
            listed.into_iter().filter(|l| l.shard_id == wanted).collect()
        }
        None => listed,
    };
    let mut cursors = Cursors { all: Vec::new() };
    cursors.add(listed, &settings.start);
    loop {
        let mut got_any = false;
        let mut closed_one = false;
        for i in 0..cursors.all.len() {
            if matches!(cursors.all[i].state, State::Waiting) {
                let ready = cursors.all[i].parents.iter().all(|p| cursors.done(p));
                if !ready {
                    continue;
                }
                let c = &cursors.all[i];
                cursors.all[i].state = match iterator(client, &settings.stream, &c.shard_id, &c.start).await?
                {
                    Some(it) => State::Reading(it),
                    None => State::Done,
                };
            }
            let c = &mut cursors.all[i];
            let State::Reading(it) = &c.state else {
                continue;
            };
            tokio::time::sleep_until(c.next_poll).await;
            c.next_poll = tokio::time::Instant::now() + settings.min_poll_interval;
            let page = client
                .get_records()
                .shard_iterator(it.clone())
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
            c.state = match page.next_shard_iterator() {
                Some(next) => State::Reading(next.to_string()),
                None => {
                    closed_one = true;
                    State::Done
                }
            };
            c.caught_up = records.is_empty() && page.millis_behind_latest().is_none_or(|m| m == 0);
        }
        // A shard closes only by a reshard, which creates its children: look for them.
        if closed_one && settings.shard.is_none() {
            let listed = list_shards(client, &settings.stream).await?;
            let before = cursors.all.len();
            cursors.add(listed, &Start::TrimHorizon);
            if cursors.all.len() > before {
                continue;
            }
        }
        let waiting_ready = cursors
            .all
            .iter()
            .any(|c| matches!(c.state, State::Waiting) && c.parents.iter().all(|p| cursors.done(p)));
        if waiting_ready {
            continue;
        }
        let all_caught_up = cursors
            .all
            .iter()
            .all(|c| c.caught_up || !matches!(c.state, State::Reading(_)));
        if all_caught_up && !settings.follow {
            return Ok(());
        }
        if cursors.all.iter().all(|c| matches!(c.state, State::Done)) {
            return Ok(()); // every shard closed and read to its end
        }
        if !got_any {
            tokio::time::sleep(settings.idle_pause).await;
        }
    }
}

async fn list_shards(client: &Client, stream: &str) -> Result<Vec<Listed>, TailError> {
    let shards = crate::streams::list_shards(client, stream).await.map_err(|e| {
        if aws_error::code(&e) == Some("ResourceNotFoundException") {
            TailError::StreamNotFound(stream.to_string())
        } else {
            TailError::from(aws_error::describe("Kinesis", "ListShards", &e))
        }
    })?;
    Ok(shards
        .iter()
        .map(|s| Listed {
            shard_id: s.shard_id().to_string(),
            parents: s
                .parent_shard_id()
                .into_iter()
                .chain(s.adjacent_parent_shard_id())
                .map(str::to_string)
                .collect(),
        })
        .collect())
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
