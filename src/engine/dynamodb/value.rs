//! Attribute values (S, N, B, BOOL, NULL, M, L, SS, NS, BS): parsing from DynamoDB JSON with
//! DynamoDB's validation and wording, writing back exactly, equality, ordering and size.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Map, Value as Json};

use super::number::Number;

/// One attribute value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A string (may be empty outside keys).
    S(String),
    /// An exact decimal.
    N(Number),
    /// Binary data.
    B(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// NULL (always true on the wire).
    Null,
    /// A map of named values.
    M(BTreeMap<String, Value>),
    /// A list of values.
    L(Vec<Value>),
    /// A string set: non-empty, no duplicates, unordered.
    Ss(Vec<String>),
    /// A number set.
    Ns(Vec<Number>),
    /// A binary set.
    Bs(Vec<Vec<u8>>),
}

/// An item: attribute name to value.
pub(crate) type Item = BTreeMap<String, Value>;

/// Why a JSON attribute value was refused, and with which error code DynamoDB refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrError {
    /// The JSON shape is wrong (a number where a string belongs): `SerializationException`.
    Serialization(String),
    /// The shape is right but the value is not allowed: `ValidationException`.
    Validation(String),
}

impl From<AttrError> for crate::engine::error::ApiError {
    fn from(e: AttrError) -> Self {
        match e {
            AttrError::Serialization(m) => Self::serialization(m),
            AttrError::Validation(m) => Self::new("ValidationException", m),
        }
    }
}

impl PartialEq for Value {
    /// DynamoDB equality: same type and same value; sets compare as sets.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::S(a), Value::S(b)) => a == b,
            (Value::N(a), Value::N(b)) => a == b,
            (Value::B(a), Value::B(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Null, Value::Null) => true,
            (Value::M(a), Value::M(b)) => a == b,
            (Value::L(a), Value::L(b)) => a == b,
            (Value::Ss(a), Value::Ss(b)) => same_set(a, b),
            (Value::Ns(a), Value::Ns(b)) => same_set(a, b),
            (Value::Bs(a), Value::Bs(b)) => same_set(a, b),
            _ => false,
        }
    }
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

