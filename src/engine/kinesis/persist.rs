//! The Kinesis journal (`<data_dir>/kinesis.journal`): entry encoding, replay, and compaction.
//!
//! Entries: `C` + JSON [`Event`] (control changes), `P` + binary [`PutBatch`] (records), `T` +
//! JSON trim marks (written only by compaction: where each shard's retained records start).
//!
//! Compaction keeps, for every stream still known, the control events since its creation (few
//! and small, kept in memory), one trim mark, then its retained records; deleted streams and
//! records trimmed by retention are gone. The snapshot is written by a background thread; the
//! entries acknowledged meanwhile are copied after it when it is swapped in. It runs when the
//! file has grown past twice its size after the last compaction plus a floor, so the journal
//! stays within about twice the live data and restart time follows live data, not history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::state::{Event, PutBatch, Record, State};
use crate::engine::journal::{bin, Journal};

const TAG_CONTROL: u8 = b'C';
const TAG_PUT: u8 = b'P';
const TAG_TRIM: u8 = b'T';

/// Records per compacted `P` entry stay under this many bytes.
const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// Where each shard's retained records start, as written by compaction.
#[derive(Debug, Serialize, Deserialize)]
struct TrimMarks {
    name: String,
    /// `(shard index, first retained index, last arrival when no record is retained)`.
    shards: Vec<(u32, u64, Option<u64>)>,
}

/// The journal plus what compaction needs to rebuild the live state.
#[derive(Debug)]
pub(crate) struct Log {
    /// The file (or nothing, in memory).
    pub journal: Journal,
    /// Encoded control entries of each stream since its CreateStream, in order.
    history: BTreeMap<String, Vec<Vec<u8>>>,
    /// Journal size after the last compaction (or at open).
    base_bytes: u64,
    /// Compaction waits until the file has grown by at least this much.
    min_growth_bytes: u64,
}

/// The stream a control event belongs to (a new event kind must name its stream here, so that
/// compaction keeps it with that stream's history).
fn stream_of(event: &Event) -> &str {
    match event {
        Event::CreateStream { name, .. }
        | Event::DeleteStream { name, .. }
        | Event::Split { name, .. }
        | Event::Merge { name, .. }
        | Event::UpdateShardCount { name, .. }
        | Event::Retention { name, .. }
        | Event::AddTags { name, .. }
        | Event::RemoveTags { name, .. }
        | Event::RegisterConsumer { name, .. }
        | Event::DeregisterConsumer { name, .. }
        | Event::StreamMode { name, .. }
        | Event::Monitoring { name, .. }
        | Event::Encryption { name, .. }
        | Event::MaxRecordSize { name, .. }
        | Event::WarmThroughput { name, .. }
        | Event::Policy { name, .. }
        | Event::ConsumerTags { name, .. } => name,
    }
}

impl Log {
    /// A log over `journal`; compaction waits for `min_growth_bytes` of growth.
    pub(crate) fn new(journal: Journal, min_growth_bytes: u64) -> Self {
        let base_bytes = journal.len_bytes();
        Self {
            journal,
            history: BTreeMap::new(),
            base_bytes,
            min_growth_bytes,
        }
    }

    fn remember(&mut self, event: &Event, entry: Vec<u8>) {
        let name = stream_of(event).to_string();
        let h = self.history.entry(name).or_default();
        if matches!(event, Event::CreateStream { .. }) {
            h.clear();
        }
        h.push(entry);
    }

    /// Journals then applies a control event.
    pub(crate) fn commit(&mut self, state: &mut State, event: Event) -> std::io::Result<()> {
        if self.journal.is_persistent() {
            let entry = encode_control(&event)?;
            self.journal.append(&entry)?;
            self.remember(&event, entry);
        }
        state.apply(event);
        Ok(())
    }

    /// Journals then applies a batch of records; returns `(shard, index, arrival_ms)` each.
    pub(crate) fn commit_put(
        &mut self,
        state: &mut State,
        batch: PutBatch,
    ) -> std::io::Result<Vec<(u32, u64, u64)>> {
        if self.journal.is_persistent() {
            self.journal.append(&encode_put(&batch))?;
        }
        Ok(state.apply_put(batch))
    }

