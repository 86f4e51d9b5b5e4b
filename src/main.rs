//! The `kinlocal` binary: parse the command line, run it, map errors to exit codes.

use std::io::Write;

use clap::Parser;

fn main() {
    let cli = kinlocal::cli::Cli::parse();
    let code = match kinlocal::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let code = kinlocal::exit::code_for(&err);
            let msg = format!("{err:#}");
            if !msg.is_empty() {
                let _ = writeln!(std::io::stderr(), "kinlocal: {msg}");
            }
            code
        }
    };
    std::process::exit(code);
}
