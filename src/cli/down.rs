//! Arguments of `kinlocal down`.

use std::path::PathBuf;

use clap::Args;

/// `kinlocal down`: stop what `up` started.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// The state directory `up` used [default: $XDG_STATE_HOME/kinlocal].
    #[arg(long, value_name = "DIR", env = "KINLOCAL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Also delete the data kept with `up --persist`.
    #[arg(long)]
    pub purge: bool,
    /// Print one JSON object on stdout: `{"was_up": bool, "actions": [...]}`.
    #[arg(long)]
    pub json: bool,
}
