//! Sharing a stream's shards between consumers through the lease table, the KCL way (spec §4):
//! each worker renews the leases it holds, takes unowned and expired ones, and steals from the
//! most loaded worker until shards are balanced across live workers (± 1). Expiry is
//! observational: a lease whose `leaseCounter` this worker has not seen change for
//! `--failover-time` is expired. The decision ([`balance`]) is a pure function of what this
//! worker sees; the [`Coordinator`] carries it out with [`LeaseTable`] and tells the supervisor
//! which leases it gained and lost.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Mutex, MutexGuard};
use tokio::time::Instant;

use super::lease_table::{Lease, LeaseTable, LeaseTableError};

/// The renewer runs this much earlier than a third of the failover time (KCL's epsilon).
const EPSILON: Duration = Duration::from_millis(25);

/// The taker scans the table at least this often, so that released leases, new shards and new
/// workers are noticed quickly even with a long failover time.
const MAX_TAKE_INTERVAL: Duration = Duration::from_secs(1);

/// How often held leases are renewed: a third of the failover time, minus KCL's epsilon.
pub(crate) fn renew_interval(failover: Duration) -> Duration {
    (failover / 3)
        .saturating_sub(EPSILON)
        .max(Duration::from_millis(10))
}

/// How often the table is scanned to take and steal leases.
pub(crate) fn take_interval(failover: Duration) -> Duration {
    renew_interval(failover).min(MAX_TAKE_INTERVAL)
}

/// A lease this worker holds, shared by its shard reader (which checkpoints through it) and the
/// renewer: both bump `leaseCounter`, so both write under one lock and see each other's counter.
#[derive(Debug)]
pub struct HeldLease {
    key: String,
    lease: Mutex<Lease>,
    lost: watch::Sender<bool>,
}

impl HeldLease {
    /// Wraps a lease this worker just took.
    pub fn new(lease: Lease) -> Arc<Self> {
        Arc::new(Self {
            key: lease.lease_key.clone(),
            lease: Mutex::new(lease),
            lost: watch::channel(false).0,
        })
    }

    /// The lease key (shard id).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The lease, locked for a conditional write.
    pub async fn lock(&self) -> MutexGuard<'_, Lease> {
        self.lease.lock().await
    }

    /// Whether another worker took it (or it could not be renewed for the failover time).
    pub(crate) fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Tells the reader to stop at once, without checkpointing.
    pub(crate) fn mark_lost(&self) {
        self.lost.send_replace(true);
    }

    /// Resolves-on-change receiver of the lost flag, for the reader's waits.
    pub(crate) fn lost_signal(&self) -> watch::Receiver<bool> {
        self.lost.subscribe()
    }
}

/// One lease that can be worked on (not `SHARD_END`, every parent `SHARD_END`), as this worker
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseView {
    /// `leaseKey`.
    pub key: String,
    /// `leaseOwner`; `None` when unassigned.
    pub owner: Option<String>,
    /// Its counter has not changed for the failover time, as seen here (never for held leases).
    pub expired: bool,
}

/// A lease [`balance`] wants this worker to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// Unowned, or its owner stopped renewing it.
    Available(String),
    /// Held by a live worker that has more than its share.
    Steal {
        /// The lease.
        key: String,
        /// Its current owner.
        from: String,
    },
}

impl Take {
    /// The lease key.
    pub fn key(&self) -> &str {
        match self {
            Self::Available(k) | Self::Steal { key: k, .. } => k,
        }
    }
}

