//! Query and Scan: key conditions, filters, projections, Select COUNT, segments and paging
//! (`Limit`, `ExclusiveStartKey`/`LastEvaluatedKey`, the 1 MB page cap).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::expr::eval::{matches, project};
use super::expr::{CmpOp, Cond, Operand, Path, PathElem};
use super::indexes;
use super::legacy::{self, LegacyCondition};
use super::params;
use super::tables::{key_val, Key, KeyDef, KeyVal};
use super::value::{item_from_json, item_size, item_to_json, Item, Value};
use super::Store;
use crate::engine::error::{constraint, ApiError};
use crate::engine::EngineConfig;

/// A page stops once it has read this much.
const PAGE_BYTES: usize = 1024 * 1024;

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

/// Query and Scan share one input shape; Query's extra members are ignored by Scan.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReadInput {
    table_name: Option<String>,
    index_name: Option<String>,
    limit: Option<i64>,
    exclusive_start_key: Option<Map<String, Json>>,
    select: Option<String>,
    consistent_read: Option<bool>,
    key_condition_expression: Option<String>,
    key_conditions: Option<BTreeMap<String, LegacyCondition>>,
    filter_expression: Option<String>,
    query_filter: Option<BTreeMap<String, LegacyCondition>>,
    scan_filter: Option<BTreeMap<String, LegacyCondition>>,
    conditional_operator: Option<String>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    scan_index_forward: Option<bool>,
    segment: Option<i64>,
    total_segments: Option<i64>,
    return_consumed_capacity: Option<String>,
}

/// The partition a Query reads and the sort-key condition within it.
struct KeyCondition {
    hash: KeyVal,
    range: Option<Cond>,
}

