//! Kinesis Data Streams on the engine's port: dispatch by operation, shared helpers, and the
//! journal that makes `--data-dir` survive restarts.
//!
//! One file per concern: [`streams`] (lifecycle, retention, tags, limits), [`shards`]
//! (listing and resharding), [`records`] (puts and reads), [`iterators`] (shard iterators),
//! with [`hash`] and [`sequence`] for the numbers, [`state`] for the model.

pub mod fanout;
pub mod hash;
pub mod iterators;
pub mod limits;
pub mod model;
pub mod records;
pub mod sequence;
pub mod shards;
pub mod state;
pub mod streams;
pub mod subscribe;
pub mod validate;

use std::sync::{Arc, Mutex, MutexGuard};

use super::codec::{Reply, Request};
use super::error::ApiError;
use super::journal::{bin, Journal};
use super::{EngineConfig, EngineError};
use state::{Event, PutBatch, State, Status, Stream};

/// How often retention trimming and deletion purges run (piggybacked on requests).
const MAINTENANCE_EVERY_MS: u64 = 10_000;

/// The Kinesis side of the engine.
pub struct Kinesis {
    config: Arc<EngineConfig>,
    inner: Mutex<Inner>,
    /// Mixed into iterators so a forged or garbled one is rejected.
    iterator_key: u64,
    /// Which consumer holds which shard through SubscribeToShard.
    leases: subscribe::Leases,
}

struct Inner {
    state: State,
    journal: Journal,
    last_maintenance_ms: u64,
}

/// What a handler works with: the configuration, the locked state, and the request time.
pub struct Ctx<'a> {
    /// Engine configuration.
    pub cfg: &'a EngineConfig,
    /// Streams.
    pub state: &'a mut State,
    journal: &'a mut Journal,
    /// The time of this request, epoch ms.
    pub now: u64,
    /// Key for iterator integrity.
    pub iterator_key: u64,
}

