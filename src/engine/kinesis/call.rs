//! One Kinesis call as an operation sees it: the body, decoded and converted to the operation's
//! shape as AWS does before it authenticates, the wire format to answer in, and the region the
//! client signed for.
//!
//! AWS converts every body before it looks at the signature. For most operations that is done
//! here at once. PutRecord, PutRecords and GetRecords — the traffic that matters for speed —
//! are read straight from the body into their typed inputs instead, which accept exactly what
//! the conversion accepts (see `model.rs`); only when that read fails, or the signature is
//! missing, is the body converted, so the error AWS would give first is the one answered.

use std::cell::OnceCell;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::shapes;
use crate::engine::codec::{self, Format, Reply};
use crate::engine::error::ApiError;

/// Operations read straight from a JSON body when they can be.
const DIRECT: [&str; 3] = ["PutRecord", "PutRecords", "GetRecords"];

/// A Kinesis request, decoded lazily or eagerly as above.
pub(crate) struct Call {
    /// The encoding of the request, and so of the answer.
    pub format: Format,
    /// The region of the SigV4 credential scope; `None` uses the engine's `--region`.
    pub region: Option<String>,
    members: &'static [shapes::Member],
    direct: bool,
    body: Bytes,
    converted: OnceCell<Result<Value, ApiError>>,
}

/// AWS's answer to a body that is not an object of its format: the type, no message.
pub(crate) fn undecodable() -> ApiError {
    ApiError::serialization("")
}

/// A typed read that failed after the conversion succeeded (rare: a blob the conversion lets
/// through but the decoder refuses).
fn unreadable(e: impl std::fmt::Display) -> ApiError {
    ApiError::new("SerializationException", "").with_member("Message", Value::String(e.to_string()))
}

impl Call {
    /// Takes `body` for `op` in AWS's order: an empty body, or one that is not an object, is a
    /// bare `SerializationException` (an empty body is not `{}`); then an operation Kinesis
    /// lacks is `UnknownOperationException`; then a member of the wrong type is a
    /// `SerializationException` with AWS's `Message` (checked later for the direct operations,
    /// see [`Call::verify`]).
    pub(crate) fn decode(op: &str, format: Format, body: Bytes) -> Result<Self, ApiError> {
        if body.is_empty() {
            return Err(undecodable());
        }
        let Some(members) = shapes::input(op) else {
            return match codec::decode_value(format, &body) {
                Ok(Value::Object(_)) => Err(ApiError::new("UnknownOperationException", "")),
                _ => Err(undecodable()),
            };
        };
        let direct = DIRECT.contains(&op) && matches!(format, Format::Json10 | Format::Json11);
        let call = Self {
            format,
            region: None,
            members,
            direct,
            body,
            converted: OnceCell::new(),
        };
        if !direct {
            call.verify()?;
        }
        Ok(call)
    }

    /// The errors AWS finds before authentication (an undecodable body, a member of the wrong
    /// type), for a call that deferred them.
    pub(crate) fn verify(&self) -> Result<(), ApiError> {
        self.converted().map(|_| ())
    }

    fn converted(&self) -> Result<&Value, ApiError> {
        self.converted
            .get_or_init(|| {
                let Ok(Value::Object(mut object)) = codec::decode_value(self.format, &self.body) else {
                    return Err(undecodable());
                };
                shapes::convert(self.members, &mut object)?;
                Ok(Value::Object(object))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The same call signed for `region`.
    pub(crate) fn signed_for(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// The input as an operation's typed input.
    pub(crate) fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.direct {
            if let Ok(input) = serde_json::from_slice(&self.body) {
                return Ok(input);
            }
        }
        T::deserialize(self.converted()?).map_err(unreadable)
    }

    /// Encodes an operation's output in the request's format.
    pub(crate) fn reply<T: Serialize>(&self, output: &T) -> Result<Reply, ApiError> {
        codec::encode(self.format, output).map(Reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::kinesis::model::{GetRecordsInput, PutRecordsInput};

    fn direct_and_converted<T: DeserializeOwned + std::fmt::Debug>(op: &str, body: &str) -> (String, String) {
        let call = Call::decode(op, Format::Json11, Bytes::from(body.to_string())).expect("decodes");
        assert!(call.direct);
        let direct = format!("{:?}", call.parse::<T>());
        let converted = format!(
            "{:?}",
            call.converted()
                .and_then(|v| T::deserialize(v).map_err(unreadable))
        );
        (direct, converted)
    }

    #[test]
    fn the_direct_read_accepts_what_the_conversion_accepts() {
        for body in [
            r#"{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"p"}]}"#,
            r#"{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"p","Extra":1}],"StreamId":"x","Colour":null}"#,
            r#"{"StreamName":null,"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Records":[]}"#,
        ] {
            let (direct, converted) = direct_and_converted::<PutRecordsInput>("PutRecords", body);
            assert_eq!(direct, converted, "{body}");
        }
        for body in [
            r#"{"ShardIterator":"abc","Limit":10}"#,
            r#"{"ShardIterator":"abc","Limit":2.5}"#,
        ] {
            let (direct, converted) = direct_and_converted::<GetRecordsInput>("GetRecords", body);
            assert_eq!(direct, converted, "{body}");
        }
    }

    #[test]
    fn a_direct_read_that_fails_answers_the_conversions_error() {
        for (body, message) in [
            (r#"{"StreamName":"s","Records":[{"Data":"abcde","PartitionKey":"p"}]}"#, "'abcde' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
            (r#"{"StreamName":"s","StreamId":5,"Records":[]}"#, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
        ] {
            let call = Call::decode("PutRecords", Format::Json11, Bytes::from(body)).expect("deferred");
            let err = call.parse::<PutRecordsInput>().expect_err("refused");
            assert_eq!(err.extra.and_then(|m| m.get("Message").cloned()), Some(Value::from(message)));
            assert!(call.verify().is_err());
        }
        let call = Call::decode("PutRecords", Format::Json11, Bytes::from("{bad")).expect("deferred");
        assert_eq!(
            call.verify().map_err(|e| (e.code, e.message)),
            Err(("SerializationException", String::new()))
        );
    }
}
