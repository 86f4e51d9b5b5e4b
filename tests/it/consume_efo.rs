//! `kinlocal consume --efo`: shards read through an enhanced fan-out consumer
//! (SubscribeToShard) on the embedded engine, across a reshard and across subscription
//! renewals; every record delivered once, in order per shard, children after their parents.

use std::collections::HashMap;
use std::time::Duration;

use kinlocal::engine::EngineConfig;

use crate::consume::{delivered, fixture, wait_for, Rig};
use crate::support::TestEngine;

fn decode(data: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("b64"),
    )
    .expect("utf8")
}

/// The records delivered per shard, as `KEY:N` texts in delivery order.
fn per_shard(rig: &Rig) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (id, data) in delivered(&rig.captured()) {
        let shard = id.split(':').next().unwrap_or_default().to_string();
        out.entry(shard).or_default().push(decode(&data));
    }
    out
}

fn consumers(rig: &Rig, stream: &str) -> Vec<String> {
    rig.rt.block_on(async {
        let arn = rig
            .kinesis
            .describe_stream_summary()
            .stream_name(stream)
            .send()
            .await
            .expect("describe")
            .stream_description_summary()
            .map(|s| s.stream_arn().to_string())
            .unwrap_or_default();
        rig.kinesis
            .list_stream_consumers()
            .stream_arn(arn)
            .send()
            .await
            .expect("list consumers")
            .consumers()
            .iter()
            .map(|c| c.consumer_name().to_string())
            .collect()
    })
}

#[test]
fn efo_delivers_every_record_in_order_per_shard_across_a_reshard() {
    let rig = Rig::new();
    rig.stream("efo", 1);
    let keys = ["alpha", "bravo", "charlie", "delta"];
    let mut n = 0;
    let mut put_round = |rig: &Rig| {
        for k in keys {
            rig.put("efo", k, format!("{k}:{n:04}").as_bytes());
        }
        n += 1;
    };
    for _ in 0..5 {
        put_round(&rig);
    }
    let mut child = rig
        .consume_std("efo", &fixture("capture.sh"))
        .args(["--efo", "--batch-size", "3", "--until-idle", "1500ms"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for("first deliveries", Duration::from_secs(30), || {
        !rig.captured().is_empty()
    });
    // Records put while subscribed are pushed; then the shard splits and the children get more.
    for _ in 0..5 {
        put_round(&rig);
    }
    rig.rt
        .block_on(
            rig.kinesis
                .split_shard()
                .stream_name("efo")
                .shard_to_split("shardId-000000000000")
                .new_starting_hash_key("170141183460469231731687303715884105728")
                .send(),
        )
        .expect("split");
    for _ in 0..5 {
        put_round(&rig);
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));

    let got = delivered(&rig.captured());
    assert_eq!(got.len(), keys.len() * 15, "every record, exactly once");
    // In order per shard (each key's records keep their order in every shard they pass).
    for (shard, texts) in per_shard(&rig) {
        let mut by_key: HashMap<&str, Vec<&str>> = HashMap::new();
        for t in &texts {
            let (k, i) = t.split_once(':').expect("key:index");
            by_key.entry(k).or_default().push(i);
        }
        for (k, seq) in by_key {
            let mut sorted = seq.clone();
            sorted.sort_unstable();
            assert_eq!(seq, sorted, "{shard}: key {k} out of order");
        }
    }
    // The parent's records first, and all of them before any child's.
    let shard_of = |id: &str| id.split(':').next().unwrap_or_default().to_string();
    let order: Vec<String> = got.iter().map(|(id, _)| shard_of(id)).collect();
    let last_parent = order
        .iter()
        .rposition(|s| s == "shardId-000000000000")
        .expect("parent delivered");
    let first_child = order
        .iter()
        .position(|s| s != "shardId-000000000000")
        .expect("children delivered");
    assert!(last_parent < first_child);
    assert_eq!(
        last_parent + 1,
        keys.len() * 10,
        "the parent held the first ten rounds"
    );
    // Read through a registered consumer, named after the application; the parent's lease
    // says SHARD_END.
    assert_eq!(consumers(&rig, "efo"), vec!["kinlocal-efo-capture".to_string()]);
    let items = rig.lease_items("kinlocal-efo-capture");
    let parent = items
        .iter()
        .find(|i| i["leaseKey"].as_s().is_ok_and(|k| k == "shardId-000000000000"))
        .expect("parent lease");
    assert_eq!(parent["checkpoint"].as_s().map(String::as_str), Ok("SHARD_END"));
}

#[test]
fn efo_renews_subscriptions_without_losing_or_repeating_a_record() {
    // Subscriptions last 2 s here (5 minutes on AWS): a 7 s run renews each shard's a few times.
    let rig = Rig::with_engine(TestEngine::start_with(EngineConfig {
        subscription_lifetime: Duration::from_secs(2),
        ..EngineConfig::default()
    }));
    rig.stream("renew", 2);
    let mut child = rig
        .consume_std("renew", &fixture("capture.sh"))
        .args(["--efo", "my-consumer", "--until-idle", "3s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // An idle first subscription (renewed with nothing read yet), then records across renewals.
    std::thread::sleep(Duration::from_millis(2500));
    let keys = ["k1", "k2", "k3", "k4", "k5", "k6"];
    for round in 0..14 {
        for k in keys {
            rig.put("renew", k, format!("{k}:{round:04}").as_bytes());
        }
        std::thread::sleep(Duration::from_millis(350));
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    let shards = per_shard(&rig);
    let total: usize = shards.values().map(Vec::len).sum();
    assert_eq!(total, keys.len() * 14, "every record exactly once: {shards:?}");
    for (shard, texts) in shards {
        let mut by_key: HashMap<&str, Vec<&str>> = HashMap::new();
        for t in &texts {
            let (k, i) = t.split_once(':').expect("key:index");
            by_key.entry(k).or_default().push(i);
        }
        for (k, seq) in by_key {
            let expected: Vec<String> = (0..14).map(|r| format!("{r:04}")).collect();
            assert_eq!(seq, expected, "{shard}: key {k}");
        }
    }
    assert_eq!(consumers(&rig, "renew"), vec!["my-consumer".to_string()]);
}
