//! `kinlocal create-stream`: create a stream, or accept an existing one of the same shape.

use crate::cli::CreateStreamArgs;
use crate::exit::{ExitError, SUCCESS};
use crate::streams::{self, Capacity, Ensured, StreamShape};

/// Runs `kinlocal create-stream`.
pub fn run(args: CreateStreamArgs) -> anyhow::Result<i32> {
    let shape = StreamShape {
        capacity: if args.on_demand {
            Capacity::OnDemand
        } else {
            Capacity::Provisioned { shards: args.shards }
        },
        retention_hours: args.retention_hours,
    };
    super::runtime()?.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let line = match streams::ensure_stream(&clients.kinesis, &args.name, &shape, !args.no_wait)
            .await
            .map_err(|e| ExitError::with_code(crate::exit::FAILURE, e.to_string()))?
        {
            Ensured::Created(info) => format!(
                "created stream '{}': {} {}, {} shard(s), retention {} h\n",
                info.name, info.status, info.mode, info.open_shards, info.retention_hours
            ),
            Ensured::Existed(info) => format!(
                "stream '{}' already exists with that shape ({} {}, {} shard(s), retention {} h): nothing to do\n",
                info.name, info.status, info.mode, info.open_shards, info.retention_hours
            ),
        };
        super::write_stdout(line.as_bytes())?;
        Ok(SUCCESS)
    })
}
