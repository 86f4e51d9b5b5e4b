//! `kinlocal consume` end to end against the embedded engine: throughput into a handler that
//! reads stdin and exits 0 (batch size 100, 4 shards), and latency from PutRecord
//! acknowledged to handler start. Figures and commands in BENCHMARKS.md.
//!
//! `cargo bench --bench consume` (release). Knobs: KINLOCAL_BENCH_RECORDS (default 100000),
//! KINLOCAL_BENCH_DYNAMODB_URL (lease table elsewhere than the engine).

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use kinlocal::engine::{self, Engine, EngineConfig};

fn start_engine() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let e = Engine::open(EngineConfig::default()).unwrap();
            let (listener, addr) = engine::bind("127.0.0.1", 0).await.unwrap();
            tx.send(addr).unwrap();
            engine::run(listener, e, std::future::pending::<()>())
                .await
                .unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

async fn client(endpoint: &str) -> aws_sdk_kinesis::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "b", "b", None, None, "b",
        ))
        .load()
        .await;
    aws_sdk_kinesis::Client::new(&conf)
}

async fn create(k: &aws_sdk_kinesis::Client, name: &str, shards: i32) {
    k.create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    loop {
        let d = k
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .unwrap();
        if d.stream_description_summary().map(|s| s.stream_status().as_str()) == Some("ACTIVE") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn consume(endpoint: &str, dynamodb: &str, stream: &str, exec: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kinlocal"));
    c.args(["consume", "--stream", stream, "--exec", exec])
        .args(extra)
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_KINESIS", endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Compiles a handler that reads stdin to the end and exits 0, statically linked; `None` when
/// no C compiler (or no static libc) is available.
fn build_static_sink() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("kinlocal-bench-sink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let src = dir.join("sink.c");
    std::fs::write(
        &src,
        "#include <unistd.h>\nint main(void){char b[65536];while(read(0,b,sizeof b)>0){}return 0;}\n",
    )
    .ok()?;
    let bin = dir.join("sink");
    let ok = Command::new("cc")
        .args(["-O2", "-static", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .ok()?
        .success();
    ok.then_some(bin)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes --bench; run only when benchmarks are asked for.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let n: usize = std::env::var("KINLOCAL_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let endpoint = start_engine();
    let dynamodb = std::env::var("KINLOCAL_BENCH_DYNAMODB_URL").unwrap_or_else(|_| endpoint.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let k = rt.block_on(client(&endpoint));

    // Throughput: N records over 4 shards, consumed with batch size 100.
    rt.block_on(async {
        create(&k, "bench", 4).await;
        let payload = vec![b'x'; 100];
        for chunk in 0..n.div_ceil(500) {
            let entries: Vec<_> = (0..500.min(n - chunk * 500))
                .map(|i| {
                    PutRecordsRequestEntry::builder()
                        .partition_key(format!("pk-{}", chunk * 500 + i))
                        .data(Blob::new(payload.clone()))
                        .build()
                        .unwrap()
                })
                .collect();
            k.put_records()
                .stream_name("bench")
                .set_records(Some(entries))
                .send()
                .await
                .unwrap();
        }
    });
    // Handlers that read stdin and exit 0: one program per batch, and a shell script around
    // `cat` (two execs per batch).
    // And the leanest: a statically linked C program (what a compiled Go or Rust handler
    // costs to start), built here with the system C compiler when one is available.
    let sink = fixtures.join("sink.sh").to_string_lossy().into_owned();
    let mut handlers: Vec<(&str, String)> = Vec::new();
    if let Some(path) = build_static_sink() {
        handlers.push(("a static C program", path.to_string_lossy().into_owned()));
    }
    handlers.push((
        "dd of=/dev/null (one dynamic program)",
        "dd of=/dev/null bs=64k status=none".into(),
    ));
    handlers.push(("tests/fixtures/sink.sh (sh + cat)", sink.clone()));
    for (i, (label, handler)) in handlers.iter().enumerate() {
        let handler = handler.as_str();
        let idle = Duration::from_millis(500);
        let started = Instant::now();
        let app = format!("bench-{i}");
        let status = consume(
            &endpoint,
            &dynamodb,
            "bench",
            handler,
            &["--batch-size", "100", "--until-idle", "500ms", "--app", &app],
        )
        .status()
        .unwrap();
        let busy = started.elapsed().saturating_sub(idle);
        assert!(status.success(), "consume failed: {status}");
        eprintln!(
            "consume throughput into {label}: {n} records, 4 shards, batch size 100: {:.2} s, {:.0} records/s",
            busy.as_secs_f64(),
            n as f64 / busy.as_secs_f64()
        );
    }

    // The same minimal handler (parse every record) per batch via --exec, and warm behind the
    // Runtime API: the bundled clients by name, and the official awslambdaric.
    let rapi = fixtures.join("rapi");
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|p| !p.is_empty());
    let ric = std::env::var("KINLOCAL_AWSLAMBDARIC_PYTHON").ok().or_else(|| {
        std::env::var("HOME")
            .ok()
            .map(|h| format!("{h}/.cache/kinlocal-ric/venv/bin/python"))
            .filter(|p| Path::new(p).is_file())
    });
    let mut modes: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(py) = &python {
        modes.push((
            format!("Python --exec (a process per batch, {py})"),
            vec![
                "--exec".into(),
                format!("{py} {}", rapi.join("exec_minimal.py").display()),
            ],
        ));
        modes.push((
            "Python --handler handler.minimal --runtime python3.11 (bundled client, warm)".into(),
            vec![
                "--handler".into(),
                format!("{}/handler.minimal", rapi.display()),
                "--runtime".into(),
                "python3.11".into(),
                "--python".into(),
                py.clone(),
            ],
        ));
    }
    if let Some(py) = &ric {
        modes.push((
            "Python --runtime-api with awslambdaric (official client, warm)".into(),
            vec![
                "--exec".into(),
                format!("{py} -m awslambdaric handler.minimal"),
                "--runtime-api".into(),
            ],
        ));
    }
    modes.push((
        "Node --exec (a process per batch)".into(),
        vec![
            "--exec".into(),
            format!("node {}", rapi.join("exec_minimal.mjs").display()),
        ],
    ));
    modes.push((
        "Node --handler handler.minimal --runtime nodejs20.x (bundled client, warm)".into(),
        vec![
            "--handler".into(),
            format!("{}/handler.minimal", rapi.display()),
            "--runtime".into(),
            "nodejs20.x".into(),
        ],
    ));
    for (i, (label, args)) in modes.iter().enumerate() {
        let idle = Duration::from_millis(500);
        let app = format!("bench-rapi-{i}");
        let mut c = Command::new(env!("CARGO_BIN_EXE_kinlocal"));
        c.args(["consume", "--stream", "bench"])
            .args(args)
            .args([
                "--batch-size",
                "100",
                "--until-idle",
                "500ms",
                "--app",
                &app,
                "--timeout",
                "60s",
            ])
            .current_dir(&rapi)
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ENDPOINT_URL_KINESIS", &endpoint)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb)
            .env("AWS_REGION", "us-east-1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        let status = c.status().unwrap();
        let busy = started.elapsed().saturating_sub(idle);
        assert!(status.success(), "consume failed: {status}");
        eprintln!(
            "consume throughput, minimal handler parsing every record, {label}: {n} records, 4 shards, batch size 100: {:.2} s, {:.0} records/s",
            busy.as_secs_f64(),
            n as f64 / busy.as_secs_f64()
        );
    }

    // Latency: PutRecord acknowledged → handler started, one record per batch.
    for (i, poll) in ["200ms", "5ms"].iter().enumerate() {
        let stream = format!("lat{i}");
        rt.block_on(create(&k, &stream, 1));
        let stamps = std::env::temp_dir().join(format!("kinlocal-bench-stamps-{}-{i}", std::process::id()));
        let _ = std::fs::remove_file(&stamps);
        let mut child = consume(
            &endpoint,
            &dynamodb,
            &stream,
            &fixtures.join("stamp.sh").to_string_lossy(),
            &["--poll-interval", poll],
        )
        .env("STAMP_FILE", &stamps)
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let mut acks = Vec::new();
        for s in 0..40u64 {
            rt.block_on(
                k.put_record()
                    .stream_name(&stream)
                    .partition_key("k")
                    .data(Blob::new(b"ping".to_vec()))
                    .send(),
            )
            .unwrap();
            acks.push(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as f64,
            );
            // Spread the puts over the poll cycle, with gaps long enough for one record per batch.
            std::thread::sleep(Duration::from_millis(300 + (s * 37) % 150));
        }
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
        let starts: Vec<f64> = std::fs::read_to_string(&stamps)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse::<f64>().ok())
            .collect();
        assert_eq!(starts.len(), acks.len(), "one invocation per record expected");
        let mut ms: Vec<f64> = starts.iter().zip(&acks).map(|(s, a)| (s - a) / 1e6).collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        eprintln!(
            "consume latency (put ack → handler start), --poll-interval {poll}: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms ({} samples)",
            percentile(&ms, 0.5),
            percentile(&ms, 0.9),
            ms[ms.len() - 1],
            ms.len()
        );
        let _ = std::fs::remove_file(&stamps);
    }
}
