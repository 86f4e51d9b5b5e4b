//! `kinlocal status`: print the status as text or JSON; exit 0 when up and healthy, 1
//! otherwise (a CI readiness check).

use std::fmt::Write as _;
use std::time::Duration;

use crate::cli::StatusArgs;
use crate::endpoint::{self, read_state, state_dir, EndpointError, Source};
use crate::exit::{ExitError, FAILURE, SUCCESS};
use crate::human;
use crate::local::status::{gather, Application, LeaseInfo, Status};

/// Runs `kinlocal status`.
pub fn run(args: StatusArgs) -> anyhow::Result<i32> {
    let ep = match endpoint::resolve(&args.endpoint.selection()) {
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
    let width = super::terminal_width();
    for app in &s.applications {
        render_application(&mut out, app, width);
    }
    out
}

/// Above this many leases an application shows its slowest shards only (`--json` has all).
const MAX_LEASE_ROWS: usize = 8;

fn render_application(out: &mut String, app: &Application, width: usize) {
    let streams: std::collections::BTreeSet<&str> =
        app.leases.iter().filter_map(|l| l.stream.as_deref()).collect();
    let several_streams = streams.len() > 1;
    let streams = streams.into_iter().collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        out,
        "application {}  ({} lease{}{})",
        app.lease_table,
        app.leases.len(),
        if app.leases.len() == 1 { "" } else { "s" },
        match (streams.is_empty(), several_streams) {
            (true, _) => String::new(),
            (false, false) => format!(", stream {streams}"),
            (false, true) => format!(", streams {streams}"),
        }
    );
    let total: u64 = app.leases.iter().filter_map(|l| l.lag_records).sum();
    let capped = app.leases.iter().any(|l| l.lag_capped);
    let slowest = app
        .leases
        .iter()
        .filter(|l| l.lag_records.unwrap_or(0) > 0)
        .max_by_key(|l| l.lag_age_ms.unwrap_or(0));
    let behind = match slowest {
        None if app.leases.iter().all(|l| l.lag_records.is_some()) => "caught up".to_string(),
        None => "unknown for some shards".to_string(),
        Some(l) => format!(
            "{}{total} records; oldest undelivered {} ago ({})",
            if capped { "≥" } else { "" },
            human::age(Duration::from_millis(l.lag_age_ms.unwrap_or(0))),
            l.shard_id
        ),
    };
    let _ = writeln!(out, "{}", fit(&format!("  behind  {behind}"), width));
    let mut rows: Vec<&LeaseInfo> = app.leases.iter().collect();
    let hidden = rows.len().saturating_sub(MAX_LEASE_ROWS);
    if hidden > 0 {
        rows.sort_by_key(|l| std::cmp::Reverse((l.lag_age_ms.unwrap_or(0), l.lag_records.unwrap_or(0))));
        rows.truncate(MAX_LEASE_ROWS);
    }
    for l in rows {
        let lag = match (l.lag_records, l.lag_age_ms) {
            (Some(0), _) => "caught up".to_string(),
            (Some(n), age) => format!(
                "{}{n} behind, {}",
                if l.lag_capped { "≥" } else { "" },
                human::age(Duration::from_millis(age.unwrap_or(0)))
            ),
            (None, _) => "lag unknown".to_string(),
        };
        let shard = match (&l.stream, several_streams) {
            (Some(stream), true) => format!("{stream}/{}", l.shard_id),
            (None, true) => format!("?/{}", l.shard_id),
            _ => l.shard_id.clone(),
        };
        let line = format!(
            "  {shard}  {lag:<22}  checkpoint {}  owner {}",
            l.checkpoint
                .as_deref()
                .map_or_else(|| "-".to_string(), human::sequence),
            l.owner.as_deref().unwrap_or("-"),
        );
        let _ = writeln!(out, "{}", fit(&line, width));
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "  … {hidden} more shard(s) (kinlocal status --json lists every lease)"
        );
    }
}

/// Cuts a line to `width` characters, marking the cut.
fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut s: String = line.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}
