//! The input shape of every Kinesis operation and the type conversion AWS applies to a decoded
//! body before it authenticates or validates anything.
//!
//! AWS's JSON front (Coral) converts each known member to its modelled type and drops the rest:
//! a value of the wrong type is a `SerializationException` whose only member is `Message`
//! (capital M), worded after the Java class it could not convert; integers are floored; nulls
//! and unknown members are ignored. The wording below is AWS's, as recorded by kinesalite's
//! test suite against the real service (including AWS's "dectected").

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::engine::error::ApiError;

/// A modelled member type.
#[derive(Debug)]
pub(crate) enum Ty {
    /// `string`
    Str,
    /// `integer` (fractions floored).
    Int,
    /// `boolean`
    Bool,
    /// `blob`: base64 text in JSON.
    Blob,
    /// `timestamp`: epoch seconds in JSON.
    Time,
    /// `list` of the inner type.
    List(&'static Ty),
    /// `map` of strings to the inner type.
    Map(&'static Ty),
    /// `structure` with these members.
    Struct(&'static [Member]),
}

/// One member of a structure: its name and type, in the model's order.
pub(crate) type Member = (&'static str, Ty);

const STREAM_MODE_DETAILS: Ty = Ty::Struct(&[("StreamMode", Ty::Str)]);
const TAGS: Ty = Ty::Map(&Ty::Str);
const STRINGS: Ty = Ty::List(&Ty::Str);

/// The input members of `op`, in the model's order; `None` for an operation Kinesis lacks.
pub(crate) fn input(op: &str) -> Option<&'static [Member]> {
    use Ty::{Blob, Bool, Int, Str, Time};
    Some(match op {
        "AddTagsToStream" => &[
            ("StreamName", Str),
            ("Tags", TAGS),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "CreateStream" => &[
            ("StreamName", Str),
            ("ShardCount", Int),
            ("StreamModeDetails", STREAM_MODE_DETAILS),
            ("Tags", TAGS),
            ("WarmThroughputMiBps", Int),
            ("MaxRecordSizeInKiB", Int),
        ],
        "DecreaseStreamRetentionPeriod" | "IncreaseStreamRetentionPeriod" => &[
            ("StreamName", Str),
            ("RetentionPeriodHours", Int),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "DeleteResourcePolicy" | "GetResourcePolicy" | "ListTagsForResource" => {
            &[("ResourceARN", Str), ("StreamId", Str)]
        }
        "DeleteStream" => &[
            ("StreamName", Str),
            ("EnforceConsumerDeletion", Bool),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "DeregisterStreamConsumer" | "DescribeStreamConsumer" => &[
            ("StreamARN", Str),
            ("ConsumerName", Str),
            ("ConsumerARN", Str),
            ("StreamId", Str),
        ],
        "DescribeAccountSettings" | "DescribeLimits" => &[],
        "DescribeStream" => &[
            ("StreamName", Str),
            ("Limit", Int),
            ("ExclusiveStartShardId", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "DescribeStreamSummary" => &[("StreamName", Str), ("StreamARN", Str), ("StreamId", Str)],
        "DisableEnhancedMonitoring" | "EnableEnhancedMonitoring" => &[
            ("StreamName", Str),
            ("ShardLevelMetrics", STRINGS),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "GetRecords" => &[
            ("ShardIterator", Str),
            ("Limit", Int),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "GetShardIterator" => &[
            ("StreamName", Str),
            ("ShardId", Str),
            ("ShardIteratorType", Str),
            ("StartingSequenceNumber", Str),
            ("Timestamp", Time),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "ListShards" => &[
            ("StreamName", Str),
            ("NextToken", Str),
            ("ExclusiveStartShardId", Str),
            ("MaxResults", Int),
            ("StreamCreationTimestamp", Time),
            (
                "ShardFilter",
                Ty::Struct(&[("Type", Str), ("ShardId", Str), ("Timestamp", Time)]),
            ),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "ListStreamConsumers" => &[
            ("StreamARN", Str),
            ("NextToken", Str),
            ("MaxResults", Int),
            ("StreamCreationTimestamp", Time),
            ("StreamId", Str),
        ],
        "ListStreams" => &[
            ("Limit", Int),
            ("ExclusiveStartStreamName", Str),
            ("NextToken", Str),
        ],
        "ListTagsForStream" => &[
            ("StreamName", Str),
            ("ExclusiveStartTagKey", Str),
            ("Limit", Int),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "MergeShards" => &[
            ("StreamName", Str),
            ("ShardToMerge", Str),
            ("AdjacentShardToMerge", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "PutRecord" => &[
            ("StreamName", Str),
            ("Data", Blob),
            ("PartitionKey", Str),
            ("ExplicitHashKey", Str),
            ("SequenceNumberForOrdering", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "PutRecords" => &[
            (
                "Records",
                Ty::List(&Ty::Struct(&[
                    ("Data", Blob),
                    ("ExplicitHashKey", Str),
                    ("PartitionKey", Str),
                ])),
            ),
            ("StreamName", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "PutResourcePolicy" => &[("ResourceARN", Str), ("StreamId", Str), ("Policy", Str)],
        "RegisterStreamConsumer" => &[
            ("StreamARN", Str),
            ("ConsumerName", Str),
            ("StreamId", Str),
            ("Tags", TAGS),
        ],
        "RemoveTagsFromStream" => &[
            ("StreamName", Str),
            ("TagKeys", STRINGS),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "SplitShard" => &[
            ("StreamName", Str),
            ("ShardToSplit", Str),
            ("NewStartingHashKey", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "StartStreamEncryption" | "StopStreamEncryption" => &[
            ("StreamName", Str),
            ("EncryptionType", Str),
            ("KeyId", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "SubscribeToShard" => &[
            ("ConsumerARN", Str),
            ("StreamId", Str),
            ("ShardId", Str),
            (
                "StartingPosition",
                Ty::Struct(&[("Type", Str), ("SequenceNumber", Str), ("Timestamp", Time)]),
            ),
        ],
        "TagResource" => &[("Tags", TAGS), ("ResourceARN", Str), ("StreamId", Str)],
        "UntagResource" => &[("TagKeys", STRINGS), ("ResourceARN", Str), ("StreamId", Str)],
        "UpdateAccountSettings" => &[(
            "MinimumThroughputBillingCommitment",
            Ty::Struct(&[("Status", Str)]),
        )],
        "UpdateMaxRecordSize" => &[("StreamARN", Str), ("StreamId", Str), ("MaxRecordSizeInKiB", Int)],
        "UpdateShardCount" => &[
            ("StreamName", Str),
            ("TargetShardCount", Int),
            ("ScalingType", Str),
            ("StreamARN", Str),
            ("StreamId", Str),
        ],
        "UpdateStreamMode" => &[
            ("StreamARN", Str),
            ("StreamId", Str),
            ("StreamModeDetails", STREAM_MODE_DETAILS),
            ("WarmThroughputMiBps", Int),
        ],
        "UpdateStreamWarmThroughput" => &[
            ("StreamARN", Str),
            ("StreamName", Str),
            ("StreamId", Str),
            ("WarmThroughputMiBps", Int),
        ],
        _ => return None,
    })
}

/// AWS's `SerializationException` for a value it could not convert: `Message` only.
fn type_error(message: impl Into<String>) -> ApiError {
    ApiError::new("SerializationException", "").with_member("Message", Value::String(message.into()))
}

/// Converts the members of a decoded body (an object) to the shape's types in place: unknown
/// and null members are dropped, integers floored; the first member (in model
/// order) that cannot be converted is AWS's `SerializationException`.
pub(crate) fn convert(members: &[Member], object: &mut Map<String, Value>) -> Result<(), ApiError> {
    object.retain(|k, v| !v.is_null() && members.iter().any(|(name, _)| name == k));
    for (name, ty) in members {
        if let Some(v) = object.get_mut(*name) {
            convert_value(ty, v)?;
        }
    }
    Ok(())
}

const NOT_A_LIST: &str = "Start of list found where not expected";
const NOT_A_MAP: &str = "Start of structure or map found where not expected.";
const BIG_NUMBER: &str = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";

fn convert_value(ty: &Ty, v: &mut Value) -> Result<(), ApiError> {
    match ty {
        Ty::Str => match v {
            Value::String(_) => Ok(()),
            Value::Bool(_) => Err(type_error(
                "class java.lang.Boolean can not be converted to an String",
            )),
            Value::Number(_) => Err(type_error(format!(
                "{BIG_NUMBER} can not be converted to an String"
            ))),
            other => Err(structured(other)),
        },
        Ty::Int => match v {
            Value::Number(n) => {
                if !n.is_i64() {
                    let floored = n.as_f64().unwrap_or(0.0).floor();
                    *v = Value::from(floored.clamp(i64::MIN as f64, i64::MAX as f64) as i64);
                }
                Ok(())
            }
            Value::Bool(_) => Err(type_error(
                "class java.lang.Boolean can not be converted to an Integer",
            )),
            Value::String(_) => Err(type_error(
                "class java.lang.String can not be converted to an Integer",
            )),
            other => Err(structured(other)),
        },
        Ty::Bool => match v {
            Value::Bool(_) => Ok(()),
            Value::Number(_) => Err(type_error(format!(
                "{BIG_NUMBER} can not be converted to an Boolean"
            ))),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                // Coral reads these spellings as booleans; anything else is refused, upper-cased.
                "true" => {
                    *v = Value::Bool(true);
                    Ok(())
                }
                "false" => {
                    *v = Value::Bool(false);
                    Ok(())
                }
                _ => Err(type_error(format!(
                    "'{}' can not be converted to an Boolean",
                    s.to_uppercase()
                ))),
            },
            other => Err(structured(other)),
        },
        Ty::Blob => match v {
            Value::String(s) => check_base64(s),
            Value::Bool(_) => Err(type_error(
                "class java.lang.Boolean can not be converted to a Blob",
            )),
            Value::Number(_) => Err(type_error(format!("{BIG_NUMBER} can not be converted to a Blob"))),
            other => Err(structured(other)),
        },
        Ty::Time => match v {
            Value::Number(_) => Ok(()),
            Value::Bool(_) => Err(type_error(
                "class java.lang.Boolean can not be converted to milliseconds since epoch",
            )),
            Value::String(_) => Err(type_error(
                "class java.lang.String can not be converted to milliseconds since epoch",
            )),
            other => Err(structured(other)),
        },
        Ty::List(inner) => match v {
            Value::Array(items) => {
                for item in items.iter_mut().filter(|i| !i.is_null()) {
                    convert_value(inner, item)?;
                }
                Ok(())
            }
            Value::Object(_) => Err(type_error(NOT_A_MAP)),
            _ => Err(type_error("Expected list or null")),
        },
        Ty::Map(inner) => match v {
            Value::Object(map) => {
                for item in map.values_mut().filter(|i| !i.is_null()) {
                    convert_value(inner, item)?;
                }
                Ok(())
            }
            Value::Array(_) => Err(type_error(NOT_A_LIST)),
            _ => Err(type_error("Expected map or null")),
        },
        Ty::Struct(members) => match v {
            Value::Object(map) => convert(members, map),
            Value::Array(_) => Err(type_error(NOT_A_LIST)),
            _ => Err(type_error("Expected null")),
        },
    }
}

/// The error for a list or an object where a scalar belongs.
fn structured(v: &Value) -> ApiError {
    type_error(if v.is_array() { NOT_A_LIST } else { NOT_A_MAP })
}

/// Base64 as AWS checks it, in AWS's order: length, alphabet (a `=` may only be followed by
/// another), then the unused bits of the last character must be zero. Only the last quantum
/// is decoded, so a large record costs one scan.
fn check_base64(s: &str) -> Result<(), ApiError> {
    let refuse = |why: String| type_error(format!("'{s}' can not be converted to a Blob: {why}"));
    if !s.len().is_multiple_of(4) {
        return Err(refuse(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            s.chars().count()
        )));
    }
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let alphabet = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        let pad_ok = b == b'=' && bytes.get(i + 1).is_none_or(|&n| n == b'=');
        if !alphabet && !pad_ok {
            let c = s.get(i..).and_then(|t| t.chars().next()).unwrap_or('?');
            return Err(refuse(format!("Invalid Base64 character: '{c}'")));
        }
    }
    if let Some(last) = bytes.len().checked_sub(4).map(|at| &s[at..]) {
        if base64::engine::general_purpose::STANDARD.decode(last).is_err() {
            return Err(refuse("Invalid last non-pad Base64 character dectected".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(op: &str, body: Value) -> Result<Value, String> {
        let Value::Object(mut map) = body else {
            return Err("not an object".into());
        };
        let members = input(op).ok_or("unknown op")?;
        convert(members, &mut map).map_err(|e| {
            e.extra
                .and_then(|m| m.get("Message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default()
        })?;
        Ok(Value::Object(map))
    }

    #[test]
    fn wrong_types_are_refused_in_aws_words() {
        let cases = [
            ("CreateStream", json!({"StreamName": true}), "class java.lang.Boolean can not be converted to an String"),
            ("CreateStream", json!({"StreamName": 23}), "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
            ("CreateStream", json!({"ShardCount": "23"}), "class java.lang.String can not be converted to an Integer"),
            ("CreateStream", json!({"ShardCount": []}), "Start of list found where not expected"),
            ("CreateStream", json!({"ShardCount": {}}), "Start of structure or map found where not expected."),
            ("CreateStream", json!({"Tags": "x"}), "Expected map or null"),
            ("CreateStream", json!({"Tags": []}), "Start of list found where not expected"),
            ("CreateStream", json!({"StreamModeDetails": 1}), "Expected null"),
            ("DeleteStream", json!({"EnforceConsumerDeletion": "yes"}), "'YES' can not be converted to an Boolean"),
            ("DeleteStream", json!({"EnforceConsumerDeletion": 1}), "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean"),
            ("PutRecord", json!({"Data": true}), "class java.lang.Boolean can not be converted to a Blob"),
            ("PutRecord", json!({"Data": "23456"}), "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
            ("PutRecord", json!({"Data": "=+/="}), "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"),
            ("PutRecord", json!({"Data": "+/+="}), "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"),
            ("GetShardIterator", json!({"Timestamp": "23"}), "class java.lang.String can not be converted to milliseconds since epoch"),
            ("RemoveTagsFromStream", json!({"TagKeys": 23}), "Expected list or null"),
            ("RemoveTagsFromStream", json!({"TagKeys": [1]}), "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
            ("PutRecords", json!({"Records": [{"Data": 1}]}), "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"),
        ];
        for (op, body, want) in cases {
            assert_eq!(message(op, body.clone()), Err(want.to_string()), "{op} {body}");
        }
    }

    #[test]
    fn the_first_member_in_model_order_is_reported() {
        // PutRecord's model lists StreamName before Data, whatever the body's order.
        let got = message("PutRecord", json!({"Data": 1, "StreamName": 1}));
        assert_eq!(
            got,
            Err("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String".into())
        );
    }

    #[test]
    fn conversion_floors_integers_and_drops_nulls_and_unknown_members() {
        let got = message(
            "CreateStream",
            json!({"StreamName": "s", "ShardCount": 2.9, "Nope": 1, "Tags": null}),
        );
        assert_eq!(got, Ok(json!({"StreamName": "s", "ShardCount": 2})));
        let got = message("CreateStream", json!({"ShardCount": 1e12}));
        assert_eq!(got, Ok(json!({"ShardCount": 1_000_000_000_000_i64})));
        let got = message("DeleteStream", json!({"EnforceConsumerDeletion": "TRUE"}));
        assert_eq!(got, Ok(json!({"EnforceConsumerDeletion": true})));
        assert_eq!(message("PutRecord", json!({"Data": ""})), Ok(json!({"Data": ""})));
        assert_eq!(
            message("PutRecord", json!({"Data": "aGk="})),
            Ok(json!({"Data": "aGk="}))
        );
    }
}
