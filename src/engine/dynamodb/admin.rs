//! Table administration after CreateTable: UpdateTable (billing mode, throughput, streams,
//! global secondary indexes), tags, time to live (and the sweep that deletes expired items),
//! and continuous backups (state only).

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::indexes::{self, IndexInput, ThroughputInput};
use super::tables::{self, now_ms, KeyDef, StreamSpecification, Tag};
use super::value::Value;
use super::{Store, Write};
use crate::engine::error::{constraint, not_null, ApiError};
use crate::engine::EngineConfig;

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

fn invalid(msg: impl AsRef<str>) -> ApiError {
    validation(format!(
        "One or more parameter values were invalid: {}",
        msg.as_ref()
    ))
}

fn subscriber_limit() -> ApiError {
    ApiError::limit_exceeded(
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
    )
}

/// UpdateTable's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateTableInput {
    table_name: Option<String>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ThroughputInput>,
    global_secondary_index_updates: Option<Vec<GsiUpdate>>,
    stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    sse_specification: Option<Json>,
    deletion_protection_enabled: Option<bool>,
    table_class: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: Option<String>,
    attribute_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GsiUpdate {
    create: Option<IndexInput>,
    update: Option<GsiThroughputUpdate>,
    delete: Option<GsiDelete>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GsiThroughputUpdate {
    index_name: Option<String>,
    provisioned_throughput: Option<ThroughputInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GsiDelete {
    index_name: Option<String>,
}

/// UpdateTable: one kind of change per call (as DynamoDB requires for index creation and
/// deletion), validated before anything changes, journaled as the table's new description.
pub(crate) fn update_table(
    store: &mut Store,
    config: &EngineConfig,
    input: UpdateTableInput,
) -> Result<Json, ApiError> {
    let name = tables::check_table_name(input.table_name.as_deref())?;
    let mut failures = Vec::new();
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
        throughput_failures(t, "provisionedThroughput", &mut failures);
    }
    let creates: Vec<IndexInput> = input
        .global_secondary_index_updates
        .iter()
        .flatten()
        .filter_map(|u| u.create.clone())
        .collect();
    indexes::constraint_failures(
        &creates,
        "globalSecondaryIndexUpdates.member.create",
        &mut failures,
    );
    if !failures.is_empty() {
        return Err(ApiError::validation(&failures));
    }
    let updates = input.global_secondary_index_updates.unwrap_or_default();
    if input.provisioned_throughput.is_none()
        && input.billing_mode.is_none()
        && input.stream_specification.is_none()
        && updates.is_empty()
        && input.sse_specification.is_none()
        && input.deletion_protection_enabled.is_none()
        && input.table_class.is_none()
    {
        return Err(validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    if input.billing_mode.as_deref() == Some("PROVISIONED") && input.provisioned_throughput.is_none() {
        return Err(invalid(
            "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
        ));
    }
    let mut index_names = Vec::new();
    for u in &updates {
        let n = [u.create.is_some(), u.update.is_some(), u.delete.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        if n != 1 {
            return Err(invalid(
                "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
            ));
        }
        let ix_name = u
            .create
            .as_ref()
            .and_then(|c| c.name().map(str::to_string))
            .or_else(|| u.update.as_ref().and_then(|x| x.index_name.clone()))
            .or_else(|| u.delete.as_ref().and_then(|x| x.index_name.clone()))
            .ok_or_else(|| {
                ApiError::validation(&[not_null("globalSecondaryIndexUpdates.member.indexName")])
            })?;
        if index_names.contains(&ix_name) {
            return Err(invalid(format!(
                "Only one global secondary index update per index is allowed simultaneously. Index: {ix_name}"
            )));
        }
        index_names.push(ix_name);
    }

    let table = match store.tables.get(&name) {
        Some(t) => t,
        None => return Err(tables::not_found(&name, true)),
    };
    if !table.is_active(config) {
        return Err(ApiError::in_use(format!(
            "Attempt to change a resource which is still in use: Table is being created: {name}"
        )));
    }
    let mut meta = table.meta.clone();
    let online_changes = updates
        .iter()
        .filter(|u| u.create.is_some() || u.delete.is_some())
        .count();
    if online_changes > 1 {
        return Err(subscriber_limit());
    }
    let building = meta
        .indexes
        .iter()
        .any(|ix| table.index_status(ix, config) == "CREATING");
    if online_changes == 1 && building {
        return Err(subscriber_limit());
    }

    // Billing mode and the table's throughput.
    let new_mode = input
        .billing_mode
        .clone()
        .unwrap_or_else(|| meta.billing_mode.clone());
    if let Some(t) = &input.provisioned_throughput {
        if new_mode == "PAY_PER_REQUEST" {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        let (r, w) = (
            t.read_capacity_units.unwrap_or(0),
            t.write_capacity_units.unwrap_or(0),
        );
        for (v, what) in [(r, "ReadCapacityUnits"), (w, "WriteCapacityUnits")] {
            if v > 1_000_000_000_000 {
                return Err(validation(format!("Given value {v} for {what} is out of bounds")));
            }
        }
        if meta.billing_mode == "PROVISIONED" && r == meta.read_capacity && w == meta.write_capacity {
            return Err(validation(format!(
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {r}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {w}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                meta.read_capacity, meta.write_capacity
            )));
        }
        meta.read_capacity = r;
        meta.write_capacity = w;
    }
    if new_mode == "PAY_PER_REQUEST" {
        meta.read_capacity = 0;
        meta.write_capacity = 0;
        for ix in meta.indexes.iter_mut().filter(|ix| ix.global) {
            ix.read_capacity = 0;
            ix.write_capacity = 0;
        }
    }

    // AttributeDefinitions: new index keys may add definitions; existing ones must not change.
    if let Some(defs) = &input.attribute_definitions {
        for (i, d) in defs.iter().enumerate() {
            let (Some(n), Some(t)) = (&d.attribute_name, &d.attribute_type) else {
                return Err(ApiError::validation(&[not_null(&format!(
                    "attributeDefinitions.{}.member.attributeName",
                    i + 1
                ))]));
            };
            if !matches!(t.as_str(), "S" | "N" | "B") {
                return Err(ApiError::validation(&[constraint(
                    t,
                    &format!("attributeDefinitions.{}.member.attributeType", i + 1),
                    "satisfy enum value set: [B, N, S]",
                )]));
            }
            match meta.attribute_definitions.iter().find(|e| &e.name == n) {
                Some(e) if &e.ty != t => {
                    return Err(invalid(format!(
                        "Cannot change the type of attribute {n} which is part of an existing key schema"
                    )))
                }
                Some(_) => {}
                None => meta.attribute_definitions.push(KeyDef {
                    name: n.clone(),
                    ty: t.clone(),
                }),
            }
        }
    }

    for u in &updates {
        if let Some(c) = &u.create {
            let ix_name = c.name().unwrap_or_default().to_string();
            if meta.indexes.iter().any(|ix| ix.name == ix_name) {
                return Err(invalid(format!(
                    "Attempting to create an index which already exists: {ix_name}"
                )));
            }
            let created = indexes::validate(
                c,
                true,
                &indexes::Context {
                    defs: &meta.attribute_definitions,
                    table_hash: &meta.hash.name,
                    table_has_range: meta.range.is_some(),
                    billing_mode: &new_mode,
                    created_ms: now_ms(),
                },
            )?;
            if meta.indexes.iter().filter(|ix| ix.global).count() >= indexes::max_gsis() {
                return Err(ApiError::limit_exceeded(
                    "GlobalSecondaryIndex count exceeds the per-table limit of 20",
                ));
            }
            meta.indexes.push(created);
        }
        if let Some(d) = &u.delete {
            let ix_name = d.index_name.clone().unwrap_or_default();
            let before = meta.indexes.len();
            meta.indexes.retain(|ix| !(ix.global && ix.name == ix_name));
            if meta.indexes.len() == before {
                return Err(ApiError::not_found(format!(
                    "Requested resource not found: Index: {ix_name} not found"
                )));
            }
        }
        if let Some(x) = &u.update {
            let ix_name = x.index_name.clone().unwrap_or_default();
            let Some(ix) = meta.indexes.iter_mut().find(|ix| ix.global && ix.name == ix_name) else {
                return Err(ApiError::not_found(format!(
                    "Requested resource not found: Index: {ix_name} not found"
                )));
            };
            let Some(t) = &x.provisioned_throughput else {
                return Err(ApiError::validation(&[not_null(
                    "globalSecondaryIndexUpdates.member.update.provisionedThroughput",
                )]));
            };
            if new_mode == "PAY_PER_REQUEST" {
                return Err(invalid(format!(
                    "ProvisionedThroughput should not be specified for index: {ix_name} when BillingMode is PAY_PER_REQUEST"
                )));
            }
            ix.read_capacity = t.read_capacity_units.unwrap_or(0);
            ix.write_capacity = t.write_capacity_units.unwrap_or(0);
        }
    }
    // Switching to PROVISIONED needs capacity for every GSI that keeps none.
    if new_mode == "PROVISIONED" && meta.billing_mode == "PAY_PER_REQUEST" {
        let missing: Vec<&str> = meta
            .indexes
            .iter()
            .filter(|ix| ix.global && ix.read_capacity == 0)
            .map(|ix| ix.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "ProvisionedThroughput must be specified for index: {}",
                missing.join(",")
            )));
        }
    }
    meta.billing_mode = new_mode;

    if let Some(spec) = &input.stream_specification {
        let view = tables::stream_view(spec)?;
        match (&meta.stream_view_type, view) {
            (Some(_), Some(_)) => {
                return Err(validation(format!(
                    "Table already has an enabled stream: TableName: {name}"
                )))
            }
            (None, None) => return Err(validation("Table already has no stream enabled")),
            (_, Some(v)) => {
                meta.stream_view_type = Some(v);
                meta.stream_enabled_ms = now_ms();
            }
            (Some(_), None) => meta.stream_view_type = None,
        }
    }

    let deleted: Vec<_> = table
        .meta
        .indexes
        .iter()
        .filter(|ix| !meta.indexes.iter().any(|m| m.name == ix.name))
        .cloned()
        .collect();
    store.set_meta(meta)?;
    let table = store
        .tables
        .get(&name)
        .ok_or_else(|| tables::not_found(&name, true))?;
    let mut desc = table.describe(config, None);
    // A deleted index is shown one last time, DELETING, as DynamoDB answers.
    if !deleted.is_empty() {
        let arn = table.arn(config);
        let list = desc
            .as_object_mut()
            .map(|o| o.entry("GlobalSecondaryIndexes").or_insert_with(|| json!([])));
        if let Some(Json::Array(list)) = list {
            for ix in &deleted {
                list.push(ix.describe(&arn, "DELETING", 0, 0));
            }
        }
    }
    Ok(json!({ "TableDescription": desc }))
}

fn throughput_failures(t: &ThroughputInput, member: &str, failures: &mut Vec<String>) {
    for (v, m) in [
        (t.read_capacity_units, "readCapacityUnits"),
        (t.write_capacity_units, "writeCapacityUnits"),
    ] {
        let member = format!("{member}.{m}");
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

/// A TableName-only input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TableNameInput {
    table_name: Option<String>,
}

/// DescribeTimeToLive.
pub(crate) fn describe_ttl(store: &Store, input: TableNameInput) -> Result<Json, ApiError> {
    let name = tables::check_table_name(input.table_name.as_deref())?;
    let table = store
        .tables
        .get(&name)
        .ok_or_else(|| tables::not_found(&name, true))?;
    Ok(match &table.meta.ttl_attribute {
        Some(a) => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": a}}),
        None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
    })
}

/// UpdateTimeToLive's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateTtlInput {
    table_name: Option<String>,
    time_to_live_specification: Option<TtlSpecification>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TtlSpecification {
    enabled: Option<bool>,
    attribute_name: Option<String>,
}

/// UpdateTimeToLive: enabling or disabling takes effect at once (DynamoDB takes up to an hour).
pub(crate) fn update_ttl(store: &mut Store, input: UpdateTtlInput) -> Result<Json, ApiError> {
    let mut failures = Vec::new();
    if input.table_name.is_none() {
        failures.push(not_null("tableName"));
    }
    match &input.time_to_live_specification {
        None => failures.push(not_null("timeToLiveSpecification")),
        Some(spec) => {
            if spec.enabled.is_none() {
                failures.push(not_null("timeToLiveSpecification.enabled"));
            }
            match spec.attribute_name.as_deref() {
                None => failures.push(not_null("timeToLiveSpecification.attributeName")),
                Some(a) if a.is_empty() || a.len() > 255 => failures.push(constraint(
                    a,
                    "timeToLiveSpecification.attributeName",
                    "have length between 1 and 255",
                )),
                Some(_) => {}
            }
        }
    }
    if !failures.is_empty() {
        return Err(ApiError::validation(&failures));
    }
    let name = tables::check_table_name(input.table_name.as_deref())?;
    let spec = input
        .time_to_live_specification
        .ok_or_else(|| validation("TimeToLiveSpecification"))?;
    let enabled = spec.enabled.unwrap_or(false);
    let attr = spec.attribute_name.unwrap_or_default();
    let table = store
        .tables
        .get(&name)
        .ok_or_else(|| tables::not_found(&name, true))?;
    let mut meta = table.meta.clone();
    match (&meta.ttl_attribute, enabled) {
        (Some(_), true) => return Err(validation("TimeToLive is already enabled")),
        (None, false) => return Err(validation("TimeToLive is already disabled")),
        (Some(current), false) if current != &attr => {
            return Err(validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
            )))
        }
        _ => {}
    }
    meta.ttl_attribute = enabled.then(|| attr.clone());
    store.set_meta(meta)?;
    Ok(json!({"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}}))
}

/// Deletes the items whose time-to-live attribute (epoch seconds) is at or before `now_s`,
/// one journal entry per table. Like DynamoDB, values more than five years in the past are
/// left alone, and anything but a number is ignored. Returns how many were deleted.
pub(crate) fn sweep_expired(store: &mut Store, now_s: u64) -> Result<usize, ApiError> {
    const FIVE_YEARS_S: u64 = 5 * 365 * 86_400;
    let oldest = now_s.saturating_sub(FIVE_YEARS_S);
    let mut deleted = 0;
    let names: Vec<String> = store
        .tables
        .values()
        .filter(|t| t.meta.ttl_attribute.is_some())
        .map(|t| t.meta.name.clone())
        .collect();
    for name in names {
        let Some(table) = store.tables.get(&name) else {
            continue;
        };
        let Some(attr) = table.meta.ttl_attribute.as_deref() else {
            continue;
        };
        let writes: Vec<Write> = table
            .items
            .iter()
            .filter(|(_, item)| match item.get(attr) {
                Some(Value::N(n)) => n
                    .to_string()
                    .parse::<f64>()
                    .is_ok_and(|t| t >= oldest as f64 && t <= now_s as f64),
                _ => false,
            })
            .map(|(k, item)| Write::Delete {
                table: name.clone(),
                key: k.clone(),
                key_item: table.key_item(item),
            })
            .collect();
        deleted += writes.len();
        store.apply(writes)?;
    }
    Ok(deleted)
}

/// The table named by a table ARN of this engine, checked in DynamoDB's order: a missing ARN,
/// something that is no ARN at all (which IAM refuses before DynamoDB sees it), an ARN that
/// names no table, a table that does not exist.
fn table_of_arn<'a>(
    store: &'a Store,
    config: &EngineConfig,
    arn: Option<&str>,
    op: &str,
) -> Result<&'a tables::Table, ApiError> {
    let Some(arn) = arn else {
        return Err(validation("Invalid TableArn"));
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let arn_like = parts.len() == 6
        && parts.iter().all(|p| !p.is_empty())
        && parts[5]
            .split_once('/')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
    if !arn_like {
        return Err(ApiError::new(
            "AccessDeniedException",
            format!(
                "User: arn:aws:iam::{}:user/kinlocal is not authorized to perform: dynamodb:{op} on resource: {arn}",
                config.account_id
            ),
        ));
    }
    let table_name = parts[5]
        .strip_prefix("table/")
        .filter(|n| !n.contains('/') && n.len() >= 3);
    let is_table_arn = parts[0] == "arn"
        && parts[1] == "aws"
        && parts[2] == "dynamodb"
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && table_name.is_some();
    let Some(name) = table_name.filter(|_| is_table_arn) else {
        return Err(validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
        )));
    };
    let here = parts[3] == config.region && parts[4] == config.account_id;
    store.tables.get(name).filter(|_| here).ok_or_else(|| {
        ApiError::not_found(format!(
            "Requested resource not found: ResourcArn: {arn} not found"
        ))
    })
}

/// TagResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagInput {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

/// TagResource.
pub(crate) fn tag(store: &mut Store, config: &EngineConfig, input: TagInput) -> Result<Json, ApiError> {
    let Some(list) = input.tags else {
        return Err(ApiError::validation(&[not_null("tags")]));
    };
    let table = table_of_arn(store, config, input.resource_arn.as_deref(), "TagResource")?;
    if list.is_empty() {
        return Err(validation("Atleast one Tag needs to be provided as Input."));
    }
    let tags = tables::check_tags(list)?;
    let mut meta = table.meta.clone();
    meta.tags.extend(tags);
    if meta.tags.len() > 50 {
        return Err(ApiError::limit_exceeded(
            "The number of tags on the resource exceeds the limit of 50",
        ));
    }
    store.set_meta(meta)?;
    Ok(json!({}))
}

/// UntagResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagInput {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

/// UntagResource.
pub(crate) fn untag(store: &mut Store, config: &EngineConfig, input: UntagInput) -> Result<Json, ApiError> {
    let Some(keys) = input.tag_keys else {
        return Err(ApiError::validation(&[not_null("tagKeys")]));
    };
    let table = table_of_arn(store, config, input.resource_arn.as_deref(), "UntagResource")?;
    if keys.is_empty() {
        return Err(validation("Atleast one Tag Key needs to be provided as Input."));
    }
    let mut meta = table.meta.clone();
    for k in &keys {
        meta.tags.remove(k);
    }
    store.set_meta(meta)?;
    Ok(json!({}))
}

/// ListTagsOfResource's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsInput {
    resource_arn: Option<String>,
    next_token: Option<String>,
}

