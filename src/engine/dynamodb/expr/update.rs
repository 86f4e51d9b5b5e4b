//! Applying update actions (SET / REMOVE / ADD / DELETE) to an item.
//!
//! Every right-hand side is evaluated against the item as it was before the update, as
//! DynamoDB does (`SET a = b, b = a` swaps), then the actions are applied in order.

use super::eval::resolve;
use super::{Action, PathElem, SetOperand, SetValue};
use crate::engine::dynamodb::number::Number;
use crate::engine::dynamodb::value::{Item, Value};

const MISSING: &str = "The provided expression refers to an attribute that does not exist in the item";
const BAD_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

/// The item after `actions`, or DynamoDB's ValidationException message.
pub(crate) fn apply(old: &Item, actions: &[Action]) -> Result<Item, String> {
    let mut planned = Vec::with_capacity(actions.len());
    for action in actions {
        planned.push(match action {
            Action::Set(_, value) => Some(set_value(old, value)?),
            _ => None,
        });
    }
    let mut item = old.clone();
    for (action, value) in actions.iter().zip(planned) {
        match action {
            Action::Set(path, _) => {
                if let Some(v) = value {
                    put_path(&mut item, path, v)?;
                }
            }
            // Removals run last, see below.
            Action::Remove(_) => {}
            Action::Add(path, v) => {
                let new = match (resolve(old, path), v) {
                    (None, v) => v.clone(),
                    (Some(Value::N(a)), Value::N(b)) => Value::N(a.add(b).map_err(|e| e.message(""))?),
                    (Some(Value::Ss(a)), Value::Ss(b)) => Value::Ss(union(a, b)),
                    (Some(Value::Ns(a)), Value::Ns(b)) => Value::Ns(union(a, b)),
                    (Some(Value::Bs(a)), Value::Bs(b)) => Value::Bs(union(a, b)),
                    (Some(Value::L(a)), Value::L(b)) => Value::L(a.iter().chain(b).cloned().collect()),
                    _ => return Err(BAD_TYPE.to_string()),
                };
                put_path(&mut item, path, new)?;
            }
            Action::Delete(path, v) => {
                let new = match (resolve(old, path), v) {
                    (None, _) => continue,
                    (Some(Value::Ss(a)), Value::Ss(b)) => difference(a, b).map(Value::Ss),
                    (Some(Value::Ns(a)), Value::Ns(b)) => difference(a, b).map(Value::Ns),
                    (Some(Value::Bs(a)), Value::Bs(b)) => difference(a, b).map(Value::Bs),
                    _ => return Err(BAD_TYPE.to_string()),
                };
                match new {
                    Some(v) => put_path(&mut item, path, v)?,
                    None => remove_path(&mut item, path),
                }
            }
        }
    }
    // List indices name elements of the list as it was, so removals run from the highest
    // index down: removing `[1]` first must not shift `[3]`.
    let mut removals: Vec<&Vec<PathElem>> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Remove(p) => Some(p),
            _ => None,
        })
        .collect();
    removals.sort_by_key(|p| {
        p.iter()
            .map(|e| match e {
                PathElem::Attr(a) => (0u8, a.clone(), std::cmp::Reverse(0usize)),
                PathElem::Index(i) => (1u8, String::new(), std::cmp::Reverse(*i)),
            })
            .collect::<Vec<_>>()
    });
    for path in removals {
        remove_path(&mut item, path);
    }
    Ok(item)
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// `a - b`; `None` when nothing is left (DynamoDB then removes the attribute).
fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Option<Vec<T>> {
    let out: Vec<T> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
    (!out.is_empty()).then_some(out)
}

fn set_value(item: &Item, value: &SetValue) -> Result<Value, String> {
    match value {
        SetValue::Operand(op) => operand(item, op),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (Value::N(x), Value::N(y)) = (operand(item, a)?, operand(item, b)?) else {
                return Err(BAD_TYPE.to_string());
            };
            let r: Result<Number, _> = if matches!(value, SetValue::Plus(..)) {
                x.add(&y)
            } else {
                x.sub(&y)
            };
            r.map(Value::N).map_err(|e| e.message(""))
        }
    }
}

fn operand(item: &Item, op: &SetOperand) -> Result<Value, String> {
    match op {
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::Path(p) => resolve(item, p).cloned().ok_or_else(|| MISSING.to_string()),
        SetOperand::IfNotExists(p, fallback) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => operand(item, fallback),
        },
        SetOperand::ListAppend(a, b) => match (operand(item, a)?, operand(item, b)?) {
            (Value::L(mut x), Value::L(y)) => {
                x.extend(y);
                Ok(Value::L(x))
            }
            _ => Err(BAD_TYPE.to_string()),
        },
    }
}

