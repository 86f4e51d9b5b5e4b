//! Secondary indexes: their definitions (validated from CreateTable and UpdateTable), the
//! index entries kept beside a table's items, projections, and their DescribeTable shape.
//!
//! An index is a sorted set of `(index hash, index range, table key)`: the items themselves stay
//! in the table, so a write updates an index by moving one small entry, and a read looks the
//! item up by its table key and projects it. Items without the index's key attributes have no
//! entry (sparse indexes).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::tables::{key_val, Key, KeyDef, KeyVal};
use super::value::{Item, Value};
use crate::engine::error::{constraint, not_null, ApiError};

/// Largest number of GSIs on one table (DynamoDB's default quota).
const MAX_GSIS: usize = 20;
/// Largest number of LSIs on one table.
const MAX_LSIS: usize = 5;

/// One secondary index, as created.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct IndexMeta {
    /// IndexName.
    pub name: String,
    /// Global (true) or local (false).
    pub global: bool,
    /// The index's partition key.
    pub hash: KeyDef,
    /// The index's sort key, if any (always present for an LSI).
    pub range: Option<KeyDef>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    /// NonKeyAttributes of an `INCLUDE` projection.
    #[serde(default)]
    pub non_key: Vec<String>,
    /// Provisioned read capacity (0 on demand, and for LSIs).
    pub read_capacity: i64,
    /// Provisioned write capacity.
    pub write_capacity: i64,
    /// When the index was created (with its table, or by UpdateTable), epoch milliseconds.
    pub created_ms: u64,
}

/// One index entry: index hash, index range (`KeyVal::None` without one), the item's table key.
pub(crate) type Entry = (KeyVal, KeyVal, Key);

/// The entries of one index, sorted as a Query on the index reads them.
pub(crate) type Entries = BTreeSet<Entry>;

impl IndexMeta {
    /// The index key attribute names, hash first.
    pub(crate) fn key_names(&self) -> Vec<&str> {
        let mut v = vec![self.hash.name.as_str()];
        if let Some(r) = &self.range {
            v.push(r.name.as_str());
        }
        v
    }

    /// The entry `item` has in this index, or `None` when it lacks (or mistypes) a key attribute.
    pub(crate) fn entry_of(&self, item: &Item, key: &Key) -> Option<Entry> {
        let part = |d: &KeyDef| item.get(&d.name).and_then(|v| key_val(v, &d.ty));
        let hash = part(&self.hash)?;
        let range = match &self.range {
            Some(r) => part(r)?,
            None => KeyVal::None,
        };
        Some((hash, range, key.clone()))
    }

