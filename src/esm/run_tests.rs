//! In-process tests of the ESM core: supervisor, shard readers and batch runners against the
//! embedded engine on 127.0.0.1:0 (real Kinesis and DynamoDB calls through the AWS SDK), with
//! a scripted fake invoker in place of the function (the way hyperfine tests its scheduler
//! with a mock executor). Runner-only tests use paused tokio time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::config::{DestinationSpec, StartingPosition};
use super::events::PendingRange;
use super::invoker::{
    BoxFuture, FunctionLog, InitError, Invocation, InvokeReport, Invoker, InvokerFactory, InvokerTarget,
    LogSink, Outcome,
};
use super::mapping::{ConsumeSettings, Mapping};
use super::policy::{Condition, RetryPolicy, TokioClock};
use super::record::{PreparedRecord, SequenceNumber};
use super::runner::{BatchRunner, Decision, PendingBatch, RunnerSettings};
use super::supervisor::{self, Summary};
use super::window::{Window, WindowCall};
use super::{BatchReport, DiscardReport, Reporter, ShardProgress};
use crate::engine::{self, Engine, EngineConfig};

/// The sequence numbers of one invocation.
#[derive(Debug, Clone)]
struct Call {
    shard_id: String,
    lane: usize,
    seqs: Vec<String>,
    /// The tumbling-window fields of the event (`Null` without a window).
    window: serde_json::Value,
}

/// Decides each invocation's outcome from the records it carries and how often each was seen.
type Script = dyn Fn(&Call, &BTreeMap<String, u32>) -> Outcome + Send + Sync;

/// A function that does what its script says and remembers every call.
#[derive(Clone)]
struct Fake {
    script: Arc<Script>,
    calls: Arc<Mutex<Vec<Call>>>,
    seen: Arc<Mutex<BTreeMap<String, u32>>>,
    /// Held during an invocation when set (a slow function).
    delay: Duration,
    /// Invocations under way, and the most there ever were at once.
    active: Arc<std::sync::atomic::AtomicUsize>,
    peak: Arc<std::sync::atomic::AtomicUsize>,
}

impl Fake {
    fn new(script: impl Fn(&Call, &BTreeMap<String, u32>) -> Outcome + Send + Sync + 'static) -> Self {
        Self {
            script: Arc::new(script),
            calls: Arc::default(),
            seen: Arc::default(),
            delay: Duration::ZERO,
            active: Arc::default(),
            peak: Arc::default(),
        }
    }

    fn ok() -> Self {
        Self::new(|_, _| Outcome::Returned(Vec::new()))
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

struct FakeInvoker(Fake);

impl Invoker for FakeInvoker {
    fn start(&mut self) -> BoxFuture<'_, Result<(), InitError>> {
        Box::pin(async { Ok(()) })
    }

    fn invoke(&mut self, inv: Invocation) -> BoxFuture<'_, InvokeReport> {
        let fake = self.0.clone();
        Box::pin(async move {
            let event: serde_json::Value = serde_json::from_slice(&inv.payload).expect("event JSON");
            let seqs: Vec<String> = event["Records"]
                .as_array()
                .expect("Records")
                .iter()
                .map(|r| r["kinesis"]["sequenceNumber"].as_str().expect("seq").to_string())
                .collect();
            let window = match event.get("window") {
                Some(_) => serde_json::json!({
                    "window": event["window"],
                    "state": event["state"],
                    "shardId": event["shardId"],
                    "isFinalInvokeForWindow": event["isFinalInvokeForWindow"],
                    "isWindowTerminatedEarly": event["isWindowTerminatedEarly"],
                }),
                None => serde_json::Value::Null,
            };
            let call = Call {
                shard_id: inv.shard_id.clone(),
                lane: inv.lane,
                seqs,
                window,
            };
            let now = fake.active.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            fake.peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
            if !fake.delay.is_zero() {
                tokio::time::sleep(fake.delay).await;
            }
            fake.active.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            let outcome = {
                let mut seen = fake.seen.lock().expect("seen");
                for s in &call.seqs {
                    *seen.entry(s.clone()).or_default() += 1;
                }
                (fake.script)(&call, &seen)
            };
            fake.calls.lock().expect("calls").push(call);
            InvokeReport {
                outcome,
                duration: Duration::from_millis(1),
            }
        })
    }

