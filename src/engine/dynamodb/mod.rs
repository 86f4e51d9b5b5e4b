//! DynamoDB on the engine's port: the subset a lease table needs.

use std::sync::Arc;

use super::codec::{Reply, Request};
use super::error::ApiError;
use super::{EngineConfig, EngineError};

/// The DynamoDB side of the engine.
pub struct DynamoDb {
    _config: Arc<EngineConfig>,
}

impl DynamoDb {
    /// Opens the DynamoDB store (replaying its journal when a data directory is set).
    pub fn open(config: Arc<EngineConfig>) -> Result<Self, EngineError> {
        Ok(Self { _config: config })
    }

    /// Runs one DynamoDB operation.
    pub fn handle(&self, op: &str, _req: &Request<'_>) -> Result<Reply, ApiError> {
        Err(ApiError::new(
            "UnknownOperationException",
            format!("Operation {op} is not supported yet"),
        ))
    }
}
