//! The supervisor: checks the stream, prepares the lease table, lists shards, starts one
//! reader per shard once its parents are read to their end, picks up new shards, and stops
//! everyone on a signal, on `--until-idle` or on `--max-records`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::checkpoint::{LeaseTable, SHARD_END};
use super::config::{EsmConfig, StartingPosition};
use super::destination::Destination;
use super::invoker::Invoker;
use super::policy::Clock;
use super::reader::{ReaderEnd, ShardAssignment, ShardReader};
use super::{EsmError, Reporter, ShardProgress};

/// How often the shard list is refreshed to pick up new shards.
const RELIST_INTERVAL: Duration = Duration::from_secs(1);

/// Per-shard state the readers publish.
#[derive(Debug, Clone, Default)]
struct ShardState {
    lag_ms: i64,
    delivered: u64,
    idle: bool,
}

/// State shared by the supervisor and its readers.
pub struct Shared {
    /// Set to `true` to stop: readers finish their in-flight batch and return.
    pub stop: tokio::sync::watch::Sender<bool>,
    shards: Mutex<BTreeMap<String, ShardState>>,
    delivered: AtomicU64,
    /// Records sent to the on-failure destination.
    pub discarded: AtomicU64,
    /// `--max-records` still to hand out; `None` without a limit.
    remaining: Option<AtomicU64>,
    last_activity: Mutex<Instant>,
}

impl Shared {
    fn new(max_records: Option<u64>) -> Self {
        Self {
            stop: tokio::sync::watch::channel(false).0,
            shards: Mutex::new(BTreeMap::new()),
            delivered: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            remaining: max_records.map(AtomicU64::new),
            last_activity: Mutex::new(Instant::now()),
        }
    }

    fn with_shard(&self, shard: &str, f: impl FnOnce(&mut ShardState)) {
        if let Ok(mut m) = self.shards.lock() {
            f(m.entry(shard.to_string()).or_default());
        }
    }

    /// Records `MillisBehindLatest`.
    pub fn set_lag(&self, shard: &str, lag_ms: i64) {
        self.with_shard(shard, |s| s.lag_ms = lag_ms);
    }

    /// Whether the shard is drained (nothing buffered, nothing in flight, nothing new read).
    pub fn set_idle(&self, shard: &str, idle: bool) {
        self.with_shard(shard, |s| s.idle = idle);
    }

    /// New records arrived: resets the `--until-idle` clock.
    pub fn touch(&self) {
        if let Ok(mut t) = self.last_activity.lock() {
            *t = Instant::now();
        }
    }

    /// Records delivered successfully.
    pub fn delivered(&self, shard: &str, n: u64) {
        self.delivered.fetch_add(n, Ordering::Relaxed);
        self.with_shard(shard, |s| s.delivered += n);
        self.touch();
    }

    /// Takes up to `want` records from the `--max-records` budget.
    pub fn reserve(&self, want: usize) -> usize {
        let Some(rem) = &self.remaining else {
            return want;
        };
        let want = want as u64;
        let mut cur = rem.load(Ordering::Relaxed);
        loop {
            let take = cur.min(want);
            match rem.compare_exchange(cur, cur - take, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return usize::try_from(take).unwrap_or(0),
                Err(now) => cur = now,
            }
        }
    }

    /// Gives back what a batch did not use.
    pub fn unreserve(&self, n: usize) {
        if let Some(rem) = &self.remaining {
            rem.fetch_add(n as u64, Ordering::AcqRel);
        }
    }

    /// Whether `--max-records` were all handed out.
    pub fn budget_spent(&self) -> bool {
        self.remaining
            .as_ref()
            .is_some_and(|r| r.load(Ordering::Acquire) == 0)
    }

    fn all_idle(&self, running: &HashSet<String>) -> bool {
        self.shards
            .lock()
            .is_ok_and(|m| running.iter().all(|s| m.get(s).is_some_and(|st| st.idle)))
    }

