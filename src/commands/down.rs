//! `kinlocal down`: stop what `up` started, one line per thing stopped.

use crate::cli::DownArgs;
use crate::docker::DockerCli;
use crate::endpoint::state_dir;

/// Runs `kinlocal down`.
pub fn run(args: DownArgs) -> anyhow::Result<i32> {
    let dir = state_dir(args.state_dir.as_deref());
    let was_up = crate::endpoint::read_state(&dir).ok().flatten().is_some();
    let mut actions = Vec::new();
    crate::local::down::down(&dir, args.purge, &DockerCli::default(), &mut |line| {
        if args.json {
            actions.push(line.to_string());
        } else {
            let _ = super::write_stdout(format!("{line}\n").as_bytes());
        }
    })?;
    if args.json {
        let line = serde_json::json!({"was_up": was_up, "actions": actions});
        super::write_stdout(format!("{line}\n").as_bytes())?;
    }
    Ok(crate::exit::SUCCESS)
}