/// Runs a Query (`is_query`) or a Scan.
pub(crate) fn read(
    store: &Store,
    config: &EngineConfig,
    input: ReadInput,
    is_query: bool,
) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let limit = match input.limit {
        Some(l) if l < 1 => {
            return Err(ApiError::validation(&[constraint(
                &l.to_string(),
                "limit",
                "have value greater than or equal to 1",
            )]))
        }
        Some(l) => Some(l as usize),
        None => None,
    };
    let select = input.select.as_deref().unwrap_or("");
    if !matches!(
        select,
        "" | "ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT"
    ) {
        return Err(ApiError::validation(&[constraint(
            select,
            "select",
            "satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
        )]));
    }
    let segment = segments(input.segment, input.total_segments)?;

    let filter_legacy = if is_query {
        &input.query_filter
    } else {
        &input.scan_filter
    };
    let filter_legacy_name = if is_query { "QueryFilter" } else { "ScanFilter" };
    let mut exprs = vec![
        ("ProjectionExpression", input.projection_expression.is_some()),
        ("FilterExpression", input.filter_expression.is_some()),
    ];
    let mut legacy_params = vec![
        ("AttributesToGet", input.attributes_to_get.is_some()),
        (filter_legacy_name, filter_legacy.is_some()),
    ];
    if is_query {
        exprs.push(("KeyConditionExpression", input.key_condition_expression.is_some()));
        // KeyConditions may accompany expressions when KeyConditionExpression is absent.
        if input.key_condition_expression.is_some() {
            legacy_params.push(("KeyConditions", input.key_conditions.is_some()));
        }
    }
    params::check_mix(
        &exprs,
        &legacy_params,
        input.expression_attribute_names.is_some(),
        input.expression_attribute_values.is_some(),
    )?;
    let mut ph = params::placeholders(
        input.expression_attribute_names.as_ref(),
        input.expression_attribute_values.as_ref(),
    )?;
    let key_cond = if is_query {
        match params::condition(
            "KeyConditionExpression",
            input.key_condition_expression.as_deref(),
            &mut ph,
        )? {
            Some(c) => Some(c),
            None => match &input.key_conditions {
                Some(k) => legacy::conditions(k, None)?,
                None => None,
            },
        }
    } else {
        None
    };
    let filter = match params::condition("FilterExpression", input.filter_expression.as_deref(), &mut ph)? {
        Some(c) => Some(c),
        None => match filter_legacy {
            Some(f) => legacy::conditions(f, input.conditional_operator.as_deref())?,
            None => None,
        },
    };
    let projection: Option<Vec<Path>> =
        match params::projection(input.projection_expression.as_deref(), &mut ph)? {
            Some(p) => Some(p),
            None => input.attributes_to_get.as_deref().map(legacy::attributes_to_get),
        };
    params::check_unused(&ph)?;
    if is_query && key_cond.is_none() {
        return Err(validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ));
    }

    let table = store.active_table(&name, config)?;
    let index = match &input.index_name {
        Some(ix) => {
            let Some(meta) = table.index(ix) else {
                return Err(validation(format!(
                    "The table does not have the specified index: {ix}"
                )));
            };
            if meta.global && input.consistent_read == Some(true) {
                return Err(validation(
                    "Consistent reads are not supported on global secondary indexes",
                ));
            }
            if meta.global && table.index_status(meta, config) == "CREATING" {
                return Err(validation(format!(
                    "Cannot read from backfilling global secondary index: {ix}"
                )));
            }
            Some(meta)
        }
        None => None,
    };
    if select == "ALL_PROJECTED_ATTRIBUTES" && index.is_none() {
        return Err(validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is not supported for a query or scan on a table, use ALL_ATTRIBUTES instead",
        ));
    }
    if select == "SPECIFIC_ATTRIBUTES" && projection.is_none() {
        return Err(validation(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression",
        ));
    }
    if !matches!(select, "" | "SPECIFIC_ATTRIBUTES") && projection.is_some() {
        return Err(validation(format!(
            "One or more parameter values were invalid: Select type {select} and ProjectionExpression or AttributesToGet cannot be used together"
        )));
    }
    // ALL_ATTRIBUTES on an index that does not hold them all: an LSI fetches from the table,
    // a GSI cannot.
    let whole_items = match index {
        Some(ix) if select == "ALL_ATTRIBUTES" && ix.projection != "ALL" => {
            if ix.global {
                return Err(validation(format!(
                    "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                    ix.name
                )));
            }
            true
        }
        Some(_) => false,
        None => true,
    };
    let table_keys = table.key_names();
    // The key schema the read follows: the index's, or the table's.
    let (hash_def, range_def) = match index {
        Some(ix) => (&ix.hash, ix.range.as_ref()),
        None => (&table.meta.hash, table.meta.range.as_ref()),
    };
    let key_cond = match key_cond {
        Some(c) => Some(key_condition(c, hash_def, range_def)?),
        None => None,
    };
    if let (true, Some(f)) = (is_query, &filter) {
        let mut keys = vec![hash_def.name.as_str()];
        keys.extend(range_def.map(|r| r.name.as_str()));
        if let Some(k) = first_key_attr(f, &keys) {
            return Err(validation(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
            )));
        }
    }
    let start: Option<(Key, Item)> = match &input.exclusive_start_key {
        Some(map) => {
            let item = item_from_json(map)?;
            let mut names: Vec<&str> = table_keys.clone();
            if let Some(ix) = index {
                for k in ix.key_names() {
                    if !names.contains(&k) {
                        names.push(k);
                    }
                }
            }
            if item.len() != names.len() || names.iter().any(|n| !item.contains_key(*n)) {
                return Err(validation("The provided starting key is invalid"));
            }
            let table_part: Item = table.key_item(&item);
            let key = table
                .key_of(&table_part)
                .map_err(|e| validation(format!("The provided starting key is invalid: {}", e.message)))?;
            if let Some(ix) = index {
                ix.check_item(&item).map_err(|e| {
                    validation(format!("The provided starting key is invalid: {}", e.message))
                })?;
            }
            if let Some(kc) = &key_cond {
                check_start(kc, &item, hash_def)?;
            }
            Some((key, item))
        }
        None => None,
    };

    let forward = input.scan_index_forward.unwrap_or(true);
    let candidates: Box<dyn Iterator<Item = &Item>> = match index {
        None => {
            let start = start.as_ref().map(|(k, _)| k.clone());
            let by_key: Box<dyn Iterator<Item = (&Key, &Item)>> = match &key_cond {
                Some(kc) => {
                    let lo = (kc.hash.clone(), KeyVal::Min);
                    let hi = (kc.hash.clone(), KeyVal::Max);
                    match (start, forward) {
                        (None, true) => Box::new(table.items.range(lo..hi)),
                        (None, false) => Box::new(table.items.range(lo..hi).rev()),
                        (Some(s), true) => {
                            Box::new(table.items.range((Bound::Excluded(s), Bound::Excluded(hi))))
                        }
                        (Some(s), false) => {
                            Box::new(table.items.range((Bound::Excluded(lo), Bound::Excluded(s))).rev())
                        }
                    }
                }
                None => match start {
                    None => Box::new(table.items.iter()),
                    Some(s) => Box::new(table.items.range((Bound::Excluded(s), Bound::Unbounded))),
                },
            };
            Box::new(by_key.map(|(_, item)| item))
        }
        Some(ix) => {
            let entries = table.indexes.get(&ix.name).ok_or_else(|| {
                validation(format!(
                    "The table does not have the specified index: {}",
                    ix.name
                ))
            })?;
            let start = match &start {
                Some((key, item)) => Some(
                    ix.entry_of(item, key)
                        .ok_or_else(|| validation("The provided starting key is invalid"))?,
                ),
                None => None,
            };
            let by_entry: Box<dyn Iterator<Item = &indexes::Entry>> = match &key_cond {
                Some(kc) => {
                    let lo = (kc.hash.clone(), KeyVal::Min, (KeyVal::Min, KeyVal::Min));
                    let hi = (kc.hash.clone(), KeyVal::Max, (KeyVal::Max, KeyVal::Max));
                    match (start, forward) {
                        (None, true) => Box::new(entries.range(lo..hi)),
                        (None, false) => Box::new(entries.range(lo..hi).rev()),
                        (Some(s), true) => Box::new(entries.range((Bound::Excluded(s), Bound::Excluded(hi)))),
                        (Some(s), false) => {
                            Box::new(entries.range((Bound::Excluded(lo), Bound::Excluded(s))).rev())
                        }
                    }
                }
                None => match start {
                    None => Box::new(entries.iter()),
                    Some(s) => Box::new(entries.range((Bound::Excluded(s), Bound::Unbounded))),
                },
            };
            Box::new(by_entry.filter_map(|(_, _, k)| table.items.get(k)))
        }
    };

    let mut items: Vec<Cow<'_, Item>> = Vec::new();
    let mut scanned = 0usize;
    let mut bytes = 0usize;
    let mut last: Option<&Item> = None;
    let mut truncated = false;
    for item in candidates {
        if let Some((seg, total)) = segment {
            let hash = item.get(&hash_def.name).and_then(|v| key_val(v, &hash_def.ty));
            if hash.is_none_or(|h| segment_of(&h, total) != seg) {
                continue;
            }
        }
        if let Some(KeyCondition { range: Some(rc), .. }) = &key_cond {
            if !matches(rc, item) {
                continue;
            }
        }
        if limit.is_some_and(|l| scanned >= l) || bytes >= PAGE_BYTES {
            truncated = true;
            break;
        }
        scanned += 1;
        last = Some(item);
        // What the index holds of the item is what a read on the index sees.
        let seen = match index {
            Some(ix) if ix.projection != "ALL" => Cow::Owned(ix.project(item, &table_keys)),
            _ => Cow::Borrowed(item),
        };
        bytes += item_size(&seen);
        if filter.as_ref().is_none_or(|f| matches(f, &seen)) {
            if select == "COUNT" {
                items.push(Cow::Owned(Item::new()));
                continue;
            }
            let shown = match &projection {
                Some(p) => Cow::Owned(project(if whole_items { item } else { &seen }, p)),
                None if whole_items => Cow::Borrowed(item),
                None => seen,
            };
            items.push(shown);
        }
    }
    // DynamoDB also answers a LastEvaluatedKey when the Limit was reached exactly at the end.
    if limit.is_some_and(|l| scanned >= l) {
        truncated = true;
    }

    let mut out = Map::new();
    out.insert("Count".into(), json!(items.len()));
    out.insert("ScannedCount".into(), json!(scanned));
    if select != "COUNT" {
        let rendered: Vec<Json> = items.iter().map(|i| Json::Object(item_to_json(i))).collect();
        out.insert("Items".into(), Json::Array(rendered));
    }
    if truncated {
        if let Some(last) = last {
            let mut key = table.key_item(last);
            if let Some(ix) = index {
                for k in ix.key_names() {
                    if let Some(v) = last.get(k) {
                        key.insert(k.to_string(), v.clone());
                    }
                }
            }
            out.insert("LastEvaluatedKey".into(), Json::Object(item_to_json(&key)));
        }
    }
    let units = params::read_units(bytes, input.consistent_read.unwrap_or(false));
    match index {
        Some(ix) => params::consumed_by_index(
            &mut out,
            input.return_consumed_capacity.as_deref(),
            &name,
            0.0,
            &[(ix.name.clone(), ix.global, units)],
        ),
        None => params::consumed(&mut out, input.return_consumed_capacity.as_deref(), &name, units),
    }
    Ok(Json::Object(out))
}

