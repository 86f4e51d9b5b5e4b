//! Tables: schema, key extraction and validation, the item map, and CreateTable /
//! DescribeTable / ListTables / DeleteTable.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::indexes::{self, Entries, IndexInput, IndexMeta};
use super::number::Number;
use super::value::{item_size, Item, Value};
use crate::engine::error::{constraint, not_null, ApiError};
use crate::engine::EngineConfig;

/// One key attribute: its name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct KeyDef {
    /// Attribute name.
    pub name: String,
    /// `S`, `N` or `B`.
    pub ty: String,
}

/// What a table is, apart from its items: what CreateTable said, plus when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TableMeta {
    /// TableName.
    pub name: String,
    /// The partition key.
    pub hash: KeyDef,
    /// The sort key, if any.
    pub range: Option<KeyDef>,
    /// AttributeDefinitions as given (name, type).
    pub attribute_definitions: Vec<KeyDef>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    /// Provisioned read capacity (0 on demand).
    pub read_capacity: i64,
    /// Provisioned write capacity (0 on demand).
    pub write_capacity: i64,
    /// Creation time, epoch milliseconds.
    pub created_ms: u64,
    /// TableId.
    pub table_id: String,
    /// Secondary indexes as journals before index support recorded them (read, never written:
    /// [`Table::new`] turns them into `indexes`).
    #[serde(default, skip_serializing)]
    pub global_secondary_indexes: Option<Json>,
    /// Local secondary indexes in the same old form.
    #[serde(default, skip_serializing)]
    pub local_secondary_indexes: Option<Json>,
    /// Secondary indexes, global and local, in creation order.
    #[serde(default)]
    pub indexes: Vec<IndexMeta>,
    /// Tags (TagResource).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The time-to-live attribute, when TTL is enabled.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Point-in-time recovery (state only: nothing is backed up).
    #[serde(default)]
    pub pitr: bool,
    /// The stream view type while a stream is enabled (accepted and shown; no records).
    #[serde(default)]
    pub stream_view_type: Option<String>,
    /// When the current stream was enabled, epoch milliseconds (its label and ARN).
    #[serde(default)]
    pub stream_enabled_ms: u64,
}

/// A key value, ordered as DynamoDB orders keys: N numerically, S and B bytewise.
///
/// `Min` and `Max` never belong to an item: they bound range scans over one partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyVal {
    /// Below every key.
    Min,
    /// The sort-key slot of a table without a sort key.
    None,
    /// A string key.
    S(String),
    /// A number key.
    N(Number),
    /// A binary key.
    B(Vec<u8>),
    /// Above every key.
    Max,
}

/// A full primary key: partition key, sort key (`KeyVal::None` when the table has none).
pub(crate) type Key = (KeyVal, KeyVal);

/// A table and its items.
#[derive(Debug)]
pub(crate) struct Table {
    /// Schema and creation facts.
    pub meta: TableMeta,
    /// Items by primary key; a partition's items are contiguous and in sort-key order.
    pub items: BTreeMap<Key, Item>,
    /// Sum of the items' sizes, for TableSizeBytes.
    pub size_bytes: usize,
    /// The entries of each secondary index, by IndexName.
    pub indexes: BTreeMap<String, Entries>,
}

/// The key value of `v` when it is a scalar of type `ty` (`S`, `N`, `B`).
pub(crate) fn key_val(v: &Value, ty: &str) -> Option<KeyVal> {
    match (v, ty) {
        (Value::S(s), "S") => Some(KeyVal::S(s.clone())),
        (Value::N(n), "N") => Some(KeyVal::N(n.clone())),
        (Value::B(b), "B") => Some(KeyVal::B(b.clone())),
        _ => None,
    }
}

/// Epoch milliseconds now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

fn invalid(msg: impl AsRef<str>) -> ApiError {
    validation(format!(
        "One or more parameter values were invalid: {}",
        msg.as_ref()
    ))
}

/// DynamoDB's "not found" for item operations and for table operations.
pub(crate) fn not_found(name: &str, table_op: bool) -> ApiError {
    if table_op {
        ApiError::not_found(format!("Requested resource not found: Table: {name} not found"))
    } else {
        ApiError::not_found("Requested resource not found")
    }
}

