//! `kinlocal status` against a real engine: streams with open and closed shards and record
//! counts, lease tables found by their key schema, each lease's checkpoint and lag, and the
//! exit code a CI readiness check relies on.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_kinesis::primitives::Blob;

use crate::support::{create_stream, TestEngine};
use crate::up_support::{describe, free_port, Setup};

/// A KCL-format lease table (`leaseKey` S HASH).
pub async fn lease_table(d: &aws_sdk_dynamodb::Client, name: &str) {
    table(d, name, "leaseKey").await;
}

async fn table(d: &aws_sdk_dynamodb::Client, name: &str, key: &str) {
    d.create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
}

async fn lease(d: &aws_sdk_dynamodb::Client, table: &str, key: &str, checkpoint: &str) {
    d.put_item()
        .table_name(table)
        .item("leaseKey", AttributeValue::S(key.into()))
        .item("leaseOwner", AttributeValue::S("worker-1".into()))
        .item("leaseCounter", AttributeValue::N("1".into()))
        .item("checkpoint", AttributeValue::S(checkpoint.into()))
        .send()
        .await
        .expect("put lease");
}

/// Puts `n` records on one shard (explicit hash key 0 → the first shard); returns sequences.
async fn put_on_first_shard(k: &aws_sdk_kinesis::Client, stream: &str, n: usize) -> Vec<String> {
    let mut seqs = Vec::new();
    for i in 0..n {
        let r = k
            .put_record()
            .stream_name(stream)
            .partition_key("pk")
            .explicit_hash_key("0")
            .data(Blob::new(format!("r{i}")))
            .send()
            .await
            .expect("put");
        seqs.push(r.sequence_number().to_string());
    }
    seqs
}

