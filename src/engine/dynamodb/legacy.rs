//! The pre-expression parameters the Kinesis Client Library still sends (`Expected`,
//! `AttributeUpdates`, `KeyConditions`, `QueryFilter`/`ScanFilter`, `AttributesToGet`),
//! translated into the same condition and update trees as expressions, with DynamoDB's checks.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::expr::{Action, CmpOp, Cond, Operand, Path, PathElem, SetOperand, SetValue};
use super::value::Value;
use crate::engine::error::ApiError;

/// One entry of `Expected`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ExpectedAttribute {
    value: Option<Json>,
    exists: Option<bool>,
    comparison_operator: Option<String>,
    attribute_value_list: Option<Vec<Json>>,
}

/// One entry of `AttributeUpdates`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributeUpdate {
    value: Option<Json>,
    action: Option<String>,
}

/// One entry of `KeyConditions`, `QueryFilter` or `ScanFilter`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LegacyCondition {
    comparison_operator: Option<String>,
    attribute_value_list: Option<Vec<Json>>,
}

fn invalid(msg: impl AsRef<str>) -> ApiError {
    ApiError::new(
        "ValidationException",
        format!("One or more parameter values were invalid: {}", msg.as_ref()),
    )
}

fn attr(name: &str) -> Operand {
    Operand::Path(vec![PathElem::Attr(name.to_string())])
}

fn combine(conds: Vec<Cond>, operator: Option<&str>) -> Result<Option<Cond>, ApiError> {
    let or = match operator {
        None | Some("AND") => false,
        Some("OR") => true,
        Some(other) => {
            return Err(ApiError::validation(&[crate::engine::error::constraint(
                other,
                "conditionalOperator",
                "satisfy enum value set: [AND, OR]",
            )]))
        }
    };
    // A balanced tree: AND and OR are associative, and a left-leaning chain of thousands of
    // entries would make evaluation recurse as deep as the request is long.
    let mut level = conds;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut it = level.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) if or => Cond::Or(Box::new(a), Box::new(b)),
                Some(b) => Cond::And(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        level = next;
    }
    Ok(level.pop())
}

/// `Expected` (+ `ConditionalOperator`) as a condition; `None` when empty.
pub(crate) fn expected(
    expected: &BTreeMap<String, ExpectedAttribute>,
    operator: Option<&str>,
) -> Result<Option<Cond>, ApiError> {
    let mut conds = Vec::new();
    for (key, c) in expected {
        if c.attribute_value_list.is_some() && c.value.is_some() {
            return Err(invalid(format!(
                "Value and AttributeValueList cannot be used together for Attribute: {key}"
            )));
        }
        if let Some(op) = &c.comparison_operator {
            if c.exists.is_some() {
                return Err(invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {key}"
                )));
            }
            if op != "NULL" && op != "NOT_NULL" && c.attribute_value_list.is_none() && c.value.is_none() {
                return Err(invalid(format!(
                    "Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {key}"
                )));
            }
            let raw: Vec<&Json> = match (&c.attribute_value_list, &c.value) {
                (Some(list), _) => list.iter().collect(),
                (None, Some(v)) => vec![v],
                (None, None) => Vec::new(),
            };
            conds.push(comparison(key, op, &raw)?);
        } else if c.attribute_value_list.is_some() {
            return Err(invalid(format!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {key}"
            )));
        } else {
            let exists = c.exists.unwrap_or(true);
            match (&c.value, exists) {
                (None, true) => {
                    let shown = if c.exists.is_none() { "null" } else { "true" };
                    return Err(invalid(format!(
                        "Value must be provided when Exists is {shown} for Attribute: {key}"
                    )));
                }
                (Some(_), false) => {
                    return Err(invalid(format!(
                        "Value cannot be used when Exists is false for Attribute: {key}"
                    )))
                }
                (Some(v), true) => {
                    let v = Value::from_json(v)?;
                    conds.push(Cond::Cmp(attr(key), CmpOp::Eq, Operand::Value(v)));
                }
                (None, false) => conds.push(Cond::NotExists(vec![PathElem::Attr(key.clone())])),
            }
        }
    }
    combine(conds, operator)
}

