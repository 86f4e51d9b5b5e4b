//! AWS-shaped API errors: the `__type` / `message` body and the HTTP status AWS answers with.

use std::fmt;

/// An error answered to a client exactly as AWS would: `{"__type": .., "message": ..}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The AWS error code (`ResourceNotFoundException`, `ValidationException`, ...).
    pub code: &'static str,
    /// Human-readable message, worded like AWS's where we know the wording.
    pub message: String,
    /// HTTP status: 400 for client errors, 500 for internal failures, 413 for oversized bodies.
    pub status: u16,
    /// Members AWS adds beside `__type` and `message` for some errors (DynamoDB's
    /// `CancellationReasons`, the `Item` of a failed condition); `None` for most.
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    /// A 400 error with the given code and message.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: 400,
            extra: None,
        }
    }

    /// The same error with an HTTP status other than 400.
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same error with one more member in its body.
    pub(crate) fn with_member(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(name.to_string(), value);
        self
    }

    /// `SerializationException`: the body could not be decoded into the operation's input.
    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    /// `ValidationException` with AWS's "N validation error(s) detected: ..." wording.
    pub(crate) fn validation(failures: &[String]) -> Self {
        let n = failures.len();
        let plural = if n == 1 { "error" } else { "errors" };
        Self::new(
            "ValidationException",
            format!("{n} validation {plural} detected: {}", failures.join("; ")),
        )
    }

    /// `InvalidArgumentException`: a semantically invalid argument.
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgumentException", message)
    }

    /// `ResourceNotFoundException`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }

    /// `ResourceInUseException`.
    pub(crate) fn in_use(message: impl Into<String>) -> Self {
        Self::new("ResourceInUseException", message)
    }

    /// `LimitExceededException`.
    pub(crate) fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceededException", message)
    }

    /// An internal failure (HTTP 500), e.g. the journal could not be written.
    pub(crate) fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, message).with_status(500)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// One constraint failure in AWS's wording, for [`ApiError::validation`].
pub(crate) fn constraint(value: &str, member: &str, constraint: &str) -> String {
    format!("Value '{value}' at '{member}' failed to satisfy constraint: Member must {constraint}")
}

/// A null-valued member failing the "must not be null" constraint.
pub(crate) fn not_null(member: &str) -> String {
    format!("Value null at '{member}' failed to satisfy constraint: Member must not be null")
}
