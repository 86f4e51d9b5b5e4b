//! Kinesis Data Streams on the engine's port: dispatch by operation, shared helpers, and the
//! journal that makes `--data-dir` survive restarts.
//!
//! One file per concern: [`streams`] (lifecycle, retention, tags, limits), [`shards`]
//! (listing and resharding), [`records`] (puts and reads), [`iterators`] (shard iterators),
//! with [`hash`] and [`sequence`] for the numbers, [`state`] for the model.

pub(crate) mod call;
pub(crate) mod fanout;
pub(crate) mod hash;
pub(crate) mod iterators;
pub(crate) mod limits;
pub(crate) mod model;
pub(crate) mod persist;
pub(crate) mod records;
pub(crate) mod resources;
pub mod sequence;
pub(crate) mod settings;
pub(crate) mod shapes;
pub(crate) mod shards;
pub(crate) mod state;
pub(crate) mod streams;
pub(crate) mod subscribe;
pub(crate) mod validate;

use std::sync::{Arc, Mutex, MutexGuard};

use super::codec::{Reply, Request};
use super::error::ApiError;
use super::journal::Journal;
use super::{EngineConfig, EngineError};
use call::Call;
use persist::Log;
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
    journal: Log,
    last_maintenance_ms: u64,
}

/// What a handler works with: the configuration, the locked state, and the request time.
pub(crate) struct Ctx<'a> {
    /// Engine configuration.
    pub cfg: &'a EngineConfig,
    /// Streams.
    pub state: &'a mut State,
    journal: &'a mut Log,
    /// The time of this request, epoch ms.
    pub now: u64,
    /// Key for iterator integrity.
    pub iterator_key: u64,
    /// The region of this request's ARNs: the one the client signed for, else `--region`.
    pub region: &'a str,
}

