//! The clap tree: every subcommand and flag, defined once with its doc, default, range and
//! environment variable. Each subcommand's arguments live in `cli/<subcommand>.rs`.

mod consume;
mod down;
mod endpoint;
mod event;
mod invoke;
mod produce;
mod serve;
mod status;
mod streams;
mod tail;
mod up;
pub(crate) mod values;

pub use consume::{ConsumeArgs, StartingPositionArg};
pub use down::DownArgs;
pub use endpoint::EndpointArgs;
pub use event::EventArgs;
pub use invoke::{FunctionRuntimeArgs, InvokeArgs};
pub use produce::ProduceArgs;
pub use serve::ServeArgs;
pub use status::StatusArgs;
pub use streams::{CreateStreamArgs, DeleteStreamArgs, ListStreamsArgs};
pub use tail::{TailArgs, TailStart};
pub use up::UpArgs;

use clap::{Parser, Subcommand};

/// Kinesis + Lambda event source mapping, locally: an embedded Kinesis/DynamoDB engine, a
/// producer, and a consumer that feeds your handler exactly what AWS Lambda would.
#[derive(Debug, Parser)]
#[command(
    name = "kinlocal",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in
    /// the background), create the default stream and lease table, and record where it is.
    Up(UpArgs),
    /// Stop and remove what `kinlocal up` started.
    Down(DownArgs),
    /// Health, streams and shards, and each consumer's checkpoint and lag; exit 0 when healthy.
    Status(StatusArgs),
    /// Create a stream (default 'kinlocal') and wait until it is ACTIVE; an existing stream of
    /// the same shape is fine.
    CreateStream(CreateStreamArgs),
    /// Delete a stream and wait until it is gone.
    DeleteStream(DeleteStreamArgs),
    /// List streams with their status, mode, shards and retention.
    ListStreams(ListStreamsArgs),
    /// Send records to a stream: random events, a template, or a replayed file.
    Produce(ProduceArgs),
    /// Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping).
    #[command(args_override_self = true)]
    Consume(Box<ConsumeArgs>),
    /// Run the function once with a Kinesis event and print its return value (like `sam local
    /// invoke`, without Docker).
    Invoke(Box<InvokeArgs>),
    /// Print a stream's records (all shards, from --starting-position); -f keeps following.
    Tail(TailArgs),
    /// Print a Kinesis event exactly as `consume` delivers it, for a handler's unit tests.
    Event(EventArgs),
    /// Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Print shell completions for kinlocal.
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
