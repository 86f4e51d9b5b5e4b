//! The DynamoDB journal (`<data_dir>/dynamodb.journal`): one JSON entry per acknowledged change,
//! replayed on open, compacted into a snapshot when it grows well past the live data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::tables::{Table, TableMeta};
use super::value::{item_from_json, item_to_json, Item};
use crate::engine::journal::Journal;

/// One journaled change.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Entry {
    /// A table was created.
    CreateTable(TableMeta),
    /// A table was deleted, with its items.
    DeleteTable(String),
    /// An item was written (whole new image).
    Put {
        /// Table name.
        t: String,
        /// The item.
        i: Map<String, Json>,
    },
    /// An item was deleted.
    Delete {
        /// Table name.
        t: String,
        /// The item's key attributes.
        k: Map<String, Json>,
    },
    /// A table's description changed (UpdateTable, tags, TTL, backups): the whole new one.
    Meta(TableMeta),
    /// Several changes acknowledged together (a transaction, a batch, a TTL sweep): replayed
    /// all together, so a transaction is never half there after a restart.
    Batch(Vec<Entry>),
}

impl Entry {
    /// A put of `item` into `table`.
    pub(crate) fn put(table: &str, item: &Item) -> Self {
        Entry::Put {
            t: table.to_string(),
            i: item_to_json(item),
        }
    }

    /// A delete of the item with key attributes `key` from `table`.
    pub(crate) fn delete(table: &str, key: &Item) -> Self {
        Entry::Delete {
            t: table.to_string(),
            k: item_to_json(key),
        }
    }

    /// The bytes to journal.
    pub(crate) fn encode(&self) -> Vec<u8> {
        // Serializing plain maps and strings cannot fail; an empty entry would be skipped on replay.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Applies one journal entry to the tables (replay). Unknown tables are ignored: their
/// deletion was journaled after the entry.
pub(crate) fn replay(tables: &mut BTreeMap<String, Table>, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let entry: Entry = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    apply(tables, entry)
}

fn apply(tables: &mut BTreeMap<String, Table>, entry: Entry) -> Result<(), String> {
    match entry {
        Entry::Meta(meta) => {
            if let Some(table) = tables.get_mut(&meta.name) {
                table.set_meta(meta);
            }
        }
        Entry::Batch(entries) => {
            for e in entries {
                apply(tables, e)?;
            }
        }
        Entry::CreateTable(meta) => {
            tables.insert(meta.name.clone(), Table::new(meta));
        }
        Entry::DeleteTable(name) => {
            tables.remove(&name);
        }
        Entry::Put { t, i } => {
            if let Some(table) = tables.get_mut(&t) {
                let item = item_from_json(&i).map_err(|e| format!("{e:?}"))?;
                let key = table.key_of_item(&item).map_err(|e| e.message)?;
                table.put(key, item);
            }
        }
        Entry::Delete { t, k } => {
            if let Some(table) = tables.get_mut(&t) {
                let key = item_from_json(&k).map_err(|e| format!("{e:?}"))?;
                let key = table.key_of(&key).map_err(|e| e.message)?;
                table.remove(&key);
            }
        }
    }
    Ok(())
}

/// Entries that rebuild the current state: each table, then its items.
pub(crate) fn snapshot(tables: &BTreeMap<String, Table>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for table in tables.values() {
        out.push(Entry::CreateTable(table.meta.clone()).encode());
        for item in table.items.values() {
            out.push(Entry::put(&table.meta.name, item).encode());
        }
    }
    out
}

/// The journal plus the bookkeeping that decides when to compact it.
#[derive(Debug)]
pub(crate) struct Log {
    /// The journal file (or nothing, in memory).
    pub journal: Journal,
    /// Entries in the file now.
    pub entries: usize,
}

impl Log {
    /// Appends one change; the caller applies it only when this succeeds.
    pub(crate) fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        if !self.journal.is_persistent() {
            return Ok(());
        }
        self.journal.append(&entry.encode())?;
        self.entries += 1;
        Ok(())
    }

    /// Rewrites the journal as a snapshot when it holds far more entries than live state:
    /// lease tables rewrite the same few items (checkpoints) over and over.
    pub(crate) fn maybe_compact(&mut self, tables: &BTreeMap<String, Table>) {
        if !self.journal.is_persistent() {
            return;
        }
        let live: usize = tables.values().map(|t| t.items.len() + 1).sum();
        if self.entries <= 2 * live + 10_000 {
            return;
        }
        let snap = snapshot(tables);
        let n = snap.len();
        // A failed compaction leaves the old journal in place, which is still correct.
        if self.journal.rewrite(&snap).is_ok() {
            self.entries = n;
        }
    }
}