/// Refuses an ExclusiveStartKey outside the Query's key condition, as DynamoDB does (a start
/// key in another partition once made the range scan below panic).
fn check_start(kc: &KeyCondition, start: &Item, hash_def: &KeyDef) -> Result<(), ApiError> {
    let start_hash = start.get(&hash_def.name).and_then(|v| key_val(v, &hash_def.ty));
    let same_partition = start_hash.as_ref() == Some(&kc.hash);
    match &kc.range {
        None if !same_partition => Err(validation(
            "The provided starting key is outside query boundaries based on provided conditions",
        )),
        None => Ok(()),
        Some(rc) => {
            if !matches(rc, start) {
                return Err(validation(
                    "The provided starting key does not match the range key predicate",
                ));
            }
            if !same_partition {
                return Err(validation(
                    "The query can return at most one row and cannot be restarted",
                ));
            }
            Ok(())
        }
    }
}

fn segments(segment: Option<i64>, total: Option<i64>) -> Result<Option<(u64, u64)>, ApiError> {
    match (segment, total) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(validation(
            "The TotalSegments parameter is required but was not present in the request when parameter Segment is present",
        )),
        (None, Some(_)) => Err(validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )),
        (Some(s), Some(t)) => {
            if !(1..=1_000_000).contains(&t) {
                return Err(ApiError::validation(&[constraint(
                    &t.to_string(),
                    "totalSegments",
                    "have value between 1 and 1000000",
                )]));
            }
            if s < 0 {
                return Err(ApiError::validation(&[constraint(
                    &s.to_string(),
                    "segment",
                    "have value greater than or equal to 0",
                )]));
            }
            if s >= t {
                return Err(validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                )));
            }
            Ok(Some((s as u64, t as u64)))
        }
    }
}

