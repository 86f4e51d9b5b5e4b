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
use super::params::{self, ReturnValues};
use super::value::{item_size, item_to_json, Item};
use super::Store;
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
pub struct PutItemInput {
    table_name: Option<String>,
    item: Option<Map<String, Json>>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttribute>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
}

/// PutItem.
pub fn put_item(store: &mut Store, config: &EngineConfig, input: PutItemInput) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let item = params::required_item(input.item.as_ref(), "item")?;
    let rv = params::return_values(input.return_values.as_deref(), false)?;
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
    let key = table.key_of_item(&item)?;
    check_size(&item)?;
    let old = table.items.get(&key);
    if let Some(c) = &cond {
        if !matches(c, old.unwrap_or(&Item::new())) {
            return Err(conditional_failed());
        }
    }
    let units = params::write_units(item_size(&item).max(old.map_or(0, item_size)));
    let old = store.write_put(&name, key, item)?;
    let mut out = Map::new();
    if rv == ReturnValues::AllOld {
        with_attributes(&mut out, old);
    }
    params::consumed(&mut out, input.return_consumed_capacity.as_deref(), &name, units);
    Ok(Json::Object(out))
}

/// UpdateItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateItemInput {
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
}

/// UpdateItem.
pub fn update_item(
    store: &mut Store,
    config: &EngineConfig,
    input: UpdateItemInput,
) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let key_item = params::required_item(input.key.as_ref(), "key")?;
    let rv = params::return_values(input.return_values.as_deref(), true)?;
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
    let key = table.key_of(&key_item)?;
    for a in &actions {
        if let Some(super::expr::PathElem::Attr(first)) = a.path().first() {
            if table.key_names().contains(&first.as_str()) {
                let msg = if a.path().len() > 1 {
                    format!("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: {first}")
                } else {
                    format!("One or more parameter values were invalid: Cannot update attribute {first}. This attribute is part of the key")
                };
                return Err(ApiError::new("ValidationException", msg));
            }
        }
    }
    let old = table.items.get(&key).cloned();
    if let Some(c) = &cond {
        if !matches(c, old.as_ref().unwrap_or(&Item::new())) {
            return Err(conditional_failed());
        }
    }
    // Without an item, only actions that add something create one (DynamoDB: "DELETE -
    // nothing happens; there is no attribute to delete").
    let creates = actions
        .iter()
        .any(|a| matches!(a, Action::Set(..) | Action::Add(..)));
    let mut out = Map::new();
    let new = if old.is_none() && !creates {
        None
    } else {
        let base = old.clone().unwrap_or_else(|| key_item.clone());
        let new = apply(&base, &actions).map_err(|m| ApiError::new("ValidationException", m))?;
        check_size(&new)?;
        Some(new)
    };
    let units = params::write_units(
        new.as_ref()
            .map_or(0, item_size)
            .max(old.as_ref().map_or(0, item_size)),
    );
    if let Some(new) = &new {
        store.write_put(&name, key, new.clone())?;
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
    params::consumed(&mut out, input.return_consumed_capacity.as_deref(), &name, units);
    Ok(Json::Object(out))
}

/// DeleteItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Json>>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttribute>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
}

/// DeleteItem.
pub fn delete_item(
    store: &mut Store,
    config: &EngineConfig,
    input: DeleteItemInput,
) -> Result<Json, ApiError> {
    let name = super::tables::check_table_name(input.table_name.as_deref())?;
    let key_item = params::required_item(input.key.as_ref(), "key")?;
    let rv = params::return_values(input.return_values.as_deref(), false)?;
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
    let key = table.key_of(&key_item)?;
    let old = table.items.get(&key);
    if let Some(c) = &cond {
        if !matches(c, old.unwrap_or(&Item::new())) {
            return Err(conditional_failed());
        }
    }
    let units = params::write_units(old.map_or(0, item_size));
    let old = if old.is_some() {
        store.write_delete(&name, &key, &key_item)?
    } else {
        None
    };
    let mut out = Map::new();
    if rv == ReturnValues::AllOld {
        with_attributes(&mut out, old);
    }
    params::consumed(&mut out, input.return_consumed_capacity.as_deref(), &name, units);
    Ok(Json::Object(out))
}

/// GetItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetItemInput {
    table_name: Option<String>,
    key: Option<Map<String, Json>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    return_consumed_capacity: Option<String>,
}

/// GetItem (every read here is strongly consistent; ConsistentRead only changes the units).
pub fn get_item(store: &Store, config: &EngineConfig, input: GetItemInput) -> Result<Json, ApiError> {
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
