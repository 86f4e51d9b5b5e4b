//! Several `kinlocal consume` processes sharing one application (`--app`) through its lease
//! table, the KCL way: shards split evenly, a killed consumer's shards move to the others once
//! its leases expire, a graceful stop hands over at once, a new consumer takes its share, and
//! two workers racing for one expired lease cannot both win.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use kinlocal::esm::checkpoint::Checkpoint;
use kinlocal::esm::lease_table::{LeaseTable, LeaseTableError};

use crate::consume::{delivered, fixture, read_events, wait_for, Put, Rig, Running};

const APP: &str = "scaleout";

/// A consumer of `stream` named `worker`, with its own capture file `<worker>.jsonl`, running
/// until signalled.
fn start(rig: &Rig, stream: &str, worker: &str, failover: &str) -> Running {
    Running::spawn(
        rig.consume_std(stream, &fixture("capture.sh"))
            .args(["--app", APP, "--worker-id", worker, "--failover-time", failover])
            .args(["--until-idle", "1h"])
            .env("CAPTURE_FILE", rig.path(&format!("{worker}.jsonl"))),
        rig.path(&format!("{worker}.stderr")),
    )
}

/// The lease table's items; none while the consumers have not created it yet.
fn items(rig: &Rig) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    items_of(rig, APP)
}

/// Shard → owner, from the lease table.
fn owners(rig: &Rig) -> BTreeMap<String, Option<String>> {
    items(rig)
        .iter()
        .filter_map(|i| {
            let key = i.get("leaseKey")?.as_s().ok()?.clone();
            let owner = i.get("leaseOwner").and_then(|o| o.as_s().ok()).cloned();
            Some((key, owner))
        })
        .collect()
}

/// Owner → how many of the 6 shards it holds, once every shard has a lease.
fn split(rig: &Rig) -> BTreeMap<String, usize> {
    let o = owners(rig);
    let mut m = BTreeMap::new();
    if o.len() == 6 {
        for owner in o.values() {
            *m.entry(owner.clone().unwrap_or_else(|| "(none)".into()))
                .or_default() += 1;
        }
    }
    m
}

fn want(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(w, n)| ((*w).to_string(), *n)).collect()
}

fn put_many(rig: &Rig, stream: &str, tag: &str, n: usize) -> Vec<Put> {
    (0..n)
        .map(|i| rig.put(stream, &format!("{tag}-key-{i}"), format!("{tag}-{i}").as_bytes()))
        .collect()
}

/// (shard, sequence number) of every record `worker` was handed, in delivery order.
fn seen_by(rig: &Rig, worker: &str) -> Vec<(String, String)> {
    delivered(&read_events(&rig.path(&format!("{worker}.jsonl"))))
        .into_iter()
        .filter_map(|(id, _)| {
            let (shard, seq) = id.split_once(':')?;
            Some((shard.to_string(), seq.to_string()))
        })
        .collect()
}

fn seq_key(s: &str) -> (usize, &str) {
    (s.len(), s)
}

/// Each worker saw each shard's records in order, each once (none of these scenarios gives a
/// shard back to a worker that lost it, so a worker never rewinds).
fn assert_in_order(rig: &Rig, workers: &[&str]) {
    for w in workers {
        let mut last: BTreeMap<String, String> = BTreeMap::new();
        for (shard, seq) in seen_by(rig, w) {
            if let Some(prev) = last.get(&shard) {
                assert!(
                    seq_key(&seq) > seq_key(prev),
                    "{w} got {shard} out of order: {seq} after {prev}"
                );
            }
            last.insert(shard, seq);
        }
    }
}

fn all_seen(rig: &Rig, workers: &[&str]) -> HashSet<String> {
    workers
        .iter()
        .flat_map(|w| seen_by(rig, w))
        .map(|(_, seq)| seq)
        .collect()
}

fn wait_delivered(rig: &Rig, workers: &[&str], puts: &[Put]) {
    wait_for("every record delivered", Duration::from_secs(30), || {
        let seen = all_seen(rig, workers);
        puts.iter().all(|p| seen.contains(&p.sequence_number))
    });
}

/// Every record of `puts` was handed to the worker that owns its shard in `owners`.
fn assert_delivered_by_owner(rig: &Rig, owners: &BTreeMap<String, Option<String>>, puts: &[Put]) {
    for p in puts {
        let owner = owners
            .get(&p.shard_id)
            .cloned()
            .flatten()
            .unwrap_or_else(|| panic!("{} has no owner", p.shard_id));
        assert!(
            seen_by(rig, &owner)
                .iter()
                .any(|(_, seq)| *seq == p.sequence_number),
            "{} of {} was not delivered by its owner {owner}",
            p.sequence_number,
            p.shard_id
        );
    }
}

