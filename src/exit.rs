//! The exit-code contract, in one place: every subcommand's errors name a [`Kind`] (a cause),
//! and [`Kind::code`] is the only mapping from causes to exit codes. The README's table is
//! this table.
//!
//! | code | cause |
//! | --- | --- |
//! | 0 | success |
//! | 1 | failure at run time: endpoint unreachable, an AWS error, an I/O error |
//! | 2 | usage: a flag, argument or input to change — including a stream that does not exist |
//! | 3 | `consume`: records were discarded to the on-failure destination |
//! | 4 | `consume`: stopped with undelivered records (a batch still failing) |

use std::fmt;

/// Why a command failed; each cause has exactly one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A flag, an argument or an input file the user must change.
    Usage,
    /// The stream named does not exist (the name is an argument to change, or create it first).
    StreamNotFound,
    /// No answer from the endpoint: connection refused, timeout.
    Unreachable,
    /// The service answered with an error, or anything else failed at run time.
    Failure,
    /// `consume`: records went to the on-failure destination.
    RecordsDiscarded,
    /// `consume`: stopped while a batch was still failing; its records were not delivered.
    StoppedWithUndelivered,
}

impl Kind {
    /// The process exit code for this cause.
    pub const fn code(self) -> i32 {
        match self {
            Self::Usage | Self::StreamNotFound => USAGE,
            Self::Unreachable | Self::Failure => FAILURE,
            Self::RecordsDiscarded => RECORDS_DISCARDED,
            Self::StoppedWithUndelivered => 4,
        }
    }
}

/// An error that carries the exit code the process should end with.
#[derive(Debug)]
pub(crate) struct ExitError {
    /// The process exit code.
    pub code: i32,
    /// What to print on stderr (may be empty when everything was printed already).
    pub message: String,
}

/// Everything went as asked.
pub(crate) const SUCCESS: i32 = 0;
/// A runtime failure: endpoint unreachable, AWS error, I/O error.
pub(crate) const FAILURE: i32 = 1;
/// Bad usage: a flag or argument the user must change.
pub(crate) const USAGE: i32 = 2;
/// `consume`: some records were discarded to the on-failure destination.
pub(crate) const RECORDS_DISCARDED: i32 = 3;

impl ExitError {
    /// An error of `kind` whose message says what to do.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            code: kind.code(),
            message: message.into(),
        }
    }

    /// A usage error (exit 2) whose message names what to change.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    /// A failure with a specific exit code.
    pub(crate) fn with_code(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitError {}

impl From<&crate::aws_error::AwsError> for Kind {
    fn from(e: &crate::aws_error::AwsError) -> Self {
        if e.unreachable {
            Self::Unreachable
        } else if e.code.as_deref() == Some("ResourceNotFoundException") {
            Self::StreamNotFound
        } else {
            Self::Failure
        }
    }
}

impl From<&crate::streams::StreamsError> for Kind {
    fn from(e: &crate::streams::StreamsError) -> Self {
        use crate::streams::StreamsError;
        match e {
            StreamsError::NotFound { .. } => Self::StreamNotFound,
            StreamsError::ShapeMismatch { .. } => Self::Usage,
            StreamsError::Aws(aws) => aws.into(),
            StreamsError::Deleting(_) | StreamsError::Timeout { .. } | StreamsError::Api { .. } => {
                Self::Failure
            }
        }
    }
}

impl From<&crate::endpoint::EndpointError> for Kind {
    fn from(e: &crate::endpoint::EndpointError) -> Self {
        use crate::endpoint::EndpointError;
        match e {
            EndpointError::NoEndpoint | EndpointError::BadUrl(_) => Self::Usage,
            EndpointError::BadState { .. } => Self::Failure,
        }
    }
}

impl From<&crate::producer::ProduceError> for Kind {
    fn from(e: &crate::producer::ProduceError) -> Self {
        match e {
            crate::producer::ProduceError::Streams(s) => s.into(),
            other if other.is_usage() => Self::Usage,
            _ => Self::Failure,
        }
    }
}

/// The exit code for an error coming out of a subcommand: an [`ExitError`] carries its own,
/// a domain error is classified through its [`Kind`], anything else is a failure (1).
pub fn code_for(err: &anyhow::Error) -> i32 {
    if let Some(e) = err.downcast_ref::<ExitError>() {
        return e.code;
    }
    let kind = if let Some(e) = err.downcast_ref::<crate::streams::StreamsError>() {
        e.into()
    } else if let Some(e) = err.downcast_ref::<crate::endpoint::EndpointError>() {
        e.into()
    } else if let Some(e) = err.downcast_ref::<crate::producer::ProduceError>() {
        e.into()
    } else if let Some(e) = err.downcast_ref::<crate::aws_error::AwsError>() {
        e.into()
    } else {
        Kind::Failure
    };
    kind.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_cause_same_code() {
        let missing = crate::streams::StreamsError::NotFound {
            name: "s".into(),
            hint: String::new(),
        };
        let missing_via_api = crate::aws_error::AwsError {
            text: "Kinesis ListShards: ResourceNotFoundException: no".into(),
            code: Some("ResourceNotFoundException".into()),
            unreachable: false,
        };
        assert_eq!(Kind::from(&missing), Kind::from(&missing_via_api));
        let produce_missing = crate::producer::ProduceError::Streams(missing);
        assert_eq!(code_for(&anyhow::Error::from(produce_missing)), USAGE);
        let unreachable = crate::aws_error::AwsError {
            text: String::new(),
            code: None,
            unreachable: true,
        };
        assert_eq!(code_for(&anyhow::Error::from(unreachable)), FAILURE);
        assert_eq!(Kind::StoppedWithUndelivered.code(), 4);
    }
}
