//! The supervisor: checks the stream, prepares the lease table, lists shards and creates their
//! leases once their parents are read to their end, runs this worker's side of the lease
//! protocol ([`leases::Coordinator`]: renew, take, steal), starts one reader per lease gained and
//! drops it when the lease is lost, and stops everyone on a signal, on `--until-idle` or on
//! `--max-records`, releasing its leases last.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::checkpoint::{Lease, LeaseTable, SHARD_END};
use super::config::{EsmConfig, StartingPosition};
use super::destination::Destination;
use super::invoker::InvokerFactory;
use super::leases::{self, Coordinator};
use super::policy::Clock;
use super::reader::{ReaderEnd, ShardReader};
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
pub struct Ctx {
    /// The settings.
    pub config: EsmConfig,
    /// Kinesis.
    pub kinesis: aws_sdk_kinesis::Client,
    /// The lease table.
    pub leases: LeaseTable,
    /// Makes each shard's invoker.
    pub invokers: Arc<dyn InvokerFactory>,
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

impl Ctx {
    /// Builds the shared context of a run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: EsmConfig,
        kinesis: aws_sdk_kinesis::Client,
        leases: LeaseTable,
        invokers: Arc<dyn InvokerFactory>,
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
            invokers,
            destination,
            reporter,
            clock,
            stream_arn,
            shared,
        }
    }
}

/// What the supervisor knows about the stream's shards (from ListShards) beyond the leases.
#[derive(Debug, Default)]
struct Shards {
    /// Every shard listed so far.
    known: HashMap<String, ShardInfo>,
    /// Closed at the first listing with `LATEST` and no lease: nothing new will come from them.
    skipped: HashSet<String>,
    /// Appeared after the first listing (born of a reshard while consuming).
    late: HashSet<String>,
    /// Nothing listed yet.
    first_listing: bool,
}

impl Shards {
    fn finished(&self, id: &str, table: &HashMap<String, Lease>) -> bool {
        self.skipped.contains(id) || table.get(id).is_some_and(|l| l.checkpoint == SHARD_END)
    }

    /// Shards that should have a lease and have none: not finished, and every parent finished
    /// (a parent no longer listed has expired from the stream).
    fn missing_leases(&self, table: &HashMap<String, Lease>) -> Vec<String> {
        let mut out: Vec<String> = self
            .known
            .iter()
            .filter(|(id, _)| !table.contains_key(*id) && !self.finished(id, table))
            .filter(|(_, info)| {
                info.parents
                    .iter()
                    .all(|p| self.finished(p, table) || !self.known.contains_key(p))
            })
            .map(|(id, _)| id.clone())
            .collect();
        out.sort();
        out
    }

    /// Where a new lease starts: children of shards this application has read (or that
    /// appeared while consuming) at their first record; others at the starting position.
    fn start_of(
        &self,
        id: &str,
        info: &ShardInfo,
        table: &HashMap<String, Lease>,
        sp: StartingPosition,
    ) -> StartingPosition {
        let child_of_known = info
            .parents
            .iter()
            .any(|p| self.known.contains_key(p) || table.contains_key(p));
        let late = self.late.contains(id);
        if late || (child_of_known && sp != StartingPosition::Latest) {
            match sp {
                StartingPosition::AtTimestamp(ts) if !late => StartingPosition::AtTimestamp(ts),
                _ => StartingPosition::TrimHorizon,
            }
        } else {
            sp
        }
    }
}

/// Lists the shards and creates the missing leases, unowned (any worker may take them).
/// Returns how many were created.
async fn sync_shards(ctx: &Ctx, shards: &mut Shards, table: &HashMap<String, Lease>) -> usize {
    match list_shards(&ctx.kinesis, &ctx.config.stream_name).await {
        Ok(list) => {
            for (id, info) in list {
                if let std::collections::hash_map::Entry::Vacant(slot) = shards.known.entry(id.clone()) {
                    if shards.first_listing {
                        // LATEST: what is already closed holds nothing new.
                        if ctx.config.starting_position == StartingPosition::Latest
                            && info.closed
                            && !table.contains_key(&id)
                        {
                            shards.skipped.insert(id.clone());
                        }
                    } else {
                        shards.late.insert(id);
                    }
                    slot.insert(info);
                }
            }
            shards.first_listing = false;
        }
        Err(e) => {
            ctx.reporter.note(&format!("ListShards failed, retrying: {e}"));
            return 0;
        }
    }
    let mut created = 0;
    for id in shards.missing_leases(table) {
        let Some(info) = shards.known.get(&id) else {
            continue;
        };
        let start = shards.start_of(&id, info, table, ctx.config.starting_position);
        let range = info.hash_range.as_ref().map(|(s, e)| (s.as_str(), e.as_str()));
        match ctx
            .leases
            .create(&id, start.sentinel(), &info.parents, range)
            .await
        {
            Ok(_) => created += 1,
            Err(e) => ctx
                .reporter
                .note(&format!("{id}: creating the lease failed, retrying: {e}")),
        }
    }
    created
}