impl Value {
    /// The wire name of this value's type (`S`, `N`, `SS`, ...).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::M(_) => "M",
            Value::L(_) => "L",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
            Value::Bs(_) => "BS",
        }
    }

    /// Parses one DynamoDB JSON attribute value (`{"S": "x"}`), validating it as DynamoDB does.
    pub(crate) fn from_json(json: &Json) -> Result<Value, AttrError> {
        let Json::Object(map) = json else {
            return Err(AttrError::Serialization(
                "Unexpected value type in payload".to_string(),
            ));
        };
        const TYPES: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];
        let present: Vec<(&str, &Json)> = TYPES
            .iter()
            .filter_map(|t| map.get(*t).filter(|v| !v.is_null()).map(|v| (*t, v)))
            .collect();
        let Some(&(ty, raw)) = present.first() else {
            return Err(AttrError::Validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
                    .to_string(),
            ));
        };
        // Each member is decoded (and validated) before the "more than one" check, as DynamoDB.
        let mut first = None;
        for &(t, raw_t) in &present {
            let v = Self::decode(t, raw_t)?;
            if first.is_none() {
                first = Some(v);
            }
        }
        if present.len() > 1 {
            return Err(AttrError::Validation(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                    .to_string(),
            ));
        }
        match first {
            Some(v) => Ok(v),
            None => Self::decode(ty, raw),
        }
    }

    fn decode(ty: &str, raw: &Json) -> Result<Value, AttrError> {
        let invalid =
            |m: &str| AttrError::Validation(format!("One or more parameter values were invalid: {m}"));
        Ok(match ty {
            "S" => Value::S(json_str(raw, "String")?.to_string()),
            "N" => Value::N(parse_number(json_str(raw, "BigDecimal")?)?),
            "B" => Value::B(decode_b64(raw)?),
            "BOOL" => match raw {
                Json::Bool(b) => Value::Bool(*b),
                other => return Err(wrong_type(other, "Boolean")),
            },
            "NULL" => match raw {
                Json::Bool(true) => Value::Null,
                Json::Bool(false) => {
                    return Err(invalid("Null attribute value types must have the value of true"))
                }
                other => return Err(wrong_type(other, "Boolean")),
            },
            "M" => {
                let Json::Object(m) = raw else {
                    return Err(wrong_type(raw, "Map"));
                };
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    out.insert(k.clone(), Value::from_json(v)?);
                }
                Value::M(out)
            }
            "L" => {
                let Json::Array(items) = raw else {
                    return Err(wrong_type(raw, "List"));
                };
                Value::L(items.iter().map(Value::from_json).collect::<Result<_, _>>()?)
            }
            "SS" => {
                let items = json_array(raw)?;
                if items.is_empty() {
                    return Err(invalid("An string set  may not be empty"));
                }
                let set: Vec<String> = items
                    .iter()
                    .map(|v| json_str(v, "String").map(str::to_string))
                    .collect::<Result<_, _>>()?;
                if has_duplicates(&set) {
                    return Err(invalid(&format!(
                        "Input collection [{}] contains duplicates.",
                        set.join(", ")
                    )));
                }
                Value::Ss(set)
            }
            "NS" => {
                let items = json_array(raw)?;
                if items.is_empty() {
                    return Err(invalid("An number set  may not be empty"));
                }
                let set: Vec<Number> = items
                    .iter()
                    .map(|v| json_str(v, "BigDecimal").and_then(parse_number))
                    .collect::<Result<_, _>>()?;
                if has_duplicates(&set) {
                    return Err(AttrError::Validation(
                        "Input collection contains duplicates".to_string(),
                    ));
                }
                Value::Ns(set)
            }
            "BS" => {
                let items = json_array(raw)?;
                if items.is_empty() {
                    return Err(invalid("Binary sets should not be empty"));
                }
                let set: Vec<Vec<u8>> = items.iter().map(decode_b64).collect::<Result<_, _>>()?;
                if has_duplicates(&set) {
                    let shown: Vec<String> = set
                        .iter()
                        .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
                        .collect();
                    return Err(invalid(&format!(
                        "Input collection [{}]of type BS contains duplicates.",
                        shown.join(", ")
                    )));
                }
                Value::Bs(set)
            }
            _ => return Err(AttrError::Serialization(format!("Unknown attribute type {ty}"))),
        })
    }

    /// The DynamoDB JSON form of this value.
    pub(crate) fn to_json(&self) -> Json {
        let b64 = |b: &[u8]| Json::String(base64::engine::general_purpose::STANDARD.encode(b));
        match self {
            Value::S(s) => json!({ "S": s }),
            Value::N(n) => json!({ "N": n.to_string() }),
            Value::B(b) => json!({ "B": b64(b) }),
            Value::Bool(b) => json!({ "BOOL": b }),
            Value::Null => json!({ "NULL": true }),
            Value::M(m) => json!({ "M": item_to_json(m) }),
            Value::L(l) => json!({ "L": l.iter().map(Value::to_json).collect::<Vec<_>>() }),
            Value::Ss(s) => json!({ "SS": s }),
            Value::Ns(s) => json!({ "NS": s.iter().map(ToString::to_string).collect::<Vec<_>>() }),
            Value::Bs(s) => json!({ "BS": s.iter().map(|b| b64(b)).collect::<Vec<_>>() }),
        }
    }

    /// DynamoDB's size estimate of this value in bytes (for the item and page limits).
    pub(crate) fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => number_size(n),
            Value::B(b) => b.len(),
            Value::Bool(_) | Value::Null => 1,
            Value::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            Value::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            Value::Ss(s) => s.iter().map(String::len).sum(),
            Value::Ns(s) => s.iter().map(number_size).sum(),
            Value::Bs(s) => s.iter().map(Vec::len).sum(),
        }
    }
}

fn number_size(n: &Number) -> usize {
    let digits = n.to_string().bytes().filter(u8::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

/// Parses a map of attribute values (an item, a key, ExpressionAttributeValues).
pub(crate) fn item_from_json(map: &Map<String, Json>) -> Result<Item, AttrError> {
    map.iter()
        .map(|(k, v)| Value::from_json(v).map(|v| (k.clone(), v)))
        .collect()
}

/// The DynamoDB JSON form of an item.
pub(crate) fn item_to_json(item: &Item) -> Map<String, Json> {
    item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
}

/// The size DynamoDB counts for an item: names plus values.
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

fn has_duplicates<T: PartialEq>(v: &[T]) -> bool {
    v.iter().enumerate().any(|(i, x)| v[..i].contains(x))
}

fn parse_number(text: &str) -> Result<Number, AttrError> {
    Number::parse(text).map_err(|e| AttrError::Validation(e.message(text)))
}

fn json_str<'a>(raw: &'a Json, java: &str) -> Result<&'a str, AttrError> {
    match raw {
        Json::String(s) => Ok(s),
        other => Err(wrong_type(other, java)),
    }
}

