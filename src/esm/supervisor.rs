//! The supervisor: checks the stream, prepares the lease table, lists shards and creates their
//! leases once their parents are read to their end, runs this worker's side of the lease
//! protocol ([`leases::Coordinator`]: renew, take, steal), starts one reader per lease gained and
//! drops it when the lease is lost, and stops everyone on a signal, on `--until-idle` or on
//! `--max-records`, releasing its leases last.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::budget::Budget;
use super::config::StartingPosition;
use super::events::{self, PendingRange, ShardEvent};
use super::lag;
use super::lease_table::Lease;
use super::leases::{self, Coordinator};
use super::mapping::Mapping;
use super::reader::{ReaderEnd, ReaderParts, ShardReader};
use super::shutdown::StopSender;
use super::{EsmError, ShardProgress};

/// How often the live line (progress and lag) is redrawn, about.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// How often the shard list is refreshed to pick up new shards.
const RELIST_INTERVAL: Duration = Duration::from_secs(1);

/// GetRecords pages per shard and count of the true lag (10,000 records each): beyond, the
/// live line says "≥20000 behind".
const LAG_READS: usize = 2;

/// Counts the records behind each held lease's checkpoint every `every`, for the live line.
fn lag_probe(ctx: &Mapping, every: Duration) -> lag::Probe {
    let at_timestamp_ms = match ctx.config.starting_position {
        StartingPosition::AtTimestamp(ms) => Some(ms),
        _ => None,
    };
    lag::Probe::start(
        ctx.kinesis.clone(),
        lag::ProbeSettings {
            stream: ctx.config.stream_name.clone(),
            every,
            max_reads: LAG_READS,
            at_timestamp_ms,
        },
    )
}

/// What the supervisor knows about one shard, from its reader's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ShardState {
    lag_ms: i64,
    delivered: u64,
    idle: bool,
    /// A failing batch (cleared by the next delivery or discard).
    stuck: Option<PendingRange>,
    /// In the wait before retrying it (not invoking).
    waiting_retry: bool,
}

/// The run-wide state: built only from [`ShardEvent`]s, owned only by the supervisor.
#[derive(Debug)]
struct RunState {
    shards: BTreeMap<String, ShardState>,
    delivered: u64,
    discarded: u64,
    /// When records last arrived or were delivered (`--until-idle`).
    last_activity: Instant,
    budget_spent: bool,
}

impl RunState {
    fn new() -> Self {
        Self {
            shards: BTreeMap::new(),
            delivered: 0,
            discarded: 0,
            last_activity: Instant::now(),
            budget_spent: false,
        }
    }

    fn shard(&mut self, id: &str) -> &mut ShardState {
        self.shards.entry(id.to_string()).or_default()
    }

    fn apply(&mut self, event: ShardEvent) {
        match event {
            ShardEvent::Polled {
                shard_id,
                records,
                lag_ms,
            } => {
                self.shard(&shard_id).lag_ms = lag_ms;
                if records > 0 {
                    self.last_activity = Instant::now();
                }
            }
            ShardEvent::Idle { shard_id, idle } => self.shard(&shard_id).idle = idle,
            ShardEvent::Delivered { shard_id, records } => {
                let s = self.shard(&shard_id);
                s.delivered += records;
                s.stuck = None;
                s.waiting_retry = false;
                self.delivered += records;
                self.last_activity = Instant::now();
            }
            ShardEvent::Discarded { shard_id, records } => {
                let s = self.shard(&shard_id);
                s.stuck = None;
                s.waiting_retry = false;
                self.discarded += records;
                self.last_activity = Instant::now();
            }
            ShardEvent::Stuck { shard_id, range } => {
                // An attempt just ended: the `--until-idle` clock starts again from here, so
                // only a consumer that sits waiting to retry for the whole period ends.
                let s = self.shard(&shard_id);
                s.stuck = Some(range);
                s.waiting_retry = true;
                self.last_activity = Instant::now();
            }
            ShardEvent::Retrying { shard_id } => self.shard(&shard_id).waiting_retry = false,
            ShardEvent::BudgetSpent => self.budget_spent = true,
        }
    }

    fn all_idle_or_stuck(&self, running: &HashSet<String>) -> bool {
        running
            .iter()
            .all(|s| self.shards.get(s).is_some_and(|st| st.idle || st.waiting_retry))
    }