    /// Refuses an item whose attribute for this index's key has the wrong type or is empty.
    pub(crate) fn check_item(&self, item: &Item) -> Result<(), ApiError> {
        for d in std::iter::once(&self.hash).chain(self.range.as_ref()) {
            let Some(v) = item.get(&d.name) else { continue };
            if v.type_name() != d.ty {
                return Err(ApiError::new(
                    "ValidationException",
                    format!(
                        "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                        d.name,
                        d.ty,
                        v.type_name(),
                        self.name
                    ),
                ));
            }
            let empty = matches!(v, Value::S(s) if s.is_empty()) || matches!(v, Value::B(b) if b.is_empty());
            if empty {
                let what = if d.ty == "S" { "string" } else { "binary" };
                return Err(ApiError::new(
                    "ValidationException",
                    format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {what} value. IndexName: {}, IndexKey: {}",
                        self.name, d.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The attributes of `item` this index holds: everything (`ALL`), or the table's and the
    /// index's keys plus any `INCLUDE`d attributes.
    pub(crate) fn project(&self, item: &Item, table_keys: &[&str]) -> Item {
        if self.projection == "ALL" {
            return item.clone();
        }
        item.iter()
            .filter(|(k, _)| {
                table_keys.contains(&k.as_str())
                    || self.key_names().contains(&k.as_str())
                    || self.non_key.iter().any(|n| n == *k)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether the index is still being built (`--create-table-delay` after its creation).
    pub(crate) fn is_creating(&self, now_ms: u64, delay_ms: u64) -> bool {
        now_ms < self.created_ms.saturating_add(delay_ms)
    }

    /// The DescribeTable structure for this index.
    pub(crate) fn describe(
        &self,
        table_arn: &str,
        status: &str,
        item_count: usize,
        size_bytes: usize,
    ) -> Json {
        let mut key_schema = vec![json!({"AttributeName": self.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &self.range {
            key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        let mut projection = json!({"ProjectionType": self.projection});
        if self.projection == "INCLUDE" {
            projection["NonKeyAttributes"] = json!(self.non_key);
        }
        let mut out = json!({
            "IndexName": self.name,
            "KeySchema": key_schema,
            "Projection": projection,
            "IndexSizeBytes": size_bytes,
            "ItemCount": item_count,
            "IndexArn": format!("{table_arn}/index/{}", self.name),
        });
        if self.global {
            out["IndexStatus"] = json!(status);
            if status == "CREATING" {
                out["Backfilling"] = json!(true);
            }
            out["ProvisionedThroughput"] = json!({
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": self.read_capacity,
                "WriteCapacityUnits": self.write_capacity,
            });
        }
        out
    }
}

/// One index definition as a request gives it (CreateTable, or UpdateTable's `Create`).
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct IndexInput {
    index_name: Option<String>,
    key_schema: Option<Vec<KeySchemaInput>>,
    projection: Option<ProjectionInput>,
    provisioned_throughput: Option<ThroughputInput>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct KeySchemaInput {
    attribute_name: Option<String>,
    key_type: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct ProjectionInput {
    projection_type: Option<String>,
    non_key_attributes: Option<Vec<String>>,
}

/// ProvisionedThroughput as a request gives it.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ThroughputInput {
    /// ReadCapacityUnits.
    pub read_capacity_units: Option<i64>,
    /// WriteCapacityUnits.
    pub write_capacity_units: Option<i64>,
}

impl IndexInput {
    /// The key attribute names this definition uses.
    pub(crate) fn key_names(&self) -> Vec<String> {
        self.key_schema
            .iter()
            .flatten()
            .filter_map(|k| k.attribute_name.clone())
            .collect()
    }

    /// IndexName, if given.
    pub(crate) fn name(&self) -> Option<&str> {
        self.index_name.as_deref()
    }
}

fn invalid(msg: impl AsRef<str>) -> ApiError {
    ApiError::new(
        "ValidationException",
        format!("One or more parameter values were invalid: {}", msg.as_ref()),
    )
}

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

/// Member-level constraint failures of index definitions (`member` is e.g.
/// `globalSecondaryIndexes`), in AWS's "N validation errors detected" form.
pub(crate) fn constraint_failures(list: &[IndexInput], member: &str, failures: &mut Vec<String>) {
    for (i, ix) in list.iter().enumerate() {
        let at = format!("{member}.{}.member", i + 1);
        match ix.index_name.as_deref() {
            None => failures.push(not_null(&format!("{at}.indexName"))),
            Some(n) if n.len() < 3 || n.len() > 255 => failures.push(constraint(
                n,
                &format!("{at}.indexName"),
                "have length between 3 and 255",
            )),
            Some(n)
                if !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) =>
            {
                failures.push(constraint(
                    n,
                    &format!("{at}.indexName"),
                    "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                ))
            }
            Some(_) => {}
        }
        match &ix.key_schema {
            None => failures.push(not_null(&format!("{at}.keySchema"))),
            Some(ks) => {
                if ks.is_empty() || ks.len() > 2 {
                    let bound = if ks.is_empty() {
                        "have length greater than or equal to 1"
                    } else {
                        "have length less than or equal to 2"
                    };
                    failures.push(constraint("[...]", &format!("{at}.keySchema"), bound));
                }
                for (j, k) in ks.iter().enumerate() {
                    let kat = format!("{at}.keySchema.{}.member", j + 1);
                    match k.key_type.as_deref() {
                        None => failures.push(not_null(&format!("{kat}.keyType"))),
                        Some("HASH" | "RANGE") => {}
                        Some(o) => failures.push(constraint(
                            o,
                            &format!("{kat}.keyType"),
                            "satisfy enum value set: [HASH, RANGE]",
                        )),
                    }
                    if k.attribute_name.is_none() {
                        failures.push(not_null(&format!("{kat}.attributeName")));
                    }
                }
            }
        }
        match &ix.projection {
            None => failures.push(not_null(&format!("{at}.projection"))),
            Some(p) => match p.projection_type.as_deref() {
                None | Some("ALL" | "KEYS_ONLY" | "INCLUDE") => {}
                Some(o) => failures.push(constraint(
                    o,
                    &format!("{at}.projection.projectionType"),
                    "satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
                )),
            },
        }
        if let Some(t) = &ix.provisioned_throughput {
            for (v, m) in [
                (t.read_capacity_units, "readCapacityUnits"),
                (t.write_capacity_units, "writeCapacityUnits"),
            ] {
                let member = format!("{at}.provisionedThroughput.{m}");
                match v {
                    None => failures.push(not_null(&member)),
                    Some(n) if n < 1 => failures.push(constraint(
                        &n.to_string(),
                        &member,
                        "have value greater than or equal to 1",
                    )),
                    Some(_) => {}
                }
            }
        }
    }
}

/// What an index definition is checked against.
pub(crate) struct Context<'a> {
    /// The table's AttributeDefinitions (after the request's additions).
    pub defs: &'a [KeyDef],
    /// The table's partition key name.
    pub table_hash: &'a str,
    /// Whether the table has a sort key.
    pub table_has_range: bool,
    /// The table's billing mode (after the request).
    pub billing_mode: &'a str,
    /// Creation time for the new indexes.
    pub created_ms: u64,
}

/// Validates one index definition (already past [`constraint_failures`]) into its metadata.
pub(crate) fn validate(ix: &IndexInput, global: bool, cx: &Context<'_>) -> Result<IndexMeta, ApiError> {
    let name = ix.index_name.clone().unwrap_or_default();
    let ks = ix.key_schema.clone().unwrap_or_default();
    let keys: Vec<String> = ks.iter().filter_map(|k| k.attribute_name.clone()).collect();
    let def_names: Vec<&str> = cx.defs.iter().map(|d| d.name.as_str()).collect();
    if keys.iter().any(|k| !def_names.contains(&k.as_str())) {
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
    if ks.first().and_then(|k| k.key_type.as_deref()) != Some("HASH") {
        return Err(validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if ks.len() == 2 && ks[1].key_type.as_deref() != Some("RANGE") {
        return Err(validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    if !global {
        if ks.len() != 2 {
            return Err(invalid(format!(
                "Index KeySchema does not have a range key for index: {name}"
            )));
        }
        if keys[0] != cx.table_hash {
            return Err(invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                keys[0], cx.table_hash
            )));
        }
    }
    let projection = ix.projection.clone().unwrap_or(ProjectionInput {
        projection_type: None,
        non_key_attributes: None,
    });
    let Some(ptype) = projection.projection_type.clone() else {
        return Err(invalid("Unknown ProjectionType: null"));
    };
    if projection.non_key_attributes.is_some() && ptype != "INCLUDE" {
        return Err(invalid(format!(
            "ProjectionType is {ptype}, but NonKeyAttributes is specified"
        )));
    }
    let (read, write) = match (&ix.provisioned_throughput, global, cx.billing_mode) {
        (Some(_), true, "PAY_PER_REQUEST") => {
            return Err(invalid(format!(
                "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
            )))
        }
        (Some(t), true, _) => (
            t.read_capacity_units.unwrap_or(0),
            t.write_capacity_units.unwrap_or(0),
        ),
        (None, true, "PROVISIONED") => {
            return Err(invalid(format!(
                "ProvisionedThroughput must be specified for index: {name}"
            )))
        }
        _ => (0, 0),
    };
    let def_of = |n: &str| cx.defs.iter().find(|d| d.name == n).cloned();
    let hash = def_of(&keys[0]).ok_or_else(|| validation("Invalid KeySchema"))?;
    let range = match keys.get(1) {
        Some(k) => Some(def_of(k).ok_or_else(|| validation("Invalid KeySchema"))?),
        None => None,
    };
    Ok(IndexMeta {
        name,
        global,
        hash,
        range,
        projection: ptype,
        non_key: projection.non_key_attributes.unwrap_or_default(),
        read_capacity: read,
        write_capacity: write,
        created_ms: cx.created_ms,
    })
}

/// Validates CreateTable's index lists together (emptiness, duplicates, per-table limits).
pub(crate) fn validate_create(
    gsis: Option<&[IndexInput]>,
    lsis: Option<&[IndexInput]>,
    cx: &Context<'_>,
) -> Result<Vec<IndexMeta>, ApiError> {
    let mut out: Vec<IndexMeta> = Vec::new();
    if let Some(lsis) = lsis {
        if lsis.is_empty() {
            return Err(invalid("List of LocalSecondaryIndexes is empty"));
        }
        if !cx.table_has_range {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        for ix in lsis {
            let meta = validate(ix, false, cx)?;
            if out.iter().any(|o| o.name == meta.name) {
                return Err(invalid(format!("Duplicate index name: {}", meta.name)));
            }
            out.push(meta);
        }
        if lsis.len() > MAX_LSIS {
            return Err(invalid(
                "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
            ));
        }
    }
    if let Some(gsis) = gsis {
        if gsis.is_empty() {
            return Err(invalid("List of GlobalSecondaryIndexes is empty"));
        }
        for ix in gsis {
            let meta = validate(ix, true, cx)?;
            if out.iter().any(|o| o.name == meta.name) {
                return Err(invalid(format!("Duplicate index name: {}", meta.name)));
            }
            out.push(meta);
        }
        if gsis.len() > MAX_GSIS {
            return Err(invalid(
                "GlobalSecondaryIndex count exceeds the per-table limit of 20",
            ));
        }
    }
    Ok(out)
}

/// How many GSIs a table may have.
pub(crate) fn max_gsis() -> usize {
    MAX_GSIS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dynamodb::value::item_from_json;

    fn def(name: &str, ty: &str) -> KeyDef {
        KeyDef {
            name: name.into(),
            ty: ty.into(),
        }
    }

    fn meta(projection: &str, non_key: &[&str]) -> IndexMeta {
        IndexMeta {
            name: "byOwner".into(),
            global: true,
            hash: def("owner", "S"),
            range: Some(def("n", "N")),
            projection: projection.into(),
            non_key: non_key.iter().map(|s| s.to_string()).collect(),
            read_capacity: 0,
            write_capacity: 0,
            created_ms: 0,
        }
    }

    fn item(j: Json) -> Item {
        item_from_json(j.as_object().expect("object")).expect("item")
    }

    #[test]
    fn sparse_and_typed_entries() {
        let m = meta("ALL", &[]);
        let key = (KeyVal::S("k".into()), KeyVal::None);
        assert!(m
            .entry_of(&item(json!({"k": {"S": "k"}, "owner": {"S": "w"}})), &key)
            .is_none());
        assert!(m
            .entry_of(
                &item(json!({"k": {"S": "k"}, "owner": {"S": "w"}, "n": {"N": "1"}})),
                &key
            )
            .is_some());
        let err = m
            .check_item(&item(json!({"owner": {"N": "1"}})))
            .expect_err("mistyped");
        assert_eq!(
            err.message,
            "One or more parameter values were invalid: Type mismatch for Index Key owner Expected: S Actual: N IndexName: byOwner"
        );
        assert!(m.check_item(&item(json!({"other": {"N": "1"}}))).is_ok());
    }

    #[test]
    fn projections_keep_the_right_attributes() {
        let it = item(
            json!({"k": {"S": "k"}, "owner": {"S": "w"}, "n": {"N": "1"}, "a": {"S": "a"}, "b": {"S": "b"}}),
        );
        assert_eq!(meta("ALL", &[]).project(&it, &["k"]).len(), 5);
        let keys = meta("KEYS_ONLY", &[]).project(&it, &["k"]);
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["k", "n", "owner"]);
        let inc = meta("INCLUDE", &["a"]).project(&it, &["k"]);
        assert_eq!(inc.keys().collect::<Vec<_>>(), ["a", "k", "n", "owner"]);
    }
}
