//! Tables: schema, key extraction and validation, the item map, and CreateTable /
//! DescribeTable / ListTables / DeleteTable.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::number::Number;
use super::value::{item_size, Item, Value};
use crate::engine::error::{constraint, not_null, ApiError};
use crate::engine::EngineConfig;

/// One key attribute: its name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyDef {
    /// Attribute name.
    pub name: String,
    /// `S`, `N` or `B`.
    pub ty: String,
}

/// What a table is, apart from its items: what CreateTable said, plus when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
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
    /// Secondary indexes as given; described back but not maintained (lease tables need none).
    pub global_secondary_indexes: Option<Json>,
    /// Local secondary indexes as given; described back only.
    pub local_secondary_indexes: Option<Json>,
}

/// A key value, ordered as DynamoDB orders keys: N numerically, S and B bytewise.
///
/// `Min` and `Max` never belong to an item: they bound range scans over one partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyVal {
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
pub type Key = (KeyVal, KeyVal);

/// A table and its items.
#[derive(Debug)]
pub struct Table {
    /// Schema and creation facts.
    pub meta: TableMeta,
    /// Items by primary key; a partition's items are contiguous and in sort-key order.
    pub items: BTreeMap<Key, Item>,
    /// Sum of the items' sizes, for TableSizeBytes.
    pub size_bytes: usize,
}

/// Epoch milliseconds now.
pub fn now_ms() -> u64 {
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
pub fn not_found(name: &str, table_op: bool) -> ApiError {
    if table_op {
        ApiError::not_found(format!("Requested resource not found: Table: {name} not found"))
    } else {
        ApiError::not_found("Requested resource not found")
    }
}

/// Checks a TableName as DynamoDB does.
pub fn check_table_name(name: Option<&str>) -> Result<String, ApiError> {
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
    pub fn new(meta: TableMeta) -> Self {
        Self {
            meta,
            items: BTreeMap::new(),
            size_bytes: 0,
        }
    }

    /// Whether the configured creation delay has passed.
    pub fn is_active(&self, config: &EngineConfig) -> bool {
        let ready = self.meta.created_ms + config.create_table_delay.as_millis() as u64;
        now_ms() >= ready
    }

    /// The key attribute names, partition key first.
    pub fn key_names(&self) -> Vec<&str> {
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
    pub fn key_of_item(&self, item: &Item) -> Result<Key, ApiError> {
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
    pub fn key_of(&self, key: &Item) -> Result<Key, ApiError> {
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
    pub fn key_item(&self, item: &Item) -> Item {
        self.key_names()
            .into_iter()
            .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
            .collect()
    }

    /// Stores `item` under `key`, returning the item it replaced.
    pub fn put(&mut self, key: Key, item: Item) -> Option<Item> {
        self.size_bytes += item_size(&item);
        let old = self.items.insert(key, item);
        if let Some(o) = &old {
            self.size_bytes = self.size_bytes.saturating_sub(item_size(o));
        }
        old
    }

    /// Removes the item under `key`, returning it.
    pub fn remove(&mut self, key: &Key) -> Option<Item> {
        let old = self.items.remove(key);
        if let Some(o) = &old {
            self.size_bytes = self.size_bytes.saturating_sub(item_size(o));
        }
        old
    }

    /// The DescribeTable `Table` structure.
    pub fn describe(&self, config: &EngineConfig, status: Option<&str>) -> Json {
        let m = &self.meta;
        let status = status.unwrap_or(if self.is_active(config) {
            "ACTIVE"
        } else {
            "CREATING"
        });
        let mut key_schema = vec![json!({"AttributeName": m.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &m.range {
            key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        let arn = format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            config.region, config.account_id, m.name
        );
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
        for (field, indexes) in [
            ("GlobalSecondaryIndexes", &m.global_secondary_indexes),
            ("LocalSecondaryIndexes", &m.local_secondary_indexes),
        ] {
            if let Some(Json::Array(list)) = indexes {
                let described: Vec<Json> = list
                    .iter()
                    .map(|ix| {
                        let mut ix = ix.clone();
                        let name = ix
                            .get("IndexName")
                            .and_then(Json::as_str)
                            .unwrap_or("")
                            .to_string();
                        ix["IndexArn"] = json!(format!("{arn}/index/{name}"));
                        ix["IndexSizeBytes"] = json!(0);
                        ix["ItemCount"] = json!(0);
                        if field == "GlobalSecondaryIndexes" {
                            ix["IndexStatus"] = json!("ACTIVE");
                        }
                        ix
                    })
                    .collect();
                out[field] = Json::Array(described);
            }
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
pub struct CreateTableInput {
    table_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<Throughput>,
    global_secondary_indexes: Option<Json>,
    local_secondary_indexes: Option<Json>,
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
pub fn validate_create(input: CreateTableInput) -> Result<TableMeta, ApiError> {
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
    let index_attrs = index_key_names(&input.global_secondary_indexes)
        .into_iter()
        .chain(index_key_names(&input.local_secondary_indexes))
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
    Ok(TableMeta {
        name,
        hash,
        range,
        attribute_definitions: defs,
        billing_mode,
        read_capacity: read,
        write_capacity: write,
        created_ms: now_ms(),
        table_id: uuid::Uuid::new_v4().to_string(),
        global_secondary_indexes: input.global_secondary_indexes,
        local_secondary_indexes: input.local_secondary_indexes,
    })
}

fn index_key_names(indexes: &Option<Json>) -> Vec<String> {
    let Some(Json::Array(list)) = indexes else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|ix| ix.get("KeySchema").and_then(Json::as_array))
        .flatten()
        .filter_map(|k| k.get("AttributeName").and_then(Json::as_str).map(str::to_string))
        .collect()
}

/// ListTables' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesInput {
    exclusive_start_table_name: Option<String>,
    limit: Option<i64>,
}

/// ListTables over the sorted table names.
pub fn list<'a>(names: impl Iterator<Item = &'a String>, input: &ListTablesInput) -> Result<Json, ApiError> {
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