impl Kinesis {
    /// Opens the Kinesis store, replaying `<data_dir>/kinesis.journal` when persistence is on.
    pub(crate) fn open(config: Arc<EngineConfig>) -> Result<Self, EngineError> {
        let mut state = State::default();
        let journal = match &config.data_dir {
            None => Log::new(Journal::memory(), config.journal_compact_min_bytes),
            Some(dir) => {
                let path = dir.join("kinesis.journal");
                let opened = Journal::open_with(&path, config.journal_options())?;
                let mut log = Log::new(opened.journal, config.journal_compact_min_bytes);
                for (i, entry) in opened.entries.iter().enumerate() {
                    if let Err(detail) = log.replay(&mut state, entry) {
                        if !config.repair {
                            return Err(EngineError::Corrupt {
                                path,
                                detail: format!("entry {i}: {detail}"),
                            });
                        }
                        eprintln!(
                            "kinlocal: journal {}: skipped entry {i}, which verifies but cannot be read: {detail}",
                            path.display()
                        );
                    }
                }
                maintain(&mut state, config.clock.now_ms(), config.max_retention_ms());
                log.compact_on_open(&state)
                    .map_err(|source| EngineError::DataDir { path, source })?;
                log
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

    /// Decodes and runs one Kinesis operation, for the engine's own region.
    pub fn handle(&self, op: &str, req: &Request<'_>) -> Result<Reply, ApiError> {
        self.call(
            op,
            &Call::decode(op, req.format, bytes::Bytes::copy_from_slice(req.body))?,
        )
    }

    /// Runs one decoded Kinesis operation.
    pub(crate) fn call(&self, op: &str, req: &Call) -> Result<Reply, ApiError> {
        let now = self.config.clock.now_ms();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let due = now.saturating_sub(inner.last_maintenance_ms) >= MAINTENANCE_EVERY_MS;
        if due {
            inner.last_maintenance_ms = now;
            maintain(&mut inner.state, now, self.config.max_retention_ms());
        } else {
            inner.state.purge_deleted(now);
        }
        inner.journal.maintain(&inner.state, due);
        let mut ctx = Ctx {
            cfg: &self.config,
            state: &mut inner.state,
            journal: &mut inner.journal,
            now,
            iterator_key: self.iterator_key,
            region: req.region.as_deref().unwrap_or(&self.config.region),
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
            "UpdateStreamMode" => settings::update_stream_mode(&mut ctx, req),
            "EnableEnhancedMonitoring" => settings::monitoring(&mut ctx, req, true),
            "DisableEnhancedMonitoring" => settings::monitoring(&mut ctx, req, false),
            "StartStreamEncryption" => settings::encryption(&mut ctx, req, true),
            "StopStreamEncryption" => settings::encryption(&mut ctx, req, false),
            "UpdateMaxRecordSize" => settings::update_max_record_size(&mut ctx, req),
            "UpdateStreamWarmThroughput" => settings::update_warm_throughput(&mut ctx, req),
            "DescribeAccountSettings" => settings::describe_account_settings(&mut ctx, req),
            "UpdateAccountSettings" => settings::update_account_settings(&mut ctx, req),
            "TagResource" => resources::tag(&mut ctx, req),
            "UntagResource" => resources::untag(&mut ctx, req),
            "ListTagsForResource" => resources::list_tags(&mut ctx, req),
            "PutResourcePolicy" => resources::put_policy(&mut ctx, req),
            "GetResourcePolicy" => resources::get_policy(&mut ctx, req),
            "DeleteResourcePolicy" => resources::delete_policy(&mut ctx, req),
            _ => Err(ApiError::new("UnknownOperationException", "")),
        }
    }
}

/// Trims records past retention everywhere and drops deleted streams.
fn maintain(state: &mut State, now: u64, max_retention_ms: Option<u64>) {
    state.purge_deleted(now);
    for stream in state.streams.values_mut() {
        let horizon = stream.horizon_ms(now, max_retention_ms);
        for shard in &mut stream.shards {
            shard.trim(horizon);
        }
    }
}

fn journal_error(e: std::io::Error) -> ApiError {
    ApiError::internal("InternalFailure", format!("could not persist the change: {e}"))
}

impl Ctx<'_> {
    /// Journals then applies a control event.
    pub(crate) fn commit(&mut self, event: Event) -> Result<(), ApiError> {
        self.journal.commit(self.state, event).map_err(journal_error)
    }

    /// Journals then applies a batch of records; returns `(shard, index, arrival_ms)` each.
    pub(crate) fn commit_put(&mut self, batch: PutBatch) -> Result<Vec<(u32, u64, u64)>, ApiError> {
        self.journal.commit_put(self.state, batch).map_err(journal_error)
    }

    /// "Stream X under account N not found."
    pub(crate) fn stream_not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(format!(
            "Stream {name} under account {} not found.",
            self.cfg.account_id
        ))
    }

    /// The ARN of a stream.
    pub(crate) fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.region, self.cfg.account_id
        )
    }

    /// The stream named, in any status.
    pub(crate) fn stream(&self, name: &str) -> Result<&Stream, ApiError> {
        self.state
            .streams
            .get(name)
            .ok_or_else(|| self.stream_not_found(name))
    }

    /// The stream named, for reads and writes: it must be ACTIVE or UPDATING.
    pub(crate) fn serving_stream(&self, name: &str) -> Result<&Stream, ApiError> {
        let s = self.stream(name)?;
        match s.status(self.now) {
            Status::Active | Status::Updating => Ok(s),
            _ => Err(self.stream_not_found(name)),
        }
    }

    /// The stream named, mutably, for reads and writes.
    pub(crate) fn serving_stream_mut(&mut self, name: &str) -> Result<&mut Stream, ApiError> {
        self.serving_stream(name)?;
        let err = self.stream_not_found(name);
        self.state.streams.get_mut(name).ok_or(err)
    }

    /// The stream named, which must be ACTIVE (for resharding and settings changes).
    pub(crate) fn active_stream(&self, name: &str) -> Result<&Stream, ApiError> {
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
    pub(crate) fn resolve_name(&self, name: Option<&str>, arn: Option<&str>) -> Result<String, ApiError> {
        let mut checks = validate::Checks::default();
        checks.stream_name(name, "streamName");
        if let Some(arn) = arn {
            checks.length(Some(arn), "streamARN", 1, 2048);
        }
        checks.finish()?;
        let from_arn = match arn {
            None => None,
            Some(arn) => {
                let parsed = parse_stream_arn(arn).ok_or_else(|| {
                    ApiError::validation(&[super::error::constraint(
                        arn,
                        "streamARN",
                        "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
                    )])
                })?;
                // A stream of another region or account is none of this endpoint's.
                if parsed.region != self.region || parsed.account != self.cfg.account_id {
                    return Err(ApiError::not_found(format!(
                        "Stream {} under account {} not found.",
                        parsed.name, parsed.account
                    )));
                }
                Some(parsed.name.to_string())
            }
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

/// The parts of a stream ARN (`arn:aws:kinesis:<region>:<12 digits>:stream/<name>`); a consumer
/// ARN names its stream the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamArn<'a> {
    /// The region it names.
    pub region: &'a str,
    /// The account it names.
    pub account: &'a str,
    /// The stream name.
    pub name: &'a str,
}

/// Parses a stream (or consumer) ARN; `None` when it does not have a stream ARN's shape.
pub(crate) fn parse_stream_arn(arn: &str) -> Option<StreamArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (arn_lit, partition, service, region, account, resource) = (
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
    (!name.is_empty()).then_some(StreamArn {
        region,
        account,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arns_parse() {
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:eu-west-1:000000000000:stream/orders"),
            Some(StreamArn {
                region: "eu-west-1",
                account: "000000000000",
                name: "orders"
            })
        );
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:0:stream/orders"),
            None
        );
        assert_eq!(parse_stream_arn("orders"), None);
    }
}