    fn shutdown(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

impl InvokerFactory for Fake {
    fn create(&self, _target: InvokerTarget) -> Box<dyn Invoker> {
        Box::new(FakeInvoker(self.clone()))
    }
}

/// Remembers what the run reported.
#[derive(Default)]
struct Recorder {
    batches: Mutex<Vec<BatchReport>>,
    discards: Mutex<Vec<DiscardReport>>,
    notes: Mutex<Vec<String>>,
}

impl LogSink for Recorder {
    fn log(&self, _label: &str, _line: &str) {}
}

impl Reporter for Recorder {
    fn batch(&self, report: &BatchReport) {
        self.batches.lock().expect("lock").push(report.clone());
    }
    fn discarded(&self, report: &DiscardReport) {
        self.discards.lock().expect("lock").push(report.clone());
    }
    fn note(&self, message: &str) {
        self.notes.lock().expect("lock").push(message.to_string());
    }
    fn progress(&self, _shards: &[ShardProgress]) {}
}

/// An engine on 127.0.0.1:0 in this runtime, and SDK clients for it.
struct Env {
    kinesis: aws_sdk_kinesis::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn env() -> Env {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let (listener, addr) = engine::bind("127.0.0.1", 0).await.expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine::run(listener, engine, async {
        let _ = stopped.await;
    }));
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    Env {
        kinesis: aws_sdk_kinesis::Client::new(&conf),
        dynamodb: aws_sdk_dynamodb::Client::new(&conf),
        _stop: stop,
    }
}

impl Env {
    /// A stream of `shards` shards with `per_shard` records in each (partition keys chosen by
    /// explicit hash key); returns every sequence number per shard, in order.
    async fn stream(&self, name: &str, shards: i32, per_shard: usize) -> BTreeMap<String, Vec<String>> {
        self.kinesis
            .create_stream()
            .stream_name(name)
            .shard_count(shards)
            .send()
            .await
            .expect("create stream");
        let listed = loop {
            let d = self
                .kinesis
                .describe_stream()
                .stream_name(name)
                .send()
                .await
                .expect("describe");
            let desc = d.stream_description().expect("description");
            if desc.stream_status().as_str() == "ACTIVE" {
                break desc.shards().to_vec();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut out = BTreeMap::new();
        for shard in &listed {
            let hash = shard
                .hash_key_range()
                .expect("range")
                .starting_hash_key()
                .to_string();
            let mut seqs = Vec::new();
            for i in 0..per_shard {
                let r = self
                    .kinesis
                    .put_record()
                    .stream_name(name)
                    .partition_key(format!("k{i}"))
                    .explicit_hash_key(&hash)
                    .data(aws_sdk_kinesis::primitives::Blob::new(format!("{{\"n\":{i}}}")))
                    .send()
                    .await
                    .expect("put");
                seqs.push(r.sequence_number().to_string());
            }
            out.insert(shard.shard_id().to_string(), seqs);
        }
        out
    }

    fn settings(&self, stream: &str) -> ConsumeSettings {
        ConsumeSettings {
            stream: Some(stream.into()),
            command: vec!["fake-handler".into()],
            starting_position: StartingPosition::TrimHorizon,
            batch_size: 10,
            maximum_batching_window: Duration::ZERO,
            poll: super::poll::PollPolicy::local(Some(Duration::from_millis(10))),
            local_kinesis_url: None,
            tumbling_window: None,
            parallelization_factor: 1,
            maximum_retry_attempts: None,
            maximum_record_age: None,
            bisect_batch_on_function_error: false,
            report_batch_item_failures: false,
            on_failure: None,
            function_name: Some("fn".into()),
            role_arn: None,
            account_id: None,
            region: "us-east-1".into(),
            memory_size: 128,
            timeout: Duration::from_secs(3),
            app: Some(format!("app-{stream}")),
            worker_id: Some("w1".into()),
            reset: false,
            until_idle: Some(Duration::from_millis(300)),
            lag_probe: None,
            failover_time: Duration::from_secs(10),
            max_records: None,
            json: false,
            runtime_api: None,
            env: Vec::new(),
            filters: Default::default(),
            watch: Vec::new(),
            efo: None,
        }
    }

    /// Runs the mapping with `fake` as the function until it stops by itself (or `stop_after`).
    async fn run(
        &self,
        settings: ConsumeSettings,
        fake: &Fake,
        stop_after: Option<Duration>,
    ) -> (Summary, Arc<Recorder>) {
        let rec = Arc::new(Recorder::default());
        let mut mapping =
            Mapping::prepare(settings, self.kinesis.clone(), self.dynamodb.clone(), rec.clone())
                .await
                .expect("prepare");
        mapping.invokers = Arc::new(fake.clone());
        let stop = async move {
            match stop_after {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        let summary = tokio::time::timeout(Duration::from_secs(30), supervisor::run(mapping, stop))
            .await
            .expect("the run ends")
            .expect("the run succeeds");
        (summary, rec)
    }

    async fn checkpoints(&self, app: &str) -> BTreeMap<String, String> {
        super::lease_table::scan(&self.dynamodb, app)
            .await
            .expect("scan")
            .into_iter()
            .map(|l| (l.lease_key, l.checkpoint.to_string()))
            .collect()
    }
}

fn failure_at(seq: &str) -> Outcome {
    Outcome::Returned(
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": seq}]})
            .to_string()
            .into_bytes(),
    )
}

fn function_error() -> Outcome {
    Outcome::FunctionError {
        error_type: "Unhandled".into(),
        message: "boom".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_is_delivered_once_in_order_and_checkpointed() {
    let env = env().await;
    let seqs = env.stream("all", 2, 25).await;
    let fake = Fake::ok();
    let (summary, rec) = env.run(env.settings("all"), &fake, None).await;
    assert_eq!(summary.delivered, 50);
    assert_eq!(summary.discarded, 0);
    assert!(summary.stuck.is_empty());
    for (shard, expected) in &seqs {
        let got: Vec<String> = fake
            .calls()
            .iter()
            .filter(|c| &c.shard_id == shard)
            .flat_map(|c| c.seqs.clone())
            .collect();
        assert_eq!(&got, expected, "{shard}: each record once, in order");
    }
    let cps = env.checkpoints("app-all").await;
    for (shard, expected) in &seqs {
        assert_eq!(cps.get(shard), expected.last(), "{shard}");
    }
    assert!(rec
        .batches
        .lock()
        .expect("lock")
        .iter()
        .all(|b| b.outcome == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_batch_is_retried_until_it_succeeds() {
    let env = env().await;
    let seqs = env.stream("retry", 1, 5).await;
    let first = seqs.values().next().expect("shard")[0].clone();
    let fake = Fake::new(move |_, seen| {
        if seen.get(&first).copied().unwrap_or(0) <= 2 {
            function_error()
        } else {
            Outcome::Returned(Vec::new())
        }
    });
    let (summary, rec) = env.run(env.settings("retry"), &fake, None).await;
    assert_eq!(summary.delivered, 5);
    let attempts: Vec<u32> = rec
        .batches
        .lock()
        .expect("lock")
        .iter()
        .map(|b| b.attempt)
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);
    assert_eq!(fake.calls().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisection_isolates_a_poison_record_and_discards_only_it() {
    let env = env().await;
    let seqs = env.stream("poison", 1, 8).await;
    let all = seqs.values().next().expect("shard").clone();
    let poison = all[5].clone();
    let p = poison.clone();
    let fake = Fake::new(move |call, _| {
        if call.seqs.contains(&p) {
            function_error()
        } else {
            Outcome::Returned(Vec::new())
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = env.settings("poison");
    s.bisect_batch_on_function_error = true;
    s.maximum_retry_attempts = Some(1);
    s.on_failure = Some(DestinationSpec::Directory(dir.path().to_path_buf()));
    let (summary, rec) = env.run(s, &fake, None).await;
    assert_eq!(summary.delivered, 7);
    assert_eq!(summary.discarded, 1);
    let discards = rec.discards.lock().expect("lock").clone();
    assert_eq!(discards.len(), 1);
    assert_eq!(discards[0].records, 1);
    assert_eq!(discards[0].condition, Condition::RetryAttemptsExhausted.as_str());
    // Every good record reached the function at least once and the checkpoint is the last.
    let delivered: std::collections::BTreeSet<String> =
        fake.calls().iter().flat_map(|c| c.seqs.clone()).collect();
    assert_eq!(delivered.len(), 8);
    assert_eq!(env.checkpoints("app-poison").await.values().next(), all.last());
    // The on-failure record names exactly the poison record.
    let files: Vec<_> = walk(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let body: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).expect("read")).expect("json");
    assert_eq!(body["KinesisBatchInfo"]["startSequenceNumber"], poison.as_str());
    assert_eq!(body["KinesisBatchInfo"]["endSequenceNumber"], poison.as_str());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_failure_is_retried_from_the_failed_record() {
    let env = env().await;
    let seqs = env.stream("partial", 1, 6).await;
    let all = seqs.values().next().expect("shard").clone();
    let bad = all[3].clone();
    let b = bad.clone();
    let fake = Fake::new(move |_, seen| {
        if seen.get(&b).copied() == Some(1) {
            failure_at(&b)
        } else {
            Outcome::Returned(Vec::new())
        }
    });
    let mut s = env.settings("partial");
    s.report_batch_item_failures = true;
    let (summary, rec) = env.run(s, &fake, None).await;
    assert_eq!(summary.delivered, 6);
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].seqs, all);
    assert_eq!(calls[1].seqs, all[3..].to_vec(), "retried from the failed record");
    let outcomes: Vec<&str> = rec
        .batches
        .lock()
        .expect("lock")
        .iter()
        .map(|b| b.outcome)
        .collect();
    assert_eq!(outcomes, vec!["partial", "ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_records_stops_after_exactly_that_many() {
    let env = env().await;
    env.stream("max", 2, 30).await;
    let fake = Fake::ok();
    let mut s = env.settings("max");
    s.max_records = Some(25);
    s.until_idle = None;
    let (summary, _) = env.run(s, &fake, None).await;
    assert_eq!(summary.delivered, 25);
    let handed: usize = fake.calls().iter().map(|c| c.seqs.len()).sum();
    assert_eq!(handed, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_a_batch_fails_leaves_it_uncheckpointed_and_names_it() {
    let env = env().await;
    let seqs = env.stream("stuck", 1, 4).await;
    let all = seqs.values().next().expect("shard").clone();
    let fake = Fake::new(|_, _| function_error());
    let mut s = env.settings("stuck");
    s.until_idle = None;
    let (summary, _) = env.run(s, &fake, Some(Duration::from_millis(800))).await;
    assert_eq!(summary.delivered, 0);
    assert_eq!(summary.stuck.len(), 1, "{summary:?}");
    let (shard, range): &(String, PendingRange) = &summary.stuck[0];
    assert_eq!(Some(shard), seqs.keys().next());
    assert_eq!(range.first_sequence_number, all[0]);
    assert_eq!(range.last_sequence_number, all[3]);
    assert_eq!(range.records, 4);
    assert!(range.attempts >= 2, "{range:?}");
    assert_eq!(
        env.checkpoints("app-stuck")
            .await
            .values()
            .next()
            .map(String::as_str),
        Some("TRIM_HORIZON"),
        "nothing checkpointed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_idle_waits_for_every_shard_to_drain() {
    let env = env().await;
    env.stream("idle", 3, 12).await;
    let mut fake = Fake::ok();
    fake.delay = Duration::from_millis(30);
    let (summary, _) = env.run(env.settings("idle"), &fake, None).await;
    assert_eq!(summary.delivered, 36);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_mid_batch_is_not_checkpointed_by_the_old_owner() {
    let env = env().await;
    let seqs = env.stream("steal", 1, 3).await;
    let shard = seqs.keys().next().expect("shard").clone();
    let thief = super::lease_table::LeaseTable::new(env.dynamodb.clone(), "app-steal", "thief");
    let mut fake = Fake::ok();
    fake.delay = Duration::from_millis(400);
    let stealer = {
        let thief = thief.clone();
        let shard = shard.clone();
        tokio::spawn(async move {
            // Once the first invocation is under way, another worker takes the lease.
            tokio::time::sleep(Duration::from_millis(250)).await;
            loop {
                if let Ok(Some(mut l)) = thief.get(&shard).await {
                    if l.owner.as_deref() == Some("w1") && thief.take(&mut l).await.is_ok() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut s = env.settings("steal");
    s.until_idle = None;
    let (summary, rec) = env.run(s, &fake, Some(Duration::from_millis(1500))).await;
    stealer.await.expect("stealer");
    assert_eq!(
        summary.delivered, 0,
        "the old owner must not count or checkpoint the batch"
    );
    let lease = thief.get(&shard).await.expect("get").expect("lease");
    assert_eq!(lease.owner.as_deref(), Some("thief"));
    assert_eq!(lease.checkpoint.to_string(), "TRIM_HORIZON");
    let notes = rec.notes.lock().expect("lock").join("\n");
    assert!(
        notes.contains("lease lost") || notes.contains("another consumer"),
        "{notes}"
    );
}

/// Runner alone: paused time, no network.
fn records(n: usize) -> Vec<PreparedRecord> {
    (1..=n)
        .map(|i| PreparedRecord {
            sequence_number: SequenceNumber::new(i.to_string()),
            arrival_ms: 0,
            json: format!("{{\"kinesis\":{{\"sequenceNumber\":\"{i}\"}}}}").into_bytes(),
        })
        .collect()
}

fn runner(fake: &Fake, policy: RetryPolicy) -> BatchRunner {
    let sink: Arc<dyn LogSink> = Arc::new(Recorder::default());
    let invoker = fake.create(InvokerTarget {
        shard_id: "s".into(),
        lane: 0,
        logs: FunctionLog::new(sink, "s", 0),
    });
    BatchRunner::new(
        invoker,
        RunnerSettings {
            policy,
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:fn".into(),
            timeout: Duration::from_secs(3),
            shard_id: "s".into(),
            lane: 0,
            lanes: 1,
            clock: Arc::new(TokioClock::starting_at(0)),
            reporter: Arc::new(Recorder::default()),
        },
    )
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        maximum_retry_attempts: Some(2),
        maximum_record_age: None,
        bisect_batch_on_function_error: false,
        report_batch_item_failures: true,
        retry_base_delay: Duration::from_millis(100),
        retry_max_delay: Duration::from_secs(5),
    }
}

#[tokio::test(start_paused = true)]
async fn the_runner_returns_decisions_and_never_writes() {
    let fake = Fake::new(|call, seen| {
        if call.seqs.contains(&"3".to_string()) && seen.get("3").copied() == Some(1) {
            failure_at("3")
        } else {
            function_error()
        }
    });
    let mut r = runner(&fake, policy());
    let mut batch = PendingBatch::new(records(4));
    let d = r.step(&mut batch).await;
    assert_eq!(
        d,
        vec![
            Decision::Completed {
                upto: SequenceNumber::new("2"),
                records: 2
            },
            Decision::Retry {
                after: Duration::from_millis(100)
            },
        ]
    );
    assert!(batch.has_failed());
    assert_eq!(batch.next_range().map(|p| (p.records, p.attempts)), Some((2, 1)));
    // Function errors on the rest: retried with a growing back-off until retries run out.
    let d = r.step(&mut batch).await;
    assert_eq!(
        d,
        vec![Decision::Retry {
            after: Duration::from_millis(200)
        }]
    );
    let d = r.step(&mut batch).await;
    match d.as_slice() {
        [Decision::Discard(range)] => {
            assert_eq!(range.records.len(), 2);
            assert_eq!(range.invoke_count, 3);
            assert_eq!(range.function_error, Some("Unhandled"));
        }
        other => panic!("expected a discard, got {other:?}"),
    }
    assert!(batch.is_done());
}

#[tokio::test(start_paused = true)]
async fn the_runner_expires_old_records_before_invoking() {
    let fake = Fake::ok();
    let mut p = policy();
    p.maximum_record_age = Some(Duration::from_secs(60));
    let mut r = runner(&fake, p);
    let mut recs = records(3);
    recs[0].arrival_ms = -120_000;
    let mut batch = PendingBatch::new(recs);
    let d = r.step(&mut batch).await;
    match d.as_slice() {
        [Decision::Discard(old), Decision::Completed { upto, records: 2 }] => {
            assert_eq!(old.condition, Condition::RecordAgeExceeded);
            assert_eq!(old.records.len(), 1);
            assert_eq!(upto.as_str(), "3");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(fake.calls().len(), 1);
    assert_eq!(fake.calls()[0].seqs, vec!["2", "3"]);
}

/// The lane (of `factor`) of the `i`th record [`Env::stream`] puts in a shard (key `k{i}`).
fn lane_of_record(i: usize, factor: usize) -> usize {
    super::lanes::lane_of(&format!("k{i}"), factor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lanes_run_one_shards_batches_at_once_each_lane_in_order() {
    let env = env().await;
    let seqs = env.stream("lanes", 1, 40).await;
    let all = seqs.values().next().expect("shard").clone();
    let mut fake = Fake::ok();
    fake.delay = Duration::from_millis(60);
    let mut s = env.settings("lanes");
    s.parallelization_factor = 4;
    s.batch_size = 3;
    let (summary, rec) = env.run(s, &fake, None).await;
    assert_eq!(summary.delivered, 40);
    let peak = fake.peak.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=4).contains(&peak), "batches of one shard at once: {peak}");
    // Each lane got exactly its keys' records, in shard order.
    for lane in 0..4 {
        let got: Vec<String> = fake
            .calls()
            .iter()
            .filter(|c| c.lane == lane)
            .flat_map(|c| c.seqs.clone())
            .collect();
        let want: Vec<String> = (0..40)
            .filter(|&i| lane_of_record(i, 4) == lane)
            .map(|i| all[i].clone())
            .collect();
        assert_eq!(got, want, "lane {lane}");
    }
    assert_eq!(
        env.checkpoints("app-lanes").await.values().next(),
        all.last(),
        "the checkpoint reaches the end once every lane has"
    );
    let batches = rec.batches.lock().expect("lock");
    assert!(batches.iter().all(|b| b.lane.is_some_and(|l| l < 4)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_lane_holds_the_checkpoint_while_the_other_lanes_go_on() {
    let env = env().await;
    let seqs = env.stream("lanefail", 1, 24).await;
    let all = seqs.values().next().expect("shard").clone();
    // Record 3 fails forever; every other record of its lane waits behind it.
    let poison = all[3].clone();
    let fake = {
        let poison = poison.clone();
        Fake::new(move |c, _| {
            if c.seqs.contains(&poison) {
                function_error()
            } else {
                Outcome::Returned(Vec::new())
            }
        })
    };
    let blocked = lane_of_record(3, 4);
    let mut s = env.settings("lanefail");
    s.parallelization_factor = 4;
    s.batch_size = 2;
    s.until_idle = None;
    let (summary, _) = env.run(s, &fake, Some(Duration::from_millis(1200))).await;
    let delivered: std::collections::BTreeSet<String> = fake
        .calls()
        .iter()
        .filter(|c| !c.seqs.contains(&poison))
        .flat_map(|c| c.seqs.clone())
        .collect();
    let others: Vec<usize> = (0..24).filter(|&i| lane_of_record(i, 4) != blocked).collect();
    for &i in &others {
        assert!(delivered.contains(&all[i]), "record {i} of a healthy lane");
    }
    assert!(
        (4..24)
            .filter(|&i| lane_of_record(i, 4) == blocked)
            .all(|i| !delivered.contains(&all[i])),
        "nothing after the failing batch of its lane"
    );
    assert_eq!(
        summary.delivered,
        others.len() as u64 + delivered_before(&all, &delivered, 3)
    );
    assert_eq!(summary.stuck.len(), 1, "{summary:?}");
    assert!(summary.stuck[0].1.attempts >= 2);
    // The checkpoint never passes the failing record, however far the other lanes got.
    let cp = env.checkpoints("app-lanefail").await;
    let cp = cp.values().next().expect("lease");
    let below = |s: &String| (s.len(), s) < (poison.len(), &poison);
    assert!(
        cp == "TRIM_HORIZON" || below(cp),
        "checkpoint {cp} is past {poison}"
    );
}

/// How many of the first `n` records were delivered (the failing lane's records before its
/// poison record).
fn delivered_before(all: &[String], delivered: &std::collections::BTreeSet<String>, n: usize) -> u64 {
    let blocked = lane_of_record(n, 4);
    all[..n]
        .iter()
        .enumerate()
        .filter(|(i, s)| lane_of_record(*i, 4) == blocked && delivered.contains(*s))
        .count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_bisects_and_discards_its_poison_record_then_the_shard_checkpoints_to_the_end() {
    let env = env().await;
    let seqs = env.stream("lanebisect", 1, 30).await;
    let all = seqs.values().next().expect("shard").clone();
    let poison = all[7].clone();
    let fake = {
        let poison = poison.clone();
        Fake::new(move |c, _| {
            if c.seqs.contains(&poison) {
                function_error()
            } else {
                Outcome::Returned(Vec::new())
            }
        })
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = env.settings("lanebisect");
    s.parallelization_factor = 3;
    s.batch_size = 4;
    s.bisect_batch_on_function_error = true;
    s.maximum_retry_attempts = Some(0);
    s.on_failure = Some(DestinationSpec::Directory(dir.path().to_path_buf()));
    let (summary, rec) = env.run(s, &fake, None).await;
    assert_eq!(summary.discarded, 1);
    assert_eq!(summary.delivered, 29);
    let discarded: Vec<usize> = rec
        .discards
        .lock()
        .expect("lock")
        .iter()
        .map(|d| d.records)
        .collect();
    assert_eq!(discarded, vec![1]);
    assert_eq!(walk(dir.path()).len(), 1, "one on-failure file");
    // Past the discarded record and every lane's last record.
    assert_eq!(
        env.checkpoints("app-lanebisect").await.values().next(),
        all.last()
    );
    // Only the poison record's lane saw a failure.
    let poison_lane = lane_of_record(7, 3);
    let failed_lanes: std::collections::BTreeSet<usize> = fake
        .calls()
        .iter()
        .filter(|c| c.seqs.contains(&poison))
        .map(|c| c.lane)
        .collect();
    assert_eq!(failed_lanes.into_iter().collect::<Vec<_>>(), vec![poison_lane]);
}

fn window_call(state: serde_json::Value, is_final: bool) -> WindowCall {
    WindowCall {
        window: Window::containing(1_607_497_440_000, Duration::from_secs(120)),
        state,
        event_source_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
        is_final,
        terminated_early: false,
        closed: false,
    }
}

/// Returns `{"state": {"n": <records seen in this window so far>}}`, failing as `fail` says.
fn counting(fail: impl Fn(&Call) -> Option<Outcome> + Send + Sync + 'static) -> Fake {
    Fake::new(move |call, _| {
        if let Some(outcome) = fail(call) {
            return outcome;
        }
        let before: usize = call.window["state"]["n"]
            .as_str()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Outcome::Returned(
            serde_json::json!({"state": {"n": (before + call.seqs.len()).to_string()}, "batchItemFailures": []})
                .to_string()
                .into_bytes(),
        )
    })
}

#[tokio::test(start_paused = true)]
async fn a_windowed_batch_carries_the_envelope_and_keeps_the_state_returned() {
    let fake = counting(|_| None);
    let mut r = runner(&fake, policy());
    let mut batch = PendingBatch::windowed(records(3), window_call(serde_json::json!({"n": "4"}), false));
    let d = r.step(&mut batch).await;
    assert_eq!(
        d,
        vec![Decision::Completed {
            upto: SequenceNumber::new("3"),
            records: 3
        }]
    );
    let calls = fake.calls();
    assert_eq!(
        calls[0].window,
        serde_json::json!({
            "window": {"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"},
            "state": {"n": "4"},
            "shardId": "s",
            "isFinalInvokeForWindow": false,
            "isWindowTerminatedEarly": false,
        })
    );
    let w = batch.window().expect("windowed");
    assert_eq!(w.state, serde_json::json!({"n": "7"}));
    assert!(!w.closed, "only a final invocation closes the window");
}

#[tokio::test(start_paused = true)]
async fn a_windowed_response_without_state_fails_and_the_retry_gets_the_same_state() {
    // The first attempt returns no state: a failed invocation.
    let first = Mutex::new(true);
    let fake = counting(move |_| {
        std::mem::replace(&mut *first.lock().expect("lock"), false)
            .then(|| Outcome::Returned(br#"{"batchItemFailures": [], "count": 2}"#.to_vec()))
    });
    let mut r = runner(&fake, policy());
    let mut batch = PendingBatch::windowed(records(2), window_call(serde_json::json!({"n": "0"}), false));
    let d = r.step(&mut batch).await;
    assert_eq!(
        d,
        vec![Decision::Retry {
            after: Duration::from_millis(100)
        }]
    );
    assert_eq!(
        batch.window().map(|w| w.state.clone()),
        Some(serde_json::json!({"n": "0"}))
    );
    let d = r.step(&mut batch).await;
    assert!(
        matches!(d.as_slice(), [Decision::Completed { records: 2, .. }]),
        "{d:?}"
    );
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1].window["state"],
        serde_json::json!({"n": "0"}),
        "the retry gets the state first sent"
    );
    assert_eq!(
        batch.window().map(|w| w.state.clone()),
        Some(serde_json::json!({"n": "2"}))
    );
}

#[tokio::test(start_paused = true)]
async fn a_windowed_partial_failure_keeps_the_state_for_the_rest() {
    let fake = Fake::new(|call, seen| {
        if call.seqs.first().map(String::as_str) == Some("1") && seen.get("3").copied() == Some(1) {
            Outcome::Returned(
                serde_json::json!({"state": {"n": "2"}, "batchItemFailures": [{"itemIdentifier": "3"}]})
                    .to_string()
                    .into_bytes(),
            )
        } else {
            Outcome::Returned(br#"{"state": {"n": "4"}}"#.to_vec())
        }
    });
    let mut r = runner(&fake, policy());
    let mut batch = PendingBatch::windowed(records(4), window_call(serde_json::json!({}), false));
    let d = r.step(&mut batch).await;
    assert!(
        matches!(
            d.as_slice(),
            [Decision::Completed { records: 2, .. }, Decision::Retry { .. }]
        ),
        "{d:?}"
    );
    assert_eq!(
        batch.window().map(|w| w.state.clone()),
        Some(serde_json::json!({"n": "2"}))
    );
    let _ = r.step(&mut batch).await;
    let calls = fake.calls();
    assert_eq!(calls[1].seqs, ["3", "4"]);
    assert_eq!(calls[1].window["state"], serde_json::json!({"n": "2"}));
    assert!(batch.is_done());
}

#[tokio::test(start_paused = true)]
async fn the_final_invocation_carries_no_records_and_closes_the_window() {
    let fake = counting(|_| None);
    let mut r = runner(&fake, policy());
    let mut batch = PendingBatch::windowed(Vec::new(), window_call(serde_json::json!({"n": "9"}), true));
    assert!(!batch.is_done(), "a final invocation is due even without records");
    let d = r.step(&mut batch).await;
    assert!(d.is_empty(), "nothing to checkpoint: {d:?}");
    assert!(batch.is_done());
    assert!(batch.window().is_some_and(|w| w.closed));
    let calls = fake.calls();
    assert!(calls[0].seqs.is_empty());
    assert_eq!(calls[0].window["isFinalInvokeForWindow"], true);
    assert_eq!(calls[0].window["state"], serde_json::json!({"n": "9"}));
}

#[tokio::test(start_paused = true)]
async fn a_failing_final_invocation_is_retried_then_given_up() {
    let fake = Fake::new(|_, _| function_error());
    let mut r = runner(&fake, policy());
    let mut batch = PendingBatch::windowed(Vec::new(), window_call(serde_json::json!({}), true));
    let mut retries = 0;
    while !batch.is_done() {
        let d = r.step(&mut batch).await;
        retries += d.iter().filter(|d| matches!(d, Decision::Retry { .. })).count();
        assert!(d.iter().all(|d| matches!(d, Decision::Retry { .. })), "{d:?}");
    }
    assert_eq!(retries, 2, "MaximumRetryAttempts 2");
    assert_eq!(fake.calls().len(), 3);
    assert!(batch.window().is_some_and(|w| !w.closed));
}
