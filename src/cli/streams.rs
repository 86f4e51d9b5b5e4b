//! Arguments of `kinlocal create-stream`, `delete-stream` and `list-streams`.

use clap::Args;

use super::EndpointArgs;

/// `kinlocal create-stream`: create a stream, or accept an existing one of the same shape.
#[derive(Debug, Args)]
pub struct CreateStreamArgs {
    /// Stream name.
    #[arg(value_name = "NAME", default_value = crate::streams::DEFAULT_STREAM)]
    pub name: String,
    /// Number of shards (provisioned mode) [default: 1 for a new stream]. Given, an existing
    /// stream must have it; not given, an existing stream is accepted whatever its shard count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub shards: Option<u32>,
    /// On-demand capacity mode instead of a fixed shard count.
    #[arg(long, conflicts_with = "shards")]
    pub on_demand: bool,
    /// Retention period in hours, 24 to 8760 (new streams: 24). Given, an existing stream must
    /// have it too.
    #[arg(long, value_name = "H", value_parser = clap::value_parser!(u32).range(24..=8760))]
    pub retention_hours: Option<u32>,
    /// Return as soon as the stream is requested instead of waiting until it is ACTIVE.
    #[arg(long)]
    pub no_wait: bool,
    /// Print one JSON object on stdout: `{"created": bool, "stream": {...}}`.
    #[arg(long)]
    pub json: bool,
    /// Where to talk to.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// `kinlocal delete-stream`: delete a stream and wait until it is gone.
#[derive(Debug, Args)]
pub struct DeleteStreamArgs {
    /// Stream name.
    #[arg(value_name = "NAME", default_value = crate::streams::DEFAULT_STREAM)]
    pub name: String,
    /// Succeed when the stream does not exist.
    #[arg(long)]
    pub if_exists: bool,
    /// Return as soon as the deletion is requested instead of waiting until the stream is gone.
    #[arg(long)]
    pub no_wait: bool,
    /// Print one JSON object on stdout: `{"name": ..., "deleted": bool}`.
    #[arg(long)]
    pub json: bool,
    /// Where to talk to.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// `kinlocal list-streams`: every stream with its status, mode, shards and retention.
#[derive(Debug, Args)]
pub struct ListStreamsArgs {
    /// Print a JSON array on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Where to talk to.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}