    /// Applies one journal entry (on open).
    pub(crate) fn replay(&mut self, state: &mut State, entry: &[u8]) -> Result<(), String> {
        match entry.split_first() {
            Some((&TAG_CONTROL, json)) => {
                let event: Event =
                    serde_json::from_slice(json).map_err(|e| format!("bad control entry: {e}"))?;
                self.remember(&event, entry.to_vec());
                state.apply(event);
                Ok(())
            }
            Some((&TAG_PUT, body)) => {
                let batch = decode_put(body).ok_or("bad record entry")?;
                state.apply_put(batch);
                Ok(())
            }
            Some((&TAG_TRIM, json)) => {
                let marks: TrimMarks =
                    serde_json::from_slice(json).map_err(|e| format!("bad trim entry: {e}"))?;
                if let Some(stream) = state.streams.get_mut(&marks.name) {
                    for (index, first, last_arrival) in marks.shards {
                        if let Some(shard) = stream.shards.get_mut(index as usize) {
                            shard.first_index = first;
                            if let Some(at) = last_arrival {
                                shard.last_arrival_ms = at;
                            }
                        }
                    }
                }
                Ok(())
            }
            _ => Err("unknown entry kind".into()),
        }
    }

    /// After replay: compacts at once when the file holds much more than the live state.
    pub(crate) fn compact_on_open(&mut self, state: &State) -> std::io::Result<()> {
        if !self.journal.is_persistent() {
            return Ok(());
        }
        let live: u64 = state
            .streams
            .values()
            .flat_map(|s| &s.shards)
            .flat_map(|s| &s.records)
            .map(|r| (r.data.len() + r.partition_key.len() + 32) as u64)
            .sum();
        if self.journal.len_bytes() > 2 * live + self.min_growth_bytes {
            if let Some(snapshot) = self.snapshot(state) {
                self.journal.rewrite(&snapshot)?;
            }
        }
        self.base_bytes = self.journal.len_bytes();
        Ok(())
    }

    /// Called with the state locked: finishes a compaction that is done, or starts one when the
    /// journal has grown enough.
    pub(crate) fn maintain(&mut self, state: &State, may_start: bool) {
        if !self.journal.is_persistent() {
            return;
        }
        match self.journal.poll_compaction() {
            Some(Ok(_)) => self.base_bytes = self.journal.len_bytes(),
            Some(Err(e)) => {
                eprintln!("kinlocal: compacting the Kinesis journal failed ({e}); it stays as it was");
                // Try again only after as much growth again.
                self.base_bytes = self.journal.len_bytes();
            }
            None => {}
        }
        if !may_start
            || self.journal.compaction_running()
            || self.journal.len_bytes() <= 2 * self.base_bytes + self.min_growth_bytes
        {
            return;
        }
        if let Some(snapshot) = self.snapshot(state) {
            self.journal.start_compaction(snapshot);
        }
    }

    /// Entries that rebuild `state`; `None` when a stream's history is unknown (then the
    /// journal is left as it is rather than lose that stream).
    fn snapshot(&mut self, state: &State) -> Option<Vec<Vec<u8>>> {
        self.history.retain(|name, _| state.streams.contains_key(name));
        let mut out = Vec::new();
        for (name, stream) in &state.streams {
            out.extend(self.history.get(name)?.iter().cloned());
            let marks = TrimMarks {
                name: name.clone(),
                shards: stream
                    .shards
                    .iter()
                    .map(|s| {
                        (
                            s.index,
                            s.first_index,
                            s.records.is_empty().then_some(s.last_arrival_ms),
                        )
                    })
                    .collect(),
            };
            let mut entry = vec![TAG_TRIM];
            serde_json::to_writer(&mut entry, &marks).ok()?;
            out.push(entry);
            for shard in &stream.shards {
                let mut entry = put_header(name);
                for r in &shard.records {
                    put_record(&mut entry, shard.index, r);
                    if entry.len() >= SNAPSHOT_CHUNK_BYTES {
                        out.push(std::mem::replace(&mut entry, put_header(name)));
                    }
                }
                if entry.len() > put_header(name).len() {
                    out.push(entry);
                }
            }
        }
        Some(out)
    }
}

fn encode_control(event: &Event) -> std::io::Result<Vec<u8>> {
    let mut entry = vec![TAG_CONTROL];
    serde_json::to_writer(&mut entry, event).map_err(std::io::Error::other)?;
    Ok(entry)
}

fn put_header(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 4 + name.len());
    out.push(TAG_PUT);
    bin::put_bytes(&mut out, name.as_bytes());
    out
}

fn put_record(out: &mut Vec<u8>, shard: u32, r: &Record) {
    bin::put_u64(out, u64::from(shard));
    bin::put_u64(out, r.arrival_ms);
    bin::put_bytes(out, r.partition_key.as_bytes());
    bin::put_bytes(out, &r.data);
}

