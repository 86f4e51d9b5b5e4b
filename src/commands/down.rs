//! `kinlocal down`: stop what `up` started, one line per thing stopped.

use crate::cli::DownArgs;
use crate::docker::DockerCli;
use crate::endpoint::state_dir;

/// Runs `kinlocal down`.
pub fn run(args: DownArgs) -> anyhow::Result<i32> {
    let dir = state_dir(args.state_dir.as_deref());
    crate::local::down::down(&dir, args.purge, &DockerCli::default(), &mut |line| {
        let _ = super::write_stdout(format!("{line}\n").as_bytes());
    })?;
    Ok(crate::exit::SUCCESS)
}
