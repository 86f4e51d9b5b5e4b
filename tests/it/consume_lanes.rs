//! `kinlocal consume --parallelization-factor N` end to end: the real binary against the
//! embedded engine with real handler programs. One shard's keys run in parallel lanes; one key
//! is never handled concurrently and always in order; the checkpoint is the lanes' low-water
//! mark, so a SIGKILL skips nothing; one warm process per lane behind the Runtime API.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use kinlocal::esm::lanes::lane_of;
use serde_json::Value;

use crate::consume::{fixture, wait_for, Rig, Running};

/// `keys_per_lane` partition keys for each of `factor` lanes (so every lane has work).
fn keys_covering(factor: usize, keys_per_lane: usize) -> Vec<String> {
    let mut per_lane: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for i in 0.. {
        let key = format!("key-{i}");
        let lane = per_lane.entry(lane_of(&key, factor)).or_default();
        if lane.len() < keys_per_lane {
            lane.push(key);
        }
        if per_lane.len() == factor && per_lane.values().all(|v| v.len() == keys_per_lane) {
            break;
        }
    }
    per_lane.into_values().flatten().collect()
}

/// One invocation as `lanes.py` logged it.
#[derive(Debug)]
struct Invocation {
    start: u64,
    end: u64,
    /// (partition key, data, sequence number) in event order.
    records: Vec<(String, String, String)>,
}

fn invocations(rig: &Rig) -> Vec<Invocation> {
    invocations_in(&rig.path("capture.jsonl"))
}