/// The `P` entry of a batch.
pub(crate) fn encode_put(batch: &PutBatch) -> Vec<u8> {
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

/// A `P` entry's body (after the tag) as a batch.
pub(crate) fn decode_put(body: &[u8]) -> Option<PutBatch> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::journal::{Fsync, JournalOptions};
    use crate::engine::kinesis::state::Mode;

    fn open(path: &std::path::Path) -> (Log, State) {
        let o = Journal::open_with(
            path,
            JournalOptions {
                fsync: Fsync::Never,
                repair: false,
            },
        )
        .expect("open");
        let mut log = Log::new(o.journal, 0);
        let mut state = State::default();
        for e in &o.entries {
            log.replay(&mut state, e).expect("replays");
        }
        (log, state)
    }

    fn create(log: &mut Log, st: &mut State, name: &str, shards: u32, at_ms: u64) {
        log.commit(
            st,
            Event::CreateStream {
                name: name.into(),
                shards,
                mode: Mode::Provisioned,
                at_ms,
                delay_ms: 0,
                tags: BTreeMap::new(),
                max_record_kib: None,
                warm_throughput_mibps: None,
            },
        )
        .expect("create");
    }

    fn put(log: &mut Log, st: &mut State, name: &str, shard: u32, arrival: u64, data: &str) {
        log.commit_put(
            st,
            PutBatch {
                name: name.into(),
                records: vec![(shard, arrival, "pk".into(), data.as_bytes().into())],
            },
        )
        .expect("put");
    }

    /// Per shard: first index, last arrival, and `(arrival, data)` of each record.
    type ShardView = (u64, u64, Vec<(u64, String)>);

    fn shard_view(st: &State, name: &str) -> Vec<ShardView> {
        st.streams[name]
            .shards
            .iter()
            .map(|s| {
                (
                    s.first_index,
                    s.last_arrival_ms,
                    s.records
                        .iter()
                        .map(|r| (r.arrival_ms, String::from_utf8_lossy(&r.data).into_owned()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn compaction_drops_deleted_streams_and_trimmed_records_and_replays_the_same_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kinesis.journal");
        let (mut log, mut st) = open(&path);
        create(&mut log, &mut st, "keep", 2, 1_000);
        create(&mut log, &mut st, "gone", 1, 1_000);
        for i in 0..50u64 {
            put(
                &mut log,
                &mut st,
                "keep",
                (i % 2) as u32,
                2_000 + i,
                &format!("k{i}"),
            );
            put(&mut log, &mut st, "gone", 0, 2_000 + i, &"x".repeat(1000));
        }
        log.commit(
            &mut st,
            Event::Split {
                name: "keep".into(),
                shard: 0,
                new_start: "1000".into(),
                at_ms: 3_000,
                delay_ms: 0,
            },
        )
        .expect("split");
        put(&mut log, &mut st, "keep", 2, 3_500, "child");
        log.commit(
            &mut st,
            Event::DeleteStream {
                name: "gone".into(),
                until_ms: 0,
            },
        )
        .expect("delete");
        st.purge_deleted(4_000);
        // Retention trims the first 30 records of each parent shard.
        for s in &mut st.streams.get_mut("keep").expect("keep").shards {
            s.trim(2_030);
        }
        let before = shard_view(&st, "keep");
        let size_before = log.journal.len_bytes();

        log.maintain(&st, true);
        assert!(log.journal.compaction_running());
        assert!(log.journal.wait_compaction().expect("ran").is_ok());
        put(&mut log, &mut st, "keep", 1, 5_000, "after");
        let after_put = shard_view(&st, "keep");
        assert!(log.journal.len_bytes() < size_before / 4, "journal shrank");
        drop(log);

        let (mut log, st2) = open(&path);
        assert!(!st2.streams.contains_key("gone"));
        assert_eq!(shard_view(&st2, "keep"), after_put);
        assert_ne!(before, after_put);
        // Indexes continue where they were.
        let next: Vec<u64> = st2.streams["keep"]
            .shards
            .iter()
            .map(|s| s.next_index())
            .collect();
        let want: Vec<u64> = st.streams["keep"].shards.iter().map(|s| s.next_index()).collect();
        assert_eq!(next, want);
        // And a second compaction of a compacted journal is stable.
        assert!(log.snapshot(&st2).is_some());
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
