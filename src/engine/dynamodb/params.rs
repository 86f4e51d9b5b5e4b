//! Request parameters shared by the item operations: expression placeholders, the
//! expression-versus-legacy rules, ReturnValues and ConsumedCapacity.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::expr::parser::{parse_condition, parse_projection, parse_update};
use super::expr::{Action, Cond, Path, Placeholders};
use super::value::{item_from_json, Item, Value};
use crate::engine::error::{constraint, not_null, ApiError};

fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", msg)
}

/// DynamoDB's limit on "the maximum length of all substitution variables in an expression":
/// the sum of the lengths of all ExpressionAttributeNames and ExpressionAttributeValues, 2 MB
/// (DynamoDB's units are binary). A key counts its bytes, a name its bytes, a value its size by
/// the item sizing rules.
pub(crate) const MAX_SUBSTITUTION_BYTES: usize = 2 * 1024 * 1024;

fn substitutions_too_large(size: usize) -> ApiError {
    // AWS documents the limit but not its message; this one names the limit and both maps.
    validation(format!(
        "ExpressionAttributeNames and ExpressionAttributeValues exceed the maximum allowed size of \
         {MAX_SUBSTITUTION_BYTES} bytes together; size: at least {size}"
    ))
}

/// Builds the placeholder tables, checking keys and values as DynamoDB does.
pub(crate) fn placeholders(
    names: Option<&BTreeMap<String, String>>,
    values: Option<&Map<String, Json>>,
) -> Result<Placeholders, ApiError> {
    let mut ph = Placeholders::default();
    // Summed as the maps are read, so an oversized request stops at the first value past the
    // limit instead of converting the rest.
    let mut size = 0usize;
    let valid_key = |k: &str, sigil: char| {
        k.strip_prefix(sigil).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    };
    if let Some(names) = names {
        if names.is_empty() {
            return Err(validation("ExpressionAttributeNames must not be empty"));
        }
        for (k, v) in names {
            if !valid_key(k, '#') {
                return Err(validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            size += k.len() + v.len();
            if size > MAX_SUBSTITUTION_BYTES {
                return Err(substitutions_too_large(size));
            }
            ph.names.insert(k.clone(), v.clone());
        }
    }
    if let Some(values) = values {
        if values.is_empty() {
            return Err(validation("ExpressionAttributeValues must not be empty"));
        }
        for k in values.keys() {
            if !valid_key(k, ':') {
                return Err(validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        for (k, v) in values {
            let v = Value::from_json(v).map_err(|e| match e {
                super::value::AttrError::Validation(m) => validation(format!(
                    "ExpressionAttributeValues contains invalid value: {m} for key {k}"
                )),
                other => other.into(),
            })?;
            size += k.len() + v.size();
            if size > MAX_SUBSTITUTION_BYTES {
                return Err(substitutions_too_large(size));
            }
            ph.values.insert(k.clone(), v);
        }
    }
    Ok(ph)
}

/// DynamoDB's rules on mixing expression and legacy parameters.
///
/// `exprs` and `legacy` list each parameter's name and whether the request set it; the value
/// expressions are the expression parameters that may use `:values` (all but projection).
pub(crate) fn check_mix(
    exprs: &[(&str, bool)],
    legacy: &[(&str, bool)],
    has_names: bool,
    has_values: bool,
) -> Result<(), ApiError> {
    let used_exprs: Vec<&str> = exprs.iter().filter(|e| e.1).map(|e| e.0).collect();
    let used_legacy: Vec<&str> = legacy.iter().filter(|e| e.1).map(|e| e.0).collect();
    if !used_exprs.is_empty() && !used_legacy.is_empty() {
        return Err(validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            used_legacy.join(", "),
            used_exprs.join(", ")
        )));
    }
    if has_names && used_exprs.is_empty() {
        return Err(validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    let value_exprs: Vec<&str> = exprs
        .iter()
        .map(|e| e.0)
        .filter(|n| *n != "ProjectionExpression")
        .collect();
    if has_values && !value_exprs.is_empty() && !exprs.iter().any(|e| e.1 && e.0 != "ProjectionExpression") {
        let verb = if value_exprs.len() > 1 { "are" } else { "is" };
        return Err(validation(format!(
            "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
            value_exprs.join(" and ")
        )));
    }
    Ok(())
}

/// Parses a condition-like expression, prefixing errors with `Invalid <kind>: `.
pub(crate) fn condition(
    kind: &str,
    src: Option<&str>,
    ph: &mut Placeholders,
) -> Result<Option<Cond>, ApiError> {
    src.map(|s| parse_condition(s, ph).map_err(|e| validation(format!("Invalid {kind}: {e}"))))
        .transpose()
}

/// Parses an UpdateExpression.
pub(crate) fn update(src: Option<&str>, ph: &mut Placeholders) -> Result<Option<Vec<Action>>, ApiError> {
    src.map(|s| parse_update(s, ph).map_err(|e| validation(format!("Invalid UpdateExpression: {e}"))))
        .transpose()
}

/// Parses a ProjectionExpression.
pub(crate) fn projection(src: Option<&str>, ph: &mut Placeholders) -> Result<Option<Vec<Path>>, ApiError> {
    src.map(|s| parse_projection(s, ph).map_err(|e| validation(format!("Invalid ProjectionExpression: {e}"))))
        .transpose()
}

/// Fails when a placeholder went unused.
pub(crate) fn check_unused(ph: &Placeholders) -> Result<(), ApiError> {
    match ph.unused_error() {
        Some(e) => Err(validation(e)),
        None => Ok(()),
    }
}

/// A required attribute map (`Item`, `Key`), parsed.
pub(crate) fn required_item(map: Option<&Map<String, Json>>, member: &str) -> Result<Item, ApiError> {
    let Some(map) = map else {
        return Err(ApiError::validation(&[not_null(member)]));
    };
    Ok(item_from_json(map)?)
}

/// What an item operation returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReturnValues {
    /// Nothing.
    None,
    /// The whole item before.
    AllOld,
    /// The updated attributes before.
    UpdatedOld,
    /// The whole item after.
    AllNew,
    /// The updated attributes after.
    UpdatedNew,
}

/// Parses ReturnValues; `update` allows the UPDATED_/ALL_NEW forms.
pub(crate) fn return_values(raw: Option<&str>, update: bool) -> Result<ReturnValues, ApiError> {
    let rv = match raw {
        None | Some("NONE") => ReturnValues::None,
        Some("ALL_OLD") => ReturnValues::AllOld,
        Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
        Some("ALL_NEW") => ReturnValues::AllNew,
        Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
        Some(other) => {
            return Err(ApiError::validation(&[constraint(
                other,
                "returnValues",
                "satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
            )]))
        }
    };
    if !update && !matches!(rv, ReturnValues::None | ReturnValues::AllOld) {
        return Err(validation("ReturnValues can only be ALL_OLD or NONE"));
    }
    Ok(rv)
}

/// ConsumedCapacity when asked for: DynamoDB's units for `bytes` read or written.
pub(crate) fn consumed(out: &mut Map<String, Json>, mode: Option<&str>, table: &str, units: f64) {
    consumed_by_index(out, mode, table, units, &[]);
}

/// Units one index consumed: its name, whether it is global, the units.
pub(crate) type IndexUnits = (String, bool, f64);

/// The ConsumedCapacity structure, with the table's and each index's share under `INDEXES`.
pub(crate) fn capacity(
    mode: Option<&str>,
    table: &str,
    table_units: f64,
    indexes: &[IndexUnits],
) -> Option<Json> {
    let total: f64 = table_units + indexes.iter().map(|i| i.2).sum::<f64>();
    match mode {
        Some("TOTAL") => Some(json!({"TableName": table, "CapacityUnits": total})),
        Some("INDEXES") => {
            let mut c =
                json!({"TableName": table, "CapacityUnits": total, "Table": {"CapacityUnits": table_units}});
            for (field, global) in [("GlobalSecondaryIndexes", true), ("LocalSecondaryIndexes", false)] {
                let map: Map<String, Json> = indexes
                    .iter()
                    .filter(|i| i.1 == global)
                    .map(|i| (i.0.clone(), json!({"CapacityUnits": i.2})))
                    .collect();
                if !map.is_empty() {
                    c[field] = Json::Object(map);
                }
            }
            Some(c)
        }
        _ => None,
    }
}

/// Inserts ConsumedCapacity when asked for.
pub(crate) fn consumed_by_index(
    out: &mut Map<String, Json>,
    mode: Option<&str>,
    table: &str,
    table_units: f64,
    indexes: &[IndexUnits],
) {
    if let Some(c) = capacity(mode, table, table_units, indexes) {
        out.insert("ConsumedCapacity".into(), c);
    }
}

/// Checks ReturnConsumedCapacity.
pub(crate) fn return_consumed(raw: Option<&str>) -> Result<(), ApiError> {
    match raw {
        None | Some("INDEXES" | "TOTAL" | "NONE") => Ok(()),
        Some(other) => Err(ApiError::validation(&[constraint(
            other,
            "returnConsumedCapacity",
            "satisfy enum value set: [INDEXES, TOTAL, NONE]",
        )])),
    }
}

/// Checks ReturnItemCollectionMetrics; true for `SIZE`.
pub(crate) fn return_metrics(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("NONE") => Ok(false),
        Some("SIZE") => Ok(true),
        Some(other) => Err(ApiError::validation(&[constraint(
            other,
            "returnItemCollectionMetrics",
            "satisfy enum value set: [SIZE, NONE]",
        )])),
    }
}

/// Parses ReturnValuesOnConditionCheckFailure; true for `ALL_OLD`.
pub(crate) fn return_on_failure(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(ApiError::validation(&[constraint(
            other,
            "returnValuesOnConditionCheckFailure",
            "satisfy enum value set: [ALL_OLD, NONE]",
        )])),
    }
}

/// Write units for an item of `bytes` (1 per KB, at least 1).
pub(crate) fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units for `bytes` (1 per 4 KB, halved for eventually consistent reads).
pub(crate) fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_rules() {
        let err = check_mix(
            &[("ConditionExpression", true)],
            &[("Expected", true)],
            false,
            false,
        )
        .expect_err("mixed");
        assert_eq!(
            err.message,
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
        );
        let err = check_mix(&[("ConditionExpression", false)], &[], true, false).expect_err("names");
        assert_eq!(
            err.message,
            "ExpressionAttributeNames can only be specified when using expressions"
        );
        let err = check_mix(
            &[("UpdateExpression", false), ("ConditionExpression", false)],
            &[],
            false,
            true,
        )
        .expect_err("values");
        assert_eq!(
            err.message,
            "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null"
        );
        assert!(check_mix(
            &[("ConditionExpression", true)],
            &[("Expected", false)],
            true,
            true
        )
        .is_ok());
    }

    #[test]
    fn placeholder_keys_are_checked() {
        let names: BTreeMap<String, String> = [("bad".to_string(), "x".to_string())].into();
        assert_eq!(
            placeholders(Some(&names), None).expect_err("bad").message,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"bad\""
        );
        let values = json!({":v": {"SS": []}});
        assert_eq!(
            placeholders(None, values.as_object()).expect_err("bad").message,
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v"
        );
    }

    #[test]
    fn names_and_values_share_one_two_megabyte_bound() {
        // `#n` + its name, then `:v` + a string value: the limit is on the sum of both maps.
        let name_len = MAX_SUBSTITUTION_BYTES / 2 - 2;
        let names: BTreeMap<String, String> = [("#n".to_string(), "a".repeat(name_len))].into();
        let at_limit = json!({":v": {"S": "b".repeat(MAX_SUBSTITUTION_BYTES / 2 - 2)}});
        assert!(placeholders(Some(&names), at_limit.as_object()).is_ok());
        let over = json!({":v": {"S": "b".repeat(MAX_SUBSTITUTION_BYTES / 2 - 1)}});
        let err = placeholders(Some(&names), over.as_object()).expect_err("over");
        assert_eq!(err.code, "ValidationException");
        assert!(err.message.contains("size: at least 2097153"), "{}", err.message);
        // Each map alone stays within it.
        assert!(placeholders(Some(&names), None).is_ok());
        assert!(placeholders(None, over.as_object()).is_ok());
    }
}
