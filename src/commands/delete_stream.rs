//! `kinlocal delete-stream`: delete a stream and wait until it is gone.

use crate::cli::DeleteStreamArgs;
use crate::exit::SUCCESS;
use crate::streams;

/// Runs `kinlocal delete-stream`.
pub fn run(args: DeleteStreamArgs) -> anyhow::Result<i32> {
    super::runtime()?.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let deleted =
            streams::delete_stream(&clients.kinesis, &args.name, !args.no_wait, args.if_exists).await?;
        if args.json {
            let line = serde_json::json!({"name": args.name, "deleted": deleted});
            super::write_stdout(format!("{line}\n").as_bytes())?;
            return Ok(SUCCESS);
        }
        let line = if deleted {
            format!("deleted stream '{}'\n", args.name)
        } else {
            format!("stream '{}' does not exist: nothing to do\n", args.name)
        };
        super::write_stdout(line.as_bytes())?;
        Ok(SUCCESS)
    })
}
