//! DynamoDB on the engine's port: the store (tables under one lock, journaled) and the
//! dispatch of `DynamoDB_20120810.<Op>` to the operations.
//!
//! Submodules, one concern each: `number` and `value` (attribute values), `expr` (expression
//! language), `legacy` (Expected / AttributeUpdates / KeyConditions), `params` (shared request
//! rules), `tables` (table schema and table operations), `indexes` (secondary indexes),
//! `admin` (UpdateTable, tags, time to live, backups), `items` (single-item operations),
//! `batch` (BatchWriteItem, BatchGetItem), `transact` (TransactWriteItems, TransactGetItems),
//! `query` (Query and Scan), `persist` (the journal).

pub(crate) mod admin;
pub(crate) mod batch;
pub(crate) mod expr;
pub(crate) mod indexes;
pub(crate) mod items;
pub(crate) mod legacy;
pub(crate) mod number;
pub(crate) mod params;
pub(crate) mod persist;
pub(crate) mod query;
pub(crate) mod tables;
pub(crate) mod transact;
pub(crate) mod value;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::codec::{Reply, Request};
use super::error::ApiError;
use super::journal::Journal;
use super::{EngineConfig, EngineError};
use persist::{Entry, Log};
use tables::{Key, Table, TableMeta};
use value::Item;

/// One item change, planned before anything is written.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    /// Store `item` under `key`.
    Put {
        /// Table name.
        table: String,
        /// The item's primary key.
        key: Key,
        /// The whole new image.
        item: Item,
    },
    /// Delete the item under `key`.
    Delete {
        /// Table name.
        table: String,
        /// The item's primary key.
        key: Key,
        /// The key attributes, as journaled.
        key_item: Item,
    },
}

/// Every table, and the journal their changes go to.
#[derive(Debug)]
pub(crate) struct Store {
    /// Tables by name (sorted, as ListTables answers).
    pub tables: BTreeMap<String, Table>,
    /// Where changes are journaled.
    pub log: Log,
    /// TransactWriteItems answers by ClientRequestToken, for idempotent retries (in memory
    /// only: a token outlives a restart on DynamoDB, not here).
    pub tokens: HashMap<String, transact::Token>,
}

impl Store {
    /// A table that exists and is ACTIVE; item operations on anything else are "not found".
    pub(crate) fn active_table(&self, name: &str, config: &EngineConfig) -> Result<&Table, ApiError> {
        match self.tables.get(name) {
            Some(t) if t.is_active(config) => Ok(t),
            _ => Err(tables::not_found(name, false)),
        }
    }

    fn journal(&mut self, entry: &Entry) -> Result<(), ApiError> {
        self.log.append(entry).map_err(|e| {
            ApiError::internal(
                "InternalServerError",
                format!("Could not journal the change: {e}"),
            )
        })
    }

    /// Journals `writes` as one entry, then applies them all; returns the images they replaced.
    /// Callers check every table exists first: nothing is journaled for a write that fails.
    pub(crate) fn apply(&mut self, writes: Vec<Write>) -> Result<Vec<Option<Item>>, ApiError> {
        if let Some(t) = writes
            .iter()
            .map(Write::table)
            .find(|t| !self.tables.contains_key(*t))
        {
            return Err(tables::not_found(t, false));
        }
        let mut entries: Vec<Entry> = writes
            .iter()
            .map(|w| match w {
                Write::Put { table, item, .. } => Entry::put(table, item),
                Write::Delete { table, key_item, .. } => Entry::delete(table, key_item),
            })
            .collect();
        let entry = match entries.len() {
            0 => return Ok(Vec::new()),
            1 => entries.remove(0),
            _ => Entry::Batch(entries),
        };
        self.journal(&entry)?;
        let mut olds = Vec::with_capacity(writes.len());
        for w in writes {
            olds.push(match w {
                Write::Put { table, key, item } => self.tables.get_mut(&table).and_then(|t| t.put(key, item)),
                Write::Delete { table, key, .. } => self.tables.get_mut(&table).and_then(|t| t.remove(&key)),
            });
        }
        self.log.maybe_compact(&self.tables);
        Ok(olds)
    }

    /// Journals, then installs, a table's new description (indexes built or dropped).
    pub(crate) fn set_meta(&mut self, meta: TableMeta) -> Result<(), ApiError> {
        if !self.tables.contains_key(&meta.name) {
            return Err(tables::not_found(&meta.name, true));
        }
        self.journal(&Entry::Meta(meta.clone()))?;
        if let Some(t) = self.tables.get_mut(&meta.name) {
            t.set_meta(meta);
        }
        Ok(())
    }
}