fn find<'a>(list: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    list.as_array()
        .expect("array")
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_shards_counts_and_each_applications_checkpoint_and_lag() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    let d = engine.dynamodb().await;
    create_stream(&k, "orders", 2).await;
    create_stream(&k, "clicks", 1).await;
    let orders = put_on_first_shard(&k, "orders", 5).await;
    put_on_first_shard(&k, "clicks", 4).await;
    // Reshard: shard 0 closes, two children open.
    k.split_shard()
        .stream_name("orders")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("1000")
        .send()
        .await
        .expect("split");
    for _ in 0..100 {
        let s = k
            .describe_stream_summary()
            .stream_name("orders")
            .send()
            .await
            .expect("describe");
        if s.stream_description_summary().map(|x| x.stream_status().as_str()) == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // KCL single-stream format: the shard id alone.
    table(&d, "app-a", "leaseKey").await;
    lease(&d, "app-a", "shardId-000000000000", &orders[1]).await; // ambiguous: both streams have it
    lease(&d, "app-a", "shardId-000000000001", "TRIM_HORIZON").await; // only orders has it
                                                                      // KCL multi-stream format names the stream.
    table(&d, "app-b", "leaseKey").await;
    lease(
        &d,
        "app-b",
        "000000000000:orders:1700000000:shardId-000000000000",
        &orders[1],
    )
    .await;
    lease(
        &d,
        "app-b",
        "000000000000:clicks:1700000000:shardId-000000000000",
        "TRIM_HORIZON",
    )
    .await;
    lease(
        &d,
        "app-b",
        "000000000000:orders:1700000000:shardId-000000000002",
        "SHARD_END",
    )
    .await;
    // Not a lease table.
    table(&d, "users", "id").await;

    let setup = Setup::new();
    let out = setup.run("status", &["--endpoint-url", &engine.endpoint, "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["healthy"], true);
    assert_eq!(s["backend"], "external");
    assert_eq!(s["source"], "flag");

    let o = find(&s["streams"], "name", "orders");
    assert_eq!(o["status"], "ACTIVE");
    let s0 = find(&o["shards"], "shard_id", "shardId-000000000000");
    assert_eq!(s0["state"], "closed");
    assert_eq!(s0["records"], 5);
    assert_eq!(
        find(&o["shards"], "shard_id", "shardId-000000000001")["state"],
        "open"
    );
    let child = find(&o["shards"], "shard_id", "shardId-000000000002");
    assert_eq!(child["state"], "open");
    assert_eq!(child["parent_shard_id"], "shardId-000000000000");
    assert_eq!(find(&s["streams"], "name", "clicks")["shards"][0]["records"], 4);

    let apps = &s["applications"];
    assert_eq!(
        apps.as_array().map(Vec::len),
        Some(2),
        "users is no lease table: {apps}"
    );
    let a = find(apps, "lease_table", "app-a");
    let ambiguous = find(&a["leases"], "lease_key", "shardId-000000000000");
    assert_eq!(ambiguous["stream"], serde_json::Value::Null);
    assert_eq!(ambiguous["lag_records"], serde_json::Value::Null);
    let only_orders = find(&a["leases"], "lease_key", "shardId-000000000001");
    assert_eq!(only_orders["stream"], "orders");
    assert_eq!(only_orders["lag_records"], 0, "an empty shard from TRIM_HORIZON");

    let b = find(apps, "lease_table", "app-b");
    let behind = find(&b["leases"], "shard_id", "shardId-000000000000");
    assert_eq!(behind["stream"], "clicks", "sorted by stream: clicks first");
    assert_eq!(behind["checkpoint"], "TRIM_HORIZON");
    assert_eq!(behind["lag_records"], 4);
    let orders_lease = find(
        &b["leases"],
        "lease_key",
        "000000000000:orders:1700000000:shardId-000000000000",
    );
    assert_eq!(orders_lease["lag_records"], 3, "5 records, checkpoint at the 2nd");
    assert_eq!(orders_lease["owner"], "worker-1");
    let ended = find(&b["leases"], "checkpoint", "SHARD_END");
    assert_eq!(ended["lag_records"], 0);

    let text = setup.run("status", &["--endpoint-url", &engine.endpoint]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("endpoint  {} (from --endpoint-url)", engine.endpoint)),
        "{text}"
    );
    assert!(
        text.contains("stream orders  ACTIVE  3 open / 1 closed shards"),
        "{text}"
    );
    assert!(
        text.contains("  shardId-000000000000  closed  5 records"),
        "{text}"
    );
    assert!(
        text.contains("application app-b  (3 leases, streams clicks, orders)"),
        "{text}"
    );
    let abbreviated = format!("{}…{}", &orders[1][..4], &orders[1][orders[1].len() - 4..]);
    let line = text
        .lines()
        .find(|l| l.starts_with("  orders/shardId-000000000000  3 behind, "))
        .unwrap_or_else(|| panic!("a line for orders' first shard: {text}"));
    assert!(
        line.contains(&format!("checkpoint {abbreviated}  owner worker-1")),
        "{text}"
    );
}

#[test]
fn an_unreachable_endpoint_is_unhealthy_exit_1() {
    let setup = Setup::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = setup.run("status", &["--endpoint-url", &url, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["healthy"], false);
    assert!(
        s["problem"]
            .as_str()
            .expect("problem")
            .starts_with("Kinesis ListStreams: cannot reach the endpoint ("),
        "{s}"
    );
    let text = setup.run("status", &["--endpoint-url", &url]);
    assert_eq!(text.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&text.stdout)
        .contains("health    unhealthy: Kinesis ListStreams: cannot reach the endpoint"));
}

/// Finding 4: a 13-minute-old backlog showed as "0 ms behind" (a read-ahead
/// `MillisBehindLatest`). The lag is now the records after the checkpoint and the age of the
/// oldest of them, in human units; an empty lease table is no application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_is_the_age_of_the_oldest_undelivered_record() {
    let clock = kinlocal::engine::clock::Clock::default();
    let engine = TestEngine::start_with(kinlocal::engine::EngineConfig {
        clock: clock.clone(),
        ..Default::default()
    });
    let k = engine.kinesis().await;
    let d = engine.dynamodb().await;
    let back = 13 * 60_000 + 2_000;
    clock.advance_ms(-back);
    create_stream(&k, "old", 1).await;
    let seqs = put_on_first_shard(&k, "old", 5).await;
    clock.advance_ms(back);
    put_on_first_shard(&k, "old", 2).await;
    lease_table(&d, "app-old").await;
    lease(&d, "app-old", "shardId-000000000000", &seqs[0]).await;
    lease_table(&d, "app-empty").await;

    let setup = Setup::new();
    let out = setup.run("status", &["--endpoint-url", &engine.endpoint, "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let apps = s["applications"].as_array().expect("applications");
    assert_eq!(apps.len(), 1, "the empty lease table is not listed: {s}");
    let l = &apps[0]["leases"][0];
    assert_eq!(l["lag_records"], 6, "{l}");
    let age = l["lag_age_ms"].as_u64().expect("lag_age_ms");
    assert!((back as u64 - 1_000..back as u64 + 60_000).contains(&age), "{l}");

    let out = setup.run("status", &["--endpoint-url", &engine.endpoint]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("app-empty"), "{text}");
    assert!(
        text.contains("application app-old  (1 lease, stream old)"),
        "{text}"
    );
    assert!(
        text.contains("  behind  6 records; oldest undelivered 13m ")
            && text.contains(" ago (shardId-000000000000)"),
        "{text}"
    );
    assert!(text.contains("  shardId-000000000000  6 behind, 13m "), "{text}");
    assert!(!text.contains("ms behind"), "{text}");
}