/// A stable, per-worker order of lease keys (FNV-1a of worker and key), so that workers starting
/// together reach for different leases first and tests see the same choice every run.
fn spread(me: &str, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in me.bytes().chain([0]).chain(key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The KCL taker's decision, given the workable leases as `me` sees them.
///
/// Live workers are the owners of unexpired leases, plus `me`. Each should hold
/// `ceil(leases / workers)`. Below that, `me` takes what is unowned or expired, as much as it
/// needs; when nothing is, it steals one lease from the most loaded worker, and only if that
/// worker holds more than the target (or at least the target when `me` needs more than one), so
/// that counts end within one of each other and never flap.
pub fn balance(me: &str, leases: &[LeaseView]) -> Vec<Take> {
    if leases.is_empty() {
        return Vec::new();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    counts.insert(me, 0);
    let mut available: Vec<&str> = Vec::new();
    for l in leases {
        match (&l.owner, l.expired) {
            (Some(owner), false) => *counts.entry(owner.as_str()).or_default() += 1,
            _ => available.push(&l.key),
        }
    }
    let target = leases.len().div_ceil(counts.len());
    let mine = counts.get(me).copied().unwrap_or(0);
    if mine >= target {
        return Vec::new();
    }
    let need = target - mine;
    if !available.is_empty() {
        available.sort_by_key(|k| (spread(me, k), *k));
        return available
            .into_iter()
            .take(need)
            .map(|k| Take::Available(k.to_string()))
            .collect();
    }
    let victim = counts
        .iter()
        .filter(|(w, _)| **w != me)
        // The most loaded; among equals, the smallest id, so every thief picks the same one.
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)));
    let Some((&victim, &load)) = victim else {
        return Vec::new();
    };
    let threshold = target + usize::from(need == 1);
    if load < threshold {
        return Vec::new();
    }
    leases
        .iter()
        .filter(|l| !l.expired && l.owner.as_deref() == Some(victim))
        .min_by_key(|l| (spread(me, &l.key), l.key.as_str()))
        .map(|l| Take::Steal {
            key: l.key.clone(),
            from: victim.to_string(),
        })
        .into_iter()
        .collect()
}

/// When this worker last saw each lease change: the basis of observational expiry.
#[derive(Debug, Default)]
pub(crate) struct Observations {
    seen: HashMap<String, Seen>,
}

#[derive(Debug, Clone)]
struct Seen {
    counter: u64,
    owner: Option<String>,
    first_seen: Instant,
    changed_at: Instant,
}

impl Observations {
    /// Records what the table says about a lease at `now`.
    pub fn observe(&mut self, lease: &Lease, now: Instant) {
        match self.seen.get_mut(&lease.lease_key) {
            Some(s) if s.counter == lease.counter && s.owner == lease.owner => {}
            Some(s) => {
                s.counter = lease.counter;
                s.owner.clone_from(&lease.owner);
                s.changed_at = now;
            }
            None => {
                self.seen.insert(
                    lease.lease_key.clone(),
                    Seen {
                        counter: lease.counter,
                        owner: lease.owner.clone(),
                        first_seen: now,
                        changed_at: now,
                    },
                );
            }
        }
    }

    /// Forgets leases no longer in the table.
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.seen.retain(|k, _| keep(k));
    }

    /// Unchanged for at least `failover` (a lease never seen counts as just seen).
    pub fn expired(&self, key: &str, now: Instant, failover: Duration) -> bool {
        self.seen
            .get(key)
            .is_some_and(|s| now.saturating_duration_since(s.changed_at) >= failover)
    }

    /// Seen renewed since this worker first looked, and not expired: its owner is alive.
    pub(crate) fn confirmed_alive(&self, key: &str, now: Instant, failover: Duration) -> bool {
        self.seen.get(key).is_some_and(|s| {
            s.changed_at > s.first_seen && now.saturating_duration_since(s.changed_at) < failover
        })
    }
}

/// Whether a lease can be worked on: not finished, and every parent with a lease finished (a
/// parent without one was skipped or has expired from the stream).
pub(crate) fn workable(lease: &Lease, table: &HashMap<String, Lease>) -> bool {
    !lease.checkpoint.is_shard_end()
        && lease
            .parent_shard_ids
            .iter()
            .all(|p| table.get(p).is_none_or(|pl| pl.checkpoint.is_shard_end()))
}