fn shards_hit(puts: &[Put]) -> usize {
    puts.iter().map(|p| &p.shard_id).collect::<HashSet<_>>().len()
}

#[test]
fn consume_scaleout_two_then_three_consumers_split_six_shards_evenly_and_stop_gracefully() {
    let rig = Rig::new();
    rig.stream("six", 6);
    let mut puts = put_many(&rig, "six", "before", 60);
    let mut a = start(&rig, "six", "a", "2s");
    let mut b = start(&rig, "six", "b", "2s");
    wait_for("3 + 3", Duration::from_secs(20), || {
        split(&rig) == want(&[("a", 3), ("b", 3)])
    });
    let two = owners(&rig);
    let batch = put_many(&rig, "six", "two", 60);
    assert_eq!(shards_hit(&batch), 6, "the keys reach every shard");
    puts.extend(batch.iter().cloned());
    wait_delivered(&rig, &["a", "b"], &puts);
    assert_delivered_by_owner(&rig, &two, &batch);

    // A third consumer takes its share: 2 + 2 + 2.
    let mut c = start(&rig, "six", "c", "2s");
    wait_for("2 + 2 + 2", Duration::from_secs(20), || {
        split(&rig) == want(&[("a", 2), ("b", 2), ("c", 2)])
    });
    let three = owners(&rig);
    let batch = put_many(&rig, "six", "three", 60);
    puts.extend(batch.iter().cloned());
    wait_delivered(&rig, &["a", "b", "c"], &puts);
    assert_delivered_by_owner(&rig, &three, &batch);
    assert_in_order(&rig, &["a", "b", "c"]);

    // A graceful stop checkpoints and releases: every lease unowned, at its shard's last record.
    for r in [&a, &b, &c] {
        r.signal("TERM");
    }
    for r in [&mut a, &mut b, &mut c] {
        assert_eq!(r.wait(Duration::from_secs(20)), Some(0), "{}", r.stderr());
    }
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for p in &puts {
        let e = last.entry(p.shard_id.clone()).or_default();
        if seq_key(&p.sequence_number) > seq_key(e) {
            e.clone_from(&p.sequence_number);
        }
    }
    for item in items(&rig) {
        let key = item["leaseKey"].as_s().expect("leaseKey");
        assert!(!item.contains_key("leaseOwner"), "{key} released");
        assert_eq!(item["checkpoint"].as_s().ok(), last.get(key), "{key} checkpoint");
    }
}

#[test]
fn consume_scaleout_a_killed_consumer_loses_its_shards_within_the_failover_time() {
    let failover = Duration::from_secs(2);
    let rig = Rig::new();
    rig.stream("kill", 6);
    let mut workers: BTreeMap<&str, Running> = ["a", "b", "c"]
        .into_iter()
        .map(|w| (w, start(&rig, "kill", w, "2s")))
        .collect();
    wait_for("2 + 2 + 2", Duration::from_secs(20), || {
        split(&rig) == want(&[("a", 2), ("b", 2), ("c", 2)])
    });
    let mut puts = put_many(&rig, "kill", "first", 60);
    wait_delivered(&rig, &["a", "b", "c"], &puts);
    let b_shards: Vec<String> = owners(&rig)
        .into_iter()
        .filter(|(_, o)| o.as_deref() == Some("b"))
        .map(|(s, _)| s)
        .collect();

    let mut b = workers.remove("b").expect("b");
    b.signal("KILL");
    b.wait(Duration::from_secs(10));
    let killed = Instant::now();
    // Records arriving on b's shards while nobody reads them must not be skipped.
    let batch = put_many(&rig, "kill", "after", 60);
    puts.extend(batch.iter().cloned());
    wait_for("b's shards taken over", Duration::from_secs(20), || {
        split(&rig) == want(&[("a", 3), ("c", 3)])
    });
    let took = killed.elapsed();
    // By expiry (b's last renewal was at most a third of the failover time before the kill),
    // and soon after it: one scan of the table later.
    assert!(
        took >= failover / 2,
        "taken before b's leases could expire: {took:?}"
    );
    assert!(
        took < failover * 5 / 2,
        "took {took:?} for a {failover:?} failover time"
    );
    wait_delivered(&rig, &["a", "b", "c"], &puts);
    let after = owners(&rig);
    let moved: Vec<Put> = batch
        .into_iter()
        .filter(|p| b_shards.contains(&p.shard_id))
        .collect();
    assert!(!moved.is_empty());
    assert_delivered_by_owner(&rig, &after, &moved);
    assert_in_order(&rig, &["a", "b", "c"]);
    for r in workers.values() {
        r.signal("TERM");
    }
    for r in workers.values_mut() {
        assert_eq!(r.wait(Duration::from_secs(20)), Some(0), "{}", r.stderr());
    }
}

