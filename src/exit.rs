//! The exit-code contract: 0 success, 1 failure, 2 usage error, 3 records sent to the
//! on-failure destination.

use std::fmt;

/// An error that carries the exit code the process should end with.
#[derive(Debug)]
pub struct ExitError {
    /// The process exit code.
    pub code: i32,
    /// What to print on stderr (may be empty when everything was printed already).
    pub message: String,
}

/// Everything went as asked.
pub const SUCCESS: i32 = 0;
/// A runtime failure: endpoint unreachable, AWS error, I/O error.
pub const FAILURE: i32 = 1;
/// Bad usage: a flag or argument the user must change.
pub const USAGE: i32 = 2;
/// `consume`: some records were discarded to the on-failure destination.
pub const RECORDS_DISCARDED: i32 = 3;

impl ExitError {
    /// A usage error (exit 2) whose message names what to change.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: USAGE,
            message: message.into(),
        }
    }

    /// A failure with a specific exit code.
    pub fn with_code(code: i32, message: impl Into<String>) -> Self {
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

/// The exit code for an error coming out of a subcommand.
pub fn code_for(err: &anyhow::Error) -> i32 {
    err.downcast_ref::<ExitError>().map_or(FAILURE, |e| e.code)
}
