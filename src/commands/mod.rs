//! One module per subcommand. Each is thin: resolve arguments, call the domain, print.

mod completions;
mod consume;
mod create_stream;
mod delete_stream;
mod down;
mod event;
mod invoke;
mod list_streams;
mod produce;
mod serve;
mod status;
mod tail;
mod up;

use crate::cli::{Cli, Command};

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Consume(args) => consume::run(*args),
        Command::Invoke(args) => invoke::run(*args),
        Command::Up(args) => up::run(args),
        Command::Down(args) => down::run(args),
        Command::Status(args) => status::run(args),
        Command::Completions { shell } => completions::run(shell),
        Command::CreateStream(args) => create_stream::run(args),
        Command::DeleteStream(args) => delete_stream::run(args),
        Command::ListStreams(args) => list_streams::run(args),
        Command::Produce(args) => produce::run(args),
        Command::Tail(args) => tail::run(args),
        Command::Event(args) => event::run(args),
    }
}

/// Writes to stdout; a closed pipe (`kinlocal ... | head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The runtime of a client subcommand: two workers suit a laptop and a 2-core CI machine.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Resolves the endpoint (a usage error when there is none or the URL is bad) and builds the
/// SDK clients.
pub(crate) async fn connect(
    args: &crate::cli::EndpointArgs,
) -> Result<crate::endpoint::Clients, crate::exit::ExitError> {
    let endpoint = crate::endpoint::resolve(&args.selection())
        .map_err(|e| crate::exit::ExitError::new((&e).into(), e.to_string()))?;
    Ok(crate::endpoint::clients(&endpoint, args.profile.as_deref()).await)
}

/// Columns available for a line: `COLUMNS`, else the terminal's width, else 100.
pub(crate) fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c >= 20)
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .unwrap_or(100)
}