/// `KeyConditions`, `QueryFilter` or `ScanFilter` (+ `ConditionalOperator`) as a condition.
pub(crate) fn conditions(
    conditions: &BTreeMap<String, LegacyCondition>,
    operator: Option<&str>,
) -> Result<Option<Cond>, ApiError> {
    let mut conds = Vec::new();
    for (key, c) in conditions {
        let Some(op) = &c.comparison_operator else {
            return Err(ApiError::validation(&[crate::engine::error::not_null(&format!(
                "conditions.{key}.member.comparisonOperator"
            ))]));
        };
        let raw: Vec<&Json> = c.attribute_value_list.iter().flatten().collect();
        conds.push(comparison(key, op, &raw)?);
    }
    combine(conds, operator)
}

/// One `ComparisonOperator` with its arguments, checked as DynamoDB checks them.
fn comparison(key: &str, op: &str, raw: &[&Json]) -> Result<Cond, ApiError> {
    let args: Vec<Value> = raw
        .iter()
        .map(|j| Value::from_json(j))
        .collect::<Result<_, _>>()?;
    let (arity_ok, types): (bool, &[&str]) = match op {
        "EQ" | "NE" => (args.len() == 1, &["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"]),
        "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" => (args.len() == 1, &["S", "N", "B"]),
        "BEGINS_WITH" => (args.len() == 1, &["S", "B"]),
        "NULL" | "NOT_NULL" => (args.is_empty(), &[]),
        "IN" => (!args.is_empty(), &["S", "N", "B"]),
        "BETWEEN" => (args.len() == 2, &["S", "N", "B"]),
        other => {
            return Err(ApiError::validation(&[crate::engine::error::constraint(
                other,
                &format!("expected.{key}.member.comparisonOperator"),
                "satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]",
            )]))
        }
    };
    if !arity_ok {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {op} ComparisonOperator"
        )));
    }
    if let Some(first) = args.first() {
        if args.iter().any(|a| a.type_name() != first.type_name()) {
            return Err(invalid(
                "AttributeValues inside AttributeValueList must be of same type",
            ));
        }
    }
    if let Some(bad) = args.iter().find(|a| !types.contains(&a.type_name())) {
        return Err(invalid(format!(
            "ComparisonOperator {op} is not valid for {} AttributeValue type",
            bad.type_name()
        )));
    }
    if op == "BETWEEN"
        && super::expr::eval::compare_scalars(&args[0], &args[1]) == Some(std::cmp::Ordering::Greater)
    {
        return Err(ApiError::new(
            "ValidationException",
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    let path = vec![PathElem::Attr(key.to_string())];
    let mut args = args.into_iter().map(Operand::Value);
    let mut next = || args.next().unwrap_or(Operand::Value(Value::Null));
    Ok(match op {
        "EQ" => Cond::Cmp(attr(key), CmpOp::Eq, next()),
        "NE" => Cond::Cmp(attr(key), CmpOp::Ne, next()),
        "LE" => Cond::Cmp(attr(key), CmpOp::Le, next()),
        "LT" => Cond::Cmp(attr(key), CmpOp::Lt, next()),
        "GE" => Cond::Cmp(attr(key), CmpOp::Ge, next()),
        "GT" => Cond::Cmp(attr(key), CmpOp::Gt, next()),
        "NULL" => Cond::NotExists(path),
        "NOT_NULL" => Cond::Exists(path),
        "CONTAINS" => Cond::Contains(attr(key), next()),
        "NOT_CONTAINS" => Cond::Not(Box::new(Cond::Contains(attr(key), next()))),
        "BEGINS_WITH" => Cond::BeginsWith(attr(key), next()),
        "BETWEEN" => {
            let lo = next();
            Cond::Between(attr(key), lo, next())
        }
        _ => Cond::In(attr(key), args.collect()),
    })
}

/// `AttributeUpdates` as update actions.
pub(crate) fn attribute_updates(
    updates: &BTreeMap<String, AttributeUpdate>,
) -> Result<Vec<Action>, ApiError> {
    let mut actions = Vec::new();
    for (key, u) in updates {
        let value = u.value.as_ref().map(Value::from_json).transpose()?;
        let action = u.action.as_deref().unwrap_or("PUT");
        let path: Path = vec![PathElem::Attr(key.clone())];
        actions.push(match (action, value) {
            ("DELETE", None) => Action::Remove(path),
            (_, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ))
            }
            ("PUT", Some(v)) => Action::Set(path, SetValue::Operand(SetOperand::Value(v))),
            ("DELETE", Some(v)) => {
                if !matches!(v, Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) {
                    return Err(invalid(format!(
                        "DELETE action with value is not supported for the type {}",
                        v.type_name()
                    )));
                }
                Action::Delete(path, v)
            }
            ("ADD", Some(v)) => {
                if !matches!(
                    v,
                    Value::N(_) | Value::L(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_)
                ) {
                    return Err(invalid(format!(
                        "ADD action is not supported for the type {}",
                        v.type_name()
                    )));
                }
                Action::Add(path, v)
            }
            (other, Some(_)) => {
                return Err(ApiError::validation(&[crate::engine::error::constraint(
                    other,
                    &format!("attributeUpdates.{key}.member.action"),
                    "satisfy enum value set: [ADD, PUT, DELETE]",
                )]))
            }
        });
    }
    Ok(actions)
}

