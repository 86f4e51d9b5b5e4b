//! TransactWriteItems and TransactGetItems: up to 100 actions, all or nothing.
//!
//! The whole store sits behind one lock, so a transaction is isolated from every other
//! request by construction: all conditions are checked, then all writes are journaled as one
//! entry and applied, before the lock is released. A failed condition cancels everything with
//! `TransactionCanceledException` and one `CancellationReasons` entry per action, in order.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::expr::eval::project;
use super::expr::{Action, Cond, Path};
use super::items::{check_condition, collection_metrics, plan_delete, plan_put, plan_update, Planned};
use super::params;
use super::tables::{self, Key};
use super::value::{item_size, item_to_json, Item};
use super::{Store, Write};
use crate::engine::error::{constraint, not_null, ApiError};
use crate::engine::EngineConfig;

/// Most actions in one transaction.
const MAX_ACTIONS: usize = 100;
/// How long a ClientRequestToken makes a retry idempotent (DynamoDB: 10 minutes).
const TOKEN_TTL_MS: u64 = 10 * 60 * 1000;

/// A TransactWriteItems answer remembered under its ClientRequestToken.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// The request without its token, to tell a retry from a different request.
    fingerprint: String,
    /// What was answered.
    response: Json,
    /// When, epoch milliseconds.
    at_ms: u64,
}

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

/// TransactWriteItems' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TransactWriteInput {
    transact_items: Option<Vec<TransactWriteItem>>,
    client_request_token: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactWriteItem {
    condition_check: Option<ActionInput>,
    put: Option<ActionInput>,
    delete: Option<ActionInput>,
    update: Option<ActionInput>,
}

/// The members of Put, Update, Delete and ConditionCheck (each uses its own subset).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ActionInput {
    table_name: Option<String>,
    item: Option<Map<String, Json>>,
    key: Option<Map<String, Json>>,
    update_expression: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Map<String, Json>>,
    return_values_on_condition_check_failure: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Check,
    Put,
    Delete,
    Update,
}

/// One action, parsed and checked, before any table is looked at.
struct Parsed {
    kind: Kind,
    table: String,
    item: Item,
    cond: Option<Cond>,
    actions: Vec<Action>,
    return_old: bool,
}

fn parse_action(kind: Kind, a: &ActionInput, at: &str) -> Result<Parsed, ApiError> {
    let table = match &a.table_name {
        None => return Err(ApiError::validation(&[not_null(&format!("{at}.tableName"))])),
        Some(t) => tables::check_table_name(Some(t))?,
    };
    let item = match kind {
        Kind::Put => params::required_item(a.item.as_ref(), &format!("{at}.item"))?,
        _ => params::required_item(a.key.as_ref(), &format!("{at}.key"))?,
    };
    if kind == Kind::Check && a.condition_expression.is_none() {
        return Err(ApiError::validation(&[not_null(&format!(
            "{at}.conditionExpression"
        ))]));
    }
    if kind == Kind::Update && a.update_expression.is_none() {
        return Err(ApiError::validation(&[not_null(&format!(
            "{at}.updateExpression"
        ))]));
    }
    let return_old = params::return_on_failure(a.return_values_on_condition_check_failure.as_deref())?;
    let mut exprs = vec![("ConditionExpression", a.condition_expression.is_some())];
    if kind == Kind::Update {
        exprs.insert(0, ("UpdateExpression", true));
    }
    params::check_mix(
        &exprs,
        &[],
        a.expression_attribute_names.is_some(),
        a.expression_attribute_values.is_some(),
    )?;
    let mut ph = params::placeholders(
        a.expression_attribute_names.as_ref(),
        a.expression_attribute_values.as_ref(),
    )?;
    let actions = match kind {
        Kind::Update => params::update(a.update_expression.as_deref(), &mut ph)?.unwrap_or_default(),
        _ => Vec::new(),
    };
    let cond = params::condition("ConditionExpression", a.condition_expression.as_deref(), &mut ph)?;
    params::check_unused(&ph)?;
    Ok(Parsed {
        kind,
        table,
        item,
        cond,
        actions,
        return_old,
    })
}