fn invocations_in(path: &std::path::Path) -> Vec<Invocation> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON line per invocation");
            Invocation {
                start: v["start"].as_u64().expect("start"),
                end: v["end"].as_u64().expect("end"),
                records: v["records"]
                    .as_array()
                    .expect("records")
                    .iter()
                    .map(|r| {
                        let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                        (s("key"), s("data"), s("seq"))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Puts `rounds` records for each key, keys interleaved: data is `KEY/N`.
fn put_interleaved(rig: &Rig, stream: &str, keys: &[String], rounds: usize) -> Vec<crate::consume::Put> {
    let mut out = Vec::new();
    for n in 0..rounds {
        for k in keys {
            out.push(rig.put(stream, k, format!("{k}/{n}").as_bytes()));
        }
    }
    out
}

/// The data delivered for each key, in delivery order (invocations ordered by start).
fn per_key(invs: &[Invocation]) -> BTreeMap<String, Vec<String>> {
    let mut sorted: Vec<&Invocation> = invs.iter().collect();
    sorted.sort_by_key(|i| i.start);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for inv in sorted {
        for (k, d, _) in &inv.records {
            out.entry(k.clone()).or_default().push(d.clone());
        }
    }
    out
}

fn checkpoint_of(rig: &Rig, table: &str, shard: &str) -> Option<String> {
    crate::consume_scaleout::items_of(rig, table)
        .into_iter()
        .find(|i| i["leaseKey"].as_s().is_ok_and(|k| k == shard))
        .and_then(|i| i["checkpoint"].as_s().ok().cloned())
}

/// Sequence numbers compare by value: length, then digits.
fn seq_le(a: &str, b: &str) -> bool {
    (a.len(), a) <= (b.len(), b)
}

#[test]
fn lanes_overlap_within_one_shard_but_never_for_one_key_and_keep_each_key_in_order() {
    let rig = Rig::new();
    rig.stream("lanes", 1);
    let factor = 4;
    let keys = keys_covering(factor, 2);
    let puts = put_interleaved(&rig, "lanes", &keys, 6);
    let out = rig
        .consume("lanes", &fixture("lanes.py"))
        .args(["--parallelization-factor", "4", "--batch-size", "3", "--json"])
        .args(["--app", "lanes-app"])
        .env("LANES_SLEEP", "0.25")
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let invs = invocations(&rig);

    // Every record exactly once (nothing failed), each key in the order it was put.
    let delivered: usize = invs.iter().map(|i| i.records.len()).sum();
    assert_eq!(delivered, puts.len(), "{stderr}");
    for (key, got) in per_key(&invs) {
        let want: Vec<String> = (0..6).map(|n| format!("{key}/{n}")).collect();
        assert_eq!(got, want, "{key} in put order");
    }

    // One key never runs in two invocations at once; different keys of the shard do.
    let mut overlaps = 0;
    for (i, a) in invs.iter().enumerate() {
        for b in &invs[i + 1..] {
            if a.start < b.end && b.start < a.end {
                overlaps += 1;
                let ka: BTreeSet<&String> = a.records.iter().map(|r| &r.0).collect();
                let kb: BTreeSet<&String> = b.records.iter().map(|r| &r.0).collect();
                assert!(
                    ka.is_disjoint(&kb),
                    "one key in two concurrent invocations: {ka:?} / {kb:?}"
                );
            }
        }
    }
    assert!(
        overlaps > 0,
        "no two invocations of the shard overlapped: {invs:?}"
    );

    // --json names each batch's lane; a key's batches all come from its lane.
    let lane_of_seq: HashMap<String, u64> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "batch")
        .map(|v| {
            (
                v["first_sequence_number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["lane"].as_u64().expect("lane in --json"),
            )
        })
        .collect();
    let mut lanes_seen = BTreeSet::new();
    for inv in &invs {
        let first = &inv.records[0];
        let lane = lane_of_seq
            .get(&first.2)
            .copied()
            .expect("a batch line per invocation");
        lanes_seen.insert(lane);
        for (k, _, _) in &inv.records {
            assert_eq!(lane as usize, lane_of(k, factor), "{k}");
        }
    }
    assert_eq!(lanes_seen.len(), factor, "every lane worked");
    // The per-batch line names the lane too.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("shardId-000000000000 lane 3 ")),
        "{stderr}"
    );
    // The shard's checkpoint is its last record.
    assert_eq!(
        checkpoint_of(&rig, "lanes-app", "shardId-000000000000").as_deref(),
        puts.last().map(|p| p.sequence_number.as_str())
    );
}

#[test]
fn lanes_killed_mid_run_resume_from_the_low_water_mark_and_skip_nothing() {
    let rig = Rig::new();
    rig.stream("lanekill", 1);
    let keys = keys_covering(4, 2);
    let puts = put_interleaved(&rig, "lanekill", &keys, 8);
    // Lanes run at different speeds so they drift apart: the checkpoint must wait for the
    // slowest.
    let mut first = rig.consume_std("lanekill", &fixture("lanes.py"));
    first
        .args(["--parallelization-factor", "4", "--batch-size", "2"])
        .args(["--app", "lanekill-app", "--failover-time", "1s"])
        .env("LANES_SLEEP", "0.15");
    let mut running = Running::spawn(&mut first, rig.path("first.stderr"));
    wait_for("a checkpoint past a few records", Duration::from_secs(30), || {
        invocations(&rig).len() >= 6
            && checkpoint_of(&rig, "lanekill-app", "shardId-000000000000")
                .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit()))
    });
    running.signal("KILL");
    running.wait(Duration::from_secs(10));
    let before = invocations(&rig);
    let checkpoint = checkpoint_of(&rig, "lanekill-app", "shardId-000000000000").expect("a checkpoint");
    let done_before: BTreeSet<String> = before
        .iter()
        .flat_map(|i| i.records.iter().map(|r| r.2.clone()))
        .collect();
    assert!(done_before.len() < puts.len(), "killed before the end");
    // Low-water mark: every record at or below the checkpoint was handled before the kill.
    for p in &puts {
        if seq_le(&p.sequence_number, &checkpoint) {
            assert!(
                done_before.contains(&p.sequence_number),
                "checkpoint {checkpoint} is past {} which was never delivered",
                p.sequence_number
            );
        }
    }

    // The restart (once the dead owner's lease expires) resumes there: nothing skipped, and
    // what it delivers comes in key order again. It captures to its own file: handlers the
    // killed consumer started finish on their own and still write to the first one.
    let restart_capture = rig.path("restart.jsonl");
    rig.consume("lanekill", &fixture("lanes.py"))
        .args(["--parallelization-factor", "4", "--batch-size", "2"])
        .args(["--app", "lanekill-app", "--failover-time", "1s"])
        .env("LANES_SLEEP", "0")
        .env("CAPTURE_FILE", &restart_capture)
        .assert()
        .code(0);
    let after = invocations_in(&restart_capture);
    let done_after: BTreeSet<String> = after
        .iter()
        .flat_map(|i| i.records.iter().map(|r| r.2.clone()))
        .collect();
    for p in &puts {
        assert!(
            done_before.contains(&p.sequence_number) || done_after.contains(&p.sequence_number),
            "record {} was never delivered",
            p.sequence_number
        );
        if !seq_le(&p.sequence_number, &checkpoint) {
            assert!(
                done_after.contains(&p.sequence_number),
                "not re-read after the checkpoint"
            );
        } else {
            assert!(
                !done_after.contains(&p.sequence_number),
                "{} is below the checkpoint: not read again",
                p.sequence_number
            );
        }
    }
    for (key, got) in per_key(&after) {
        let mut want = got.clone();
        want.sort_by_key(|d| d.rsplit('/').next().and_then(|n| n.parse::<u32>().ok()));
        assert_eq!(got, want, "{key} in order after the restart");
    }
}

