//! Arguments of `kinlocal status`.

use clap::Args;

use super::EndpointArgs;

/// `kinlocal status`: health, streams, shards, consumers' checkpoints and lag.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Where the endpoint is.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}