impl Kinesis {
    /// Opens the Kinesis store, replaying `<data_dir>/kinesis.journal` when persistence is on.
    pub fn open(config: Arc<EngineConfig>) -> Result<Self, EngineError> {
        let mut state = State::default();
        let journal = match &config.data_dir {
            None => Journal::memory(),
            Some(dir) => {
                let path = dir.join("kinesis.journal");
                let (journal, entries) = Journal::open(&path).map_err(|source| EngineError::DataDir {
                    path: path.clone(),
                    source,
                })?;
                for entry in entries {
                    replay(&mut state, &entry).map_err(|detail| EngineError::Corrupt {
                        path: path.clone(),
                        detail,
                    })?;
                }
                journal
            }
        };
        Ok(Self {
            config,
            inner: Mutex::new(Inner {
                state,
                journal,
                last_maintenance_ms: 0,
            }),
            iterator_key: rand::random(),
            leases: subscribe::Leases::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug; keep serving rather than poisoning.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one Kinesis operation.
    pub fn handle(&self, op: &str, req: &Request<'_>) -> Result<Reply, ApiError> {
        let now = self.config.clock.now_ms();
        let mut guard = self.lock();
        let inner = &mut *guard;
        if now.saturating_sub(inner.last_maintenance_ms) >= MAINTENANCE_EVERY_MS {
            inner.last_maintenance_ms = now;
            maintain(&mut inner.state, now);
        } else {
            inner.state.purge_deleted(now);
        }
        let mut ctx = Ctx {
            cfg: &self.config,
            state: &mut inner.state,
            journal: &mut inner.journal,
            now,
            iterator_key: self.iterator_key,
        };
        match op {
            "CreateStream" => streams::create_stream(&mut ctx, req),
            "DeleteStream" => streams::delete_stream(&mut ctx, req),
            "DescribeStream" => streams::describe_stream(&mut ctx, req),
            "DescribeStreamSummary" => streams::describe_stream_summary(&mut ctx, req),
            "ListStreams" => streams::list_streams(&mut ctx, req),
            "IncreaseStreamRetentionPeriod" => streams::change_retention(&mut ctx, req, true),
            "DecreaseStreamRetentionPeriod" => streams::change_retention(&mut ctx, req, false),
            "AddTagsToStream" => streams::add_tags(&mut ctx, req),
            "RemoveTagsFromStream" => streams::remove_tags(&mut ctx, req),
            "ListTagsForStream" => streams::list_tags(&mut ctx, req),
            "DescribeLimits" => streams::describe_limits(&mut ctx, req),
            "ListShards" => shards::list_shards(&mut ctx, req),
            "SplitShard" => shards::split_shard(&mut ctx, req),
            "MergeShards" => shards::merge_shards(&mut ctx, req),
            "UpdateShardCount" => shards::update_shard_count(&mut ctx, req),
            "PutRecord" => records::put_record(&mut ctx, req),
            "PutRecords" => records::put_records(&mut ctx, req),
            "GetRecords" => records::get_records(&mut ctx, req),
            "GetShardIterator" => iterators::get_shard_iterator(&mut ctx, req),
            "RegisterStreamConsumer" => fanout::register(&mut ctx, req),
            "DescribeStreamConsumer" => fanout::describe(&mut ctx, req),
            "ListStreamConsumers" => fanout::list(&mut ctx, req),
            "DeregisterStreamConsumer" => fanout::deregister(&mut ctx, req),
            _ => Err(ApiError::new("UnknownOperationException", "")),
        }
    }
}

/// Trims records past retention everywhere and drops deleted streams.
fn maintain(state: &mut State, now: u64) {
    state.purge_deleted(now);
    for stream in state.streams.values_mut() {
        let horizon = stream.horizon_ms(now);
        for shard in &mut stream.shards {
            shard.trim(horizon);
        }
    }
}

const TAG_CONTROL: u8 = b'C';
const TAG_PUT: u8 = b'P';

fn replay(state: &mut State, entry: &[u8]) -> Result<(), String> {
    match entry.split_first() {
        Some((&TAG_CONTROL, json)) => {
            let event: Event = serde_json::from_slice(json).map_err(|e| format!("bad control entry: {e}"))?;
            state.apply(event);
            Ok(())
        }
        Some((&TAG_PUT, body)) => {
            let batch = decode_put(body).ok_or("bad record entry")?;
            state.apply_put(batch);
            Ok(())
        }
        _ => Err("unknown entry kind".into()),
    }
}

fn encode_put(batch: &PutBatch) -> Vec<u8> {
    let size: usize = batch.records.iter().map(|r| 24 + r.2.len() + r.3.len()).sum();
    let mut out = Vec::with_capacity(1 + 4 + batch.name.len() + size);
    out.push(TAG_PUT);
    bin::put_bytes(&mut out, batch.name.as_bytes());
    for (shard, arrival, pk, data) in &batch.records {
        bin::put_u64(&mut out, u64::from(*shard));
        bin::put_u64(&mut out, *arrival);
        bin::put_bytes(&mut out, pk.as_bytes());
        bin::put_bytes(&mut out, data);
    }
    out
}

fn decode_put(body: &[u8]) -> Option<PutBatch> {
    let mut r = bin::Reader::new(body);
    let name = String::from_utf8(r.bytes()?.to_vec()).ok()?;
    let mut records = Vec::new();
    while !r.is_empty() {
        let shard = u32::try_from(r.u64()?).ok()?;
        let arrival = r.u64()?;
        let pk = std::str::from_utf8(r.bytes()?).ok()?.into();
        let data = r.bytes()?.into();
        records.push((shard, arrival, pk, data));
    }
    Some(PutBatch { name, records })
}

fn journal_error(e: std::io::Error) -> ApiError {
    ApiError::internal("InternalFailure", format!("could not persist the change: {e}"))
}

impl Ctx<'_> {
    /// Journals then applies a control event.
    pub fn commit(&mut self, event: Event) -> Result<(), ApiError> {
        if self.journal.is_persistent() {
            let mut entry = vec![TAG_CONTROL];
            serde_json::to_writer(&mut entry, &event)
                .map_err(|e| ApiError::internal("InternalFailure", e.to_string()))?;
            self.journal.append(&entry).map_err(journal_error)?;
        }
        self.state.apply(event);
        Ok(())
    }

    /// Journals then applies a batch of records; returns `(shard, index, arrival_ms)` each.
    pub fn commit_put(&mut self, batch: PutBatch) -> Result<Vec<(u32, u64, u64)>, ApiError> {
        if self.journal.is_persistent() {
            self.journal.append(&encode_put(&batch)).map_err(journal_error)?;
        }
        Ok(self.state.apply_put(batch))
    }

    /// "Stream X under account N not found."
    pub fn stream_not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(format!(
            "Stream {name} under account {} not found.",
            self.cfg.account_id
        ))
    }

    /// The ARN of a stream.
    pub fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.cfg.region, self.cfg.account_id
        )
    }

    /// The stream named, in any status.
    pub fn stream(&self, name: &str) -> Result<&Stream, ApiError> {
        self.state
            .streams
            .get(name)
            .ok_or_else(|| self.stream_not_found(name))
    }

    /// The stream named, for reads and writes: it must be ACTIVE or UPDATING.
    pub fn serving_stream(&self, name: &str) -> Result<&Stream, ApiError> {
        let s = self.stream(name)?;
        match s.status(self.now) {
            Status::Active | Status::Updating => Ok(s),
            _ => Err(self.stream_not_found(name)),
        }
    }

    /// The stream named, mutably, for reads and writes.
    pub fn serving_stream_mut(&mut self, name: &str) -> Result<&mut Stream, ApiError> {
        self.serving_stream(name)?;
        let err = self.stream_not_found(name);
        self.state.streams.get_mut(name).ok_or(err)
    }

    /// The stream named, which must be ACTIVE (for resharding and settings changes).
    pub fn active_stream(&self, name: &str) -> Result<&Stream, ApiError> {
        let s = self.stream(name)?;
        let status = s.status(self.now);
        if status != Status::Active {
            return Err(ApiError::in_use(format!(
                "Stream {name} under account {} not ACTIVE, instead in state {}",
                self.cfg.account_id,
                status.as_str()
            )));
        }
        Ok(s)
    }

    /// Resolves `StreamName` / `StreamARN` into a stream name.
    pub fn resolve_name(&self, name: Option<&str>, arn: Option<&str>) -> Result<String, ApiError> {
        let mut checks = validate::Checks::default();
        checks.stream_name(name, "streamName");
        if let Some(arn) = arn {
            checks.length(Some(arn), "streamARN", 1, 2048);
        }
        checks.finish()?;
        let from_arn = match arn {
            None => None,
            Some(arn) => Some(parse_stream_arn(arn).ok_or_else(|| {
                ApiError::validation(&[super::error::constraint(
                    arn,
                    "streamARN",
                    "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
                )])
            })?),
        };
        match (name, from_arn) {
            (Some(n), Some(a)) if n != a => Err(ApiError::invalid_argument(format!(
                "StreamARN {} does not match StreamName {n}",
                arn.unwrap_or_default()
            ))),
            (Some(n), _) => Ok(n.to_string()),
            (None, Some(a)) => Ok(a),
            (None, None) => Err(ApiError::validation(&[super::error::not_null("streamName")])),
        }
    }
}

/// The stream name of `arn:aws:kinesis:<region>:<12 digits>:stream/<name>`.
pub fn parse_stream_arn(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (arn_lit, partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn_lit != "arn" || !partition.starts_with("aws") || service != "kinesis" {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let name = resource.strip_prefix("stream/")?;
    // A consumer ARN (`stream/x/consumer/...`) names the stream before the slash.
    let name = name.split('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arns_parse() {
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/orders").as_deref(),
            Some("orders")
        );
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:0:stream/orders"),
            None
        );
        assert_eq!(parse_stream_arn("orders"), None);
    }

    #[test]
    fn put_entries_round_trip() {
        let batch = PutBatch {
            name: "s".into(),
            records: vec![(2, 1234, "pk".into(), b"data".to_vec().into())],
        };
        let enc = encode_put(&batch);
        let dec = decode_put(&enc[1..]).expect("decodes");
        assert_eq!(dec.name, "s");
        assert_eq!(dec.records[0].0, 2);
        assert_eq!(&*dec.records[0].3, b"data");
    }
}
