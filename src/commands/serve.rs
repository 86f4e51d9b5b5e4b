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
        clock: Default::default(),
    };
    // Two workers are plenty for a local engine and keep idle memory low.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
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