    fn progress(&self) -> Vec<ShardProgress> {
        self.shards
            .lock()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| ShardProgress {
                        shard_id: k.clone(),
                        lag_ms: v.lag_ms,
                        delivered: v.delivered,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Everything the readers share.
pub struct Ctx<I: Invoker> {
    /// The settings.
    pub config: EsmConfig,
    /// Kinesis.
    pub kinesis: aws_sdk_kinesis::Client,
    /// The lease table.
    pub leases: LeaseTable,
    /// The function.
    pub invoker: I,
    /// The on-failure destination.
    pub destination: Option<Destination>,
    /// Output.
    pub reporter: Arc<dyn Reporter>,
    /// Time, for record age.
    pub clock: Arc<dyn Clock>,
    /// The stream ARN written into events.
    pub stream_arn: String,
    /// Shared run state.
    pub shared: Shared,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Records the function handled successfully.
    pub delivered: u64,
    /// Records sent to the on-failure destination.
    pub discarded: u64,
}

/// The stream as found by [`preflight`].
#[derive(Debug, Clone)]
pub struct StreamInfo {
    /// Its name.
    pub name: String,
    /// Its ARN as the endpoint reports it.
    pub arn: String,
}

fn sdk_err<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_kinesis::error::SdkError<E, R>,
) -> String {
    aws_sdk_kinesis::error::DisplayErrorContext(e).to_string()
}

fn is_unreachable<E, R>(e: &aws_sdk_kinesis::error::SdkError<E, R>) -> bool {
    matches!(
        e,
        aws_sdk_kinesis::error::SdkError::DispatchFailure(_)
            | aws_sdk_kinesis::error::SdkError::TimeoutError(_)
    )
}

/// Finds the stream (the only one, if none is named) and checks a destination stream exists.
/// Errors here are the user's to fix (exit 2).
pub async fn preflight(
    kinesis: &aws_sdk_kinesis::Client,
    stream: Option<&str>,
    destination_stream: Option<&str>,
) -> Result<StreamInfo, EsmError> {
    let name = match stream {
        Some(s) => s.rsplit_once(":stream/").map_or(s, |(_, n)| n).to_string(),
        None => {
            let out = kinesis.list_streams().send().await.map_err(|e| {
                if is_unreachable(&e) {
                    EsmError::Unreachable(sdk_err(&e))
                } else {
                    EsmError::Kinesis(sdk_err(&e))
                }
            })?;
            match out.stream_names() {
                [one] => one.clone(),
                [] => {
                    return Err(EsmError::WhichStream(
                        "no stream exists: create one, or pass --stream NAME".into(),
                    ))
                }
                many => {
                    return Err(EsmError::WhichStream(format!(
                        "several streams exist ({}): pass --stream NAME",
                        many.join(", ")
                    )))
                }
            }
        }
    };
    let describe = |n: String| async move { kinesis.describe_stream_summary().stream_name(n).send().await };
    let summary = match describe(name.clone()).await {
        Ok(s) => s,
        Err(e) if is_unreachable(&e) => return Err(EsmError::Unreachable(sdk_err(&e))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Err(EsmError::StreamNotFound(name))
        }
        Err(e) => return Err(EsmError::Kinesis(sdk_err(&e))),
    };
    let arn = summary
        .stream_description_summary()
        .map(|d| d.stream_arn().to_string())
        .unwrap_or_default();
    if let Some(dest) = destination_stream {
        match describe(dest.to_string()).await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Err(EsmError::DestinationStreamNotFound(dest.into()))
            }
            Err(e) => return Err(EsmError::Kinesis(sdk_err(&e))),
        }
    }
    Ok(StreamInfo { name, arn })
}

/// A shard as listed.
#[derive(Debug, Clone)]
struct ShardInfo {
    parents: Vec<String>,
    hash_range: Option<(String, String)>,
    closed: bool,
}

