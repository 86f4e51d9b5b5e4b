//! `kinlocal create-stream`: create a stream, or accept an existing one of the same shape.

use crate::cli::CreateStreamArgs;
use crate::exit::SUCCESS;
use crate::streams::{self, Capacity, Ensured, StreamShape};

/// Runs `kinlocal create-stream`.
pub fn run(args: CreateStreamArgs) -> anyhow::Result<i32> {
    let shape = StreamShape {
        capacity: match (args.on_demand, args.shards) {
            (true, _) => Capacity::OnDemand,
            (false, Some(shards)) => Capacity::Provisioned { shards },
            (false, None) => Capacity::Unspecified,
        },
        retention_hours: args.retention_hours,
    };
    super::runtime()?.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let ensured = streams::ensure_stream(&clients.kinesis, &args.name, &shape, !args.no_wait).await?;
        if args.json {
            let (created, info) = match &ensured {
                Ensured::Created(i) => (true, i),
                Ensured::Existed(i) => (false, i),
            };
            let line = serde_json::json!({"created": created, "stream": info});
            super::write_stdout(format!("{line}\n").as_bytes())?;
            return Ok(SUCCESS);
        }
        let line = match ensured {
            Ensured::Created(info) => format!(
                "created stream '{}': {} {}, {} shard(s), retention {} h\n",
                info.name, info.status, info.mode, info.open_shards, info.retention_hours
            ),
            Ensured::Existed(info) => format!(
                "stream '{}' already exists ({} {}, {} shard(s), retention {} h): nothing to do\n",
                info.name, info.status, info.mode, info.open_shards, info.retention_hours
            ),
        };
        super::write_stdout(line.as_bytes())?;
        Ok(SUCCESS)
    })
}
