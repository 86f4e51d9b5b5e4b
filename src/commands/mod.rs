//! One module per subcommand. Each is thin: resolve arguments, call the domain, print.

mod completions;
mod consume;
mod down;
mod serve;
mod status;
mod up;

use crate::cli::{Cli, Command};

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Consume(args) => consume::run(*args),
        Command::Up(args) => up::run(args),
        Command::Down(args) => down::run(args),
        Command::Status(args) => status::run(args),
        Command::Completions { shell } => completions::run(shell),
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