async fn list_shards(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<Vec<(String, ShardInfo)>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = kinesis.list_shards();
        let req = match &token {
            Some(t) => req.next_token(t),
            None => req.stream_name(stream),
        };
        let page = req.send().await.map_err(|e| sdk_err(&e))?;
        for s in page.shards() {
            let parents: Vec<String> = s
                .parent_shard_id()
                .into_iter()
                .chain(s.adjacent_parent_shard_id())
                .map(str::to_string)
                .collect();
            out.push((
                s.shard_id().to_string(),
                ShardInfo {
                    parents,
                    hash_range: s
                        .hash_key_range()
                        .map(|h| (h.starting_hash_key().to_string(), h.ending_hash_key().to_string())),
                    closed: s
                        .sequence_number_range()
                        .and_then(|r| r.ending_sequence_number())
                        .is_some(),
                },
            ));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

impl<I: Invoker> Ctx<I> {
    /// Builds the shared context of a run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: EsmConfig,
        kinesis: aws_sdk_kinesis::Client,
        leases: LeaseTable,
        invoker: I,
        destination: Option<Destination>,
        reporter: Arc<dyn Reporter>,
        clock: Arc<dyn Clock>,
        stream_arn: String,
    ) -> Self {
        let shared = Shared::new(config.max_records);
        Self {
            config,
            kinesis,
            leases,
            invoker,
            destination,
            reporter,
            clock,
            stream_arn,
            shared,
        }
    }
}

/// Consumes until `shutdown` resolves, the stream is idle for `--until-idle`, or
/// `--max-records` were delivered.
pub async fn run<I: Invoker>(ctx: Ctx<I>, shutdown: impl Future<Output = ()>) -> Result<Summary, EsmError> {
    let ctx = Arc::new(ctx);
    ctx.leases.ensure().await?;
    if ctx.config.reset {
        let n = ctx.leases.delete_all().await?;
        if n > 0 {
            ctx.reporter.note(&format!(
                "--reset: forgot {n} checkpoint(s) in lease table {}",
                ctx.leases.name()
            ));
        }
    }
    let mut leases = ctx.leases.list().await?;
    let mut known: HashMap<String, ShardInfo> = HashMap::new();
    let mut finished: HashSet<String> = leases
        .values()
        .filter(|l| l.checkpoint == SHARD_END)
        .map(|l| l.lease_key.clone())
        .collect();
    let mut late: HashSet<String> = HashSet::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut readers: JoinSet<(String, Result<ReaderEnd, EsmError>)> = JoinSet::new();
    let mut first_listing = true;
    let mut relist_at = Instant::now();
    let mut failure: Option<EsmError> = None;
    let tick = ctx
        .config
        .poll_interval
        .clamp(Duration::from_millis(10), Duration::from_millis(100));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut progress_at = Instant::now();
    let mut stop_rx = ctx.shared.stop.subscribe();
    tokio::pin!(shutdown);

    loop {
        if *stop_rx.borrow() {
            break;
        }
        if Instant::now() >= relist_at {
            relist_at = Instant::now() + RELIST_INTERVAL;
            match list_shards(&ctx.kinesis, &ctx.config.stream_name).await {
                Ok(list) => {
                    for (id, info) in list {
                        if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(id.clone()) {
                            if first_listing {
                                // LATEST: what is already closed holds nothing new.
                                if ctx.config.starting_position == StartingPosition::Latest
                                    && info.closed
                                    && !leases.contains_key(&id)
                                {
                                    finished.insert(id.clone());
                                }
                            } else {
                                late.insert(id);
                            }
                            slot.insert(info);
                        }
                    }
                    first_listing = false;
                }
                Err(e) => ctx.reporter.note(&format!("ListShards failed, retrying: {e}")),
            }
            // Start every shard whose parents are done (a parent no longer listed expired).
            let mut startable: Vec<String> = known
                .iter()
                .filter(|(id, _)| !finished.contains(*id) && !running.contains(*id))
                .filter(|(_, info)| {
                    info.parents
                        .iter()
                        .all(|p| finished.contains(p) || !known.contains_key(p))
                })
                .map(|(id, _)| id.clone())
                .collect();
            startable.sort();
            for id in startable {
                let Some(info) = known.get(&id).cloned() else {
                    continue;
                };
                // Children of shards this consumer has read start at their first record.
                let child_of_known = info
                    .parents
                    .iter()
                    .any(|p| known.contains_key(p) || leases.contains_key(p));
                let start = if late.contains(&id)
                    || (child_of_known && ctx.config.starting_position != StartingPosition::Latest)
                {
                    match ctx.config.starting_position {
                        StartingPosition::AtTimestamp(ts) if !late.contains(&id) => {
                            StartingPosition::AtTimestamp(ts)
                        }
                        _ => StartingPosition::TrimHorizon,
                    }
                } else {
                    ctx.config.starting_position
                };
                let assignment = ShardAssignment {
                    shard_id: id.clone(),
                    parents: info.parents.clone(),
                    hash_range: info.hash_range.clone(),
                    lease: leases.remove(&id),
                    start,
                };
                running.insert(id.clone());
                ctx.shared.set_idle(&id, false);
                let c = Arc::clone(&ctx);
                readers.spawn(async move {
                    let res = match ShardReader::open(c, assignment).await {
                        Ok(r) => r.run().await,
                        Err(e) => Err(e),
                    };
                    (id, res)
                });
            }
        }
        tokio::select! {
            () = &mut shutdown => {
                ctx.reporter.note("stopping: letting in-flight batches finish");
                break;
            }
            _ = stop_rx.changed() => {}
            Some(joined) = readers.join_next(), if !readers.is_empty() => {
                match joined {
                    Ok((id, Ok(ReaderEnd::ShardEnded { children }))) => {
                        running.remove(&id);
                        finished.insert(id.clone());
                        let kids = if children.is_empty() { String::new() } else { format!("; children {}", children.join(", ")) };
                        ctx.reporter.note(&format!("{id}: read to its end (SHARD_END){kids}"));
                        // Start the children now rather than at the next listing.
                        relist_at = Instant::now();
                    }
                    Ok((id, Ok(ReaderEnd::Stopped))) => {
                        running.remove(&id);
                    }
                    Ok((id, Err(e))) => {
                        running.remove(&id);
                        ctx.reporter.note(&format!("{id}: {e}"));
                        failure.get_or_insert(e);
                        break;
                    }
                    Err(join) => {
                        failure.get_or_insert(EsmError::Kinesis(format!("a shard reader crashed: {join}")));
                        break;
                    }
                }
            }
            _ = ticker.tick() => {
                if let Some(idle_for) = ctx.config.until_idle {
                    let quiet = ctx
                        .shared
                        .last_activity
                        .lock()
                        .map(|t| t.elapsed() >= idle_for)
                        .unwrap_or(false);
                    let pending = known
                        .keys()
                        .any(|k| !finished.contains(k) && !running.contains(k));
                    if quiet && !first_listing && !pending && ctx.shared.all_idle(&running) {
                        break;
                    }
                }
                if progress_at.elapsed() >= Duration::from_millis(250) {
                    progress_at = Instant::now();
                    ctx.reporter.progress(&ctx.shared.progress());
                }
            }
        }
    }
    let _ = ctx.shared.stop.send(true);
    while let Some(joined) = readers.join_next().await {
        if let Ok((id, Err(e))) = joined {
            ctx.reporter.note(&format!("{id}: {e}"));
            failure.get_or_insert(e);
        }
    }
    ctx.reporter.finish();
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Summary {
        delivered: ctx.shared.delivered.load(Ordering::Relaxed),
        discarded: ctx.shared.discarded.load(Ordering::Relaxed),
    })
}