/// Checks a TableName as DynamoDB does.
pub(crate) fn check_table_name(name: Option<&str>) -> Result<String, ApiError> {
    let Some(name) = name else {
        return Err(ApiError::validation(&[not_null("tableName")]));
    };
    if name.len() < 3 || name.len() > 255 {
        return Err(validation(
            "TableName must be at least 3 characters long and at most 255 characters long",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(ApiError::validation(&[constraint(
            name,
            "tableName",
            "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        )]));
    }
    Ok(name.to_string())
}

impl Table {
    /// A new, empty table.
    pub(crate) fn new(mut meta: TableMeta) -> Self {
        // Journals written before indexes were maintained kept the request's index lists.
        if meta.indexes.is_empty() {
            meta.indexes = legacy_indexes(&meta);
        }
        meta.global_secondary_indexes = None;
        meta.local_secondary_indexes = None;
        let indexes = meta
            .indexes
            .iter()
            .map(|ix| (ix.name.clone(), Entries::new()))
            .collect();
        Self {
            meta,
            items: BTreeMap::new(),
            size_bytes: 0,
            indexes,
        }
    }

    /// Replaces the table's description (UpdateTable, tags, TTL, replay of those): indexes
    /// that are gone are dropped, new ones are built from the items (the backfill).
    pub(crate) fn set_meta(&mut self, meta: TableMeta) {
        self.indexes
            .retain(|name, _| meta.indexes.iter().any(|ix| &ix.name == name));
        for ix in &meta.indexes {
            if !self.indexes.contains_key(&ix.name) {
                let entries: Entries = self
                    .items
                    .iter()
                    .filter_map(|(k, item)| ix.entry_of(item, k))
                    .collect();
                self.indexes.insert(ix.name.clone(), entries);
            }
        }
        self.meta = meta;
    }

    /// An index by name.
    pub(crate) fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.meta.indexes.iter().find(|ix| ix.name == name)
    }

    /// Refuses an item whose secondary-index key attributes are mistyped or empty.
    pub(crate) fn check_index_keys(&self, item: &Item) -> Result<(), ApiError> {
        self.meta.indexes.iter().try_for_each(|ix| ix.check_item(item))
    }

    /// Status of an index now.
    pub(crate) fn index_status(&self, ix: &IndexMeta, config: &EngineConfig) -> &'static str {
        if ix.is_creating(now_ms(), config.create_table_delay.as_millis() as u64) {
            "CREATING"
        } else {
            "ACTIVE"
        }
    }

    /// Whether the configured creation delay has passed.
    pub(crate) fn is_active(&self, config: &EngineConfig) -> bool {
        let ready = self.meta.created_ms + config.create_table_delay.as_millis() as u64;
        now_ms() >= ready
    }

    /// The key attribute names, partition key first.
    pub(crate) fn key_names(&self) -> Vec<&str> {
        let mut v = vec![self.meta.hash.name.as_str()];
        if let Some(r) = &self.meta.range {
            v.push(r.name.as_str());
        }
        v
    }

    fn key_defs(&self) -> impl Iterator<Item = (&KeyDef, bool)> {
        std::iter::once((&self.meta.hash, true)).chain(self.meta.range.iter().map(|r| (r, false)))
    }

    /// The primary key of a full item (PutItem), with PutItem's messages.
    pub(crate) fn key_of_item(&self, item: &Item) -> Result<Key, ApiError> {
        let mut parts = Vec::with_capacity(2);
        for (def, is_hash) in self.key_defs() {
            let Some(v) = item.get(&def.name) else {
                return Err(invalid(format!("Missing the key {} in the item", def.name)));
            };
            if v.type_name() != def.ty {
                return Err(invalid(format!(
                    "Type mismatch for key {} expected: {} actual: {}",
                    def.name,
                    def.ty,
                    v.type_name()
                )));
            }
            parts.push(key_part(
                v,
                &def.name,
                is_hash,
                "One or more parameter values are not valid.",
            )?);
        }
        Ok(split_key(parts))
    }

    /// The primary key named by a `Key` parameter (GetItem, UpdateItem, DeleteItem).
    pub(crate) fn key_of(&self, key: &Item) -> Result<Key, ApiError> {
        let mismatch = || validation("The provided key element does not match the schema");
        if key.len() != self.key_names().len() {
            return Err(mismatch());
        }
        let mut parts = Vec::with_capacity(2);
        for (def, is_hash) in self.key_defs() {
            let v = key
                .get(&def.name)
                .filter(|v| v.type_name() == def.ty)
                .ok_or_else(mismatch)?;
            parts.push(key_part(
                v,
                &def.name,
                is_hash,
                "One or more parameter values were invalid:",
            )?);
        }
        Ok(split_key(parts))
    }

    /// The key attributes of an item, as an item (for LastEvaluatedKey).
    pub(crate) fn key_item(&self, item: &Item) -> Item {
        self.key_names()
            .into_iter()
            .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
            .collect()
    }

    /// Stores `item` under `key`, returning the item it replaced.
    pub(crate) fn put(&mut self, key: Key, item: Item) -> Option<Item> {
        self.size_bytes += item_size(&item);
        for ix in &self.meta.indexes {
            let Some(entries) = self.indexes.get_mut(&ix.name) else {
                continue;
            };
            let before = self.items.get(&key).and_then(|o| ix.entry_of(o, &key));
            let after = ix.entry_of(&item, &key);
            if before != after {
                if let Some(b) = before {
                    entries.remove(&b);
                }
                if let Some(a) = after {
                    entries.insert(a);
                }
            }
        }
        let old = self.items.insert(key, item);
        if let Some(o) = &old {
            self.size_bytes = self.size_bytes.saturating_sub(item_size(o));
        }
        old
    }

    /// Removes the item under `key`, returning it.
    pub(crate) fn remove(&mut self, key: &Key) -> Option<Item> {
        let old = self.items.remove(key);
        if let Some(o) = &old {
            self.size_bytes = self.size_bytes.saturating_sub(item_size(o));
            for ix in &self.meta.indexes {
                if let (Some(entries), Some(e)) = (self.indexes.get_mut(&ix.name), ix.entry_of(o, key)) {
                    entries.remove(&e);
                }
            }
        }
        old
    }

    /// The table's ARN.
    pub(crate) fn arn(&self, config: &EngineConfig) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            config.region, config.account_id, self.meta.name
        )
    }

    /// The DescribeTable `Table` structure.
    pub(crate) fn describe(&self, config: &EngineConfig, status: Option<&str>) -> Json {
        let m = &self.meta;
        let status = status.unwrap_or(if !self.is_active(config) {
            "CREATING"
        } else if m
            .indexes
            .iter()
            .any(|ix| self.index_status(ix, config) == "CREATING")
        {
            // An index being added (backfilled) keeps the table UPDATING, as on DynamoDB.
            "UPDATING"
        } else {
            "ACTIVE"
        });
        let mut key_schema = vec![json!({"AttributeName": m.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &m.range {
            key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        let arn = self.arn(config);
        let mut out = json!({
            "TableName": m.name,
            "TableStatus": status,
            "KeySchema": key_schema,
            "AttributeDefinitions": m.attribute_definitions.iter()
                .map(|d| json!({"AttributeName": d.name, "AttributeType": d.ty}))
                .collect::<Vec<_>>(),
            "CreationDateTime": m.created_ms as f64 / 1000.0,
            "ItemCount": self.items.len(),
            "TableSizeBytes": self.size_bytes,
            "TableArn": arn,
            "TableId": m.table_id,
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": m.read_capacity,
                "WriteCapacityUnits": m.write_capacity,
            },
            "BillingModeSummary": {"BillingMode": m.billing_mode},
            "DeletionProtectionEnabled": false,
        });
        if m.billing_mode == "PAY_PER_REQUEST" {
            out["TableThroughputModeSummary"] = json!({"TableThroughputMode": "PAY_PER_REQUEST"});
        }
        let table_keys = self.key_names();
        for (field, global) in [("GlobalSecondaryIndexes", true), ("LocalSecondaryIndexes", false)] {
            let described: Vec<Json> = m
                .indexes
                .iter()
                .filter(|ix| ix.global == global)
                .map(|ix| {
                    let entries = self.indexes.get(&ix.name);
                    let size: usize = entries
                        .into_iter()
                        .flatten()
                        .filter_map(|(_, _, k)| self.items.get(k))
                        .map(|item| {
                            if ix.projection == "ALL" {
                                item_size(item)
                            } else {
                                item_size(&ix.project(item, &table_keys))
                            }
                        })
                        .sum();
                    ix.describe(
                        &arn,
                        self.index_status(ix, config),
                        entries.map_or(0, |e| e.len()),
                        size,
                    )
                })
                .collect();
            if !described.is_empty() {
                out[field] = Json::Array(described);
            }
        }
        if let Some(view) = &m.stream_view_type {
            out["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": view});
            let label = stream_label(m.stream_enabled_ms);
            out["LatestStreamLabel"] = json!(label);
            out["LatestStreamArn"] = json!(format!("{arn}/stream/{label}"));
        }
        out
    }
}

fn split_key(mut parts: Vec<KeyVal>) -> Key {
    let range = if parts.len() > 1 { parts.pop() } else { None };
    let hash = parts.pop().unwrap_or(KeyVal::None);
    (hash, range.unwrap_or(KeyVal::None))
}

fn key_part(v: &Value, name: &str, is_hash: bool, empty_prefix: &str) -> Result<KeyVal, ApiError> {
    let (kv, len) = match v {
        Value::S(s) => (KeyVal::S(s.clone()), Some(s.len())),
        Value::B(b) => (KeyVal::B(b.clone()), Some(b.len())),
        Value::N(n) => (KeyVal::N(n.clone()), None),
        _ => return Err(validation("The provided key element does not match the schema")),
    };
    if len == Some(0) {
        let what = if matches!(v, Value::S(_)) {
            "string"
        } else {
            "binary"
        };
        return Err(validation(format!(
            "{empty_prefix} The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}"
        )));
    }
    match len {
        Some(l) if is_hash && l > 2048 => Err(invalid(
            "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        )),
        Some(l) if !is_hash && l > 1024 => Err(invalid(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        )),
        _ => Ok(kv),
    }
}

/// CreateTable's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateTableInput {
    table_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<Throughput>,
    global_secondary_indexes: Option<Vec<IndexInput>>,
    local_secondary_indexes: Option<Vec<IndexInput>>,
    stream_specification: Option<StreamSpecification>,
    tags: Option<Vec<Tag>>,
}

/// StreamSpecification (CreateTable, UpdateTable).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StreamSpecification {
    /// StreamEnabled.
    pub stream_enabled: Option<bool>,
    /// StreamViewType.
    pub stream_view_type: Option<String>,
}

/// One tag.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeySchemaElement {
    attribute_name: Option<String>,
    key_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: Option<String>,
    attribute_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Throughput {
    read_capacity_units: Option<i64>,
    write_capacity_units: Option<i64>,
}

/// Validates a CreateTable request into the new table's description.
pub(crate) fn validate_create(input: CreateTableInput) -> Result<TableMeta, ApiError> {
    let mut failures = Vec::new();
    if input.attribute_definitions.is_none() {
        failures.push(not_null("attributeDefinitions"));
    }
    if input.key_schema.is_none() {
        failures.push(not_null("keySchema"));
    }
    if let Some(ks) = &input.key_schema {
        for (i, k) in ks.iter().enumerate() {
            match k.key_type.as_deref() {
                None => failures.push(not_null(&format!("keySchema.{}.member.keyType", i + 1))),
                Some("HASH" | "RANGE") => {}
                Some(other) => failures.push(constraint(
                    other,
                    &format!("keySchema.{}.member.keyType", i + 1),
                    "satisfy enum value set: [HASH, RANGE]",
                )),
            }
            if k.attribute_name.is_none() {
                failures.push(not_null(&format!("keySchema.{}.member.attributeName", i + 1)));
            }
        }
        if ks.is_empty() || ks.len() > 2 {
            let bound = if ks.is_empty() {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 2"
            };
            failures.push(constraint("[...]", "keySchema", bound));
        }
    }
    if let Some(defs) = &input.attribute_definitions {
        for (i, d) in defs.iter().enumerate() {
            match d.attribute_type.as_deref() {
                None => failures.push(not_null(&format!(
                    "attributeDefinitions.{}.member.attributeType",
                    i + 1
                ))),
                Some("S" | "N" | "B") => {}
                Some(other) => failures.push(constraint(
                    other,
                    &format!("attributeDefinitions.{}.member.attributeType", i + 1),
                    "satisfy enum value set: [B, N, S]",
                )),
            }
            if d.attribute_name.is_none() {
                failures.push(not_null(&format!(
                    "attributeDefinitions.{}.member.attributeName",
                    i + 1
                )));
            }
        }
    }
    if let Some(mode) = input.billing_mode.as_deref() {
        if mode != "PROVISIONED" && mode != "PAY_PER_REQUEST" {
            failures.push(constraint(
                mode,
                "billingMode",
                "satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
            ));
        }
    }
    if let Some(list) = &input.global_secondary_indexes {
        indexes::constraint_failures(list, "globalSecondaryIndexes", &mut failures);
    }
    if let Some(list) = &input.local_secondary_indexes {
        indexes::constraint_failures(list, "localSecondaryIndexes", &mut failures);
    }
    if let Some(t) = &input.provisioned_throughput {
        for (v, member) in [
            (t.read_capacity_units, "provisionedThroughput.readCapacityUnits"),
            (t.write_capacity_units, "provisionedThroughput.writeCapacityUnits"),
        ] {
            match v {
                None => failures.push(not_null(member)),
                Some(n) if n < 1 => failures.push(constraint(
                    &n.to_string(),
                    member,
                    "have value greater than or equal to 1",
                )),
                Some(_) => {}
            }
        }
    }
    let name = check_table_name(input.table_name.as_deref());
    if !failures.is_empty() {
        if let Err(e) = &name {
            if e.message.contains("failed to satisfy constraint") {
                failures.insert(
                    0,
                    e.message
                        .trim_start_matches("1 validation error detected: ")
                        .to_string(),
                );
            }
        }
        return Err(ApiError::validation(&failures));
    }
    let name = name?;
    let key_schema = input.key_schema.unwrap_or_default();
    let defs: Vec<KeyDef> = input
        .attribute_definitions
        .unwrap_or_default()
        .into_iter()
        .map(|d| KeyDef {
            name: d.attribute_name.unwrap_or_default(),
            ty: d.attribute_type.unwrap_or_default(),
        })
        .collect();

    let billing_mode = input.billing_mode.unwrap_or_else(|| "PROVISIONED".to_string());
    let (read, write) = if billing_mode == "PAY_PER_REQUEST" {
        if input.provisioned_throughput.is_some() {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        (0, 0)
    } else {
        let Some(Throughput {
            read_capacity_units: Some(r),
            write_capacity_units: Some(w),
        }) = input.provisioned_throughput
        else {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        };
        for (v, what) in [(r, "ReadCapacityUnits"), (w, "WriteCapacityUnits")] {
            if v > 1_000_000_000_000 {
                return Err(validation(format!("Given value {v} for {what} is out of bounds")));
            }
        }
        (r, w)
    };

    let keys: Vec<&str> = key_schema
        .iter()
        .map(|k| k.attribute_name.as_deref().unwrap_or(""))
        .collect();
    let def_names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    if keys.len() > def_names.len() {
        return Err(validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    if keys.iter().any(|k| !def_names.contains(k)) {
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            keys.join(", "),
            def_names.join(", ")
        )));
    }
    if keys.len() == 2 && keys[0] == keys[1] {
        return Err(validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    if key_schema.first().and_then(|k| k.key_type.as_deref()) != Some("HASH") {
        return Err(validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if key_schema.len() == 2 && key_schema[1].key_type.as_deref() != Some("RANGE") {
        return Err(validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    let index_attrs = input
        .global_secondary_indexes
        .iter()
        .chain(&input.local_secondary_indexes)
        .flatten()
        .flat_map(IndexInput::key_names)
        .collect::<Vec<_>>();
    for d in &def_names {
        if !keys.contains(d) && !index_attrs.iter().any(|a| a == d) {
            return Err(invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
    }
    let def_of = |name: &str| defs.iter().find(|d| d.name == name).cloned();
    let hash = def_of(keys[0]).ok_or_else(|| validation("Invalid KeySchema"))?;
    let range = match keys.get(1) {
        Some(k) => Some(def_of(k).ok_or_else(|| validation("Invalid KeySchema"))?),
        None => None,
    };
    let created_ms = now_ms();
    let index_list = indexes::validate_create(
        input.global_secondary_indexes.as_deref(),
        input.local_secondary_indexes.as_deref(),
        &indexes::Context {
            defs: &defs,
            table_hash: &hash.name,
            table_has_range: range.is_some(),
            billing_mode: &billing_mode,
            created_ms,
        },
    )?;
    let stream_view_type = match input.stream_specification {
        Some(spec) => stream_view(&spec)?,
        None => None,
    };
    let tags = match input.tags {
        Some(list) => check_tags(list)?,
        None => BTreeMap::new(),
    };
    Ok(TableMeta {
        name,
        hash,
        range,
        attribute_definitions: defs,
        billing_mode,
        read_capacity: read,
        write_capacity: write,
        created_ms,
        table_id: uuid::Uuid::new_v4().to_string(),
        global_secondary_indexes: None,
        local_secondary_indexes: None,
        indexes: index_list,
        tags,
        ttl_attribute: None,
        pitr: false,
        stream_view_type,
        stream_enabled_ms: created_ms,
    })
}

/// The stream view type a StreamSpecification enables (`None`: no stream).
pub(crate) fn stream_view(spec: &StreamSpecification) -> Result<Option<String>, ApiError> {
    match (spec.stream_enabled, spec.stream_view_type.as_deref()) {
        (None, _) => Err(ApiError::validation(&[not_null(
            "streamSpecification.streamEnabled",
        )])),
        (Some(true), None) => Err(validation(
            "StreamSpecification: StreamViewType must be specified when StreamEnabled is true",
        )),
        (Some(true), Some(v @ ("NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY"))) => {
            Ok(Some(v.to_string()))
        }
        (Some(true), Some(other)) => Err(ApiError::validation(&[constraint(
            other,
            "streamSpecification.streamViewType",
            "satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]",
        )])),
        (Some(false), Some(_)) => Err(validation(
            "One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false",
        )),
        (Some(false), None) => Ok(None),
    }
}

/// Tags as TagResource and CreateTable take them, checked against DynamoDB's limits.
pub(crate) fn check_tags(list: Vec<Tag>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for (i, t) in list.into_iter().enumerate() {
        let (Some(k), Some(v)) = (t.key, t.value) else {
            return Err(ApiError::validation(&[not_null(&format!(
                "tags.{}.member.key",
                i + 1
            ))]));
        };
        if k.is_empty() || k.chars().count() > 128 {
            return Err(ApiError::validation(&[constraint(
                &k,
                &format!("tags.{}.member.key", i + 1),
                "have length between 1 and 128",
            )]));
        }
        if v.chars().count() > 256 {
            return Err(ApiError::validation(&[constraint(
                &v,
                &format!("tags.{}.member.value", i + 1),
                "have length less than or equal to 256",
            )]));
        }
        out.insert(k, v);
    }
    Ok(out)
}

/// A stream's label: the ISO 8601 time it was enabled, as DynamoDB labels streams.
pub(crate) fn stream_label(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Indexes recorded in the request's own shape by journals from before index support.
fn legacy_indexes(meta: &TableMeta) -> Vec<IndexMeta> {
    let parse = |j: &Option<Json>| -> Option<Vec<IndexInput>> {
        j.as_ref().and_then(|j| serde_json::from_value(j.clone()).ok())
    };
    let cx = indexes::Context {
        defs: &meta.attribute_definitions,
        table_hash: &meta.hash.name,
        table_has_range: meta.range.is_some(),
        billing_mode: &meta.billing_mode,
        created_ms: meta.created_ms,
    };
    let gsis = parse(&meta.global_secondary_indexes);
    let lsis = parse(&meta.local_secondary_indexes);
    indexes::validate_create(gsis.as_deref(), lsis.as_deref(), &cx).unwrap_or_default()
}

/// ListTables' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTablesInput {
    exclusive_start_table_name: Option<String>,
    limit: Option<i64>,
}

/// ListTables over the sorted table names.
pub(crate) fn list<'a>(
    names: impl Iterator<Item = &'a String>,
    input: &ListTablesInput,
) -> Result<Json, ApiError> {
    let limit = input.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        let bound = if limit < 1 {
            "have value greater than or equal to 1"
        } else {
            "have value less than or equal to 100"
        };
        return Err(ApiError::validation(&[constraint(
            &limit.to_string(),
            "limit",
            bound,
        )]));
    }
    if let Some(start) = &input.exclusive_start_table_name {
        check_table_name(Some(start))
            .map_err(|e| ApiError::new(e.code, e.message.replace("tableName", "exclusiveStartTableName")))?;
    }
    let mut page: Vec<&String> = names
        .filter(|n| {
            input
                .exclusive_start_table_name
                .as_ref()
                .is_none_or(|s| n.as_str() > s.as_str())
        })
        .take(limit as usize + 1)
        .collect();
    let mut out = Map::new();
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    if more {
        if let Some(last) = page.last() {
            out.insert("LastEvaluatedTableName".into(), json!(last));
        }
    }
    out.insert("TableNames".into(), json!(page));
    Ok(Json::Object(out))
}