#[test]
fn consume_scaleout_a_graceful_stop_hands_over_without_waiting_for_expiry() {
    // A long failover time: a takeover by expiry would need at least 4 s after the stop.
    let rig = Rig::new();
    rig.stream("handover", 6);
    let mut a = start(&rig, "handover", "a", "6s");
    let mut b = start(&rig, "handover", "b", "6s");
    wait_for("3 + 3", Duration::from_secs(20), || {
        split(&rig) == want(&[("a", 3), ("b", 3)])
    });
    let stopped = Instant::now();
    a.signal("TERM");
    assert_eq!(a.wait(Duration::from_secs(20)), Some(0), "{}", a.stderr());
    wait_for("b holds all 6", Duration::from_secs(20), || {
        split(&rig) == want(&[("b", 6)])
    });
    let took = stopped.elapsed();
    assert!(took < Duration::from_secs(3), "handover took {took:?}");
    let puts = put_many(&rig, "handover", "after", 60);
    wait_delivered(&rig, &["b"], &puts);
    assert_in_order(&rig, &["a", "b"]);
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(20)), Some(0), "{}", b.stderr());
}

#[test]
fn consume_lease_protocol_two_workers_racing_for_one_expired_lease_exactly_one_wins() {
    let engine = crate::support::TestEngine::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = crate::support::dynamodb_client(&engine.endpoint).await;
        let dead = LeaseTable::new(client.clone(), "race", "dead");
        let w1 = LeaseTable::new(client.clone(), "race", "w1");
        let w2 = LeaseTable::new(client.clone(), "race", "w2");
        dead.ensure().await.expect("table");
        let mut wins = BTreeMap::new();
        let seq: Checkpoint = "123".parse().expect("a sequence number");
        for round in 0..20 {
            let key = format!("shardId-{round:012}");
            let mut l = dead
                .create(&key, &Checkpoint::TrimHorizon, &[], None)
                .await
                .expect("create");
            assert_eq!(l.owner, None, "created unowned");
            dead.take(&mut l).await.expect("dead takes it");
            // Both observe the same counter and race for the lease.
            let mut l1 = w1.get(&key).await.expect("get").expect("lease");
            let mut l2 = l1.clone();
            let (r1, r2) = tokio::join!(w1.take(&mut l1), w2.take(&mut l2));
            let (winner, mut won, loser, mut lost) = match (r1, r2) {
                (Ok(()), Err(LeaseTableError::LeaseLost(_))) => (&w1, l1, &w2, l2),
                (Err(LeaseTableError::LeaseLost(_)), Ok(())) => (&w2, l2, &w1, l1),
                other => panic!("round {round}: exactly one must win: {other:?}"),
            };
            *wins.entry(winner.owner().to_string()).or_insert(0) += 1;
            let stored = w1.get(&key).await.expect("get").expect("lease");
            assert_eq!(stored.owner.as_deref(), Some(winner.owner()));
            assert_eq!(stored.counter, 2, "one take by dead, one by the winner");
            assert_eq!(stored.owner_switches, 2);
            // The loser is fenced off: no checkpoint, no release, no renewal with its counter.
            assert!(matches!(
                loser.checkpoint(&mut lost, &seq).await,
                Err(LeaseTableError::LeaseLost(_))
            ));
            assert!(matches!(
                loser.release(&mut lost).await,
                Err(LeaseTableError::LeaseLost(_))
            ));
            let mut old = stored.clone();
            old.counter = 1;
            assert!(matches!(
                dead.renew(&mut old).await,
                Err(LeaseTableError::LeaseLost(_))
            ));
            // Even with the current counter, only the owner may release.
            let mut current = stored.clone();
            assert!(matches!(
                loser.release(&mut current).await,
                Err(LeaseTableError::LeaseLost(_))
            ));
            winner.renew(&mut won).await.expect("renew");
            winner.checkpoint(&mut won, &seq).await.expect("checkpoint");
            winner.release(&mut won).await.expect("release");
            let end = w1.get(&key).await.expect("get").expect("lease");
            assert_eq!(end.owner, None);
            assert_eq!(end.checkpoint, seq);
        }
        assert_eq!(wins.values().sum::<i32>(), 20, "{wins:?}");
    });
}