fn json_array(raw: &Json) -> Result<&Vec<Json>, AttrError> {
    match raw {
        Json::Array(a) => Ok(a),
        other => Err(wrong_type(other, "List")),
    }
}

/// The message DynamoDB's deserializer gives for a JSON value of the wrong kind.
fn wrong_type(raw: &Json, java: &str) -> AttrError {
    let found = match raw {
        Json::Null => "NULL_VALUE",
        Json::Bool(_) => "BOOLEAN_VALUE",
        Json::Number(_) => "NUMBER_VALUE",
        Json::String(_) => "STRING_VALUE",
        Json::Array(_) => {
            return AttrError::Serialization(format!("Unrecognized collection type class java.lang.{java}"))
        }
        Json::Object(_) => {
            return AttrError::Serialization("Start of structure or map found where not expected".to_string())
        }
    };
    AttrError::Serialization(format!("{found} cannot be converted to {java}"))
}

fn decode_b64(raw: &Json) -> Result<Vec<u8>, AttrError> {
    let s = json_str(raw, "ByteBuffer")?;
    if s.len() % 4 != 0 {
        return Err(AttrError::Serialization(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            s.len()
        )));
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| AttrError::Serialization("Invalid last non-pad Base64 character dectected".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(j: Json) -> Result<Value, AttrError> {
        Value::from_json(&j)
    }

    #[test]
    fn every_type_round_trips() {
        let samples = [
            json!({"S": "héllo"}),
            json!({"S": ""}),
            json!({"N": "-12.5"}),
            json!({"B": "AAEC"}),
            json!({"BOOL": false}),
            json!({"NULL": true}),
            json!({"M": {"a": {"N": "1"}, "b": {"L": [{"S": "x"}, {"NULL": true}]}}}),
            json!({"L": []}),
            json!({"M": {}}),
            json!({"SS": ["b", "a"]}),
            json!({"NS": ["1", "2.5"]}),
            json!({"BS": ["AA==", "AQ=="]}),
        ];
        for s in samples {
            let v = parse(s.clone()).expect("valid");
            assert_eq!(v.to_json(), s);
        }
        assert_eq!(
            parse(json!({"N": "1.50"})).expect("n").to_json(),
            json!({"N": "1.5"})
        );
    }

    #[test]
    fn rejects_like_dynamodb() {
        let v = |m: &str| Err(AttrError::Validation(m.to_string()));
        assert_eq!(
            parse(json!({"SS": []})),
            v("One or more parameter values were invalid: An string set  may not be empty")
        );
        assert_eq!(
            parse(json!({"NS": []})),
            v("One or more parameter values were invalid: An number set  may not be empty")
        );
        assert_eq!(
            parse(json!({"BS": []})),
            v("One or more parameter values were invalid: Binary sets should not be empty")
        );
        assert_eq!(
            parse(json!({"SS": ["a", "a"]})),
            v("One or more parameter values were invalid: Input collection [a, a] contains duplicates.")
        );
        assert_eq!(
            parse(json!({"NS": ["1", "1.0"]})),
            v("Input collection contains duplicates")
        );
        assert_eq!(
            parse(json!({})),
            v("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        );
        assert_eq!(
            parse(json!({"S": "a", "N": "1"})),
            v("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
        );
        assert_eq!(
            parse(json!({"NULL": false})),
            v("One or more parameter values were invalid: Null attribute value types must have the value of true")
        );
        assert_eq!(
            parse(json!({"N": "x1"})),
            v("The parameter cannot be converted to a numeric value: x1")
        );
        assert!(matches!(parse(json!({"S": 5})), Err(AttrError::Serialization(_))));
        assert!(matches!(
            parse(json!({"B": "abc"})),
            Err(AttrError::Serialization(_))
        ));
        assert!(matches!(parse(json!("S")), Err(AttrError::Serialization(_))));
    }

    #[test]
    fn sets_compare_unordered() {
        let a = parse(json!({"SS": ["a", "b"]})).expect("a");
        let b = parse(json!({"SS": ["b", "a"]})).expect("b");
        assert_eq!(a, b);
        let n1 = parse(json!({"N": "1"})).expect("n");
        let n2 = parse(json!({"N": "1.0"})).expect("n");
        assert_eq!(n1, n2);
        assert_ne!(n1, parse(json!({"S": "1"})).expect("s"));
    }
}