/// What changed in one renewal round.
#[derive(Debug, Default)]
pub struct Renewal {
    /// Leases another worker took (conditional write failed): their readers must stop.
    pub lost: Vec<String>,
    /// Transient failures worth a line.
    pub notes: Vec<String>,
}

/// The lease side of one worker: what it holds, what it saw, and the protocol's writes.
#[derive(Debug)]
pub struct Coordinator {
    table: LeaseTable,
    failover: Duration,
    held: BTreeMap<String, Arc<HeldLease>>,
    renewed_at: HashMap<String, Instant>,
    seen: Observations,
    snapshot: HashMap<String, Lease>,
    settled: bool,
}

impl Coordinator {
    /// A worker on `table` whose leases expire after `failover` without renewal.
    pub fn new(table: LeaseTable, failover: Duration) -> Self {
        Self {
            table,
            failover,
            held: BTreeMap::new(),
            renewed_at: HashMap::new(),
            seen: Observations::default(),
            snapshot: HashMap::new(),
            settled: false,
        }
    }

    /// The table as last read.
    pub fn snapshot(&self) -> &HashMap<String, Lease> {
        &self.snapshot
    }

    /// Reads the whole table and records what changed.
    pub(crate) async fn refresh(&mut self) -> Result<(), LeaseTableError> {
        let now = Instant::now();
        let table = self.table.list().await?;
        for lease in table.values() {
            self.seen.observe(lease, now);
        }
        self.seen.retain(|k| table.contains_key(k));
        self.snapshot = table;
        Ok(())
    }

    /// Renews every held lease. A lease another worker took, or one that could not be renewed
    /// for the failover time (others may have taken it meanwhile), is marked lost and dropped.
    pub async fn renew(&mut self) -> Renewal {
        let mut out = Renewal::default();
        let held: Vec<Arc<HeldLease>> = self.held.values().cloned().collect();
        for h in held {
            let res = {
                let mut lease = h.lock().await;
                self.table.renew(&mut lease).await
            };
            let now = Instant::now();
            match res {
                Ok(()) => {
                    self.renewed_at.insert(h.key().to_string(), now);
                }
                Err(LeaseTableError::LeaseLost(_)) => {
                    out.lost.push(h.key().to_string());
                    self.lose(h.key());
                }
                Err(e) => {
                    let since = self
                        .renewed_at
                        .get(h.key())
                        .map_or(Duration::MAX, |t| now.saturating_duration_since(*t));
                    if since >= self.failover {
                        out.notes.push(format!(
                            "{}: not renewed for {}; giving it up: {e}",
                            h.key(),
                            humantime::format_duration(self.failover)
                        ));
                        out.lost.push(h.key().to_string());
                        self.lose(h.key());
                    } else {
                        out.notes
                            .push(format!("{}: renewing the lease failed, retrying: {e}", h.key()));
                    }
                }
            }
        }
        out
    }

    fn lose(&mut self, key: &str) {
        if let Some(h) = self.held.remove(key) {
            h.mark_lost();
        }
        self.renewed_at.remove(key);
    }

    /// Forgets a lease whose reader ended (shard end, lost, failed); it is no longer renewed.
    pub fn forget(&mut self, key: &str) {
        self.held.remove(key);
        self.renewed_at.remove(key);
    }

