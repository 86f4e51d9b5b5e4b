//! BatchWriteItem and BatchGetItem: many items in one request, with DynamoDB's limits (25
//! writes, 16 MB; 100 keys; no key twice). Everything is processed here, so `UnprocessedItems`
//! and `UnprocessedKeys` are always empty; the writes of one batch are journaled together.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::expr::eval::project;
use super::items::{index_write_units, plan_delete, plan_put};
use super::legacy;
use super::params;
use super::tables::{self, Key};
use super::value::{item_size, item_to_json, Item};
use super::{Store, Write};
use crate::engine::error::{constraint, not_null, ApiError};
use crate::engine::EngineConfig;

/// Most write requests in one BatchWriteItem.
const MAX_WRITES: usize = 25;
/// Most keys in one BatchGetItem.
const MAX_GETS: usize = 100;
/// Largest BatchWriteItem request.
const MAX_WRITE_BYTES: usize = 16 * 1024 * 1024;

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

fn check_request_items<T>(items: Option<&BTreeMap<String, T>>) -> Result<&BTreeMap<String, T>, ApiError> {
    let Some(items) = items else {
        return Err(ApiError::validation(&[not_null("requestItems")]));
    };
    if items.is_empty() {
        return Err(ApiError::validation(&[constraint(
            "{}",
            "requestItems",
            "have length greater than or equal to 1",
        )]));
    }
    Ok(items)
}

/// BatchWriteItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchWriteInput {
    request_items: Option<BTreeMap<String, Vec<WriteRequest>>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WriteRequest {
    put_request: Option<PutRequest>,
    delete_request: Option<DeleteRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRequest {
    item: Option<Map<String, Json>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequest {
    key: Option<Map<String, Json>>,
}

/// BatchWriteItem: validated whole, then applied whole.
pub(crate) fn write(
    store: &mut Store,
    config: &EngineConfig,
    input: BatchWriteInput,
) -> Result<Json, ApiError> {
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let metrics = params::return_metrics(input.return_item_collection_metrics.as_deref())?;
    let request_items = check_request_items(input.request_items.as_ref())?;
    let mut failures = Vec::new();
    for (table, reqs) in request_items {
        if let Err(e) = tables::check_table_name(Some(table)) {
            failures.push(
                e.message
                    .trim_start_matches("1 validation error detected: ")
                    .to_string(),
            );
        }
        if reqs.is_empty() || reqs.len() > MAX_WRITES {
            let bound = if reqs.is_empty() {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 25"
            };
            failures.push(constraint(
                "[...]",
                &format!("requestItems.{table}.member"),
                bound,
            ));
        }
    }
    if !failures.is_empty() {
        return Err(ApiError::validation(&failures));
    }
    if request_items.values().map(Vec::len).sum::<usize>() > MAX_WRITES {
        return Err(validation("Too many items requested for the BatchWriteItem call"));
    }

    // Parse every request before touching a table.
    let mut parsed: Vec<(&str, Result<Item, Item>)> = Vec::new();
    let mut bytes = 0usize;
    for (table, reqs) in request_items {
        for r in reqs {
            match (&r.put_request, &r.delete_request) {
                (Some(p), None) => {
                    let item = params::required_item(p.item.as_ref(), "item")?;
                    bytes += item_size(&item);
                    parsed.push((table, Ok(item)));
                }
                (None, Some(d)) => {
                    let key = params::required_item(d.key.as_ref(), "key")?;
                    parsed.push((table, Err(key)));
                }
                _ => {
                    return Err(validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ))
                }
            }
        }
    }
    if bytes > MAX_WRITE_BYTES {
        return Err(validation(
            "Item collection size limit exceeded: the request is larger than 16 MB",
        ));
    }

    let mut writes: Vec<Write> = Vec::new();
    let mut seen: BTreeSet<(&str, Key)> = BTreeSet::new();
    let mut units: BTreeMap<&str, (f64, Vec<params::IndexUnits>)> = BTreeMap::new();
    let mut collections: BTreeMap<&str, Vec<Json>> = BTreeMap::new();
    for (name, req) in parsed {
        let table = store.active_table(name, config)?;
        let schema_error = |e: ApiError| {
            if e.message.contains("Missing the key") || e.message.contains("Type mismatch for key") {
                validation("The provided key element does not match the schema")
            } else {
                e
            }
        };
        let (write, old, new, key_item) = match req {
            Ok(item) => {
                let (w, old) = plan_put(table, item.clone(), None, false).map_err(schema_error)?;
                let key_item = table.key_item(&item);
                (Some(w), old, Some(item), key_item)
            }
            Err(key_item) => {
                let key = table.key_of(&key_item)?;
                if !seen.insert((name, key.clone())) {
                    return Err(validation("Provided list of item keys contains duplicates"));
                }
                let (w, old) = plan_delete(table, &key_item, None, false)?;
                // A key written twice in one batch is refused above; deletes of absent items
                // still count, so remember the key even without a write.
                (w, old, None, key_item)
            }
        };
        if let Some(w) = &write {
            if matches!(w, Write::Put { .. }) && !seen.insert((name, w.key().clone())) {
                return Err(validation("Provided list of item keys contains duplicates"));
            }
        }
        let entry = units.entry(name).or_insert((0.0, Vec::new()));
        entry.0 += params::write_units(
            new.as_ref()
                .map_or(0, item_size)
                .max(old.as_ref().map_or(0, item_size)),
        );
        entry
            .1
            .extend(index_write_units(table, old.as_ref(), new.as_ref()));
        if metrics {
            if let Some(m) = super::items::collection_metrics(table, &key_item) {
                collections.entry(name).or_default().push(m);
            }
        }
        writes.extend(write);
    }
    store.apply(writes)?;

    let mut out = Map::new();
    out.insert("UnprocessedItems".into(), json!({}));
    let capacity: Vec<Json> = units
        .iter()
        .filter_map(|(t, (u, ix))| {
            params::capacity(
                input.return_consumed_capacity.as_deref(),
                t,
                *u,
                &sum_by_index(ix),
            )
        })
        .collect();
    if !capacity.is_empty() {
        out.insert("ConsumedCapacity".into(), Json::Array(capacity));
    }
    if metrics {
        out.insert("ItemCollectionMetrics".into(), json!(collections));
    }
    Ok(Json::Object(out))
}

fn sum_by_index(units: &[params::IndexUnits]) -> Vec<params::IndexUnits> {
    let mut out: Vec<params::IndexUnits> = Vec::new();
    for (name, global, u) in units {
        match out.iter_mut().find(|o| &o.0 == name) {
            Some(o) => o.2 += u,
            None => out.push((name.clone(), *global, *u)),
        }
    }
    out
}

/// BatchGetItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchGetInput {
    request_items: Option<BTreeMap<String, KeysAndAttributes>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeysAndAttributes {
    keys: Option<Vec<Map<String, Json>>>,
    attributes_to_get: Option<Vec<String>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
}

/// BatchGetItem.
pub(crate) fn get(store: &Store, config: &EngineConfig, input: BatchGetInput) -> Result<Json, ApiError> {
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let request_items = check_request_items(input.request_items.as_ref())?;
    let mut failures = Vec::new();
    for (table, ka) in request_items {
        if let Err(e) = tables::check_table_name(Some(table)) {
            failures.push(
                e.message
                    .trim_start_matches("1 validation error detected: ")
                    .to_string(),
            );
        }
        match &ka.keys {
            None => failures.push(not_null(&format!("requestItems.{table}.member.keys"))),
            Some(k) if k.is_empty() || k.len() > MAX_GETS => failures.push(constraint(
                "[...]",
                &format!("requestItems.{table}.member.keys"),
                if k.is_empty() {
                    "have length greater than or equal to 1"
                } else {
                    "have length less than or equal to 100"
                },
            )),
            Some(_) => {}
        }
    }
    if !failures.is_empty() {
        return Err(ApiError::validation(&failures));
    }
    let mut total = 0usize;
    let mut plans = Vec::new();
    for (name, ka) in request_items {
        params::check_mix(
            &[("ProjectionExpression", ka.projection_expression.is_some())],
            &[("AttributesToGet", ka.attributes_to_get.is_some())],
            ka.expression_attribute_names.is_some(),
            false,
        )?;
        let mut ph = params::placeholders(ka.expression_attribute_names.as_ref(), None)?;
        let projection = match params::projection(ka.projection_expression.as_deref(), &mut ph)? {
            Some(p) => Some(p),
            None => ka.attributes_to_get.as_deref().map(legacy::attributes_to_get),
        };
        params::check_unused(&ph)?;
        let keys: Vec<Item> = ka
            .keys
            .iter()
            .flatten()
            .map(|k| params::required_item(Some(k), "key"))
            .collect::<Result<_, _>>()?;
        total += keys.len();
        if total > MAX_GETS {
            return Err(validation("Too many items requested for the BatchGetItem call"));
        }
        plans.push((name, keys, projection, ka.consistent_read.unwrap_or(false)));
    }

    let mut responses = Map::new();
    let mut capacity = Vec::new();
    for (name, keys, projection, consistent) in plans {
        let table = store.active_table(name, config)?;
        let mut seen = BTreeSet::new();
        let mut found = Vec::new();
        let mut units = 0.0;
        for key_item in &keys {
            let key = table.key_of(key_item)?;
            if !seen.insert(key.clone()) {
                return Err(validation("Provided list of item keys contains duplicates"));
            }
            let item = table.items.get(&key);
            units += params::read_units(item.map_or(0, item_size), consistent);
            if let Some(item) = item {
                let shown = match &projection {
                    Some(p) => project(item, p),
                    None => item.clone(),
                };
                found.push(Json::Object(item_to_json(&shown)));
            }
        }
        responses.insert(name.clone(), Json::Array(found));
        capacity.extend(params::capacity(
            input.return_consumed_capacity.as_deref(),
            name,
            units,
            &[],
        ));
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Json::Object(responses));
    out.insert("UnprocessedKeys".into(), json!({}));
    if !capacity.is_empty() {
        out.insert("ConsumedCapacity".into(), Json::Array(capacity));
    }
    Ok(Json::Object(out))
}
