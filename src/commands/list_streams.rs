//! `kinlocal list-streams`: every stream with status, mode, shards and retention.

use std::fmt::Write as _;

use crate::cli::ListStreamsArgs;
use crate::exit::SUCCESS;
use crate::streams;

/// Runs `kinlocal list-streams`.
pub fn run(args: ListStreamsArgs) -> anyhow::Result<i32> {
    super::runtime()?.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let list = streams::list_streams(&clients.kinesis).await?;
        let out = if args.json {
            let mut s = serde_json::to_string(&list)?;
            s.push('\n');
            s
        } else if list.is_empty() {
            String::new()
        } else {
            let w = list.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
            let mut s = format!(
                "{:<w$}  {:<8}  {:<11}  {:>6}  RETENTION\n",
                "NAME", "STATUS", "MODE", "SHARDS"
            );
            for i in &list {
                let _ = writeln!(
                    s,
                    "{:<w$}  {:<8}  {:<11}  {:>6}  {} h",
                    i.name, i.status, i.mode, i.open_shards, i.retention_hours
                );
            }
            s
        };
        super::write_stdout(out.as_bytes())?;
        Ok(SUCCESS)
    })
}
