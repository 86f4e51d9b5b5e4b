//! The Kinesis Client Library 3.x start-up sequence against the embedded DynamoDB, call by
//! call as the KCL makes it (facts read from amazon-kinesis-client: `DynamoDBLeaseRefresher`,
//! `DynamoDBLeaseSerializer`, the coordinator-state and worker-metrics DAOs, and the 3.x
//! migration's transactions):
//!
//! 1. create the lease table (`leaseKey` S HASH, on demand) and wait ACTIVE;
//! 2. `UpdateTable` adding `LeaseOwnerToLeaseKeyIndex` (`leaseOwner` HASH, `leaseKey` RANGE,
//!    KEYS_ONLY, no throughput on an on-demand table, both attributes defined), then poll
//!    DescribeTable until the index is ACTIVE;
//! 3. create `<app>-CoordinatorState` (`key` S HASH) and `<app>-WorkerMetricStats` (`wid` S
//!    HASH) and write the `Migration3.0` state and a worker's metrics;
//! 4. create leases and take them with conditional updates on `leaseCounter`;
//! 5. `Query` the index by `leaseOwner = :leaseOwner`, following `LastEvaluatedKey`;
//! 6. move coordinator state into the lease table with `TransactWriteItems` (3.5 migration).

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BillingMode, CreateGlobalSecondaryIndexAction, Delete, GlobalSecondaryIndexUpdate,
    KeyType, ProjectionType, Put, ScalarAttributeType as T, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use kinlocal::engine::EngineConfig;

use crate::dynamodb_support::{def, err, index_status, item, key, n, projection, s, wait_table_active, Item};
use crate::support::TestEngine;

const APP: &str = "orders-app";
const INDEX: &str = "LeaseOwnerToLeaseKeyIndex";

async fn create_hash_table(c: &Client, name: &str, hash: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(hash, KeyType::Hash))
        .attribute_definitions(def(hash, T::S))
        .send()
        .await
        .expect("create table");
    wait_table_active(c, name).await;
}

/// `listLeaseKeysForWorker`: the index, paged, lease keys only.
async fn lease_keys_of(c: &Client, owner: &str, page: i32) -> Vec<String> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let resp = c
            .query()
            .table_name(APP)
            .index_name(INDEX)
            .key_condition_expression("leaseOwner = :leaseOwner")
            .expression_attribute_values(":leaseOwner", s(owner))
            .limit(page)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("query LeaseOwnerToLeaseKeyIndex");
        for i in resp.items() {
            match i.get("leaseKey") {
                Some(AV::S(k)) => out.push(k.clone()),
                other => panic!("no leaseKey: {other:?}"),
            }
        }
        match resp.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return out,
        }
    }
}

/// A lease take: compare-and-set on leaseCounter, new owner, counter + 1.
async fn take(c: &Client, lease: &str, expected_counter: i64, owner: &str) -> Result<(), (String, String)> {
    c.update_item()
        .table_name(APP)
        .key("leaseKey", s(lease))
        .condition_expression("leaseCounter = :expected")
        .update_expression("SET leaseOwner = :owner, leaseCounter = :next")
        .expression_attribute_values(":expected", n(expected_counter))
        .expression_attribute_values(":owner", s(owner))
        .expression_attribute_values(":next", n(expected_counter + 1))
        .send()
        .await
        .map(|_| ())
        .map_err(err)
}

