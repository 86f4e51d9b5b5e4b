//! Evaluating conditions against an item, resolving document paths, and projecting items.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{CmpOp, Cond, Operand, Path, PathElem};
use crate::engine::dynamodb::number::Number;
use crate::engine::dynamodb::value::{Item, Value};

/// The value at `path` in `item`, if there is one.
pub(crate) fn resolve<'a>(item: &'a Item, path: &[PathElem]) -> Option<&'a Value> {
    let (PathElem::Attr(first), rest) = path.split_first()? else {
        return None;
    };
    let mut cur = item.get(first)?;
    for step in rest {
        cur = match (step, cur) {
            (PathElem::Attr(k), Value::M(m)) => m.get(k)?,
            (PathElem::Index(i), Value::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Orders two values of one scalar type (S and B bytewise, N numerically); `None` otherwise.
pub(crate) fn compare_scalars(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::N(x), Value::N(y)) => Some(x.cmp(y)),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn operand<'a>(op: &'a Operand, item: &'a Item) -> Option<Cow<'a, Value>> {
    match op {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(p) => {
            let n = match resolve(item, p)? {
                Value::S(s) => s.chars().count(),
                Value::B(b) => b.len(),
                Value::Ss(s) => s.len(),
                Value::Ns(s) => s.len(),
                Value::Bs(s) => s.len(),
                Value::L(l) => l.len(),
                Value::M(m) => m.len(),
                Value::N(_) | Value::Bool(_) | Value::Null => return None,
            };
            Number::parse(&n.to_string())
                .ok()
                .map(|n| Cow::Owned(Value::N(n)))
        }
    }
}

/// Whether `item` (empty when there is none) satisfies `cond`.
pub(crate) fn matches(cond: &Cond, item: &Item) -> bool {
    match cond {
        Cond::And(a, b) => matches(a, item) && matches(b, item),
        Cond::Or(a, b) => matches(a, item) || matches(b, item),
        Cond::Not(a) => !matches(a, item),
        Cond::Exists(p) => resolve(item, p).is_some(),
        Cond::NotExists(p) => resolve(item, p).is_none(),
        Cond::Cmp(a, op, b) => {
            let (a, b) = (operand(a, item), operand(b, item));
            match op {
                CmpOp::Eq => matches!((a, b), (Some(a), Some(b)) if a == b),
                CmpOp::Ne => !matches!((a, b), (Some(a), Some(b)) if a == b),
                _ => {
                    let (Some(a), Some(b)) = (a, b) else {
                        return false;
                    };
                    let Some(ord) = compare_scalars(&a, &b) else {
                        return false;
                    };
                    match op {
                        CmpOp::Lt => ord == Ordering::Less,
                        CmpOp::Le => ord != Ordering::Greater,
                        CmpOp::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }
                }
            }
        }
        Cond::Between(a, lo, hi) => {
            let (Some(a), Some(lo), Some(hi)) = (operand(a, item), operand(lo, item), operand(hi, item))
            else {
                return false;
            };
            compare_scalars(&a, &lo).is_some_and(|o| o != Ordering::Less)
                && compare_scalars(&a, &hi).is_some_and(|o| o != Ordering::Greater)
        }
        Cond::In(a, list) => {
            let Some(a) = operand(a, item) else {
                return false;
            };
            list.iter().any(|o| operand(o, item).is_some_and(|v| v == a))
        }
        Cond::AttrType(p, t) => match (resolve(item, p), operand(t, item)) {
            (Some(v), Some(t)) => matches!(&*t, Value::S(s) if s == v.type_name()),
            _ => false,
        },
        Cond::BeginsWith(a, b) => match (operand(a, item), operand(b, item)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (Value::S(x), Value::S(y)) => x.starts_with(y.as_str()),
                (Value::B(x), Value::B(y)) => x.starts_with(y),
                _ => false,
            },
            _ => false,
        },
        Cond::Contains(a, b) => match (operand(a, item), operand(b, item)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
    }
}

/// `contains(a, b)`: substring, set membership or list membership.
pub(crate) fn contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::S(x), Value::S(y)) => x.contains(y.as_str()),
        (Value::B(x), Value::B(y)) => y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice()),
        (Value::Ss(set), Value::S(y)) => set.contains(y),
        (Value::Ns(set), Value::N(y)) => set.contains(y),
        (Value::Bs(set), Value::B(y)) => set.contains(y),
        (Value::L(list), y) => list.contains(y),
        _ => false,
    }
}

/// The parts of `item` named by `paths`, nested as in the item (list elements keep their order).
pub(crate) fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out: Item = BTreeMap::new();
    for path in paths {
        let Some(v) = resolve(item, path) else {
            continue;
        };
        let Some((PathElem::Attr(first), rest)) = path.split_first() else {
            continue;
        };
        if rest.is_empty() {
            out.insert(first.clone(), v.clone());
            continue;
        }
        let Some(source) = item.get(first) else {
            continue;
        };
        let slot = out.entry(first.clone()).or_insert_with(|| empty_like(source));
        insert_projected(slot, source, rest, v);
    }
    // List elements were collected by index; drop the holes DynamoDB never shows.
    out.into_iter().map(|(k, v)| (k, compact_lists(v))).collect()
}

