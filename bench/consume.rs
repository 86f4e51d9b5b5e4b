//! `kinlocal consume` end to end against the embedded engine: throughput into a handler that
//! reads stdin and exits 0 (batch size 100, 4 shards), and latency from PutRecord
//! acknowledged to handler start. Figures and commands in BENCHMARKS.md.
//!
//! Then, with the engine in its own process: the idle cost of a consumer of 4 shards (its CPU, the
//! engine's, GetRecords per second per shard) and latency from PutRecord acknowledged to handler
//! start, against kinlocal's engine (polling, and `--efo`) and against an endpoint that does not
//! long-poll.
//!
//! And `--parallelization-factor` on one shard with a handler that sleeps 50 ms per batch:
//! throughput with factors 1, 2, 5 and 10.
//!
//! `cargo bench --bench consume` (release). Knobs: KINLOCAL_BENCH_RECORDS (default 100000),
//! KINLOCAL_BENCH_DYNAMODB_URL (lease table elsewhere than the engine),
//! KINLOCAL_BENCH_ONLY=latency (only the idle and latency part), KINLOCAL_BENCH_ONLY=lanes (only
//! the parallelization part).

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    if std::env::var("KINLOCAL_BENCH_ONLY").as_deref() == Ok("latency") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        latency_and_idle(&rt, &fixtures);
        return;
    }
    if std::env::var("KINLOCAL_BENCH_ONLY").as_deref() == Ok("lanes") {
        lanes_scaling(&fixtures);
        return;
    }
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

    drop(k);
    lanes_scaling(&fixtures);
    latency_and_idle(&rt, &fixtures);
}