    fn progress(&self) -> Vec<ShardProgress> {
        self.shards
            .iter()
            .map(|(k, v)| ShardProgress {
                shard_id: k.clone(),
                lag_ms: v.lag_ms,
                delivered: v.delivered,
                behind: None,
            })
            .collect()
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records the function handled successfully.
    pub delivered: u64,
    /// Records sent to the on-failure destination.
    pub discarded: u64,
    /// Shards that stopped while a batch was failing: the range still pending, per shard.
    pub stuck: Vec<(String, PendingRange)>,
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
    let shards = crate::streams::list_shards(kinesis, stream)
        .await
        .map_err(|e| crate::aws_error::detail(&e))?;
    Ok(shards
        .iter()
        .map(|s| {
            let parents: Vec<String> = s
                .parent_shard_id()
                .into_iter()
                .chain(s.adjacent_parent_shard_id())
                .map(str::to_string)
                .collect();
            let info = ShardInfo {
                parents,
                hash_range: s
                    .hash_key_range()
                    .map(|h| (h.starting_hash_key().to_string(), h.ending_hash_key().to_string())),
                closed: s
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some(),
            };
            (s.shard_id().to_string(), info)
        })
        .collect())
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
        self.skipped.contains(id) || table.get(id).is_some_and(|l| l.checkpoint.is_shard_end())
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
async fn sync_shards(ctx: &Mapping, shards: &mut Shards, table: &HashMap<String, Lease>) -> usize {
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
            .create(&id, &start.checkpoint(), &info.parents, range)
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
pub async fn run(mapping: Mapping, shutdown: impl Future<Output = ()>) -> Result<Summary, EsmError> {
    let ctx = Arc::new(mapping);
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
    let stop = StopSender::new();
    let budget = Arc::new(Budget::new(ctx.config.max_records));
    let (events_tx, mut events_rx) = events::channel();
    let mut state = RunState::new();
    let probe = ctx.config.lag_probe.map(|every| lag_probe(&ctx, every));
    let mut running: HashSet<String> = HashSet::new();
    let mut readers: JoinSet<(String, Result<ReaderEnd, EsmError>)> = JoinSet::new();
    let mut relist_at = Instant::now();
    let mut take_at = Instant::now();
    let mut renew_at = Instant::now() + leases::renew_interval(failover);
    let mut failure: Option<EsmError> = None;
    // Not tied to the poll interval: an idle consumer should not wake often. A twentieth of
    // `--until-idle` (from 50 ms) is how late the run may end; the live line is redrawn about
    // every PROGRESS_EVERY.
    let tick = ctx.config.until_idle.map_or(PROGRESS_EVERY, |d| {
        (d / 20).clamp(Duration::from_millis(50), PROGRESS_EVERY)
    });
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut progress_at = Instant::now();
    tokio::pin!(shutdown);

    loop {
        if state.budget_spent {
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
                        if let Some(p) = &probe {
                            p.track(&held);
                        }
                        let id = held.key().to_string();
                        running.insert(id.clone());
                        state.shard(&id).idle = false;
                        let parts = ReaderParts {
                            mapping: Arc::clone(&ctx),
                            held,
                            events: events_tx.clone(),
                            shutdown: stop.subscribe(),
                            budget: Arc::clone(&budget),
                        };
                        readers.spawn(async move {
                            let res = match ShardReader::open(parts).await {
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
            Some(event) = events_rx.recv() => state.apply(event),
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
                        let s = state.shard(&id);
                        s.idle = true;
                        s.stuck = None;
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
                    let quiet = state.last_activity.elapsed() >= idle_for;
                    let pending = !shards.missing_leases(coord.snapshot()).is_empty();
                    // Drained, or blocked behind a batch that keeps failing: either way nothing
                    // moved for the whole period (a stuck shard ends the run with exit 4).
                    if quiet
                        && !shards.first_listing
                        && !pending
                        && coord.settled()
                        && state.all_idle_or_stuck(&running)
                    {
                        break;
                    }
                }
                if progress_at.elapsed() + tick / 2 >= PROGRESS_EVERY {
                    progress_at = Instant::now();
                    let mut shards = state.progress();
                    if let Some(p) = &probe {
                        p.retain(&running);
                        for s in &mut shards {
                            s.behind = p.lag(&s.shard_id);
                        }
                    }
                    ctx.reporter.progress(&shards);
                }
            }
        }
    }
    stop.stop();
    // Readers finish their in-flight batch and checkpoint; their leases stay renewed meanwhile,
    // so that nobody takes them half-way.
    loop {
        tokio::select! {
            Some(event) = events_rx.recv() => state.apply(event),
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
    drop(events_tx);
    while let Ok(event) = events_rx.try_recv() {
        state.apply(event);
    }
    for n in coord.release_all().await {
        ctx.reporter.note(&n);
    }
    ctx.reporter.finish();
    if let Some(e) = failure {
        return Err(e);
    }
    let stuck = state
        .shards
        .iter()
        .filter_map(|(id, s)| s.stuck.clone().map(|r| (id.clone(), r)))
        .collect();
    Ok(Summary {
        delivered: state.delivered,
        discarded: state.discarded,
        stuck,
    })
}
