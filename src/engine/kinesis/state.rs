//! The in-memory model of streams, shards and records, and the events that change it.
//!
//! Every change is an [`Event`]: handlers validate, build the event, journal it, then
//! [`State::apply`] it. Replaying the journal through the same `apply` rebuilds the state
//! exactly, sequence numbers included, because they follow from the order of events.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::hash;
use super::limits::Meter;
use super::sequence::{SeqParts, END_INDEX};

/// One stored record. Its index in the shard is implicit (`first_index + position`).
#[derive(Debug)]
pub(crate) struct Record {
    /// Server arrival time, epoch ms; never decreases within a shard.
    pub arrival_ms: u64,
    /// The producer's partition key.
    pub partition_key: Box<str>,
    /// The bytes, exactly as put.
    pub data: Box<[u8]>,
}

/// One shard and its records.
#[derive(Debug)]
pub(crate) struct Shard {
    /// `shardId-<index>`, 12 digits.
    pub index: u32,
    /// Parent after a split or merge.
    pub parent: Option<u32>,
    /// Second parent after a merge.
    pub adjacent_parent: Option<u32>,
    /// First hash key served.
    pub start_hash: u128,
    /// Last hash key served (inclusive).
    pub end_hash: u128,
    /// Creation time, epoch ms.
    pub created_ms: u64,
    /// Set when a split or merge closed the shard.
    pub closed_ms: Option<u64>,
    /// Children created when it closed.
    pub children: Vec<u32>,
    /// Records not yet trimmed, oldest first.
    pub records: VecDeque<Record>,
    /// Index of `records[0]` (records start at 1; 0 is the shard's starting number).
    pub first_index: u64,
    /// Arrival time of the newest record, to keep arrival times monotonic.
    pub last_arrival_ms: u64,
    /// Throughput accounting for `--enforce-limits`.
    pub meter: Meter,
    /// Bumped whenever records arrive or the shard closes: SubscribeToShard waits on it.
    pub changes: tokio::sync::watch::Sender<u64>,
}

/// Formats a shard id.
pub(crate) fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// The shard id a sequence number encodes; AWS pads a negative index as text (`0000000000-5`).
pub(crate) fn shard_id_signed(index: i64) -> String {
    let digits = index.to_string();
    format!("shardId-{digits:0>12}")
}