/// TransactWriteItems (`raw` is the request body, kept for ClientRequestToken idempotency).
pub(crate) fn write(store: &mut Store, config: &EngineConfig, raw: Json) -> Result<Json, ApiError> {
    let input: TransactWriteInput =
        serde_json::from_value(raw.clone()).map_err(|e| ApiError::serialization(e.to_string()))?;
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let metrics = params::return_metrics(input.return_item_collection_metrics.as_deref())?;
    let Some(list) = &input.transact_items else {
        return Err(ApiError::validation(&[not_null("transactItems")]));
    };
    if list.is_empty() || list.len() > MAX_ACTIONS {
        return Err(ApiError::validation(&[constraint(
            "[...]",
            "transactItems",
            if list.is_empty() {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 100"
            },
        )]));
    }
    if let Some(t) = &input.client_request_token {
        if t.is_empty() || t.len() > 36 {
            return Err(ApiError::validation(&[constraint(
                t,
                "clientRequestToken",
                "have length less than or equal to 36",
            )]));
        }
    }
    let mut parsed = Vec::with_capacity(list.len());
    for (i, it) in list.iter().enumerate() {
        let choices = [
            (Kind::Check, &it.condition_check, "conditionCheck"),
            (Kind::Put, &it.put, "put"),
            (Kind::Delete, &it.delete, "delete"),
            (Kind::Update, &it.update, "update"),
        ];
        let given: Vec<_> = choices.iter().filter(|c| c.1.is_some()).collect();
        let [(kind, Some(a), member)] = given.as_slice() else {
            return Err(validation(
                "TransactItems can only contain one of Check, Put, Update or Delete",
            ));
        };
        parsed.push(parse_action(
            *kind,
            a,
            &format!("transactItems.{}.member.{member}", i + 1),
        )?);
    }

    // A retry with the same token and the same request gets the first answer, and changes
    // nothing again.
    let now = tables::now_ms();
    store
        .tokens
        .retain(|_, t| now.saturating_sub(t.at_ms) < TOKEN_TTL_MS);
    let fingerprint = {
        let mut r = raw;
        if let Some(o) = r.as_object_mut() {
            o.remove("ClientRequestToken");
        }
        r.to_string()
    };
    if let Some(token) = &input.client_request_token {
        if let Some(seen) = store.tokens.get(token) {
            if seen.fingerprint != fingerprint {
                return Err(ApiError::new(
                    "IdempotentParameterMismatchException",
                    "The request uses the same client token as a previous, but non-identical request.",
                ));
            }
            return Ok(seen.response.clone());
        }
    }

    let mut writes: Vec<Write> = Vec::new();
    let mut reasons: Vec<Json> = Vec::new();
    let mut cancelled = false;
    let mut seen: BTreeSet<(String, Key)> = BTreeSet::new();
    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    let mut collections: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for p in &parsed {
        let table = store.active_table(&p.table, config)?;
        let key = match p.kind {
            Kind::Put => table.key_of_item(&p.item)?,
            _ => table.key_of(&p.item)?,
        };
        if !seen.insert((p.table.clone(), key.clone())) {
            return Err(validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        let outcome: Result<Planned, ApiError> = match p.kind {
            Kind::Check => check_condition(p.cond.as_ref(), table.items.get(&key), p.return_old)
                .map(|()| (None, None, None)),
            Kind::Put => plan_put(table, p.item.clone(), p.cond.as_ref(), p.return_old)
                .map(|(w, old)| (Some(w), old, Some(p.item.clone()))),
            Kind::Delete => {
                plan_delete(table, &p.item, p.cond.as_ref(), p.return_old).map(|(w, old)| (w, old, None))
            }
            Kind::Update => plan_update(table, &p.item, &p.actions, p.cond.as_ref(), p.return_old),
        };
        match outcome {
            Ok((write, old, new)) => {
                reasons.push(json!({"Code": "None"}));
                let bytes = new
                    .as_ref()
                    .map_or(0, item_size)
                    .max(old.as_ref().map_or(0, item_size));
                // Transactional writes cost twice the units of plain ones.
                *units.entry(p.table.clone()).or_default() += 2.0 * params::write_units(bytes);
                if metrics && p.kind != Kind::Check {
                    let key_item = table.key_item(new.as_ref().or(old.as_ref()).unwrap_or(&p.item));
                    if let Some(m) = collection_metrics(table, &key_item) {
                        collections.entry(p.table.clone()).or_default().push(m);
                    }
                }
                writes.extend(write);
            }
            Err(e) => {
                cancelled = true;
                let mut reason = Map::new();
                match e.code {
                    "ConditionalCheckFailedException" => {
                        reason.insert("Code".into(), json!("ConditionalCheckFailed"));
                        reason.insert("Message".into(), json!(e.message));
                        if let Some(item) = e.extra.as_ref().and_then(|x| x.get("Item")) {
                            reason.insert("Item".into(), item.clone());
                        }
                    }
                    "ValidationException" => {
                        reason.insert("Code".into(), json!("ValidationError"));
                        reason.insert("Message".into(), json!(e.message));
                    }
                    _ => return Err(e),
                }
                reasons.push(Json::Object(reason));
            }
        }
    }
    if cancelled {
        let codes: Vec<&str> = reasons
            .iter()
            .map(|r| r["Code"].as_str().unwrap_or("None"))
            .collect();
        return Err(ApiError::new(
            "TransactionCanceledException",
            format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        )
        .with_member("CancellationReasons", Json::Array(reasons)));
    }
    store.apply(writes)?;

    let mut out = Map::new();
    let capacity: Vec<Json> = units
        .iter()
        .filter_map(|(t, u)| params::capacity(input.return_consumed_capacity.as_deref(), t, *u, &[]))
        .collect();
    if !capacity.is_empty() {
        out.insert("ConsumedCapacity".into(), Json::Array(capacity));
    }
    if metrics && !collections.is_empty() {
        out.insert("ItemCollectionMetrics".into(), json!(collections));
    }
    let response = Json::Object(out);
    if let Some(token) = input.client_request_token {
        store.tokens.insert(
            token,
            Token {
                fingerprint,
                response: response.clone(),
                at_ms: now,
            },
        );
    }
    Ok(response)
}

/// TransactGetItems' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TransactGetInput {
    transact_items: Option<Vec<TransactGetItem>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactGetItem {
    get: Option<GetInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetInput {
    table_name: Option<String>,
    key: Option<Map<String, Json>>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
}

/// TransactGetItems: every read sees the same instant (the lock is held throughout).
pub(crate) fn get(store: &Store, config: &EngineConfig, input: TransactGetInput) -> Result<Json, ApiError> {
    params::return_consumed(input.return_consumed_capacity.as_deref())?;
    let Some(list) = &input.transact_items else {
        return Err(ApiError::validation(&[not_null("transactItems")]));
    };
    if list.is_empty() || list.len() > MAX_ACTIONS {
        return Err(ApiError::validation(&[constraint(
            "[...]",
            "transactItems",
            if list.is_empty() {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 100"
            },
        )]));
    }
    let mut plans: Vec<(String, Item, Option<Vec<Path>>)> = Vec::new();
    for (i, it) in list.iter().enumerate() {
        let at = format!("transactItems.{}.member.get", i + 1);
        let Some(g) = &it.get else {
            return Err(ApiError::validation(&[not_null(&at)]));
        };
        let table = match &g.table_name {
            None => return Err(ApiError::validation(&[not_null(&format!("{at}.tableName"))])),
            Some(t) => tables::check_table_name(Some(t))?,
        };
        let key = params::required_item(g.key.as_ref(), &format!("{at}.key"))?;
        params::check_mix(
            &[("ProjectionExpression", g.projection_expression.is_some())],
            &[],
            g.expression_attribute_names.is_some(),
            false,
        )?;
        let mut ph = params::placeholders(g.expression_attribute_names.as_ref(), None)?;
        let projection = params::projection(g.projection_expression.as_deref(), &mut ph)?;
        params::check_unused(&ph)?;
        plans.push((table, key, projection));
    }
    let mut seen = BTreeSet::new();
    let mut responses = Vec::new();
    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    for (name, key_item, projection) in &plans {
        let table = store.active_table(name, config)?;
        let key = table.key_of(key_item)?;
        if !seen.insert((name.clone(), key.clone())) {
            return Err(validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        let item = table.items.get(&key);
        *units.entry(name.clone()).or_default() += 2.0 * params::read_units(item.map_or(0, item_size), true);
        responses.push(match item {
            Some(item) => {
                let shown = match projection {
                    Some(p) => project(item, p),
                    None => item.clone(),
                };
                json!({"Item": item_to_json(&shown)})
            }
            None => json!({}),
        });
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Json::Array(responses));
    let capacity: Vec<Json> = units
        .iter()
        .filter_map(|(t, u)| params::capacity(input.return_consumed_capacity.as_deref(), t, *u, &[]))
        .collect();
    if !capacity.is_empty() {
        out.insert("ConsumedCapacity".into(), Json::Array(capacity));
    }
    Ok(Json::Object(out))
}