/// Consumes until `shutdown` resolves, the stream is idle for `--until-idle`, or
/// `--max-records` were delivered. Shards are shared with every other consumer of the same
/// lease table (`--app`): readers start as this worker gains leases and stop as it loses them;
/// on the way out its leases are released after the final checkpoints.
pub async fn run(ctx: Ctx, shutdown: impl Future<Output = ()>) -> Result<Summary, EsmError> {
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
    let failover = ctx.config.failover_time;
    let mut coord = Coordinator::new(ctx.leases.clone(), failover);
    coord.refresh().await?;
    let mut shards = Shards {
        first_listing: true,
        ..Shards::default()
    };
    let mut running: HashSet<String> = HashSet::new();
    let mut readers: JoinSet<(String, Result<ReaderEnd, EsmError>)> = JoinSet::new();
    let mut relist_at = Instant::now();
    let mut take_at = Instant::now();
    let mut renew_at = Instant::now() + leases::renew_interval(failover);
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
        if Instant::now() >= renew_at {
            renew_at = Instant::now() + leases::renew_interval(failover);
            let r = coord.renew().await;
            for n in &r.notes {
                ctx.reporter.note(n);
            }
            for key in &r.lost {
                ctx.reporter.note(&format!(
                    "{key}: lease lost to another consumer; stopping this shard without checkpointing"
                ));
            }
        }
        if Instant::now() >= relist_at {
            relist_at = Instant::now() + RELIST_INTERVAL;
            if sync_shards(&ctx, &mut shards, coord.snapshot()).await > 0 {
                take_at = Instant::now();
            }
        }
        if Instant::now() >= take_at {
            take_at = Instant::now() + leases::take_interval(failover);
            match coord.refresh().await {
                Ok(()) => {
                    let (gained, notes) = coord.take().await;
                    for n in &notes {
                        ctx.reporter.note(n);
                    }
                    for held in gained {
                        let id = held.key().to_string();
                        running.insert(id.clone());
                        ctx.shared.set_idle(&id, false);
                        let c = Arc::clone(&ctx);
                        readers.spawn(async move {
                            let res = match ShardReader::open(c, held).await {
                                Ok(r) => r.run().await,
                                Err(e) => Err(e),
                            };
                            (id, res)
                        });
                    }
                }
                Err(e) => ctx
                    .reporter
                    .note(&format!("reading the lease table failed, retrying: {e}")),
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
                        coord.forget(&id);
                        let kids = if children.is_empty() { String::new() } else { format!("; children {}", children.join(", ")) };
                        ctx.reporter.note(&format!("{id}: read to its end (SHARD_END){kids}"));
                        // Create and take the children now rather than at the next listing.
                        relist_at = Instant::now();
                    }
                    Ok((id, Ok(ReaderEnd::Stopped))) => {
                        running.remove(&id);
                    }
                    Ok((id, Ok(ReaderEnd::Lost))) => {
                        running.remove(&id);
                        coord.forget(&id);
                        ctx.shared.set_idle(&id, true);
                        ctx.reporter.note(&format!("{id}: stopped; another consumer holds the lease now"));
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
                    let pending = !shards.missing_leases(coord.snapshot()).is_empty();
                    if quiet
                        && !shards.first_listing
                        && !pending
                        && coord.settled()
                        && ctx.shared.all_idle(&running)
                    {
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
    // Readers finish their in-flight batch and checkpoint; their leases stay renewed meanwhile,
    // so that nobody takes them half-way.
    loop {
        tokio::select! {
            joined = readers.join_next() => {
                match joined {
                    None => break,
                    Some(Ok((id, Err(e)))) => {
                        ctx.reporter.note(&format!("{id}: {e}"));
                        failure.get_or_insert(e);
                    }
                    Some(Ok((id, Ok(ReaderEnd::ShardEnded { .. } | ReaderEnd::Lost)))) => coord.forget(&id),
                    Some(_) => {}
                }
            }
            () = tokio::time::sleep_until(renew_at) => {
                renew_at = Instant::now() + leases::renew_interval(failover);
                for n in coord.renew().await.notes {
                    ctx.reporter.note(&n);
                }
            }
        }
    }
    for n in coord.release_all().await {
        ctx.reporter.note(&n);
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