#[tokio::test]
async fn dynamodb_kcl3_startup_sequence() {
    let engine = TestEngine::start_with(EngineConfig {
        create_table_delay: Duration::from_millis(300),
        ..EngineConfig::default()
    });
    let c = engine.dynamodb().await;

    // 1. The lease table.
    create_hash_table(&c, APP, "leaseKey").await;

    // 2. The GSI, added by UpdateTable ("KCL 3.0 always starts with the GSI available").
    assert_eq!(index_status(&c, APP, INDEX).await, None);
    let resp = c
        .update_table()
        .table_name(APP)
        .attribute_definitions(def("leaseOwner", T::S))
        .attribute_definitions(def("leaseKey", T::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name(INDEX)
                        .key_schema(key("leaseOwner", KeyType::Hash))
                        .key_schema(key("leaseKey", KeyType::Range))
                        .projection(projection(ProjectionType::KeysOnly, &[]))
                        .build()
                        .expect("create index action"),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable adding the GSI");
    let status = resp
        .table_description()
        .and_then(|d| {
            d.global_secondary_indexes()
                .iter()
                .find(|g| g.index_name() == Some(INDEX))
        })
        .and_then(|g| g.index_status())
        .map(|s| s.as_str().to_string());
    assert_eq!(status.as_deref(), Some("CREATING"));
    // waitUntilLeaseOwnerToLeaseKeyIndexExists: poll until ACTIVE.
    let mut polls = 0;
    while index_status(&c, APP, INDEX).await.as_deref() != Some("ACTIVE") {
        polls += 1;
        assert!(polls < 200, "index never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(polls > 0, "the index was CREATING for a while");

    // 3. Coordinator state and worker metrics tables.
    let coordinator = format!("{APP}-CoordinatorState");
    let metrics = format!("{APP}-WorkerMetricStats");
    create_hash_table(&c, &coordinator, "key").await;
    create_hash_table(&c, &metrics, "wid").await;
    c.put_item()
        .table_name(&coordinator)
        .set_item(Some(item(&[
            ("key", s("Migration3.0")),
            ("cv", s("CLIENT_VERSION_3x")),
            ("mb", s("worker-a")),
            ("mts", n(1_700_000_000)),
        ])))
        .condition_expression("attribute_not_exists(#key)")
        .expression_attribute_names("#key", "key")
        .send()
        .await
        .expect("migration state");
    for w in ["worker-a", "worker-b"] {
        c.update_item()
            .table_name(&metrics)
            .key("wid", s(w))
            .update_expression("SET lut = :lut, opsPerSec = :o")
            .expression_attribute_values(":lut", n(1_700_000_000))
            .expression_attribute_values(":o", AV::L(vec![n(1), n(2)]))
            .send()
            .await
            .expect("worker metrics");
    }
    let workers = c.scan().table_name(&metrics).send().await.expect("scan metrics");
    assert_eq!(workers.count(), 2);

    // 4. Leases: created unowned (not in the sparse index), then taken with conditional updates.
    for i in 0..6 {
        c.put_item()
            .table_name(APP)
            .set_item(Some(item(&[
                ("leaseKey", s(&format!("shardId-{i:012}"))),
                ("leaseCounter", n(0)),
                ("checkpoint", s("TRIM_HORIZON")),
                ("ownerSwitchesSinceCheckpoint", n(0)),
            ])))
            .condition_expression("attribute_not_exists(leaseKey)")
            .send()
            .await
            .expect("create lease");
    }
    assert!(lease_keys_of(&c, "worker-a", 2).await.is_empty());
    for i in 0..6 {
        let owner = if i % 3 == 2 { "worker-b" } else { "worker-a" };
        take(&c, &format!("shardId-{i:012}"), 0, owner)
            .await
            .expect("take lease");
    }
    // A stale take loses.
    let stale = take(&c, "shardId-000000000000", 0, "worker-b").await;
    assert_eq!(
        stale.map_err(|e| e.0),
        Err("ConditionalCheckFailedException".to_string())
    );

    // 5. The worker's leases by the index, a page of 2 at a time.
    assert_eq!(
        lease_keys_of(&c, "worker-a", 2).await,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000003",
            "shardId-000000000004"
        ]
    );
    assert_eq!(
        lease_keys_of(&c, "worker-b", 2).await,
        ["shardId-000000000002", "shardId-000000000005"]
    );
    // A lease moving (rebalance) shows up under its new owner at once.
    take(&c, "shardId-000000000001", 1, "worker-b")
        .await
        .expect("steal");
    assert_eq!(lease_keys_of(&c, "worker-a", 10).await.len(), 3);
    assert_eq!(lease_keys_of(&c, "worker-b", 10).await.len(), 3);

    // 6. 3.5 migration: coordinator state moves into the lease table in one transaction.
    c.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(APP)
                        .set_item(Some(item(&[
                            ("leaseKey", s("Migration3.0")),
                            ("entityType", s("MIGRATION")),
                            ("cv", s("CLIENT_VERSION_3x")),
                        ])))
                        .condition_expression("attribute_not_exists(leaseKey)")
                        .build()
                        .expect("put"),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&coordinator)
                        .key("key", s("Migration3.0"))
                        .build()
                        .expect("delete"),
                )
                .build(),
        )
        .send()
        .await
        .expect("migration transaction");
    let moved = c
        .get_item()
        .table_name(APP)
        .key("leaseKey", s("Migration3.0"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        moved.item().and_then(|i| i.get("entityType")),
        Some(&s("MIGRATION"))
    );
    let gone = c
        .get_item()
        .table_name(&coordinator)
        .key("key", s("Migration3.0"))
        .send()
        .await
        .expect("get");
    assert!(gone.item().is_none());
    // The coordinator entry has no leaseOwner: the index still lists leases only.
    assert_eq!(lease_keys_of(&c, "worker-a", 10).await.len(), 3);
    let d = c.describe_table().table_name(APP).send().await.expect("describe");
    let ix = &d.table().expect("table").global_secondary_indexes()[0];
    assert_eq!(ix.item_count(), Some(6));
}
