//! Benchmark: `produce` against the embedded engine, 200-byte random events, random keys.
//!
//! The engine runs on its own 2-worker runtime (as `kinlocal serve` would in its own process)
//! and the producer on another 2-worker runtime, talking HTTP over loopback: the same work as
//! `kinlocal serve` + `kinlocal produce`, in one process so no binary has to be found.
//!
//! `cargo bench --bench produce` (defaults) or
//! `cargo bench --bench produce -- RECORDS SHARDS RECORD_SIZE MAX_IN_FLIGHT`.
//! Prints one human line and one JSON line; see BENCHMARKS.md.

use std::sync::Arc;
use std::time::Instant;

use kinlocal::endpoint::{self, Endpoint, Source as EndpointSource};
use kinlocal::engine::{self, Engine, EngineConfig};
use kinlocal::producer::{self, sender::KinesisPut, stats::Stats, ProduceConfig, Source};
use kinlocal::streams::{self, Capacity, StreamShape};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .filter(|a| !a.starts_with('-'))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records = arg(1, 1_000_000);
    let shards = u32::try_from(arg(2, 4))?;
    let record_size = usize::try_from(arg(3, 200))?;
    let max_in_flight = usize::try_from(arg(4, 4))?;

    // The engine, on its own runtime thread.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || -> std::io::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let engine: Arc<Engine> =
                Engine::open(EngineConfig::default()).map_err(|e| std::io::Error::other(e.to_string()))?;
            let (listener, addr) = engine::bind("127.0.0.1", 0).await?;
            let _ = addr_tx.send(addr);
            engine::run(listener, engine, async {
                let _ = stop_rx.await;
            })
            .await
        })
    });
    let addr = addr_rx.recv()?;
    let url = format!("http://{addr}");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let ep = Endpoint {
            kinesis_url: Some(url.clone()),
            dynamodb_url: Some(url.clone()),
            region: "us-east-1".into(),
            source: EndpointSource::Flag,
        };
        let clients = endpoint::clients(&ep, None).await;
        let shape = StreamShape {
            capacity: Capacity::Provisioned { shards },
            retention_hours: None,
        };
        streams::ensure_stream(&clients.kinesis, "bench", &shape, true).await?;
        let ranges = streams::open_shards(&clients.kinesis, "bench").await?;
        let stats = Arc::new(Stats::with_shards(ranges.iter().map(|s| s.shard_id.as_str())));
        let config = ProduceConfig {
            source: Source::Events { record_size },
            count: Some(records),
            max_in_flight,
            ..ProduceConfig::new("bench")
        };
        let started = Instant::now();
        let outcome = producer::run(
            KinesisPut::new(&clients.kinesis, "bench"),
            config,
            ranges,
            stats,
            std::future::pending(),
        )
        .await;
        if let Some(e) = outcome.error {
            return Err(Box::<dyn std::error::Error>::from(e.to_string()));
        }
        eprintln!(
            "wall time including set-up of the run: {:.2} s",
            started.elapsed().as_secs_f64()
        );
        Ok(outcome.summary)
    })?;
    let _ = stop_tx.send(());
    let _ = server.join();

    #[allow(clippy::cast_precision_loss)]
    let mib_s = summary.bytes as f64 / (1024.0 * 1024.0) / summary.elapsed_seconds.max(1e-9);
    println!(
        "produce: {} records of {record_size} B over {shards} shards, {max_in_flight} in flight: \
         {:.3} s, {:.0} records/s, {mib_s:.1} MiB/s, {} PutRecords calls, {} resent",
        summary.records,
        summary.elapsed_seconds,
        summary.records_per_second,
        summary.requests,
        summary.retries
    );
    print!("{}", summary.to_json_line());
    Ok(())
}
