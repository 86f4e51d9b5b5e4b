//! `kinlocal serve`: the embedded engine in the foreground until SIGINT/SIGTERM.

use anyhow::Context as _;

use crate::cli::ServeArgs;
use crate::engine::{self, Engine, EngineConfig};

/// Starts the engine, prints its address, serves until a signal, then stops cleanly.
pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    let config = EngineConfig {
        region: args.region,
        account_id: args.account_id,
        data_dir: args.data_dir,
        enforce_limits: args.enforce_limits,
        create_stream_delay: args.create_stream_delay,
        delete_stream_delay: args.delete_stream_delay,
        update_stream_delay: args.update_stream_delay,
        create_table_delay: args.create_table_delay,
        iterator_ttl: args.iterator_ttl,
        max_retention: args.max_retention,
        subscription_lifetime: args.subscription_lifetime,
        long_polls: !args.no_long_poll,
        clock: Default::default(),
        fsync: args.fsync.parse().map_err(anyhow::Error::msg)?,
        repair: args.repair,
        conn: engine::conn::ConnLimits {
            request_timeout: args.request_timeout,
            idle_timeout: args.idle_timeout,
            // Below the file-descriptor limit (raised to the hard limit first), so a crowd of
            // clients cannot exhaust it.
            max_connections: engine::conn::max_connections_for(engine::conn::raise_nofile_limit()),
        },
        ..EngineConfig::default()
    };
    check_exposure(&args.host, args.allow_remote)?;
    // Two workers are plenty for a local engine and keep idle memory low.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // A write past RLIMIT_FSIZE should fail (and be rolled back), not kill the engine.
        let _fsize = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(libc::SIGXFSZ));
        let engine = Engine::open(config.clone())?;
        let (listener, addr) = engine::bind(&args.host, args.port)
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let endpoint = format!("http://{addr}");
        let line = if args.json {
            serde_json::json!({
                "endpoint": endpoint,
                "host": addr.ip().to_string(),
                "port": addr.port(),
                "region": config.region,
                "pid": std::process::id(),
            })
            .to_string()
        } else {
            format!(
                "kinlocal engine listening on {endpoint} (Kinesis + DynamoDB, region {})",
                config.region
            )
        };
        crate::commands::write_stdout(format!("{line}\n").as_bytes())?;
        engine::run(listener, engine, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(crate::exit::SUCCESS)
}

/// Refuses a non-loopback `--host` unless `--allow-remote`; warns when allowed.
fn check_exposure(host: &str, allow_remote: bool) -> anyhow::Result<()> {
    if is_loopback(host) {
        return Ok(());
    }
    if !allow_remote {
        anyhow::bail!(
            "--host {host} would expose the engine beyond this machine, and it checks no signatures: anyone              who can reach the port can read and write every stream and table. Pass --allow-remote (or set              KINLOCAL_ALLOW_REMOTE=true) if that is what you want"
        );
    }
    eprintln!(
        "kinlocal: warning: listening on {host}, beyond loopback; the engine checks no signatures, so anyone who          can reach it can read and write every stream and table"
    );
    Ok(())
}

/// Whether `host` only ever means this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_need_no_permission() {
        for h in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            assert!(is_loopback(h), "{h}");
            assert!(check_exposure(h, false).is_ok());
        }
        for h in ["0.0.0.0", "::", "192.168.1.10", "example.com"] {
            assert!(!is_loopback(h), "{h}");
            assert!(check_exposure(h, false).is_err());
            assert!(check_exposure(h, true).is_ok());
        }
    }
}
