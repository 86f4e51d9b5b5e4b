//! `kinlocal completions <shell>`: shell completions generated from the clap tree.

use clap::CommandFactory;

use crate::cli::Cli;

/// Prints the completion script for `shell` on stdout.
pub fn run(shell: clap_complete::Shell) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    generate(shell, &mut out);
    crate::commands::write_stdout(&out)?;
    Ok(crate::exit::SUCCESS)
}

/// Writes the completion script for `shell` into `out`.
pub(crate) fn generate(shell: clap_complete::Shell, out: &mut Vec<u8>) {
    clap_complete::generate(shell, &mut Cli::command(), "kinlocal", out);
}