/// Resolves a shard id as AWS does: the number after the first `-` (`shardId-000000000007`,
/// `shardId-7`, `anything-7`), or a bare number (`7`).
pub(crate) fn parse_shard_id(id: &str) -> Option<u32> {
    let digits = match id.split_once('-') {
        Some((_, rest)) => {
            let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            &rest[..end]
        }
        None if id.bytes().all(|b| b.is_ascii_digit()) => id,
        None => return None,
    };
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// The canonical form of a shard id given by a client (itself when it names no shard).
pub(crate) fn canonical_shard_id(id: &str) -> String {
    parse_shard_id(id).map_or_else(|| id.to_string(), shard_id)
}

impl Shard {
    fn new(index: u32, range: (u128, u128), created_ms: u64) -> Self {
        Self {
            index,
            parent: None,
            adjacent_parent: None,
            start_hash: range.0,
            end_hash: range.1,
            created_ms,
            closed_ms: None,
            children: Vec::new(),
            records: VecDeque::new(),
            first_index: 1,
            last_arrival_ms: created_ms,
            meter: Meter::default(),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The shard id.
    pub(crate) fn id(&self) -> String {
        shard_id(self.index)
    }

    /// Index the next record will get.
    pub(crate) fn next_index(&self) -> u64 {
        self.first_index + self.records.len() as u64
    }

    /// Wakes the subscriptions waiting on this shard (a cheap no-op when there are none).
    pub(crate) fn signal(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether a split or merge closed it.
    pub(crate) fn is_open(&self) -> bool {
        self.closed_ms.is_none()
    }

    /// The sequence number of the record (or position) at `index` arriving at `arrival_ms`.
    pub(crate) fn seq(&self, index: u64, arrival_ms: u64) -> String {
        SeqParts {
            shard_created_secs: self.created_ms / 1000,
            shard_index: self.index,
            index,
            record_secs: arrival_ms / 1000,
        }
        .encode()
    }

    /// `SequenceNumberRange.StartingSequenceNumber`.
    pub(crate) fn starting_sequence_number(&self) -> String {
        self.seq(0, self.created_ms)
    }

    /// `SequenceNumberRange.EndingSequenceNumber`, for a closed shard.
    pub(crate) fn ending_sequence_number(&self) -> Option<String> {
        self.closed_ms.map(|at| self.seq(END_INDEX, at))
    }

    /// Index of the first record arriving at or after `ms` (or the next index).
    pub(crate) fn index_at_time(&self, ms: u64) -> u64 {
        let pos = self.records.partition_point(|r| r.arrival_ms < ms);
        self.first_index + pos as u64
    }

    /// Drops records that arrived before `horizon_ms`.
    pub(crate) fn trim(&mut self, horizon_ms: u64) {
        while self.records.front().is_some_and(|r| r.arrival_ms < horizon_ms) {
            self.records.pop_front();
            self.first_index += 1;
        }
    }

    /// Whether the shard is closed and its data is past retention (it is no longer listed).
    pub(crate) fn is_expired(&self, horizon_ms: u64) -> bool {
        self.closed_ms.is_some_and(|c| c < horizon_ms) && self.records.is_empty()
    }
}

/// Capacity mode of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Mode {
    /// Shards managed by the user.
    Provisioned,
    /// Shards managed by AWS; no split, merge or UpdateShardCount.
    OnDemand,
}

impl Mode {
    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Provisioned => "PROVISIONED",
            Mode::OnDemand => "ON_DEMAND",
        }
    }
}

/// One stream.
#[derive(Debug)]
pub(crate) struct Stream {
    /// Stream name.
    pub name: String,
    /// Creation time, epoch ms; also tells apart a stream from an earlier one of the same name.
    pub created_ms: u64,
    /// Capacity mode.
    pub mode: Mode,
    /// Retention in hours.
    pub retention_hours: u32,
    /// Every shard ever created, by index.
    pub shards: Vec<Shard>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The stream is `CREATING` until then.
    pub active_at_ms: u64,
    /// The stream is `UPDATING` until then.
    pub updating_until_ms: u64,
    /// Set by DeleteStream: `DELETING` until this time, then gone.
    pub deleted_until_ms: Option<u64>,
    /// Enhanced fan-out consumers by name.
    pub consumers: BTreeMap<String, Consumer>,
    /// Settings changed by the newer operations (monitoring, encryption, record size, ...).
    pub settings: StreamSettings,
}

/// Default `MaxRecordSizeInKiB` of a stream (1 MiB).
pub(crate) const DEFAULT_MAX_RECORD_KIB: u32 = 1024;

/// A stream's settings beyond shards and retention.
#[derive(Debug, Clone)]
pub(crate) struct StreamSettings {
    /// Enabled shard-level metrics (EnableEnhancedMonitoring), in AWS's order.
    pub shard_level_metrics: Vec<String>,
    /// The KMS key of server-side encryption, when on.
    pub kms_key: Option<String>,
    /// Largest record accepted, KiB (1,024–10,240).
    pub max_record_kib: u32,
    /// Warm throughput asked for an on-demand stream, MiB/s.
    pub warm_throughput_mibps: Option<u32>,
    /// Resource policy (JSON text).
    pub policy: Option<String>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            shard_level_metrics: Vec::new(),
            kms_key: None,
            max_record_kib: DEFAULT_MAX_RECORD_KIB,
            warm_throughput_mibps: None,
            policy: None,
        }
    }
}

