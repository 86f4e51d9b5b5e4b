//! `kinlocal delete-stream`: delete a stream and wait until it is gone.

use crate::cli::DeleteStreamArgs;
use crate::exit::{ExitError, FAILURE, SUCCESS};
use crate::streams;

/// Runs `kinlocal delete-stream`.
pub fn run(args: DeleteStreamArgs) -> anyhow::Result<i32> {
    super::runtime()?.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let deleted = streams::delete_stream(&clients.kinesis, &args.name, !args.no_wait, args.if_exists)
            .await
            .map_err(|e| ExitError::with_code(FAILURE, e.to_string()))?;
        let line = if deleted {
            format!("deleted stream '{}'\n", args.name)
        } else {
            format!("stream '{}' does not exist: nothing to do\n", args.name)
        };
        super::write_stdout(line.as_bytes())?;
        Ok(SUCCESS)
    })
}
