//! The small operations clients call on start (tags, time to live, continuous backups),
//! ReturnValuesOnConditionCheckFailure and ConsumedCapacity shapes, expired items deleted in
//! the background, and every piece of table state surviving a restart with `--data-dir`.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BillingMode, GlobalSecondaryIndexUpdate, KeyType, PointInTimeRecoverySpecification,
    ProjectionType, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, ScalarAttributeType as T,
    Tag, TimeToLiveSpecification, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use kinlocal::engine::EngineConfig;

use crate::dynamodb_support::{def, err, gsi, item, key, n, projection, s, wait_table_active};
use crate::support::TestEngine;

async fn table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", T::S))
        .attribute_definitions(def("grp", T::S))
        .global_secondary_indexes(gsi("byGrp", "grp", None, projection(ProjectionType::All, &[])))
        .send()
        .await
        .expect("create");
    wait_table_active(c, name).await;
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

async fn tags(c: &Client, arn: &str) -> Vec<(String, String)> {
    c.list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags")
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn dynamodb_tags_ttl_and_backups() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "cfg").await;
    let arn = c
        .describe_table()
        .table_name("cfg")
        .send()
        .await
        .expect("describe")
        .table()
        .and_then(|t| t.table_arn().map(str::to_string))
        .expect("arn");

    // Tags.
    assert!(tags(&c, &arn).await.is_empty());
    c.tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "streams"))
        .tags(tag("env", "dev"))
        .send()
        .await
        .expect("tag");
    c.tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "ci"))
        .send()
        .await
        .expect("retag");
    assert_eq!(
        tags(&c, &arn).await,
        [
            ("env".to_string(), "ci".to_string()),
            ("team".to_string(), "streams".to_string())
        ]
    );
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .expect("untag");
    assert_eq!(tags(&c, &arn).await, [("env".to_string(), "ci".to_string())]);
    let v = |m: &str| Err::<(), _>(("ValidationException".to_string(), m.to_string()));
    assert_eq!(
        c.tag_resource().resource_arn("not-an-arn").tags(tag("a", "b")).send().await.map(|_| ()).map_err(err),
        Err((
            "AccessDeniedException".to_string(),
            "User: arn:aws:iam::000000000000:user/kinlocal is not authorized to perform: dynamodb:TagResource on resource: not-an-arn".to_string()
        ))
    );
    let stream_arn = format!("{arn}/stream/2024");
    assert_eq!(
        c.tag_resource()
            .resource_arn(&stream_arn)
            .tags(tag("a", "b"))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v(&format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {stream_arn}"
        ))
    );
    let missing = arn.replace("table/cfg", "table/gone");
    assert_eq!(
        c.list_tags_of_resource()
            .resource_arn(&missing)
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        Err((
            "ResourceNotFoundException".to_string(),
            format!("Requested resource not found: ResourcArn: {missing} not found")
        ))
    );
    assert_eq!(
        c.untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(vec![]))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Atleast one Tag Key needs to be provided as Input.")
    );

    // Time to live.
    let ttl = c
        .describe_time_to_live()
        .table_name("cfg")
        .send()
        .await
        .expect("describe ttl");
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    let spec = |on: bool, attr: &str| {
        TimeToLiveSpecification::builder()
            .enabled(on)
            .attribute_name(attr)
            .build()
            .expect("spec")
    };
    let out = c
        .update_time_to_live()
        .table_name("cfg")
        .time_to_live_specification(spec(true, "expires"))
        .send()
        .await
        .expect("enable ttl");
    assert_eq!(out.time_to_live_specification().map(|s| s.enabled()), Some(true));
    let ttl = c
        .describe_time_to_live()
        .table_name("cfg")
        .send()
        .await
        .expect("describe ttl");
    let d = ttl.time_to_live_description().expect("description");
    assert_eq!(d.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(d.attribute_name(), Some("expires"));
    assert_eq!(
        c.update_time_to_live()
            .table_name("cfg")
            .time_to_live_specification(spec(true, "expires"))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("TimeToLive is already enabled")
    );
    assert_eq!(
        c.describe_time_to_live()
            .table_name("gone")
            .send()
            .await
            .map(|_| ())
            .map_err(err)
            .map_err(|e| e.0),
        Err("ResourceNotFoundException".to_string())
    );

    // Continuous backups: state only.
    let b = c
        .describe_continuous_backups()
        .table_name("cfg")
        .send()
        .await
        .expect("describe backups");
    let d = b.continuous_backups_description().expect("description");
    assert_eq!(d.continuous_backups_status().as_str(), "ENABLED");
    assert_eq!(
        d.point_in_time_recovery_description()
            .and_then(|p| p.point_in_time_recovery_status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    let b = c
        .update_continuous_backups()
        .table_name("cfg")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .expect("pitr"),
        )
        .send()
        .await
        .expect("enable pitr");
    let p = b
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .expect("pitr description");
    assert_eq!(
        p.point_in_time_recovery_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
    assert!(p.earliest_restorable_date_time().is_some());
    assert_eq!(
        c.describe_continuous_backups()
            .table_name("gone")
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        Err((
            "TableNotFoundException".to_string(),
            "Table not found: gone".to_string()
        ))
    );

    // ReturnValuesOnConditionCheckFailure on a single-item write.
    c.put_item()
        .table_name("cfg")
        .set_item(Some(item(&[("id", s("k")), ("v", n(1))])))
        .send()
        .await
        .expect("put");
    let e = c
        .put_item()
        .table_name("cfg")
        .set_item(Some(item(&[("id", s("k")), ("v", n(2))])))
        .condition_expression("attribute_not_exists(id)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect_err("condition fails");
    let se = e.into_service_error();
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(cc) = se else {
        panic!("not a ConditionalCheckFailedException: {se:?}");
    };
    assert_eq!(cc.item().and_then(|i| i.get("v")), Some(&n(1)));

    // ConsumedCapacity: TOTAL and INDEXES (a write to a GSI-indexed item counts the index).
    let out = c
        .put_item()
        .table_name("cfg")
        .set_item(Some(item(&[("id", s("g")), ("grp", s("x"))])))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("put with capacity");
    let cap = out.consumed_capacity().expect("capacity");
    assert_eq!(cap.table_name(), Some("cfg"));
    assert_eq!(cap.capacity_units(), Some(2.0));
    assert_eq!(cap.table().and_then(|t| t.capacity_units()), Some(1.0));
    assert_eq!(
        cap.global_secondary_indexes()
            .and_then(|m| m.get("byGrp"))
            .and_then(|c| c.capacity_units()),
        Some(1.0)
    );
    let out = c
        .get_item()
        .table_name("cfg")
        .key("id", s("g"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("get with capacity");
    assert_eq!(
        out.consumed_capacity().and_then(|c| c.capacity_units()),
        Some(0.5)
    );
}

#[tokio::test]
async fn dynamodb_expired_items_are_deleted_in_the_background() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "ttl").await;
    c.update_time_to_live()
        .table_name("ttl")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires")
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("enable");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    for (id, expires) in [
        ("past", Some(n(now - 10))),
        ("future", Some(n(now + 3600))),
        ("never", None),
        ("text", Some(s("soon"))),
        // More than five years old: DynamoDB leaves it.
        ("ancient", Some(n(now - 6 * 365 * 86_400))),
    ] {
        let mut it = item(&[("id", s(id)), ("grp", s("g"))]);
        if let Some(e) = expires {
            it.insert("expires".into(), e);
        }
        c.put_item()
            .table_name("ttl")
            .set_item(Some(it))
            .send()
            .await
            .expect("put");
    }
    let mut left = Vec::new();
    for _ in 0..100 {
        let scan = c.scan().table_name("ttl").send().await.expect("scan");
        left = scan
            .items()
            .iter()
            .filter_map(|i| match i.get("id") {
                Some(AV::S(v)) => Some(v.clone()),
                _ => None,
            })
            .collect();
        left.sort();
        if !left.contains(&"past".to_string()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, ["ancient", "future", "never", "text"]);
    // The index lost the item too.
    let q = c
        .query()
        .table_name("ttl")
        .index_name("byGrp")
        .key_condition_expression("grp = :g")
        .expression_attribute_values(":g", s("g"))
        .send()
        .await
        .expect("query");
    assert_eq!(q.count(), 4);
}

#[tokio::test]
async fn dynamodb_indexes_tags_ttl_and_transactions_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || EngineConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..EngineConfig::default()
    };
    let arn;
    {
        let engine = TestEngine::start_with(config());
        let c = engine.dynamodb().await;
        table(&c, "keep").await;
        arn = c
            .describe_table()
            .table_name("keep")
            .send()
            .await
            .expect("describe")
            .table()
            .and_then(|t| t.table_arn().map(str::to_string))
            .expect("arn");
        c.update_table()
            .table_name("keep")
            .attribute_definitions(def("owner", T::S))
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(
                        aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                            .index_name("byOwner")
                            .key_schema(key("owner", KeyType::Hash))
                            .projection(projection(ProjectionType::KeysOnly, &[]))
                            .build()
                            .expect("create"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("add index");
        c.tag_resource()
            .resource_arn(&arn)
            .tags(tag("team", "streams"))
            .send()
            .await
            .expect("tag");
        c.update_time_to_live()
            .table_name("keep")
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("exp")
                    .build()
                    .expect("spec"),
            )
            .send()
            .await
            .expect("ttl");
        let upd = |id: &str, owner: &str| {
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("keep")
                        .key("id", s(id))
                        .update_expression("SET #o = :o, grp = :g")
                        .expression_attribute_names("#o", "owner")
                        .expression_attribute_values(":o", s(owner))
                        .expression_attribute_values(":g", s("g1"))
                        .build()
                        .expect("update"),
                )
                .build()
        };
        c.transact_write_items()
            .transact_items(upd("l1", "w1"))
            .transact_items(upd("l2", "w1"))
            .transact_items(upd("l3", "w2"))
            .send()
            .await
            .expect("transaction");
    }
    let engine = TestEngine::start_with(config());
    let c = engine.dynamodb().await;
    let d = c
        .describe_table()
        .table_name("keep")
        .send()
        .await
        .expect("describe");
    let t = d.table().expect("table");
    let mut ixs: Vec<(String, i64)> = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            (
                g.index_name().unwrap_or("").to_string(),
                g.item_count().unwrap_or(-1),
            )
        })
        .collect();
    ixs.sort();
    assert_eq!(ixs, [("byGrp".to_string(), 3), ("byOwner".to_string(), 3)]);
    assert_eq!(
        tags(&c, &arn).await,
        [("team".to_string(), "streams".to_string())]
    );
    let ttl = c
        .describe_time_to_live()
        .table_name("keep")
        .send()
        .await
        .expect("ttl");
    assert_eq!(
        ttl.time_to_live_description().and_then(|d| d.attribute_name()),
        Some("exp")
    );
    let q = c
        .query()
        .table_name("keep")
        .index_name("byOwner")
        .key_condition_expression("#o = :o")
        .expression_attribute_names("#o", "owner")
        .expression_attribute_values(":o", s("w1"))
        .send()
        .await
        .expect("query after restart");
    assert_eq!(q.count(), 2);
}