/// Compiles a handler that reads stdin to the end, sleeps 50 ms and exits 0 (statically
/// linked, so that starting it costs next to nothing); `None` without a C compiler.
fn build_sleeping_sink() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("kinlocal-bench-sleep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let src = dir.join("sleep50.c");
    std::fs::write(
        &src,
        "#include <unistd.h>\n#include <time.h>\nint main(void){char b[65536];while(read(0,b,sizeof b)>0){}\nstruct timespec t={0,50000000};nanosleep(&t,0);return 0;}\n",
    )
    .ok()?;
    let bin = dir.join("sleep50");
    let ok = Command::new("cc")
        .args(["-O2", "-static", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .ok()?
        .success();
    ok.then_some(bin)
}

/// `--parallelization-factor` 1, 2, 5 and 10 on one shard, a handler that sleeps 50 ms per
/// batch, batch size 100, records with distinct partition keys: records per second and the
/// speed-up over factor 1.
fn lanes_scaling(fixtures: &Path) {
    // Enough batches (500 at factor 1) that the consumer's start and stop do not hide the
    // scaling.
    let n: usize = std::env::var("KINLOCAL_BENCH_LANES_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let endpoint = start_engine();
    let dynamodb = std::env::var("KINLOCAL_BENCH_DYNAMODB_URL").unwrap_or_else(|_| endpoint.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let k = rt.block_on(client(&endpoint));
    rt.block_on(async {
        create(&k, "lanes", 1).await;
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
                .stream_name("lanes")
                .set_records(Some(entries))
                .send()
                .await
                .unwrap();
        }
    });
    let (label, handler) = match build_sleeping_sink() {
        Some(bin) => (
            "a static C program sleeping 50 ms",
            bin.to_string_lossy().into_owned(),
        ),
        None => (
            "tests/fixtures/sleep50.sh (sh, cat, sleep 0.05)",
            fixtures.join("sleep50.sh").to_string_lossy().into_owned(),
        ),
    };
    let mut base = None;
    for factor in [1_u32, 2, 5, 10] {
        let idle = Duration::from_millis(500);
        let app = format!("bench-lanes-{factor}");
        let started = Instant::now();
        let status = consume(
            &endpoint,
            &dynamodb,
            "lanes",
            &handler,
            &[
                "--batch-size",
                "100",
                "--parallelization-factor",
                &factor.to_string(),
                "--until-idle",
                "500ms",
                "--app",
                &app,
            ],
        )
        .status()
        .unwrap();
        let busy = started.elapsed().saturating_sub(idle);
        assert!(status.success(), "consume failed: {status}");
        let rate = n as f64 / busy.as_secs_f64();
        let speedup = rate / *base.get_or_insert(rate);
        eprintln!(
            "consume --parallelization-factor {factor}, one shard, {label}, batch size 100: {n} records in {:.2} s, {rate:.0} records/s, {speedup:.1}x factor 1",
            busy.as_secs_f64()
        );
    }
}

/// An engine in its own process (`kinlocal serve`), so that its CPU time can be read alone.
struct ServeProcess {
    child: std::process::Child,
    url: String,
}

impl ServeProcess {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kinlocal"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("serve prints its URL")
            .to_string();
        Self { child, url }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) a process has used so far, in seconds: the sum of its threads'
/// exact run times (`/proc/PID/task/*/schedstat`, nanoseconds), else its tick-sampled
/// `utime + stime` (which over- or under-counts a process that wakes on the timer tick).
fn cpu_seconds(pid: u32) -> f64 {
    let exact: Option<u64> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum()
        })
        .filter(|ns| *ns > 0);
    if let Some(ns) = exact {
        return ns as f64 / 1e9;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at index 2 (state).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / clock_ticks_per_second()
}

/// `getconf CLK_TCK` (USER_HZ; 100 on mainstream kernels).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// A TCP proxy in front of the engine's Kinesis side that counts GetRecords calls and, with
/// `hide_long_poll`, renames kinlocal's long-poll header (to one of the same length) so that the
/// engine answers every read at once, as an endpoint without long polls does (kinesalite, the
/// containers of `up --docker`). Request heads arrive in one read on loopback in practice; a
/// header split across two reads would be missed (then counted low, or long-polled once).
fn start_proxy(upstream: &str, hide_long_poll: bool) -> (String, Arc<AtomicU64>) {
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { continue };
            let Ok(mut server) = std::net::TcpStream::connect(&upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = match c_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let chunk = &mut buf[..n];
                    let calls = find_all(chunk, b"Kinesis_20131202.GetRecords");
                    counter.fetch_add(calls.len() as u64, Ordering::Relaxed);
                    if hide_long_poll {
                        for at in find_all(chunk, b"x-kinlocal-wait-ms") {
                            chunk[at..at + 18].copy_from_slice(b"x-kinlocal-skip-ms");
                        }
                    }
                    if s_out.write_all(chunk).is_err() {
                        break;
                    }
                }
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (url, count)
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Idle cost and latency of `consume` with its default polling: an engine in its own process,
/// a 4-shard stream, the stamp handler. For each setup: CPU of the idle consumer and of the
/// engine over 10 s, GetRecords per second per shard while idle, then 40 records put one at a
/// time (300–450 ms apart, random partition keys, so each is its own batch on some shard) and
/// the time from PutRecord acknowledged to handler start. Then the same against kinesalite and
/// kinesis-mock, when `scripts/peers.sh install` has installed them.
fn latency_and_idle(rt: &tokio::runtime::Runtime, fixtures: &Path) {
    let engine = ServeProcess::start();
    let k = rt.block_on(client(&engine.url));
    let idle_window = Duration::from_secs(10);
    let e0 = cpu_seconds(engine.child.id());
    std::thread::sleep(idle_window);
    eprintln!(
        "idle engine alone: {:.2} % of a core over {} s",
        (cpu_seconds(engine.child.id()) - e0) * 100.0 / idle_window.as_secs_f64(),
        idle_window.as_secs()
    );
    let setups: [(&str, bool, &[&str]); 5] = [
        ("kinlocal's engine, default polling (long polls)", false, &[]),
        ("kinlocal's engine, --efo (SubscribeToShard)", false, &["--efo"]),
        (
            "an endpoint that answers at once, default polling (15 ms)",
            true,
            &[],
        ),
        (
            "an endpoint that answers at once, --poll-interval 20ms",
            true,
            &["--poll-interval", "20ms"],
        ),
        (
            "an endpoint that answers at once, --poll-interval 200ms (the old default)",
            true,
            &["--poll-interval", "200ms"],
        ),
    ];
    for (i, (label, hide, extra)) in setups.iter().enumerate() {
        let stream = format!("idle{i}");
        rt.block_on(create(&k, &stream, 4));
        let (proxy, get_records) = start_proxy(&engine.url, *hide);
        let target = Target {
            label,
            client: &k,
            kinesis_url: &proxy,
            dynamodb_url: &engine.url,
            pid: engine.child.id(),
            get_records: &get_records,
        };
        idle_then_latency(rt, fixtures, &target, &stream, extra);
    }
    // The peers an endpoint that answers at once stands in for, when installed
    // (scripts/peers.sh install): kinesalite, and kinesis-mock's npm build (`up --docker` runs
    // its JVM image, which cannot be run here).
    for name in ["kinesalite", "kinesis-mock"] {
        let Some(peer) = PeerProcess::start(name) else {
            eprintln!("{name}: not installed (scripts/peers.sh install), skipped");
            continue;
        };
        let pk = rt.block_on(client(&peer.url));
        let stream = format!("idle-{name}");
        rt.block_on(create(&pk, &stream, 4));
        let (proxy, get_records) = start_proxy(&peer.url, false);
        let label = format!("{name} (answers at once), default polling");
        let target = Target {
            label: &label,
            client: &pk,
            kinesis_url: &proxy,
            dynamodb_url: &engine.url,
            pid: peer.pid,
            get_records: &get_records,
        };
        idle_then_latency(rt, fixtures, &target, &stream, &[]);
    }
}

/// Where `idle_then_latency` reads: a Kinesis endpoint (behind the counting proxy), the
/// DynamoDB endpoint for the lease table, the process serving Kinesis (for its CPU).
struct Target<'a> {
    label: &'a str,
    client: &'a aws_sdk_kinesis::Client,
    kinesis_url: &'a str,
    dynamodb_url: &'a str,
    pid: u32,
    get_records: &'a AtomicU64,
}

/// One setup: CPU of the idle consumer and of the endpoint over 10 s, GetRecords per second
/// per shard, then 40 records put one at a time and the time from acknowledgement to handler
/// start.
fn idle_then_latency(
    rt: &tokio::runtime::Runtime,
    fixtures: &Path,
    t: &Target<'_>,
    stream: &str,
    extra: &[&str],
) {
    let (label, k) = (t.label, t.client);
    let idle_window = Duration::from_secs(10);
    let stamps = std::env::temp_dir().join(format!("kinlocal-bench-stamps-{}-{stream}", std::process::id()));
    let _ = std::fs::remove_file(&stamps);
    let mut child = consume(
        t.kinesis_url,
        t.dynamodb_url,
        stream,
        &fixtures.join("stamp.sh").to_string_lossy(),
        extra,
    )
    .env("STAMP_FILE", &stamps)
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let (c0, e0, g0) = (
        cpu_seconds(child.id()),
        cpu_seconds(t.pid),
        t.get_records.load(Ordering::Relaxed),
    );
    std::thread::sleep(idle_window);
    let secs = idle_window.as_secs_f64();
    let consumer_cpu = (cpu_seconds(child.id()) - c0) * 100.0 / secs;
    let engine_cpu = (cpu_seconds(t.pid) - e0) * 100.0 / secs;
    let reads = (t.get_records.load(Ordering::Relaxed) - g0) as f64 / secs / 4.0;
    eprintln!(
        "idle, 4 shards, {label}: consumer {consumer_cpu:.2} % of a core, endpoint {engine_cpu:.2} %, {reads:.1} GetRecords/s per shard"
    );
    let mut acks = Vec::new();
    for s in 0..40u64 {
        rt.block_on(
            k.put_record()
                .stream_name(stream)
                .partition_key(format!("key-{}", rand_key(s)))
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
        "latency (put ack → handler start), 4 shards, {label}: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms ({} samples)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        ms[ms.len() - 1],
        ms.len()
    );
    let _ = std::fs::remove_file(&stamps);
}

/// A peer emulator started by `scripts/peers.sh start`, stopped on drop.
struct PeerProcess {
    name: &'static str,
    pid: u32,
    url: String,
}

impl PeerProcess {
    fn start(name: &'static str) -> Option<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peers.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", name])
            .output()
            .ok()?;
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let mut words = line.split_whitespace();
        let (_, pid, url) = (words.next()?, words.next()?.parse().ok()?, words.next()?);
        Some(Self {
            name,
            pid,
            url: url.to_string(),
        })
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peers.sh");
        let _ = Command::new("bash")
            .arg(script)
            .args(["stop", self.name])
            .output();
    }
}

/// A partition key spread over the hash space (records land on every shard).
fn rand_key(s: u64) -> u64 {
    s.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17
}