/// The container holding the last step of `path`, which must exist.
fn parent_mut<'a>(item: &'a mut Item, path: &[PathElem]) -> Option<&'a mut Value> {
    let (PathElem::Attr(first), rest) = path.split_first()? else {
        return None;
    };
    let mut cur = item.get_mut(first)?;
    for step in rest.get(..rest.len().saturating_sub(1))? {
        cur = match (step, cur) {
            (PathElem::Attr(k), Value::M(m)) => m.get_mut(k)?,
            (PathElem::Index(i), Value::L(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn put_path(item: &mut Item, path: &[PathElem], v: Value) -> Result<(), String> {
    match path {
        [PathElem::Attr(name)] => {
            item.insert(name.clone(), v);
            Ok(())
        }
        [.., last] => {
            let parent = parent_mut(item, path).ok_or_else(|| BAD_PATH.to_string())?;
            match (last, parent) {
                (PathElem::Attr(k), Value::M(m)) => {
                    m.insert(k.clone(), v);
                }
                (PathElem::Index(i), Value::L(l)) => {
                    // Past the end appends, as DynamoDB does.
                    if *i < l.len() {
                        l[*i] = v;
                    } else {
                        l.push(v);
                    }
                }
                _ => return Err(BAD_PATH.to_string()),
            }
            Ok(())
        }
        [] => Err(BAD_PATH.to_string()),
    }
}

fn remove_path(item: &mut Item, path: &[PathElem]) {
    match path {
        [PathElem::Attr(name)] => {
            item.remove(name);
        }
        [.., last] => {
            if let Some(parent) = parent_mut(item, path) {
                match (last, parent) {
                    (PathElem::Attr(k), Value::M(m)) => {
                        m.remove(k);
                    }
                    (PathElem::Index(i), Value::L(l)) if *i < l.len() => {
                        l.remove(*i);
                    }
                    _ => {}
                }
            }
        }
        [] => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dynamodb::expr::parser::parse_update;
    use crate::engine::dynamodb::expr::Placeholders;
    use crate::engine::dynamodb::value::{item_from_json, item_to_json};
    use serde_json::json;

    fn item(j: serde_json::Value) -> Item {
        item_from_json(j.as_object().expect("object")).expect("item")
    }

    fn run(
        start: serde_json::Value,
        expr: &str,
        values: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let mut ph = Placeholders {
            values: item(values),
            ..Placeholders::default()
        };
        let actions = parse_update(expr, &mut ph)?;
        apply(&item(start), &actions).map(|i| serde_json::Value::Object(item_to_json(&i)))
    }

    #[test]
    fn set_arithmetic_and_if_not_exists() {
        let out = run(
            json!({"c": {"N": "5"}}),
            "SET c = c + :one, d = if_not_exists(d, :zero) - :one, e = :l",
            json!({":one": {"N": "1"}, ":zero": {"N": "0"}, ":l": {"L": [{"S": "x"}]}}),
        );
        assert_eq!(
            out,
            Ok(json!({"c": {"N": "6"}, "d": {"N": "-1"}, "e": {"L": [{"S": "x"}]}}))
        );
        assert_eq!(
            run(json!({}), "SET c = c + :one", json!({":one": {"N": "1"}})),
            Err(MISSING.to_string())
        );
        assert_eq!(
            run(
                json!({"c": {"S": "x"}}),
                "SET c = c + :one",
                json!({":one": {"N": "1"}})
            ),
            Err(BAD_TYPE.to_string())
        );
        // Right-hand sides see the old item: a swap works.
        assert_eq!(
            run(
                json!({"a": {"N": "1"}, "b": {"N": "2"}}),
                "SET a = b, b = a",
                json!({})
            ),
            Ok(json!({"a": {"N": "2"}, "b": {"N": "1"}}))
        );
    }

    #[test]
    fn add_delete_remove() {
        let out = run(
            json!({"n": {"N": "1"}, "s": {"SS": ["a", "b"]}, "gone": {"S": "x"}, "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}}),
            "ADD n :two, s :c, fresh :set DELETE s :a REMOVE gone, l[0], l[2]",
            json!({":two": {"N": "2"}, ":c": {"SS": ["c"]}, ":set": {"NS": ["7"]}, ":a": {"SS": ["a"]}}),
        );
        // ADD and DELETE on one path overlap; DynamoDB refuses it, so do we.
        assert!(out.is_err());
        let out = run(
            json!({"n": {"N": "1"}, "s": {"SS": ["a", "b"]}, "gone": {"S": "x"}, "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}}),
            "ADD n :two, fresh :set DELETE s :a REMOVE gone, l[0], l[2]",
            json!({":two": {"N": "2"}, ":set": {"NS": ["7"]}, ":a": {"SS": ["a", "b"]}}),
        );
        assert_eq!(
            out,
            Ok(json!({"fresh": {"NS": ["7"]}, "l": {"L": [{"N": "1"}]}, "n": {"N": "3"}}))
        );
        assert_eq!(
            run(
                json!({"n": {"S": "x"}}),
                "ADD n :two",
                json!({":two": {"N": "2"}})
            ),
            Err(BAD_TYPE.to_string())
        );
    }

    #[test]
    fn nested_paths() {
        let out = run(
            json!({"m": {"M": {"l": {"L": [{"N": "1"}]}}}}),
            "SET m.x = :v, m.l[5] = :v, m.l[0] = :v",
            json!({":v": {"S": "v"}}),
        );
        assert_eq!(
            out,
            Ok(json!({"m": {"M": {"l": {"L": [{"S": "v"}, {"S": "v"}]}, "x": {"S": "v"}}}}))
        );
        assert_eq!(
            run(json!({}), "SET m.x = :v", json!({":v": {"S": "v"}})),
            Err(BAD_PATH.to_string())
        );
    }
}