impl Write {
    /// The table written.
    pub(crate) fn table(&self) -> &str {
        match self {
            Write::Put { table, .. } | Write::Delete { table, .. } => table,
        }
    }

    /// The item's primary key.
    pub(crate) fn key(&self) -> &Key {
        match self {
            Write::Put { key, .. } | Write::Delete { key, .. } => key,
        }
    }
}

/// The DynamoDB side of the engine.
pub struct DynamoDb {
    config: Arc<EngineConfig>,
    /// Shared with the time-to-live sweeper, which holds it weakly and stops once it is gone.
    store: Arc<Mutex<Store>>,
}

/// How often expired items are looked for (DynamoDB: "within a few days"; here, seconds).
const TTL_SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableNameInput {
    table_name: Option<String>,
}

impl DynamoDb {
    /// Opens the DynamoDB store (replaying its journal when a data directory is set).
    pub(crate) fn open(config: Arc<EngineConfig>) -> Result<Self, EngineError> {
        let mut tables = BTreeMap::new();
        let log = match &config.data_dir {
            None => Log {
                journal: Journal::memory(),
                entries: 0,
            },
            Some(dir) => {
                let path = dir.join("dynamodb.journal");
                let opened = Journal::open_with(&path, config.journal_options())?;
                let (journal, entries) = (opened.journal, opened.entries);
                for (i, e) in entries.iter().enumerate() {
                    if let Err(detail) = persist::replay(&mut tables, e) {
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
                let mut log = Log {
                    journal,
                    entries: entries.len(),
                };
                log.maybe_compact(&tables);
                log
            }
        };
        let store = Arc::new(Mutex::new(Store {
            tables,
            log,
            tokens: HashMap::new(),
        }));
        let weak = Arc::downgrade(&store);
        let sweeper_config = config.clone();
        // A plain thread: the store is synchronous, and the engine may be opened outside a runtime.
        let _ = std::thread::Builder::new()
            .name("dynamodb-ttl".into())
            .spawn(move || ttl_sweeper(&weak, &sweeper_config));
        Ok(Self { config, store })
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Runs one DynamoDB operation.
    pub fn handle(&self, op: &str, req: &Request<'_>) -> Result<Reply, ApiError> {
        let config = &*self.config;
        let out: Json = match op {
            "CreateTable" => {
                let meta = tables::validate_create(req.parse()?)?;
                let mut store = self.lock();
                if store.tables.contains_key(&meta.name) {
                    return Err(ApiError::in_use(format!("Table already exists: {}", meta.name)));
                }
                store.journal(&Entry::CreateTable(meta.clone()))?;
                let table = Table::new(meta);
                let desc = table.describe(
                    config,
                    Some(if config.create_table_delay.is_zero() {
                        "ACTIVE"
                    } else {
                        "CREATING"
                    }),
                );
                store.tables.insert(table.meta.name.clone(), table);
                json!({ "TableDescription": desc })
            }
            "DescribeTable" => {
                let input: TableNameInput = req.parse()?;
                let name = tables::check_table_name(input.table_name.as_deref())?;
                let store = self.lock();
                let table = store
                    .tables
                    .get(&name)
                    .ok_or_else(|| tables::not_found(&name, true))?;
                json!({ "Table": table.describe(config, None) })
            }
            "DeleteTable" => {
                let input: TableNameInput = req.parse()?;
                let name = tables::check_table_name(input.table_name.as_deref())?;
                let mut store = self.lock();
                let desc = match store.tables.get(&name) {
                    Some(t) if t.is_active(config) => t.describe(config, Some("DELETING")),
                    Some(_) => {
                        return Err(ApiError::in_use(format!(
                        "Attempt to change a resource which is still in use: Table is being created: {name}"
                    )))
                    }
                    None => return Err(tables::not_found(&name, true)),
                };
                store.journal(&Entry::DeleteTable(name.clone()))?;
                store.tables.remove(&name);
                json!({ "TableDescription": desc })
            }
            "ListTables" => {
                let input: tables::ListTablesInput = req.parse()?;
                let store = self.lock();
                tables::list(store.tables.keys(), &input)?
            }
            "PutItem" => items::put_item(&mut self.lock(), config, req.parse()?)?,
            "UpdateItem" => items::update_item(&mut self.lock(), config, req.parse()?)?,
            "DeleteItem" => items::delete_item(&mut self.lock(), config, req.parse()?)?,
            "GetItem" => items::get_item(&self.lock(), config, req.parse()?)?,
            "Query" => query::read(&self.lock(), config, req.parse()?, true)?,
            "Scan" => query::read(&self.lock(), config, req.parse()?, false)?,
            "UpdateTable" => admin::update_table(&mut self.lock(), config, req.parse()?)?,
            "DescribeTimeToLive" => admin::describe_ttl(&self.lock(), req.parse()?)?,
            "UpdateTimeToLive" => admin::update_ttl(&mut self.lock(), req.parse()?)?,
            "TagResource" => admin::tag(&mut self.lock(), config, req.parse()?)?,
            "UntagResource" => admin::untag(&mut self.lock(), config, req.parse()?)?,
            "ListTagsOfResource" => admin::list_tags(&self.lock(), config, req.parse()?)?,
            "DescribeContinuousBackups" => admin::describe_backups(&self.lock(), config, req.parse()?)?,
            "UpdateContinuousBackups" => admin::update_backups(&mut self.lock(), config, req.parse()?)?,
            "BatchWriteItem" => batch::write(&mut self.lock(), config, req.parse()?)?,
            "BatchGetItem" => batch::get(&self.lock(), config, req.parse()?)?,
            "TransactWriteItems" => transact::write(&mut self.lock(), config, req.parse()?)?,
            "TransactGetItems" => transact::get(&self.lock(), config, req.parse()?)?,
            _ => {
                return Err(ApiError::new(
                    "UnknownOperationException",
                    format!("Operation {op} is not supported by kinlocal's DynamoDB"),
                ))
            }
        };
        req.reply(&out)
    }
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // A panic while holding the lock cannot leave a half-applied change (changes are
    // applied after journaling, in one step), so a poisoned lock is still usable.
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Deletes expired items every [`TTL_SWEEP_EVERY`] until the store is dropped.
fn ttl_sweeper(store: &Weak<Mutex<Store>>, config: &EngineConfig) {
    loop {
        std::thread::sleep(TTL_SWEEP_EVERY);
        let Some(store) = store.upgrade() else {
            return;
        };
        let now_s = config.clock.now_ms() / 1000;
        // A failed journal write leaves the items in place; the next sweep tries again.
        let _ = admin::sweep_expired(&mut lock(&store), now_s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::codec::Format;

    fn call(db: &DynamoDb, op: &str, body: Json) -> Result<Json, ApiError> {
        let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::serialization(e.to_string()))?;
        let req = Request {
            format: Format::Json10,
            body: &bytes,
        };
        let reply = db.handle(op, &req)?;
        serde_json::from_slice(&reply.0).map_err(|e| ApiError::serialization(e.to_string()))
    }

    #[test]
    fn journal_replays_and_compacts_rewritten_items() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Arc::new(EngineConfig {
            data_dir: Some(dir.path().to_path_buf()),
            ..EngineConfig::default()
        });
        {
            let db = DynamoDb::open(config.clone()).expect("open");
            call(
                &db,
                "CreateTable",
                json!({"TableName": "leases", "BillingMode": "PAY_PER_REQUEST",
                       "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
                       "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}]}),
            )
            .expect("create");
            // A checkpoint rewritten many times: the journal must not grow without bound.
            for i in 0..10_050 {
                call(
                    &db,
                    "PutItem",
                    json!({"TableName": "leases", "Item": {"leaseKey": {"S": "shard-0"}, "checkpoint": {"N": i.to_string()}}}),
                )
                .expect("put");
            }
            let entries = db.lock().log.entries;
            assert!(entries < 1_000, "compacted, {entries} entries left");
        }
        let db = DynamoDb::open(config).expect("reopen");
        let got = call(
            &db,
            "GetItem",
            json!({"TableName": "leases", "Key": {"leaseKey": {"S": "shard-0"}}}),
        )
        .expect("get");
        assert_eq!(got["Item"]["checkpoint"], json!({"N": "10049"}));
    }

    #[test]
    fn unknown_operations_and_bad_bodies_are_errors() {
        let db = DynamoDb::open(Arc::new(EngineConfig::default())).expect("open");
        assert_eq!(
            call(&db, "CreateBackup", json!({})).expect_err("unknown").code,
            "UnknownOperationException"
        );
        let req = Request {
            format: Format::Json10,
            body: b"[1,2",
        };
        assert_eq!(
            db.handle("PutItem", &req).err().map(|e| e.code),
            Some("SerializationException")
        );
    }
}