/// An enhanced fan-out consumer registered on a stream.
#[derive(Debug, Clone)]
pub(crate) struct Consumer {
    /// ConsumerName.
    pub name: String,
    /// Registration time, epoch ms (its seconds end the consumer ARN).
    pub created_ms: u64,
    /// `CREATING` until then.
    pub active_at_ms: u64,
    /// Set by DeregisterStreamConsumer: `DELETING` until this time, then gone.
    pub deleting_until_ms: Option<u64>,
    /// Tags (TagResource on the consumer ARN, or RegisterStreamConsumer's).
    pub tags: BTreeMap<String, String>,
    /// Resource policy (JSON text).
    pub policy: Option<String>,
}

/// Status of a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConsumerStatus {
    /// Being registered.
    Creating,
    /// Ready for SubscribeToShard.
    Active,
    /// Being deregistered.
    Deleting,
}

impl ConsumerStatus {
    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Active => "ACTIVE",
            ConsumerStatus::Deleting => "DELETING",
        }
    }
}

impl Consumer {
    /// Status at `now_ms`.
    pub(crate) fn status(&self, now_ms: u64) -> ConsumerStatus {
        if self.deleting_until_ms.is_some() {
            ConsumerStatus::Deleting
        } else if now_ms < self.active_at_ms {
            ConsumerStatus::Creating
        } else {
            ConsumerStatus::Active
        }
    }
}

/// Stream status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Being created.
    Creating,
    /// Serving.
    Active,
    /// Resharding or changing settings; still serving.
    Updating,
    /// Being deleted.
    Deleting,
}

impl Status {
    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Updating => "UPDATING",
            Status::Deleting => "DELETING",
        }
    }
}

impl Stream {
    /// Status at `now_ms`.
    pub(crate) fn status(&self, now_ms: u64) -> Status {
        if self.deleted_until_ms.is_some() {
            Status::Deleting
        } else if now_ms < self.active_at_ms {
            Status::Creating
        } else if now_ms < self.updating_until_ms {
            Status::Updating
        } else {
            Status::Active
        }
    }

    /// Oldest arrival time still retained at `now_ms`: the stream's retention period, or
    /// `max_retention_ms` when that is shorter (`serve --max-retention`).
    pub(crate) fn horizon_ms(&self, now_ms: u64, max_retention_ms: Option<u64>) -> u64 {
        let retention = u64::from(self.retention_hours) * 3_600_000;
        now_ms.saturating_sub(max_retention_ms.map_or(retention, |cap| cap.min(retention)))
    }

    /// Open shards in hash-key order.
    pub(crate) fn open_shards(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().filter(|s| s.is_open())
    }

    /// The open shard serving `hash_key`.
    pub(crate) fn shard_for_hash(&self, hash_key: u128) -> Option<u32> {
        self.open_shards()
            .find(|s| s.start_hash <= hash_key && hash_key <= s.end_hash)
            .map(|s| s.index)
    }

    fn add_shard(&mut self, range: (u128, u128), at_ms: u64, parents: (Option<u32>, Option<u32>)) -> u32 {
        let index = self.shards.len() as u32;
        let mut shard = Shard::new(index, range, at_ms);
        shard.parent = parents.0;
        shard.adjacent_parent = parents.1;
        self.shards.push(shard);
        for p in [parents.0, parents.1].into_iter().flatten() {
            if let Some(parent) = self.shards.get_mut(p as usize) {
                parent.children.push(index);
            }
        }
        index
    }

    fn close(&mut self, index: u32, at_ms: u64) {
        if let Some(s) = self.shards.get_mut(index as usize) {
            s.closed_ms.get_or_insert(at_ms);
            s.signal();
        }
    }

    /// Splits an open shard at `new_start` (validated by the caller).
    fn split(&mut self, index: u32, new_start: u128, at_ms: u64) {
        let Some(parent) = self.shards.get(index as usize) else {
            return;
        };
        let (s, e) = (parent.start_hash, parent.end_hash);
        self.close(index, at_ms);
        self.add_shard((s, new_start - 1), at_ms, (Some(index), None));
        self.add_shard((new_start, e), at_ms, (Some(index), None));
    }