#[test]
fn lanes_behind_the_runtime_api_get_one_warm_process_each() {
    use crate::invoke::{clients, Client};
    let test = "lanes_behind_the_runtime_api_get_one_warm_process_each";
    for client in clients(test) {
        if matches!(client, Client::Awslambdaric(_)) {
            // The other --runtime-api clients cover the same path; this one starts slowly.
            continue;
        }
        let rig = Rig::new();
        rig.stream("warmlanes", 1);
        let factor = 3;
        let keys = keys_covering(factor, 2);
        let puts = put_interleaved(&rig, "warmlanes", &keys, 4);
        let out = assert_cmd::Command::cargo_bin("kinlocal")
            .expect("binary")
            .args(["consume", "--stream", "warmlanes"])
            .args(client.args("handler"))
            .args(["--parallelization-factor", "3", "--batch-size", "2"])
            .args([
                "--poll-interval",
                "20ms",
                "--until-idle",
                "500ms",
                "--timeout",
                "30s",
            ])
            .current_dir(client.cwd())
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ENDPOINT_URL_KINESIS", &rig.engine.endpoint)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &rig.dynamodb_url)
            .env("AWS_REGION", "us-east-1")
            .env("KINLOCAL_STATE_DIR", rig.path("state"))
            .env("FIXTURE_OUT", rig.path("out.jsonl"))
            .timeout(Duration::from_secs(90))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{client:?}: {stderr}");
        let lines = crate::runtime_api_support::read_lines(&rig.path("out.jsonl"));
        assert_eq!(lines.len(), puts.len(), "{client:?}: each record once");
        // The fixture logs each record's data (KEY/N) and the process that handled it.
        let mut pid_of_lane: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
        let mut order: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for l in &lines {
            let data = l["data"].as_str().unwrap_or_default();
            let (key, n) = data.rsplit_once('/').expect("KEY/N");
            pid_of_lane
                .entry(lane_of(key, factor))
                .or_default()
                .insert(l["pid"].as_u64().expect("pid"));
            order
                .entry(key.to_string())
                .or_default()
                .push(n.parse().expect("N"));
        }
        // One warm process per lane, for the whole run: three INITs, three processes.
        assert_eq!(pid_of_lane.len(), factor, "{client:?}");
        assert!(
            pid_of_lane.values().all(|p| p.len() == 1),
            "{client:?}: {pid_of_lane:?}"
        );
        let pids: BTreeSet<u64> = pid_of_lane.values().flatten().copied().collect();
        assert_eq!(pids.len(), factor, "{client:?}: a process per lane");
        let inits = stderr
            .lines()
            .filter(|l| l.starts_with("kinlocal: INIT shardId-"))
            .count();
        assert_eq!(inits, factor, "{client:?}: {stderr}");
        for (key, ns) in order {
            assert_eq!(ns, (0..4).collect::<Vec<u32>>(), "{client:?}: {key} in order");
        }
    }
}

