//! Wire formats: AWS JSON 1.0/1.1 and CBOR 1.1 request bodies in, the same format out.
//!
//! Operation handlers only ever see JSON-shaped data: a CBOR body is converted on the way in
//! (byte strings become base64 strings, tagged epoch-millisecond timestamps become epoch
//! seconds) and back on the way out (the `Data` blob becomes a byte string again, timestamps
//! become tag 1 + epoch milliseconds, the encoding the Java SDKs use).

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;

/// The body encoding of one request, and so of its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/x-amz-json-1.0` (DynamoDB).
    Json10,
    /// `application/x-amz-json-1.1` (Kinesis) or plain `application/json`.
    Json11,
    /// `application/x-amz-cbor-1.1`, the Java SDKs' default for Kinesis.
    Cbor,
}

impl Format {
    /// The format named by a `Content-Type` header (JSON 1.1 when absent or unknown, as AWS).
    pub(crate) fn from_content_type(content_type: Option<&str>) -> Self {
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        if ct.contains("cbor") {
            Format::Cbor
        } else if ct.contains("json-1.0") {
            Format::Json10
        } else {
            Format::Json11
        }
    }

    /// The `Content-Type` to answer with.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Json10 => "application/x-amz-json-1.0",
            Format::Json11 => "application/x-amz-json-1.1",
            Format::Cbor => "application/x-amz-cbor-1.1",
        }
    }
}

/// One decoded request body, as handed to an operation.
pub struct Request<'a> {
    /// The encoding of the body.
    pub format: Format,
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// An encoded response body (in the request's format).
pub struct Reply(pub Vec<u8>);

/// Members whose values are timestamps (epoch seconds in JSON, tagged millis in CBOR).
const TIMESTAMP_MEMBERS: &[&str] = &[
    "Timestamp",
    "ApproximateArrivalTimestamp",
    "StreamCreationTimestamp",
    "ConsumerCreationTimestamp",
];

/// Members whose values are blobs (base64 in JSON, byte strings in CBOR).
const BLOB_MEMBERS: &[&str] = &["Data"];

impl Request<'_> {
    /// Decodes the body into an operation's input; an empty body is an empty object.
    pub(crate) fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body = if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            &b"{}"[..]
        } else {
            self.body
        };
        match self.format {
            Format::Json10 | Format::Json11 => serde_json::from_slice(body)
                .map_err(|e| ApiError::serialization(serialization_message(&e.to_string()))),
            Format::Cbor => {
                if self.body.is_empty() {
                    return serde_json::from_slice(b"{}").map_err(|e| ApiError::serialization(e.to_string()));
                }
                let value: ciborium::Value = ciborium::de::from_reader(self.body)
                    .map_err(|e| ApiError::serialization(format!("Malformed CBOR body: {e}")))?;
                let json = cbor_to_json(value, None)?;
                serde_json::from_value(json)
                    .map_err(|e| ApiError::serialization(serialization_message(&e.to_string())))
            }
        }
    }

    /// Encodes an operation's output in the request's format.
    pub(crate) fn reply<T: Serialize>(&self, output: &T) -> Result<Reply, ApiError> {
        encode(self.format, output).map(Reply)
    }
}

/// Decodes a body into JSON-shaped data, converting CBOR as [`Request::parse`] does.
pub(crate) fn decode_value(format: Format, body: &[u8]) -> Result<serde_json::Value, ApiError> {
    match format {
        Format::Json10 | Format::Json11 => serde_json::from_slice(body)
            .map_err(|e| ApiError::serialization(serialization_message(&e.to_string()))),
        Format::Cbor => {
            let value: ciborium::Value = ciborium::de::from_reader(body)
                .map_err(|e| ApiError::serialization(format!("Malformed CBOR body: {e}")))?;
            cbor_to_json(value, None)
        }
    }
}

fn serialization_message(detail: &str) -> String {
    format!("Could not decode the request body: {detail}")
}

/// Encodes a value in the given format.
pub(crate) fn encode<T: Serialize>(format: Format, output: &T) -> Result<Vec<u8>, ApiError> {
    match format {
        Format::Json10 | Format::Json11 => {
            serde_json::to_vec(output).map_err(|e| ApiError::internal("InternalFailure", e.to_string()))
        }
        Format::Cbor => {
            let json = serde_json::to_value(output)
                .map_err(|e| ApiError::internal("InternalFailure", e.to_string()))?;
            let cbor = json_to_cbor(json, None);
            let mut out = Vec::new();
            ciborium::ser::into_writer(&cbor, &mut out)
                .map_err(|e| ApiError::internal("InternalFailure", e.to_string()))?;
            Ok(out)
        }
    }
}