    /// Merges two adjacent open shards (validated by the caller).
    fn merge(&mut self, index: u32, adjacent: u32, at_ms: u64) -> u32 {
        let (Some(a), Some(b)) = (
            self.shards.get(index as usize),
            self.shards.get(adjacent as usize),
        ) else {
            return index;
        };
        let range = (a.start_hash.min(b.start_hash), a.end_hash.max(b.end_hash));
        self.close(index, at_ms);
        self.close(adjacent, at_ms);
        self.add_shard(range, at_ms, (Some(index), Some(adjacent)))
    }

    /// Reaches `target` open shards the way UNIFORM_SCALING does, with AWS's shard totals:
    /// scaling up splits every open shard in two, then merges neighbouring halves; scaling
    /// down only merges neighbours (10 → 13 leaves 37 shards in the stream, 5 → 3 leaves 7).
    /// Pieces are grouped by the uniform target range their middle falls in, so the result is
    /// as close to uniform as whole halves allow.
    fn update_shard_count(&mut self, target: u32, at_ms: u64) {
        let targets = hash::uniform_ranges(target);
        let open = self.open_shards().count() as u32;
        if target > open {
            let open: Vec<u32> = self.open_shards().map(|s| s.index).collect();
            for i in open {
                let Some(s) = self.shards.get(i as usize) else {
                    continue;
                };
                if s.end_hash <= s.start_hash {
                    continue;
                }
                // Split at the target boundary inside the shard nearest its middle, so that
                // the merges below can land on uniform boundaries; else at the middle.
                let mid = s.start_hash + (s.end_hash - s.start_hash) / 2 + 1;
                let at = targets
                    .iter()
                    .map(|&(t_start, _)| t_start)
                    .filter(|&t| t > s.start_hash && t <= s.end_hash)
                    .min_by_key(|&t| t.abs_diff(mid))
                    .unwrap_or(mid);
                self.split(i, at, at_ms);
            }
        }
        let mut pieces: Vec<(u128, u128, u32)> = self
            .open_shards()
            .map(|s| (s.start_hash, s.end_hash, s.index))
            .collect();
        pieces.sort_unstable();
        let group_of = |start: u128, end: u128| {
            let middle = start + (end - start) / 2;
            targets
                .iter()
                .position(|&(t_start, t_end)| t_start <= middle && middle <= t_end)
                .unwrap_or(0)
        };
        let mut i = 0;
        while i < pieces.len() {
            let group = group_of(pieces[i].0, pieces[i].1);
            let mut current = pieces[i].2;
            let mut j = i + 1;
            while j < pieces.len() && group_of(pieces[j].0, pieces[j].1) == group {
                current = self.merge(current, pieces[j].2, at_ms);
                j += 1;
            }
            i = j;
        }
    }
}