    /// The workable leases as this worker sees them, for [`balance`].
    fn views(&self, now: Instant) -> Vec<LeaseView> {
        let me = self.table.owner();
        let mut out: Vec<LeaseView> = self
            .snapshot
            .values()
            .filter(|l| workable(l, &self.snapshot))
            .map(|l| {
                if self.held.contains_key(&l.lease_key) {
                    LeaseView {
                        key: l.lease_key.clone(),
                        owner: Some(me.to_string()),
                        expired: false,
                    }
                } else {
                    LeaseView {
                        key: l.lease_key.clone(),
                        owner: l.owner.clone(),
                        expired: l.owner.is_none() || self.seen.expired(&l.lease_key, now, self.failover),
                    }
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Takes (and steals) what [`balance`] says, from the last [`Coordinator::refresh`];
    /// returns the leases gained, for their readers, and notes worth a line.
    pub async fn take(&mut self) -> (Vec<Arc<HeldLease>>, Vec<String>) {
        let now = Instant::now();
        let views = self.views(now);
        let me = self.table.owner().to_string();
        let mut gained = Vec::new();
        let mut notes = Vec::new();
        for t in balance(&me, &views) {
            let Some(mut lease) = self.snapshot.get(t.key()).cloned() else {
                continue;
            };
            match self.table.take(&mut lease).await {
                Ok(()) => {
                    if let Take::Steal { from, .. } = &t {
                        notes.push(format!(
                            "{}: took the lease from {from} to balance the load",
                            t.key()
                        ));
                    } else if let Some(prev) = self.snapshot.get(t.key()).and_then(|l| l.owner.clone()) {
                        if prev != me {
                            notes.push(format!("{}: took the expired lease of {prev}", t.key()));
                        }
                    }
                    self.seen.observe(&lease, now);
                    self.snapshot.insert(lease.lease_key.clone(), lease.clone());
                    let h = HeldLease::new(lease);
                    self.held.insert(h.key().to_string(), Arc::clone(&h));
                    self.renewed_at.insert(h.key().to_string(), now);
                    gained.push(h);
                }
                // Another worker was quicker: the next scan shows who.
                Err(LeaseTableError::LeaseLost(_)) => {}
                Err(e) => notes.push(format!("{}: taking the lease failed, retrying: {e}", t.key())),
            }
        }
        let views = self.views(now);
        self.settled = views.iter().all(|v| {
            v.owner.as_deref() == Some(me.as_str())
                || (!v.expired && self.seen.confirmed_alive(&v.key, now, self.failover))
        });
        (gained, notes)
    }

    /// After the last [`Coordinator::take`]: nothing is left to take, and every other owner of
    /// a workable lease was seen renewing it (so it is alive, not just not yet expired). A
    /// worker with `--until-idle` exits only then.
    pub(crate) fn settled(&self) -> bool {
        self.settled
    }

    /// Graceful stop: gives every held lease back (after the readers' final checkpoints), so
    /// that others take over without waiting for expiry. Returns notes on failures.
    pub(crate) async fn release_all(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        let held = std::mem::take(&mut self.held);
        for (key, h) in held {
            if h.is_lost() {
                continue;
            }
            let mut lease = h.lock().await;
            if lease.checkpoint.is_shard_end() {
                continue;
            }
            match self.table.release(&mut lease).await {
                Ok(()) | Err(LeaseTableError::LeaseLost(_)) => {}
                Err(e) => notes.push(format!("{key}: releasing the lease failed: {e}")),
            }
        }
        self.renewed_at.clear();
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(key: &str, owner: Option<&str>, expired: bool) -> LeaseView {
        LeaseView {
            key: key.into(),
            owner: owner.map(str::to_string),
            expired,
        }
    }

    fn table(owners: &[(&str, usize)], unowned: usize) -> Vec<LeaseView> {
        let mut out = Vec::new();
        for (w, n) in owners {
            for _ in 0..*n {
                out.push(view(&format!("shard-{}", out.len()), Some(w), false));
            }
        }
        for _ in 0..unowned {
            out.push(view(&format!("shard-{}", out.len()), None, true));
        }
        out
    }

    /// Applies `me`'s takes to the table, as if every conditional write succeeded.
    fn apply(me: &str, leases: &mut [LeaseView]) -> usize {
        let takes = balance(me, leases);
        for t in &takes {
            if let Some(l) = leases.iter_mut().find(|l| l.key == t.key()) {
                l.owner = Some(me.into());
                l.expired = false;
            }
        }
        takes.len()
    }

    fn counts(leases: &[LeaseView]) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for l in leases {
            if let Some(o) = &l.owner {
                *m.entry(o.clone()).or_default() += 1;
            }
        }
        m
    }

    #[test]
    fn a_lone_worker_takes_every_unowned_lease() {
        let t = table(&[], 6);
        let takes = balance("a", &t);
        assert_eq!(takes.len(), 6);
        assert!(takes.iter().all(|t| matches!(t, Take::Available(_))));
    }

    #[test]
    fn nothing_to_take_in_an_empty_table() {
        assert!(balance("a", &[]).is_empty());
    }

    #[test]
    fn a_new_worker_steals_one_at_a_time_until_even() {
        let mut t = table(&[("a", 6)], 0);
        let mut rounds = 0;
        while apply("b", &mut t) > 0 {
            rounds += 1;
            assert!(rounds < 10, "does not converge");
        }
        assert_eq!(rounds, 3, "one steal per round");
        assert_eq!(counts(&t), BTreeMap::from([("a".into(), 3), ("b".into(), 3)]));
    }

    #[test]
    fn a_steal_names_the_most_loaded_worker() {
        let t = table(&[("a", 2), ("b", 4)], 0);
        assert!(matches!(
            balance("c", &t).as_slice(),
            [Take::Steal { from, .. }] if from == "b"
        ));
    }

    #[test]
    fn three_workers_on_six_shards_end_two_each() {
        let mut t = table(&[("a", 3), ("b", 3)], 0);
        while apply("c", &mut t) > 0 {}
        // Nobody else wants anything now.
        assert_eq!(apply("a", &mut t) + apply("b", &mut t), 0);
        assert_eq!(
            counts(&t),
            BTreeMap::from([("a".into(), 2), ("b".into(), 2), ("c".into(), 2)])
        );
    }

    #[test]
    fn balanced_within_one_is_left_alone() {
        // 7 leases on 2 workers: 4 and 3 is as even as it gets.
        let t = table(&[("a", 4), ("b", 3)], 0);
        assert!(balance("b", &t).is_empty());
        assert!(balance("a", &t).is_empty());
        // 6 on 4 workers: 2, 2, 1, 1.
        let t = table(&[("a", 2), ("b", 2), ("c", 1), ("d", 1)], 0);
        assert!(balance("c", &t).is_empty());
    }

    #[test]
    fn any_start_converges_within_one_for_every_worker() {
        for n in 1..=9usize {
            for workers in 1..=4usize {
                let names: Vec<String> = (0..workers).map(|i| format!("w{i}")).collect();
                let mut t = table(&[], n);
                for _ in 0..50 {
                    let moved: usize = names.iter().map(|w| apply(w, &mut t)).sum();
                    if moved == 0 {
                        break;
                    }
                }
                let c = counts(&t);
                assert_eq!(
                    c.values().sum::<usize>(),
                    n,
                    "{n} leases, {workers} workers: all taken"
                );
                let max = c.values().max().copied().unwrap_or(0);
                let min = names
                    .iter()
                    .map(|w| c.get(w).copied().unwrap_or(0))
                    .min()
                    .unwrap_or(0);
                assert!(max - min <= 1, "{n} leases, {workers} workers: {c:?}");
            }
        }
    }

    #[test]
    fn expired_leases_are_taken_before_anything_is_stolen() {
        let mut t = table(&[("a", 2), ("b", 2)], 0);
        t.push(view("x1", Some("dead"), true));
        t.push(view("x2", Some("dead"), true));
        // Live workers: a, b, c: target 2; c takes both expired ones and steals nothing.
        let mut takes = balance("c", &t);
        takes.sort_by(|a, b| a.key().cmp(b.key()));
        assert_eq!(
            takes,
            vec![Take::Available("x1".into()), Take::Available("x2".into())]
        );
        assert_eq!(apply("c", &mut t), 2);
        assert_eq!(apply("c", &mut t), 0, "balanced once they are taken");
    }

    #[test]
    fn a_dead_workers_leases_go_to_the_survivors() {
        // b died holding 2 of 6: after expiry a and c take one each.
        let mut t = table(&[("a", 2), ("c", 2)], 0);
        t.push(view("b1", Some("b"), true));
        t.push(view("b2", Some("b"), true));
        let a = balance("a", &t);
        assert_eq!(a.len(), 1, "target 3 for two live workers: {a:?}");
        apply("a", &mut t);
        let c = balance("c", &t);
        assert_eq!(c.len(), 1);
        apply("c", &mut t);
        assert_eq!(counts(&t), BTreeMap::from([("a".into(), 3), ("c".into(), 3)]));
    }

    #[test]
    fn workers_starting_together_reach_for_different_leases_first() {
        let t = table(&[], 6);
        let first = |me: &str| balance(me, &t).first().map(|x| x.key().to_string());
        let firsts: std::collections::HashSet<_> = ["worker-1", "worker-2", "worker-3", "worker-4"]
            .iter()
            .map(|w| first(w))
            .collect();
        assert!(firsts.len() > 1, "{firsts:?}");
    }

    fn lease(key: &str, owner: Option<&str>, counter: u64, checkpoint: &str, parents: &[&str]) -> Lease {
        Lease {
            lease_key: key.into(),
            owner: owner.map(str::to_string),
            counter,
            checkpoint: checkpoint.parse().expect("a valid checkpoint"),
            owner_switches: 0,
            parent_shard_ids: parents.iter().map(|p| p.to_string()).collect(),
            child_shard_ids: Vec::new(),
            stream_name: None,
        }
    }

    #[test]
    fn expiry_is_observational() {
        let t0 = Instant::now();
        let fo = Duration::from_secs(10);
        let mut seen = Observations::default();
        seen.observe(&lease("s", Some("b"), 5, "TRIM_HORIZON", &[]), t0);
        // First sight counts as a change: not expired until a failover time passes.
        assert!(!seen.expired("s", t0 + Duration::from_secs(9), fo));
        assert!(!seen.confirmed_alive("s", t0 + Duration::from_secs(1), fo));
        seen.observe(
            &lease("s", Some("b"), 6, "TRIM_HORIZON", &[]),
            t0 + Duration::from_secs(9),
        );
        assert!(!seen.expired("s", t0 + Duration::from_secs(18), fo));
        assert!(seen.confirmed_alive("s", t0 + Duration::from_secs(18), fo));
        // Same counter again: the clock keeps running from the last change.
        seen.observe(
            &lease("s", Some("b"), 6, "TRIM_HORIZON", &[]),
            t0 + Duration::from_secs(15),
        );
        assert!(seen.expired("s", t0 + Duration::from_secs(19), fo));
        assert!(!seen.confirmed_alive("s", t0 + Duration::from_secs(19), fo));
        // A lease never seen is not expired (it is simply unknown).
        assert!(!seen.expired("other", t0 + Duration::from_secs(100), fo));
    }

    #[test]
    fn a_child_is_workable_only_once_every_parent_ended() {
        let mut t = HashMap::new();
        t.insert("p1".to_string(), lease("p1", None, 3, "SHARD_END", &[]));
        t.insert("p2".to_string(), lease("p2", Some("a"), 3, "123", &[]));
        let merged = lease("c", None, 0, "TRIM_HORIZON", &["p1", "p2"]);
        assert!(!workable(&merged, &t));
        t.insert("p2".to_string(), lease("p2", Some("a"), 4, "SHARD_END", &[]));
        assert!(workable(&merged, &t));
        // A parent without a lease (skipped, or expired from the stream) does not block.
        let orphan = lease("d", None, 0, "TRIM_HORIZON", &["gone"]);
        assert!(workable(&orphan, &t));
        assert!(!workable(&t["p1"], &t), "finished leases are not workable");
    }

    #[test]
    fn renewal_runs_at_a_third_of_the_failover_time() {
        assert_eq!(renew_interval(Duration::from_secs(10)).as_millis(), 3308);
        assert_eq!(take_interval(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(take_interval(Duration::from_secs(1)).as_millis(), 308);
        assert_eq!(
            renew_interval(Duration::from_millis(30)),
            Duration::from_millis(10)
        );
    }
}