#[test]
fn lanes_flag_is_checked_before_anything_runs() {
    for bad in ["0", "11", "two"] {
        let out = crate::support::kinlocal()
            .args([
                "consume",
                "--stream",
                "s",
                "--exec",
                "true",
                "--parallelization-factor",
                bad,
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains("--parallelization-factor"), "{stderr}");
        assert!(stderr.contains("1 to 10"), "{bad}: {stderr}");
    }
}

#[test]
fn lanes_work_under_leases_shared_by_two_consumers() {
    let rig = Rig::new();
    rig.stream("lanelease", 4);
    let start = |worker: &str| {
        Running::spawn(
            rig.consume_std("lanelease", &fixture("lanes.py"))
                .args(["--parallelization-factor", "3", "--batch-size", "4"])
                .args(["--app", "lanelease-app", "--worker-id", worker])
                .args(["--failover-time", "1s", "--until-idle", "1h"])
                .env("LANES_SLEEP", "0.05")
                .env("CAPTURE_FILE", rig.path(&format!("{worker}.jsonl"))),
            rig.path(&format!("{worker}.stderr")),
        )
    };
    let owners = || -> BTreeMap<String, String> {
        crate::consume_scaleout::items_of(&rig, "lanelease-app")
            .into_iter()
            .filter_map(|i| {
                Some((
                    i.get("leaseKey")?.as_s().ok()?.clone(),
                    i.get("leaseOwner")?.as_s().ok()?.clone(),
                ))
            })
            .collect()
    };
    let mut a = start("a");
    let mut b = start("b");
    // The split settles (the consumers balance by taking leases from each other at first):
    // two shards each, unchanged for longer than the failover time.
    let mut last = (BTreeMap::new(), std::time::Instant::now());
    wait_for(
        "a settled split, two shards each",
        Duration::from_secs(40),
        || {
            let o = owners();
            let even = o.len() == 4 && o.values().filter(|w| *w == "a").count() == 2;
            if o != last.0 {
                last = (o, std::time::Instant::now());
            }
            even && last.1.elapsed() > Duration::from_millis(1500)
        },
    );
    let held = owners();
    let keys: Vec<String> = (0..16).map(|i| format!("key-{i}")).collect();
    let puts = put_interleaved(&rig, "lanelease", &keys, 2);
    let seen = |w: &str| invocations_in(&rig.path(&format!("{w}.jsonl")));
    wait_for("every record delivered", Duration::from_secs(40), || {
        let n: usize = ["a", "b"]
            .iter()
            .map(|w| seen(w).iter().map(|i| i.records.len()).sum::<usize>())
            .sum();
        n >= puts.len()
    });
    let shard_of: HashMap<&str, &str> = puts
        .iter()
        .map(|p| (p.partition_key.as_str(), p.shard_id.as_str()))
        .collect();
    for w in ["a", "b"] {
        let invs = seen(w);
        // A lease is per shard: all of its lanes ran in the consumer holding it.
        for inv in &invs {
            for (k, _, _) in &inv.records {
                let shard = shard_of.get(k.as_str()).copied().unwrap_or_default();
                assert_eq!(
                    held.get(shard).map(String::as_str),
                    Some(w),
                    "{k} of {shard}; owners now {:?}\na: {}\nb: {}",
                    owners(),
                    a.stderr(),
                    b.stderr()
                );
            }
        }
        for (key, got) in per_key(&invs) {
            let want: Vec<String> = (0..2).map(|n| format!("{key}/{n}")).collect();
            assert_eq!(got, want, "{w}: {key} once each, in order");
        }
    }
    for r in [&a, &b] {
        r.signal("TERM");
    }
    for r in [&mut a, &mut b] {
        assert_eq!(r.wait(Duration::from_secs(20)), Some(0), "{}", r.stderr());
    }
    // Released after the final checkpoints: each shard at its last record.
    for item in rig.lease_items("lanelease-app") {
        let key = item["leaseKey"].as_s().expect("leaseKey").clone();
        let last = puts
            .iter()
            .filter(|p| p.shard_id == key)
            .map(|p| p.sequence_number.clone())
            .max_by(|x, y| (x.len(), x).cmp(&(y.len(), y)));
        assert!(!item.contains_key("leaseOwner"), "{key} released");
        if let Some(last) = last {
            assert_eq!(item["checkpoint"].as_s().ok(), Some(&last), "{key}");
        }
    }
}