/// A change to the state, as journaled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Event {
    /// CreateStream.
    CreateStream {
        /// Name.
        name: String,
        /// Initial shard count.
        shards: u32,
        /// Capacity mode.
        mode: Mode,
        /// When.
        at_ms: u64,
        /// How long it stays CREATING.
        delay_ms: u64,
        /// Initial tags.
        tags: BTreeMap<String, String>,
        /// MaxRecordSizeInKiB (absent in journals written before it existed).
        #[serde(default)]
        max_record_kib: Option<u32>,
        /// WarmThroughputMiBps of an on-demand stream.
        #[serde(default)]
        warm_throughput_mibps: Option<u32>,
    },
    /// DeleteStream.
    DeleteStream {
        /// Name.
        name: String,
        /// When it is gone.
        until_ms: u64,
    },
    /// SplitShard.
    Split {
        /// Stream.
        name: String,
        /// Shard to split.
        shard: u32,
        /// NewStartingHashKey, decimal.
        new_start: String,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// MergeShards.
    Merge {
        /// Stream.
        name: String,
        /// ShardToMerge.
        shard: u32,
        /// AdjacentShardToMerge.
        adjacent: u32,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// UpdateShardCount.
    UpdateShardCount {
        /// Stream.
        name: String,
        /// TargetShardCount.
        target: u32,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// Increase/DecreaseStreamRetentionPeriod.
    Retention {
        /// Stream.
        name: String,
        /// New retention.
        hours: u32,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// AddTagsToStream.
    AddTags {
        /// Stream.
        name: String,
        /// Tags to set.
        tags: BTreeMap<String, String>,
    },
    /// RemoveTagsFromStream.
    RemoveTags {
        /// Stream.
        name: String,
        /// Keys to remove.
        keys: Vec<String>,
    },
    /// RegisterStreamConsumer.
    RegisterConsumer {
        /// Stream.
        name: String,
        /// ConsumerName.
        consumer: String,
        /// When.
        at_ms: u64,
        /// How long it stays CREATING.
        delay_ms: u64,
    },
    /// DeregisterStreamConsumer.
    DeregisterConsumer {
        /// Stream.
        name: String,
        /// ConsumerName.
        consumer: String,
        /// When it is gone.
        until_ms: u64,
    },
    /// UpdateStreamMode.
    StreamMode {
        /// Stream.
        name: String,
        /// New mode.
        mode: Mode,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// Enable/DisableEnhancedMonitoring: the metrics enabled afterwards.
    Monitoring {
        /// Stream.
        name: String,
        /// Enabled shard-level metrics.
        metrics: Vec<String>,
    },
    /// Start/StopStreamEncryption.
    Encryption {
        /// Stream.
        name: String,
        /// The KMS key, or `None` when encryption stops.
        key: Option<String>,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// UpdateMaxRecordSize.
    MaxRecordSize {
        /// Stream.
        name: String,
        /// MaxRecordSizeInKiB.
        kib: u32,
        /// When.
        at_ms: u64,
        /// How long the stream stays UPDATING.
        delay_ms: u64,
    },
    /// UpdateStreamWarmThroughput.
    WarmThroughput {
        /// Stream.
        name: String,
        /// WarmThroughputMiBps.
        mibps: u32,
    },
    /// Put/DeleteResourcePolicy on a stream or one of its consumers.
    Policy {
        /// Stream.
        name: String,
        /// The consumer, when the policy is a consumer's.
        consumer: Option<String>,
        /// The policy, or `None` when deleted.
        policy: Option<String>,
    },
    /// TagResource / UntagResource on a consumer (a stream's tags use AddTags/RemoveTags).
    ConsumerTags {
        /// Stream.
        name: String,
        /// ConsumerName.
        consumer: String,
        /// Tags to set.
        set: BTreeMap<String, String>,
        /// Keys to remove.
        remove: Vec<String>,
    },
}

/// One record to store: `(shard, arrival_ms, partition key, data)`.
pub(crate) type NewRecord = (u32, u64, Box<str>, Box<[u8]>);

/// A batch of records put into one stream (journaled in a compact binary form).
#[derive(Debug)]
pub(crate) struct PutBatch {
    /// Stream.
    pub name: String,
    /// `(shard, arrival_ms, partition key, data)` in put order.
    pub records: Vec<NewRecord>,
}

/// All streams of the engine (one account, one region).
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Streams by name.
    pub streams: BTreeMap<String, Stream>,
    /// The account's minimum-throughput billing commitment: `(started, ended)` epoch ms.
    /// Kept in memory only: it changes no behaviour of the engine.
    pub commitment: Option<(u64, Option<u64>)>,
}

impl State {
    /// Applies a control event.
    pub(crate) fn apply(&mut self, event: Event) {
        match event {
            Event::CreateStream {
                name,
                shards,
                mode,
                at_ms,
                delay_ms,
                tags,
                max_record_kib,
                warm_throughput_mibps,
            } => {
                let mut stream = Stream {
                    name: name.clone(),
                    created_ms: at_ms,
                    mode,
                    retention_hours: 24,
                    shards: Vec::new(),
                    tags,
                    active_at_ms: at_ms + delay_ms,
                    updating_until_ms: 0,
                    deleted_until_ms: None,
                    consumers: BTreeMap::new(),
                    settings: StreamSettings {
                        max_record_kib: max_record_kib.unwrap_or(DEFAULT_MAX_RECORD_KIB),
                        warm_throughput_mibps,
                        ..StreamSettings::default()
                    },
                };
                for range in hash::uniform_ranges(shards) {
                    stream.add_shard(range, at_ms, (None, None));
                }
                self.streams.insert(name, stream);
            }
            Event::DeleteStream { name, until_ms } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.deleted_until_ms = Some(until_ms);
                }
            }
            Event::Split {
                name,
                shard,
                new_start,
                at_ms,
                delay_ms,
            } => {
                if let (Some(s), Some(k)) = (self.streams.get_mut(&name), hash::parse_hash_key(&new_start)) {
                    s.split(shard, k, at_ms);
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::Merge {
                name,
                shard,
                adjacent,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.merge(shard, adjacent, at_ms);
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::UpdateShardCount {
                name,
                target,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.update_shard_count(target, at_ms);
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::Retention {
                name,
                hours,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.retention_hours = hours;
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::AddTags { name, tags } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.tags.extend(tags);
                }
            }
            Event::RemoveTags { name, keys } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    for k in keys {
                        s.tags.remove(&k);
                    }
                }
            }
            Event::RegisterConsumer {
                name,
                consumer,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.consumers.insert(
                        consumer.clone(),
                        Consumer {
                            name: consumer,
                            created_ms: at_ms,
                            active_at_ms: at_ms + delay_ms,
                            deleting_until_ms: None,
                            tags: BTreeMap::new(),
                            policy: None,
                        },
                    );
                }
            }
            Event::DeregisterConsumer {
                name,
                consumer,
                until_ms,
            } => {
                if let Some(c) = self
                    .streams
                    .get_mut(&name)
                    .and_then(|s| s.consumers.get_mut(&consumer))
                {
                    c.deleting_until_ms = Some(until_ms);
                }
            }
            Event::StreamMode {
                name,
                mode,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.mode = mode;
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::Monitoring { name, metrics } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.settings.shard_level_metrics = metrics;
                }
            }
            Event::Encryption {
                name,
                key,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.settings.kms_key = key;
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::MaxRecordSize {
                name,
                kib,
                at_ms,
                delay_ms,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.settings.max_record_kib = kib;
                    s.updating_until_ms = at_ms + delay_ms;
                }
            }
            Event::WarmThroughput { name, mibps } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    s.settings.warm_throughput_mibps = Some(mibps);
                }
            }
            Event::Policy {
                name,
                consumer,
                policy,
            } => {
                if let Some(s) = self.streams.get_mut(&name) {
                    match consumer {
                        None => s.settings.policy = policy,
                        Some(c) => {
                            if let Some(c) = s.consumers.get_mut(&c) {
                                c.policy = policy;
                            }
                        }
                    }
                }
            }
            Event::ConsumerTags {
                name,
                consumer,
                set,
                remove,
            } => {
                if let Some(c) = self
                    .streams
                    .get_mut(&name)
                    .and_then(|s| s.consumers.get_mut(&consumer))
                {
                    c.tags.extend(set);
                    for k in remove {
                        c.tags.remove(&k);
                    }
                }
            }
        }
    }

    /// Appends a batch of records; returns each record's `(shard, index)` in order.
    pub(crate) fn apply_put(&mut self, batch: PutBatch) -> Vec<(u32, u64, u64)> {
        let Some(stream) = self.streams.get_mut(&batch.name) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(batch.records.len());
        // Subscriptions are woken once per shard touched, after the whole batch is stored.
        let mut touched: Vec<u32> = Vec::new();
        for (shard, arrival_ms, partition_key, data) in batch.records {
            let Some(s) = stream.shards.get_mut(shard as usize) else {
                continue;
            };
            let arrival_ms = arrival_ms.max(s.last_arrival_ms);
            s.last_arrival_ms = arrival_ms;
            let index = s.next_index();
            s.records.push_back(Record {
                arrival_ms,
                partition_key,
                data,
            });
            out.push((shard, index, arrival_ms));
            if !touched.contains(&shard) {
                touched.push(shard);
            }
        }
        for shard in touched {
            if let Some(s) = stream.shards.get(shard as usize) {
                s.signal();
            }
        }
        out
    }

    /// Removes streams whose deletion delay has passed.
    pub(crate) fn purge_deleted(&mut self, now_ms: u64) {
        self.streams
            .retain(|_, s| s.deleted_until_ms.is_none_or(|until| now_ms < until));
        for s in self.streams.values_mut() {
            s.consumers
                .retain(|_, c| c.deleting_until_ms.is_none_or(|until| now_ms < until));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(shards: u32) -> State {
        let mut st = State::default();
        st.apply(Event::CreateStream {
            name: "s".into(),
            shards,
            mode: Mode::Provisioned,
            at_ms: 1_000_000,
            delay_ms: 0,
            tags: BTreeMap::new(),
            max_record_kib: None,
            warm_throughput_mibps: None,
        });
        st
    }

    fn open_ranges(st: &State) -> Vec<(u128, u128)> {
        let mut r: Vec<_> = st.streams["s"]
            .open_shards()
            .map(|s| (s.start_hash, s.end_hash))
            .collect();
        r.sort_unstable();
        r
    }

    #[test]
    fn update_shard_count_reaches_uniform_layout() {
        for (from, to) in [(3u32, 6u32), (4, 2), (3, 5), (5, 3), (1, 2), (2, 1), (6, 4)] {
            let mut st = state_with(from);
            st.apply(Event::UpdateShardCount {
                name: "s".into(),
                target: to,
                at_ms: 2_000_000,
                delay_ms: 0,
            });
            let ranges = open_ranges(&st);
            assert_eq!(ranges.len(), to as usize, "{from} -> {to}");
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges[ranges.len() - 1].1, u128::MAX);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1 + 1, pair[1].0, "contiguous after {from} -> {to}");
            }
            for s in &st.streams["s"].shards {
                assert!(
                    s.parent.is_some() || s.index < from,
                    "lineage kept for {}",
                    s.index
                );
            }
        }
    }

    #[test]
    fn shard_ids_round_trip() {
        assert_eq!(shard_id(7), "shardId-000000000007");
        assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
        assert_eq!(parse_shard_id("shard-7"), Some(7));
        assert_eq!(parse_shard_id("7"), Some(7));
        assert_eq!(parse_shard_id("x-0007-y"), Some(7));
        assert_eq!(parse_shard_id("shardId-"), None);
        assert_eq!(parse_shard_id("shard"), None);
        assert_eq!(canonical_shard_id("shardId-1"), "shardId-000000000001");
    }
}

#[cfg(test)]
mod uniform_scaling_totals {
    use super::*;

    fn total_after(from: u32, to: u32) -> usize {
        let mut st = State::default();
        st.apply(Event::CreateStream {
            name: "s".into(),
            shards: from,
            mode: Mode::Provisioned,
            at_ms: 1_000_000,
            delay_ms: 0,
            tags: BTreeMap::new(),
            max_record_kib: None,
            warm_throughput_mibps: None,
        });
        st.apply(Event::UpdateShardCount {
            name: "s".into(),
            target: to,
            at_ms: 2_000_000,
            delay_ms: 0,
        });
        st.streams["s"].shards.len()
    }

    #[test]
    fn uniform_scaling_leaves_as_many_shards_as_aws() {
        assert_eq!(total_after(10, 13), 37);
        assert_eq!(total_after(5, 3), 7);
        assert_eq!(total_after(2, 4), 6);
        assert_eq!(total_after(4, 2), 6);
    }
}
