//! Single-item operations: GetItem, PutItem, UpdateItem, DeleteItem.
//!
//! Each write checks its condition and applies its change while holding the store's lock, so
//! a conditional write is atomic per item: two clients racing on one lease cannot both win.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::expr::eval::{matches, project};
use super::expr::update::apply;
use super::expr::{Action, Cond};
use super::legacy::{self, AttributeUpdate, ExpectedAttribute};
use super::params::{self, IndexUnits, ReturnValues};
use super::tables::Table;
use super::value::{item_size, item_to_json, Item};
use super::{Store, Write};
use crate::engine::error::ApiError;
use crate::engine::EngineConfig;

/// Largest item DynamoDB stores.
const MAX_ITEM_BYTES: usize = 400 * 1024;

fn conditional_failed() -> ApiError {
    ApiError::new(
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
}

/// Checks a write's condition against the item as it is; a failure carries the item when
/// ReturnValuesOnConditionCheckFailure is `ALL_OLD` (`return_old`).
pub(crate) fn check_condition(
    cond: Option<&Cond>,
    old: Option<&Item>,
    return_old: bool,
) -> Result<(), ApiError> {
    let Some(c) = cond else { return Ok(()) };
    if matches(c, old.unwrap_or(&Item::new())) {
        return Ok(());
    }
    let err = conditional_failed();
    Err(match old {
        Some(o) if return_old => err.with_member("Item", Json::Object(item_to_json(o))),
        _ => err,
    })
}

/// A PutItem planned against the table as it is: the write and the item it replaces.
pub(crate) fn plan_put(
    table: &Table,
    item: Item,
    cond: Option<&Cond>,
    return_old: bool,
) -> Result<(Write, Option<Item>), ApiError> {
    let key = table.key_of_item(&item)?;
    check_size(&item)?;
    table.check_index_keys(&item)?;
    let old = table.items.get(&key);
    check_condition(cond, old, return_old)?;
    let old = old.cloned();
    Ok((
        Write::Put {
            table: table.meta.name.clone(),
            key,
            item,
        },
        old,
    ))
}

/// A planned write: the write itself (none when nothing changes), the old and the new image.
pub(crate) type Planned = (Option<Write>, Option<Item>, Option<Item>);

/// An UpdateItem planned: the write (none when nothing is created), the old and new images.
pub(crate) fn plan_update(
    table: &Table,
    key_item: &Item,
    actions: &[Action],
    cond: Option<&Cond>,
    return_old: bool,
) -> Result<Planned, ApiError> {
    let key = table.key_of(key_item)?;
    for a in actions {
        if let Some(super::expr::PathElem::Attr(first)) = a.path().first() {
            if table.key_names().contains(&first.as_str()) {
                let msg = if a.path().len() > 1 {
                    format!("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: {first}")
                } else {
                    format!("One or more parameter values were invalid: Cannot update attribute {first}. This attribute is part of the key")
                };
                return Err(ApiError::new("ValidationException", msg));
            }
            let index_key = table
                .meta
                .indexes
                .iter()
                .any(|ix| ix.key_names().contains(&first.as_str()));
            if index_key && a.path().len() > 1 {
                return Err(ApiError::new(
                    "ValidationException",
                    format!("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: {first}"),
                ));
            }
        }
    }
    let old = table.items.get(&key).cloned();
    check_condition(cond, old.as_ref(), return_old)?;
    // Without an item, only actions that add something create one (DynamoDB: "DELETE -
    // nothing happens; there is no attribute to delete").
    let creates = actions
        .iter()
        .any(|a| matches!(a, Action::Set(..) | Action::Add(..)));
    if old.is_none() && !creates {
        return Ok((None, None, None));
    }
    let base = old.clone().unwrap_or_else(|| key_item.clone());
    let new = apply(&base, actions).map_err(|m| ApiError::new("ValidationException", m))?;
    check_size(&new)?;
    table.check_index_keys(&new)?;
    let write = Write::Put {
        table: table.meta.name.clone(),
        key,
        item: new.clone(),
    };
    Ok((Some(write), old, Some(new)))
}

/// A DeleteItem planned: the write (none when there is no item) and the item it removes.
pub(crate) fn plan_delete(
    table: &Table,
    key_item: &Item,
    cond: Option<&Cond>,
    return_old: bool,
) -> Result<(Option<Write>, Option<Item>), ApiError> {
    let key = table.key_of(key_item)?;
    let old = table.items.get(&key);
    check_condition(cond, old, return_old)?;
    let old = old.cloned();
    let write = old.as_ref().map(|_| Write::Delete {
        table: table.meta.name.clone(),
        key,
        key_item: key_item.clone(),
    });
    Ok((write, old))
}

/// Write units each index spends on a change from `old` to `new`.
pub(crate) fn index_write_units(table: &Table, old: Option<&Item>, new: Option<&Item>) -> Vec<IndexUnits> {
    let keys = table.key_names();
    table
        .meta
        .indexes
        .iter()
        .filter_map(|ix| {
            let names = ix.key_names();
            let bytes = [old, new]
                .into_iter()
                .flatten()
                .filter(|i| names.iter().all(|k| i.contains_key(*k)))
                .map(|i| item_size(&ix.project(i, &keys)))
                .max()?;
            Some((ix.name.clone(), ix.global, params::write_units(bytes)))
        })
        .collect()
}

/// ItemCollectionMetrics for a write to a table with local secondary indexes.
pub(crate) fn collection_metrics(table: &Table, key_item: &Item) -> Option<Json> {
    if !table.meta.indexes.iter().any(|ix| !ix.global) {
        return None;
    }
    let hash = &table.meta.hash.name;
    let v = key_item.get(hash)?;
    Some(json!({
        "ItemCollectionKey": {hash: v.to_json()},
        "SizeEstimateRangeGB": [0.0, 1.0],
    }))
}

/// Adds ConsumedCapacity and ItemCollectionMetrics to a single-item write's answer.
#[allow(clippy::too_many_arguments)]
fn write_extras(
    out: &mut Map<String, Json>,
    table: &Table,
    capacity: Option<&str>,
    metrics: bool,
    key_item: &Item,
    old: Option<&Item>,
    new: Option<&Item>,
) {
    let units = params::write_units(new.map_or(0, item_size).max(old.map_or(0, item_size)));
    let ix = index_write_units(table, old, new);
    params::consumed_by_index(out, capacity, &table.meta.name, units, &ix);
    if metrics {
        if let Some(m) = collection_metrics(table, key_item) {
            out.insert("ItemCollectionMetrics".into(), m);
        }
    }
}

fn check_size(item: &Item) -> Result<(), ApiError> {
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(ApiError::new(
            "ValidationException",
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(())
}

fn with_attributes(out: &mut Map<String, Json>, attrs: Option<Item>) {
    if let Some(a) = attrs.filter(|a| !a.is_empty()) {
        out.insert("Attributes".into(), Json::Object(item_to_json(&a)));
    }
}

/// The condition of a write: ConditionExpression or Expected, checked and parsed.
#[allow(clippy::too_many_arguments)]
fn write_condition(
    condition_expression: Option<&str>,
    expected: Option<&BTreeMap<String, ExpectedAttribute>>,
    conditional_operator: Option<&str>,
    names: Option<&BTreeMap<String, String>>,
    values: Option<&Map<String, Json>>,
    update_expression: Option<(&str, bool)>,
    attribute_updates: bool,
) -> Result<(Option<Cond>, super::expr::Placeholders), ApiError> {
    let mut exprs = Vec::new();
    if let Some((_, set)) = update_expression {
        exprs.push(("UpdateExpression", set));
    }
    exprs.push(("ConditionExpression", condition_expression.is_some()));
    let mut legacy_params = Vec::new();
    if update_expression.is_some() {
        legacy_params.push(("AttributeUpdates", attribute_updates));
    }
    legacy_params.push(("Expected", expected.is_some()));
    params::check_mix(&exprs, &legacy_params, names.is_some(), values.is_some())?;
    let mut ph = params::placeholders(names, values)?;
    let cond = match condition_expression {
        Some(_) => params::condition("ConditionExpression", condition_expression, &mut ph)?,
        None => match expected {
            Some(e) => legacy::expected(e, conditional_operator)?,
            None => None,
        },
    };
    Ok((cond, ph))
}

/// PutItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutItemInput {
    table_name: Option<String>,
    item: Option<Map<String, Json>>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttribute>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
}

/// PutItem.
pub(crate) fn put_item(
    store: &mut Store,
    config: &EngineConfig,
    input: PutItemInput,
) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let item = params::required_item(input.item.as_ref(), "item")?;
    let rv = params::return_values(input.return_values.as_deref(), false)?;
    let on_fail = params::return_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let metrics = params::return_metrics(input.return_item_collection_metrics.as_deref())?;
    let (cond, ph) = write_condition(
        input.condition_expression.as_deref(),
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        input.expression_attribute_names.as_ref(),
        input.expression_attribute_values.as_ref(),
        None,
        false,
    )?;
    params::check_unused(&ph)?;

    let table = store.active_table(&name, config)?;
    let (write, old) = plan_put(table, item.clone(), cond.as_ref(), on_fail)?;
    let mut out = Map::new();
    let key_item = table.key_item(&item);
    write_extras(
        &mut out,
        table,
        input.return_consumed_capacity.as_deref(),
        metrics,
        &key_item,
        old.as_ref(),
        Some(&item),
    );
    store.apply(vec![write])?;
    if rv == ReturnValues::AllOld {
        with_attributes(&mut out, old);
    }
    Ok(Json::Object(out))
}

/// UpdateItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Json>>,
    update_expression: Option<String>,
    attribute_updates: Option<BTreeMap<String, AttributeUpdate>>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttribute>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
}

