//! Kinesis Data Streams on the engine's port.

use std::sync::Arc;

use super::codec::{Reply, Request};
use super::error::ApiError;
use super::{EngineConfig, EngineError};

/// The Kinesis side of the engine.
pub struct Kinesis {
    _config: Arc<EngineConfig>,
}

impl Kinesis {
    /// Opens the Kinesis store (replaying its journal when a data directory is set).
    pub fn open(config: Arc<EngineConfig>) -> Result<Self, EngineError> {
        Ok(Self { _config: config })
    }

    /// Runs one Kinesis operation.
    pub fn handle(&self, op: &str, _req: &Request<'_>) -> Result<Reply, ApiError> {
        Err(ApiError::new(
            "UnknownOperationException",
            format!("Operation {op} is not supported yet"),
        ))
    }
}