#[test]
fn consume_scaleout_children_wait_for_their_parent_across_workers() {
    let rig = Rig::new();
    rig.stream("re", 2);
    // A handler that stamps each batch with the time it started, so order across the two
    // workers' capture files can be compared.
    let handler = rig.path("stamped.sh");
    std::fs::write(
        &handler,
        "#!/bin/sh\nstamp=$(date +%s%N)\npayload=$(cat)\nprintf '%s %s\\n' \"$stamp\" \"$payload\" >> \"$CAPTURE_FILE.stamped\"\n",
    )
    .expect("write handler");
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&handler)
        .status()
        .expect("chmod");
    let spawn = |worker: &str| {
        Running::spawn(
            rig.consume_std("re", &handler.to_string_lossy())
                .args(["--app", "reshard", "--worker-id", worker, "--failover-time", "2s"])
                .args(["--batch-size", "5", "--until-idle", "1h"])
                .env("CAPTURE_FILE", rig.path(worker)),
            rig.path(&format!("{worker}.stderr")),
        )
    };
    let keys: Vec<String> = (0..12).map(|i| format!("key-{i}")).collect();
    let mut puts = Vec::new();
    for round in 0..3 {
        for k in &keys {
            puts.push(rig.put("re", k, format!("{k}/{round}").as_bytes()));
        }
    }
    let mut a = spawn("a");
    let mut b = spawn("b");
    // Split shard 0 while both consume; the children get the parent's keys.
    rig.rt.block_on(async {
        rig.kinesis
            .split_shard()
            .stream_name("re")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key("85070591730234615865843651857942052864")
            .send()
            .await
            .expect("split")
    });
    for round in 3..6 {
        for k in &keys {
            puts.push(rig.put("re", k, format!("{k}/{round}").as_bytes()));
        }
    }
    // Every record reaches a handler; stamped lines are "<ns> <event>".
    let stamped = |w: &str| -> Vec<(u128, String, String)> {
        std::fs::read_to_string(rig.path(&format!("{w}.stamped")))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (ns, json) = l.split_once(' ')?;
                let event: serde_json::Value = serde_json::from_str(json).ok()?;
                Some((ns.parse().ok()?, event))
            })
            .flat_map(|(ns, event)| {
                delivered(std::slice::from_ref(&event))
                    .into_iter()
                    .map(move |(id, data)| (ns, id, data))
            })
            .collect()
    };
    wait_for("every record delivered", Duration::from_secs(30), || {
        let seen: HashSet<String> = ["a", "b"]
            .iter()
            .flat_map(|w| stamped(w))
            .filter_map(|(_, id, _)| id.split_once(':').map(|(_, s)| s.to_string()))
            .collect();
        puts.iter().all(|p| seen.contains(&p.sequence_number))
    });
    for r in [&a, &b] {
        r.signal("TERM");
    }
    for r in [&mut a, &mut b] {
        assert_eq!(r.wait(Duration::from_secs(20)), Some(0), "{}", r.stderr());
    }
    // Per key, the records first arrive in put order across workers and shards: the
    // parent's records (rounds 0–2) before its children's (rounds 3–5), whoever held which.
    use base64::Engine as _;
    let mut all: Vec<(u128, String, String)> = ["a", "b"].iter().flat_map(|w| stamped(w)).collect();
    all.sort_by_key(|(ns, _, _)| *ns);
    for k in &keys {
        let rounds: Vec<u32> = all
            .iter()
            .filter_map(|(_, _, d)| {
                let text =
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(d).ok()?).ok()?;
                let (key, round) = text.split_once('/')?;
                (key == k).then(|| round.parse().ok()).flatten()
            })
            .collect();
        // At least once: a lease that moves between workers rewinds to its checkpoint, so a
        // round may come again; but no round may first arrive before an earlier one.
        let mut firsts: Vec<u32> = Vec::new();
        for r in &rounds {
            if !firsts.contains(r) {
                firsts.push(*r);
            }
        }
        let mut sorted = firsts.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..6).collect::<Vec<u32>>(),
            "{k}: every round delivered: {rounds:?}"
        );
        assert_eq!(
            firsts, sorted,
            "{k} delivered out of order across the split: {rounds:?}"
        );
    }
    // The parent finished before any child was taken.
    let items = items_of(&rig, "reshard");
    let parent = items
        .iter()
        .find(|i| i["leaseKey"].as_s().ok().map(String::as_str) == Some("shardId-000000000000"))
        .expect("parent lease");
    assert_eq!(
        parent["checkpoint"].as_s().ok().map(String::as_str),
        Some("SHARD_END")
    );
}

/// A lease table's items (consistent read); none while it does not exist yet.
pub fn items_of(rig: &Rig, table: &str) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    rig.rt.block_on(async {
        let d = crate::support::dynamodb_client(&rig.dynamodb_url).await;
        d.scan()
            .table_name(table)
            .consistent_read(true)
            .send()
            .await
            .map(|o| o.items().to_vec())
            .unwrap_or_default()
    })
}