/// ListTagsOfResource (at most 50 tags, so one page).
pub(crate) fn list_tags(
    store: &Store,
    config: &EngineConfig,
    input: ListTagsInput,
) -> Result<Json, ApiError> {
    let _ = input.next_token;
    let table = table_of_arn(store, config, input.resource_arn.as_deref(), "ListTagsOfResource")?;
    let tags: Vec<Json> = table
        .meta
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "Tags": tags }))
}

fn backups_description(pitr: bool, created_ms: u64) -> Json {
    let mut p = json!({"PointInTimeRecoveryStatus": if pitr { "ENABLED" } else { "DISABLED" }});
    if pitr {
        let now = now_ms() as f64 / 1000.0;
        p["EarliestRestorableDateTime"] = json!((created_ms as f64 / 1000.0).max(now - 35.0 * 86_400.0));
        p["LatestRestorableDateTime"] = json!(now - 300.0);
        p["RecoveryPeriodInDays"] = json!(35);
    }
    json!({"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": p,
    }})
}

fn backup_table<'a>(store: &'a Store, name: Option<&str>) -> Result<&'a tables::Table, ApiError> {
    let name = tables::check_table_name(name)?;
    store
        .tables
        .get(&name)
        .ok_or_else(|| ApiError::new("TableNotFoundException", format!("Table not found: {name}")))
}