/// `AttributesToGet` as projection paths.
pub(crate) fn attributes_to_get(names: &[String]) -> Vec<Path> {
    names.iter().map(|n| vec![PathElem::Attr(n.clone())]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dynamodb::expr::eval::matches;
    use crate::engine::dynamodb::value::{item_from_json, Item};
    use serde_json::json;

    fn exp(j: Json) -> Result<Option<Cond>, ApiError> {
        let map: BTreeMap<String, ExpectedAttribute> = serde_json::from_value(j).expect("shape");
        expected(&map, None)
    }

    fn item(j: Json) -> Item {
        item_from_json(j.as_object().expect("object")).expect("item")
    }

    #[test]
    fn kcl_expected_forms() {
        let absent = exp(json!({"leaseKey": {"Exists": false}}))
            .expect("ok")
            .expect("some");
        assert!(matches(&absent, &Item::new()));
        assert!(!matches(&absent, &item(json!({"leaseKey": {"S": "k"}}))));
        let cas = exp(json!({"leaseCounter": {"Value": {"N": "5"}, "Exists": true}}))
            .expect("ok")
            .expect("some");
        assert!(matches(&cas, &item(json!({"leaseCounter": {"N": "5"}}))));
        assert!(!matches(&cas, &item(json!({"leaseCounter": {"N": "6"}}))));
        let op = exp(json!({"c": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}}))
            .expect("ok")
            .expect("some");
        assert!(matches(&op, &item(json!({"c": {"N": "2"}}))));
    }

    #[test]
    fn expected_mistakes_are_refused_in_dynamodb_words() {
        let msg = |j| exp(j).expect_err("invalid").message;
        assert_eq!(
            msg(json!({"a": {"Exists": true}})),
            "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"
        );
        assert_eq!(
            msg(json!({"a": {}})),
            "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a"
        );
        assert_eq!(
            msg(json!({"a": {"Exists": false, "Value": {"S": "x"}}})),
            "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a"
        );
        assert_eq!(
            msg(json!({"a": {"ComparisonOperator": "EQ"}})),
            "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"
        );
        assert_eq!(
            msg(json!({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}})),
            "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"
        );
    }

    #[test]
    fn attribute_updates_become_actions() {
        let map: BTreeMap<String, AttributeUpdate> = serde_json::from_value(json!({
            "leaseCounter": {"Value": {"N": "6"}, "Action": "PUT"},
            "leaseOwner": {"Action": "DELETE"},
            "n": {"Value": {"N": "1"}, "Action": "ADD"},
            "plain": {"Value": {"S": "x"}}
        }))
        .expect("shape");
        let actions = attribute_updates(&map).expect("ok");
        assert_eq!(actions.len(), 4);
        assert!(matches!(actions[1], Action::Remove(_)));
        let bad: BTreeMap<String, AttributeUpdate> =
            serde_json::from_value(json!({"a": {"Action": "PUT"}})).expect("shape");
        assert_eq!(
            attribute_updates(&bad).expect_err("bad").message,
            "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
        );
    }
}
