//! One Kinesis call as an operation sees it: the body decoded and converted to the operation's
//! shape (before authentication, as AWS does it), the wire format to answer in, and the region
//! the client signed for.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::shapes;
use crate::engine::codec::{self, Format, Reply};
use crate::engine::error::ApiError;

/// A decoded, type-converted Kinesis request.
pub struct Call {
    /// The encoding of the request, and so of the answer.
    pub format: Format,
    /// The body as JSON-shaped data, already converted to the operation's shape.
    pub input: Value,
    /// The region of the SigV4 credential scope; `None` uses the engine's `--region`.
    pub region: Option<String>,
}

/// AWS's answer to a body that is not an object of its format: the type, no message.
pub fn undecodable() -> ApiError {
    ApiError::serialization("")
}

impl Call {
    /// Decodes `body` for `op` in AWS's order: an empty body or one that is not an object is a
    /// bare `SerializationException` (an empty body is not `{}`), then an operation Kinesis
    /// lacks is `UnknownOperationException`, then a member of the wrong type is a
    /// `SerializationException` with AWS's `Message`.
    pub fn decode(op: &str, format: Format, body: &[u8]) -> Result<Self, ApiError> {
        if body.is_empty() {
            return Err(undecodable());
        }
        let Ok(Value::Object(mut object)) = codec::decode_value(format, body) else {
            return Err(undecodable());
        };
        let members = shapes::input(op).ok_or_else(|| ApiError::new("UnknownOperationException", ""))?;
        shapes::convert(members, &mut object)?;
        Ok(Self {
            format,
            input: Value::Object(object),
            region: None,
        })
    }

    /// The same call signed for `region`.
    pub fn signed_for(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// The input as an operation's typed input.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        T::deserialize(&self.input).map_err(|e| {
            ApiError::new("SerializationException", "").with_member("Message", Value::String(e.to_string()))
        })
    }

    /// Encodes an operation's output in the request's format.
    pub fn reply<T: Serialize>(&self, output: &T) -> Result<Reply, ApiError> {
        codec::encode(self.format, output).map(Reply)
    }
}