/// Which scan segment a partition belongs to: a stable hash of the partition key.
fn segment_of(hash: &KeyVal, total: u64) -> u64 {
    let bytes: Vec<u8> = match hash {
        KeyVal::S(s) => s.as_bytes().to_vec(),
        KeyVal::N(n) => n.to_string().into_bytes(),
        KeyVal::B(b) => b.clone(),
        _ => Vec::new(),
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % total
}

fn first_key_attr(cond: &Cond, keys: &[&str]) -> Option<String> {
    let check = |op: &Operand| match op {
        Operand::Path(p) | Operand::Size(p) => match p.first() {
            Some(PathElem::Attr(a)) if keys.contains(&a.as_str()) => Some(a.clone()),
            _ => None,
        },
        Operand::Value(_) => None,
    };
    let path_op = |p: &Path| check(&Operand::Path(p.clone()));
    match cond {
        Cond::And(a, b) | Cond::Or(a, b) => first_key_attr(a, keys).or_else(|| first_key_attr(b, keys)),
        Cond::Not(a) => first_key_attr(a, keys),
        Cond::Cmp(a, _, b) | Cond::BeginsWith(a, b) | Cond::Contains(a, b) => check(a).or_else(|| check(b)),
        Cond::Between(a, b, c) => check(a).or_else(|| check(b)).or_else(|| check(c)),
        Cond::In(a, list) => check(a).or_else(|| list.iter().find_map(check)),
        Cond::Exists(p) | Cond::NotExists(p) => path_op(p),
        Cond::AttrType(p, t) => path_op(p).or_else(|| check(t)),
    }
}

/// Splits a key condition into the partition key's value and the sort-key condition.
fn key_condition(
    cond: Cond,
    hash_def: &KeyDef,
    range_def: Option<&KeyDef>,
) -> Result<KeyCondition, ApiError> {
    let invalid = |m: String| validation(format!("Invalid KeyConditionExpression: {m}"));
    let mut parts = Vec::new();
    flatten_and(cond, &mut parts).map_err(invalid)?;
    let mut by_attr: BTreeMap<String, Cond> = BTreeMap::new();
    for part in parts {
        let (attr, normalized) = key_part(part).map_err(invalid)?;
        if by_attr.insert(attr, normalized).is_some() {
            return Err(invalid(
                "KeyConditionExpressions must only contain one condition per key".to_string(),
            ));
        }
    }
    let Some(hash_cond) = by_attr.remove(&hash_def.name) else {
        return Err(validation(format!(
            "Query condition missed key schema element: {}",
            hash_def.name
        )));
    };
    let unsupported = || validation("Query key condition not supported");
    let Cond::Cmp(_, CmpOp::Eq, Operand::Value(hash_value)) = hash_cond else {
        return Err(unsupported());
    };
    let type_mismatch = || {
        validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    };
    if hash_value.type_name() != hash_def.ty {
        return Err(type_mismatch());
    }
    let hash = match hash_value {
        Value::S(s) => KeyVal::S(s),
        Value::N(n) => KeyVal::N(n),
        Value::B(b) => KeyVal::B(b),
        _ => return Err(type_mismatch()),
    };
    let range = match (range_def, by_attr.len()) {
        (_, 0) => None,
        (Some(r), 1) => {
            let Some(c) = by_attr.remove(&r.name) else {
                return Err(unsupported());
            };
            let values: Vec<&Value> = match &c {
                Cond::Cmp(_, _, Operand::Value(v)) | Cond::BeginsWith(_, Operand::Value(v)) => vec![v],
                Cond::Between(_, Operand::Value(a), Operand::Value(b)) => vec![a, b],
                _ => return Err(unsupported()),
            };
            if values.iter().any(|v| v.type_name() != r.ty) {
                return Err(type_mismatch());
            }
            if matches!(c, Cond::BeginsWith(..)) && r.ty == "N" {
                return Err(invalid(
                    "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N".to_string(),
                ));
            }
            Some(c)
        }
        _ => return Err(unsupported()),
    };
    Ok(KeyCondition { hash, range })
}

fn flatten_and(cond: Cond, out: &mut Vec<Cond>) -> Result<(), String> {
    match cond {
        Cond::And(a, b) => {
            flatten_and(*a, out)?;
            flatten_and(*b, out)
        }
        Cond::Or(..) => Err("Invalid operator used in KeyConditionExpression: OR".to_string()),
        Cond::Not(..) => Err("Invalid operator used in KeyConditionExpression: NOT".to_string()),
        Cond::In(..) => Err("Invalid operator used in KeyConditionExpression: IN".to_string()),
        Cond::Cmp(_, CmpOp::Ne, _) => Err("Invalid operator used in KeyConditionExpression: <>".to_string()),
        Cond::Exists(_) => {
            Err("Invalid operator used in KeyConditionExpression: attribute_exists".to_string())
        }
        Cond::NotExists(_) => {
            Err("Invalid operator used in KeyConditionExpression: attribute_not_exists".to_string())
        }
        Cond::AttrType(..) => {
            Err("Invalid operator used in KeyConditionExpression: attribute_type".to_string())
        }
        Cond::Contains(..) => Err("Invalid operator used in KeyConditionExpression: contains".to_string()),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

/// One key condition with the key attribute on the left; returns the attribute's name.
fn key_part(cond: Cond) -> Result<(String, Cond), String> {
    let attr_of = |p: &Path| -> Result<String, String> {
        match p.as_slice() {
            [PathElem::Attr(a)] => Ok(a.clone()),
            _ => Err("KeyConditionExpressions cannot have conditions on nested attributes".to_string()),
        }
    };
    let nested = || "KeyConditionExpressions cannot contain nested operations".to_string();
    match cond {
        Cond::Cmp(a, op, b) => {
            let (path, op, value) = match (a, b) {
                (Operand::Size(_), _) | (_, Operand::Size(_)) => return Err(nested()),
                (Operand::Path(_), Operand::Path(_)) => {
                    return Err(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
                            .to_string(),
                    )
                }
                (Operand::Path(p), v) => (p, op, v),
                (v, Operand::Path(p)) => {
                    let flipped = match op {
                        CmpOp::Lt => CmpOp::Gt,
                        CmpOp::Le => CmpOp::Ge,
                        CmpOp::Gt => CmpOp::Lt,
                        CmpOp::Ge => CmpOp::Le,
                        other => other,
                    };
                    (p, flipped, v)
                }
                _ => {
                    return Err(
                        "Invalid condition in KeyConditionExpression: No key attribute specified".to_string(),
                    )
                }
            };
            let attr = attr_of(&path)?;
            Ok((attr, Cond::Cmp(Operand::Path(path), op, value)))
        }
        Cond::Between(Operand::Path(p), lo, hi) => {
            if matches!(lo, Operand::Path(_)) || matches!(hi, Operand::Path(_)) {
                return Err(
                    "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
                        .to_string(),
                );
            }
            let attr = attr_of(&p)?;
            Ok((attr, Cond::Between(Operand::Path(p), lo, hi)))
        }
        Cond::Between(..) => Err(
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"
                .to_string(),
        ),
        Cond::BeginsWith(Operand::Path(p), v) => {
            let attr = attr_of(&p)?;
            Ok((attr, Cond::BeginsWith(Operand::Path(p), v)))
        }
        Cond::BeginsWith(..) => Err(
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"
                .to_string(),
        ),
        _ => Err(nested()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_validated() {
        assert!(segments(None, None).expect("none").is_none());
        assert_eq!(segments(Some(1), Some(4)).expect("ok"), Some((1, 4)));
        assert!(segments(Some(4), Some(4)).is_err());
        assert!(segments(Some(0), None).is_err());
        let all: std::collections::BTreeSet<u64> = (0..100)
            .map(|i| segment_of(&KeyVal::S(format!("k{i}")), 4))
            .collect();
        assert_eq!(all.len(), 4, "keys spread over every segment");
    }
}