/// DescribeContinuousBackups.
pub(crate) fn describe_backups(
    store: &Store,
    config: &EngineConfig,
    input: TableNameInput,
) -> Result<Json, ApiError> {
    let _ = config;
    let table = backup_table(store, input.table_name.as_deref())?;
    Ok(backups_description(table.meta.pitr, table.meta.created_ms))
}

/// UpdateContinuousBackups' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateBackupsInput {
    table_name: Option<String>,
    point_in_time_recovery_specification: Option<PitrSpecification>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PitrSpecification {
    point_in_time_recovery_enabled: Option<bool>,
    recovery_period_in_days: Option<i64>,
}

/// UpdateContinuousBackups: records whether point-in-time recovery is on (nothing is backed up).
pub(crate) fn update_backups(
    store: &mut Store,
    config: &EngineConfig,
    input: UpdateBackupsInput,
) -> Result<Json, ApiError> {
    let _ = config;
    let enabled = match &input.point_in_time_recovery_specification {
        None => {
            return Err(ApiError::validation(&[not_null(
                "pointInTimeRecoverySpecification",
            )]))
        }
        Some(PitrSpecification {
            point_in_time_recovery_enabled: None,
            ..
        }) => {
            return Err(ApiError::validation(&[not_null(
                "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
            )]))
        }
        Some(PitrSpecification {
            point_in_time_recovery_enabled: Some(e),
            recovery_period_in_days,
        }) => {
            if let Some(d) = recovery_period_in_days {
                if !(1..=35).contains(d) {
                    return Err(ApiError::validation(&[constraint(
                        &d.to_string(),
                        "pointInTimeRecoverySpecification.recoveryPeriodInDays",
                        "have value between 1 and 35",
                    )]));
                }
            }
            *e
        }
    };
    let table = backup_table(store, input.table_name.as_deref())?;
    let mut meta = table.meta.clone();
    meta.pitr = enabled;
    let created = meta.created_ms;
    store.set_meta(meta)?;
    Ok(backups_description(enabled, created))
}