/// UpdateItem.
pub(crate) fn update_item(
    store: &mut Store,
    config: &EngineConfig,
    input: UpdateItemInput,
) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let key_item = params::required_item(input.key.as_ref(), "key")?;
    let rv = params::return_values(input.return_values.as_deref(), true)?;
    let on_fail = params::return_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let metrics = params::return_metrics(input.return_item_collection_metrics.as_deref())?;
    let (cond, mut ph) = write_condition(
        input.condition_expression.as_deref(),
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        input.expression_attribute_names.as_ref(),
        input.expression_attribute_values.as_ref(),
        Some(("", input.update_expression.is_some())),
        input.attribute_updates.is_some(),
    )?;
    let actions: Vec<Action> = match params::update(input.update_expression.as_deref(), &mut ph)? {
        Some(a) => a,
        None => match &input.attribute_updates {
            Some(u) => legacy::attribute_updates(u)?,
            None => Vec::new(),
        },
    };
    params::check_unused(&ph)?;

    let table = store.active_table(&name, config)?;
    let (write, old, new) = plan_update(table, &key_item, &actions, cond.as_ref(), on_fail)?;
    let mut out = Map::new();
    write_extras(
        &mut out,
        table,
        input.return_consumed_capacity.as_deref(),
        metrics,
        &key_item,
        old.as_ref(),
        new.as_ref(),
    );
    if let Some(w) = write {
        store.apply(vec![w])?;
    }
    let paths: Vec<_> = actions.iter().map(|a| a.path().clone()).collect();
    let attrs = match rv {
        ReturnValues::None => None,
        ReturnValues::AllOld => old,
        ReturnValues::AllNew => new,
        ReturnValues::UpdatedOld => old.map(|o| project(&o, &paths)),
        ReturnValues::UpdatedNew => new.map(|n| project(&n, &paths)),
    };
    with_attributes(&mut out, attrs);
    Ok(Json::Object(out))
}

/// DeleteItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Json>>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttribute>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
}

/// DeleteItem.
pub(crate) fn delete_item(
    store: &mut Store,
    config: &EngineConfig,
    input: DeleteItemInput,
) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let key_item = params::required_item(input.key.as_ref(), "key")?;
    let rv = params::return_values(input.return_values.as_deref(), false)?;
    let on_fail = params::return_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let metrics = params::return_metrics(input.return_item_collection_metrics.as_deref())?;
    let (cond, ph) = write_condition(
        input.condition_expression.as_deref(),
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        input.expression_attribute_names.as_ref(),
        input.expression_attribute_values.as_ref(),
        None,
        false,
    )?;
    params::check_unused(&ph)?;

    let table = store.active_table(&name, config)?;
    let (write, old) = plan_delete(table, &key_item, cond.as_ref(), on_fail)?;
    let mut out = Map::new();
    write_extras(
        &mut out,
        table,
        input.return_consumed_capacity.as_deref(),
        metrics,
        &key_item,
        old.as_ref(),
        None,
    );
    if let Some(w) = write {
        store.apply(vec![w])?;
    }
    if rv == ReturnValues::AllOld {
        with_attributes(&mut out, old);
    }
    Ok(Json::Object(out))
}

/// GetItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Json>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    return_consumed_capacity: Option<String>,
}

/// GetItem (every read here is strongly consistent; ConsistentRead only changes the units).
pub(crate) fn get_item(store: &Store, config: &EngineConfig, input: GetItemInput) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let key_item = params::required_item(input.key.as_ref(), "key")?;
    params::check_mix(
        &[("ProjectionExpression", input.projection_expression.is_some())],
        &[("AttributesToGet", input.attributes_to_get.is_some())],
        input.expression_attribute_names.is_some(),
        false,
    )?;
    let mut ph = params::placeholders(input.expression_attribute_names.as_ref(), None)?;
    let projection = match params::projection(input.projection_expression.as_deref(), &mut ph)? {
        Some(p) => Some(p),
        None => input.attributes_to_get.as_deref().map(legacy::attributes_to_get),
    };
    params::check_unused(&ph)?;

    let table = store.active_table(&name, config)?;
    let key = table.key_of(&key_item)?;
    let mut out = Map::new();
    let found = table.items.get(&key);
    let units = params::read_units(found.map_or(0, item_size), input.consistent_read.unwrap_or(false));
    if let Some(item) = found {
        let item = match &projection {
            Some(p) => project(item, p),
            None => item.clone(),
        };
        out.insert("Item".into(), Json::Object(item_to_json(&item)));
    }
    params::consumed(&mut out, input.return_consumed_capacity.as_deref(), &name, units);
    Ok(json!(out))
}