/// Containers being projected are built as maps first (lists keyed by index, see below).
fn empty_like(_source: &Value) -> Value {
    Value::M(BTreeMap::new())
}

/// Lists under projection are built as maps keyed by zero-padded index, then turned back.
const LIST_MARK: &str = "\u{0}list\u{0}";

fn insert_projected(slot: &mut Value, source: &Value, rest: &[PathElem], leaf: &Value) {
    let Some((step, tail)) = rest.split_first() else {
        *slot = leaf.clone();
        return;
    };
    let Value::M(map) = slot else {
        return;
    };
    let (key, child_source) = match (step, source) {
        (PathElem::Attr(k), Value::M(m)) => (k.clone(), m.get(k)),
        (PathElem::Index(i), Value::L(l)) => {
            map.insert(LIST_MARK.to_string(), Value::Null);
            (format!("{i:020}"), l.get(*i))
        }
        _ => return,
    };
    let Some(child_source) = child_source else {
        return;
    };
    if tail.is_empty() {
        map.insert(key, leaf.clone());
    } else {
        let child = map.entry(key).or_insert_with(|| empty_like(child_source));
        insert_projected(child, child_source, tail, leaf);
    }
}

fn compact_lists(v: Value) -> Value {
    match v {
        Value::M(mut m) => {
            if m.remove(LIST_MARK).is_some() {
                Value::L(m.into_values().map(compact_lists).collect())
            } else {
                Value::M(m.into_iter().map(|(k, v)| (k, compact_lists(v))).collect())
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dynamodb::expr::parser::{parse_condition, parse_projection};
    use crate::engine::dynamodb::expr::Placeholders;
    use crate::engine::dynamodb::value::item_from_json;
    use serde_json::json;

    fn item(j: serde_json::Value) -> Item {
        item_from_json(j.as_object().expect("object")).expect("item")
    }

    fn check(src: &str, values: serde_json::Value, it: &Item) -> bool {
        let mut ph = Placeholders {
            values: item(values),
            ..Placeholders::default()
        };
        let c = parse_condition(src, &mut ph).unwrap_or_else(|e| panic!("{src}: {e}"));
        matches(&c, it)
    }

    #[test]
    fn conditions_follow_dynamodb_semantics() {
        let it = item(json!({
            "k": {"S": "lease-1"}, "c": {"N": "10"}, "tags": {"SS": ["a", "b"]},
            "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "two"}]}}}, "b": {"B": "AAEC"}
        }));
        let v = json!({":ten": {"N": "10.0"}, ":nine": {"N": "9"}, ":s": {"S": "lease"}, ":a": {"S": "a"}, ":t": {"S": "SS"}, ":two": {"S": "two"}, ":b": {"B": "AAE="}});
        assert!(check("c = :ten", v.clone(), &it));
        assert!(check("c > :nine AND c >= :ten AND NOT c < :ten", v.clone(), &it));
        assert!(check("c BETWEEN :nine AND :ten", v.clone(), &it));
        assert!(check("c IN (:nine, :ten)", v.clone(), &it));
        assert!(check("begins_with(k, :s) AND contains(tags, :a)", v.clone(), &it));
        assert!(check(
            "attribute_type(tags, :t) AND m.x[1] = :two",
            v.clone(),
            &it
        ));
        assert!(check(
            "attribute_exists(m.x[0]) AND attribute_not_exists(m.x[2])",
            v.clone(),
            &it
        ));
        assert!(check(
            "size(tags) < :nine AND size(m.x) < :nine AND size(k) < :nine",
            v.clone(),
            &it
        ));
        assert!(check("begins_with(b, :b)", v.clone(), &it));
        // Comparisons across types or with a missing attribute are false; <> is true.
        assert!(!check("k > :nine", v.clone(), &it));
        assert!(check("nothere <> :nine", v.clone(), &it));
        assert!(!check("nothere = :nine", v.clone(), &it));
        assert!(check("(k = :s OR c = :ten) AND k <> :s", v, &it));
    }

    #[test]
    fn projection_keeps_nested_shape() {
        let it = item(json!({
            "a": {"N": "1"}, "b": {"S": "x"},
            "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "two"}, {"S": "three"}]}, "y": {"S": "y"}}}
        }));
        let mut ph = Placeholders::default();
        let paths = parse_projection("a, m.x[2], m.x[0], nope", &mut ph).expect("parses");
        let out = project(&it, &paths);
        assert_eq!(
            serde_json::Value::Object(crate::engine::dynamodb::value::item_to_json(&out)),
            json!({"a": {"N": "1"}, "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "three"}]}}}})
        );
    }
}