fn cbor_to_json(value: ciborium::Value, member: Option<&str>) -> Result<serde_json::Value, ApiError> {
    use ciborium::Value as C;
    use serde_json::Value as J;
    let is_ts = member.is_some_and(|m| TIMESTAMP_MEMBERS.contains(&m));
    Ok(match value {
        C::Null => J::Null,
        C::Bool(b) => J::Bool(b),
        C::Integer(i) => {
            let i = i128::from(i);
            if is_ts {
                millis_to_seconds(i as f64)
            } else if let Ok(v) = i64::try_from(i) {
                J::from(v)
            } else {
                J::from(i as f64)
            }
        }
        C::Float(f) => {
            if is_ts {
                millis_to_seconds(f)
            } else {
                serde_json::Number::from_f64(f).map_or(J::Null, J::Number)
            }
        }
        C::Text(s) => J::String(s),
        C::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        C::Array(items) => J::Array(
            items
                .into_iter()
                .map(|v| cbor_to_json(v, member))
                .collect::<Result<_, _>>()?,
        ),
        C::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                let C::Text(key) = k else {
                    return Err(ApiError::serialization("CBOR map keys must be text strings"));
                };
                let v = cbor_to_json(v, Some(&key))?;
                map.insert(key, v);
            }
            J::Object(map)
        }
        // Tag 1 is an epoch timestamp; the Java SDKs send milliseconds under it.
        C::Tag(1, inner) => match *inner {
            C::Integer(i) => millis_to_seconds(i128::from(i) as f64),
            C::Float(f) => millis_to_seconds(f),
            other => cbor_to_json(other, member)?,
        },
        C::Tag(_, inner) => cbor_to_json(*inner, member)?,
        _ => return Err(ApiError::serialization("Unsupported CBOR value")),
    })
}

fn millis_to_seconds(millis: f64) -> serde_json::Value {
    serde_json::Number::from_f64(millis / 1000.0).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn json_to_cbor(value: serde_json::Value, member: Option<&str>) -> ciborium::Value {
    use ciborium::Value as C;
    use serde_json::Value as J;
    match value {
        J::Null => C::Null,
        J::Bool(b) => C::Bool(b),
        J::Number(n) => {
            if member.is_some_and(|m| TIMESTAMP_MEMBERS.contains(&m)) {
                let millis = (n.as_f64().unwrap_or(0.0) * 1000.0).round() as i64;
                C::Tag(1, Box::new(C::Integer(millis.into())))
            } else if let Some(i) = n.as_i64() {
                C::Integer(i.into())
            } else if let Some(u) = n.as_u64() {
                C::Integer(u.into())
            } else {
                C::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        J::String(s) => {
            if member.is_some_and(|m| BLOB_MEMBERS.contains(&m)) {
                match base64::engine::general_purpose::STANDARD.decode(&s) {
                    Ok(bytes) => C::Bytes(bytes),
                    Err(_) => C::Text(s),
                }
            } else {
                C::Text(s)
            }
        }
        J::Array(items) => C::Array(items.into_iter().map(|v| json_to_cbor(v, member)).collect()),
        J::Object(map) => C::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let v = json_to_cbor(v, Some(&k));
                    (C::Text(k), v)
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_blob_and_timestamp_round_trip_to_json_shape() {
        let cbor = ciborium::Value::Map(vec![
            (
                ciborium::Value::Text("Data".into()),
                ciborium::Value::Bytes(b"hi".to_vec()),
            ),
            (
                ciborium::Value::Text("Timestamp".into()),
                ciborium::Value::Tag(1, Box::new(ciborium::Value::Integer(1_500_000_000_123i64.into()))),
            ),
        ]);
        let json = cbor_to_json(cbor, None).expect("valid cbor");
        assert_eq!(json["Data"], "aGk=");
        assert_eq!(json["Timestamp"].as_f64(), Some(1_500_000_000.123));
        let back = json_to_cbor(json, None);
        let ciborium::Value::Map(entries) = back else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1, ciborium::Value::Bytes(b"hi".to_vec()));
        assert_eq!(
            entries[1].1,
            ciborium::Value::Tag(1, Box::new(ciborium::Value::Integer(1_500_000_000_123i64.into())))
        );
    }

    #[test]
    fn empty_body_is_empty_object() {
        let req = Request {
            format: Format::Json11,
            body: b"",
        };
        let v: serde_json::Value = req.parse().expect("empty body parses");
        assert_eq!(v, serde_json::json!({}));
    }

    #[test]
    fn garbage_is_serialization_exception() {
        let req = Request {
            format: Format::Json11,
            body: b"{not json",
        };
        let err = req.parse::<serde_json::Value>().expect_err("must fail");
        assert_eq!(err.code, "SerializationException");
    }
}
