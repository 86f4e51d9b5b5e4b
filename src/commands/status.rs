//! `kinlocal status`: print the status as text or JSON; exit 0 when up and healthy, 1
//! otherwise (a CI readiness check).

use std::fmt::Write as _;

use crate::cli::StatusArgs;
use crate::endpoint::{self, read_state, state_dir, EndpointError, Source};
use crate::exit::{ExitError, FAILURE, SUCCESS};
use crate::local::status::{gather, Status};

/// Runs `kinlocal status`.
pub fn run(args: StatusArgs) -> anyhow::Result<i32> {
    let ep = match endpoint::resolve(&args.endpoint) {
        Ok(ep) => ep,
        Err(e @ EndpointError::BadUrl(_)) => return Err(ExitError::usage(e.to_string()).into()),
        Err(e) => {
            // Not up is an answer, not a crash: say so the way the caller asked, exit 1.
            if args.json {
                let v = serde_json::json!({"healthy": false, "problem": e.to_string()});
                super::write_stdout(format!("{v}\n").as_bytes())?;
            } else {
                super::write_stdout(format!("health    not up: {e}\n").as_bytes())?;
            }
            return Ok(FAILURE);
        }
    };
    let state = if ep.source == Source::State {
        read_state(&state_dir(args.endpoint.state_dir.as_deref()))
            .ok()
            .flatten()
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = rt.block_on(async {
        let clients = endpoint::clients(&ep, args.endpoint.profile.as_deref()).await;
        gather(&clients, state.as_ref()).await
    });
    let text = if args.json {
        format!("{}\n", serde_json::to_string(&status)?)
    } else {
        render(&status)
    };
    super::write_stdout(text.as_bytes())?;
    Ok(if status.healthy { SUCCESS } else { FAILURE })
}

fn render(s: &Status) -> String {
    let mut out = String::new();
    let mut backend = s.backend.clone();
    if let Some(pid) = s.pid {
        backend.push_str(&format!(" (pid {pid})"));
    }
    if !s.containers.is_empty() {
        backend.push_str(&format!(" ({})", s.containers.join(", ")));
    }
    let source = match s.source {
        Source::Flag => "--endpoint-url",
        Source::Environment => "AWS_ENDPOINT_URL*",
        Source::State => "kinlocal up",
        Source::Aws => "--aws",
    };
    let kinesis = s.kinesis_endpoint.as_deref().unwrap_or("AWS");
    let dynamodb = s.dynamodb_endpoint.as_deref().unwrap_or("AWS");
    let endpoint = if kinesis == dynamodb {
        kinesis.to_string()
    } else {
        format!("{kinesis} (Kinesis), {dynamodb} (DynamoDB)")
    };
    let _ = writeln!(out, "backend   {backend}");
    let _ = writeln!(out, "endpoint  {endpoint} (from {source})");
    let _ = writeln!(out, "region    {}", s.region);
    match &s.problem {
        None => {
            let _ = writeln!(out, "health    healthy");
        }
        Some(p) => {
            let _ = writeln!(out, "health    unhealthy: {p}");
        }
    }
    for stream in &s.streams {
        let open = stream.shards.iter().filter(|sh| sh.state == "open").count();
        let _ = writeln!(
            out,
            "stream {}  {}  {} open / {} closed shards",
            stream.name,
            stream.status,
            open,
            stream.shards.len() - open
        );
        for sh in &stream.shards {
            let at_least = if sh.records_capped { "≥" } else { "" };
            let _ = writeln!(
                out,
                "  {}  {:<6}  {at_least}{} records",
                sh.shard_id, sh.state, sh.records
            );
        }
    }
    for app in &s.applications {
        let _ = writeln!(
            out,
            "application {} ({} leases)",
            app.lease_table,
            app.leases.len()
        );
        for l in &app.leases {
            let lag = match l.lag_records {
                Some(n) => format!(
                    "lag {}{n} records{}",
                    if l.lag_capped { "≥" } else { "" },
                    l.millis_behind_latest
                        .map(|m| format!(", {m} ms behind"))
                        .unwrap_or_default()
                ),
                None => "lag unknown".to_string(),
            };
            let _ = writeln!(
                out,
                "  {}  stream {}  checkpoint {}  {lag}  owner {}",
                l.shard_id,
                l.stream.as_deref().unwrap_or("?"),
                l.checkpoint.as_deref().unwrap_or("-"),
                l.owner.as_deref().unwrap_or("-"),
            );
        }
    }
    out
}
