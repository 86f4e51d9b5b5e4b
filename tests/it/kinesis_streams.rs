//! Stream lifecycle through the real aws-sdk-kinesis: create, describe, list, delete,
//! retention, tags, limits, on-demand, status transitions, and their error paths.

use std::time::Duration;

use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails, StreamStatus};
use kinlocal::engine::EngineConfig;

use crate::support::{create_stream, error_code, TestEngine};

#[tokio::test]
async fn create_describe_list_delete() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "orders", 3).await;

    let d = k
        .describe_stream()
        .stream_name("orders")
        .send()
        .await
        .expect("describe");
    let desc = d.stream_description().expect("description");
    assert_eq!(desc.stream_name(), "orders");
    assert_eq!(
        desc.stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    );
    assert_eq!(desc.stream_status(), &StreamStatus::Active);
    assert_eq!(desc.retention_period_hours(), 24);
    assert!(!desc.has_more_shards());
    let ids: Vec<_> = desc.shards().iter().map(|s| s.shard_id().to_string()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    // Exactly AWS's ranges for three shards.
    let r = desc.shards()[1].hash_key_range().expect("range");
    assert_eq!(r.starting_hash_key(), "113427455640312821154458202477256070485");
    assert_eq!(r.ending_hash_key(), "226854911280625642308916404954512140969");
    assert_eq!(
        desc.shards()[2]
            .hash_key_range()
            .expect("range")
            .ending_hash_key(),
        "340282366920938463463374607431768211455"
    );
    let start = desc.shards()[0]
        .sequence_number_range()
        .expect("seq range")
        .starting_sequence_number();
    assert_eq!(start.len(), 56, "sequence numbers are 56 digits: {start}");

    let summary = k
        .describe_stream_summary()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/orders")
        .send()
        .await
        .expect("summary by ARN");
    let s = summary.stream_description_summary().expect("summary");
    assert_eq!(s.open_shard_count(), 3);
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::Provisioned)
    );

    let err = k
        .create_stream()
        .stream_name("orders")
        .shard_count(1)
        .send()
        .await
        .expect_err("dup");
    assert_eq!(error_code(&err), "ResourceInUseException");

    k.delete_stream()
        .stream_name("orders")
        .send()
        .await
        .expect("delete");
    let err = k
        .describe_stream()
        .stream_name("orders")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let msg = err
        .as_service_error()
        .and_then(|e| e.meta().message())
        .unwrap_or_default()
        .to_string();
    assert_eq!(msg, "Stream orders under account 000000000000 not found.");
}

#[tokio::test]
async fn describe_stream_and_list_streams_page() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "paged", 5).await;
    let first = k
        .describe_stream()
        .stream_name("paged")
        .limit(2)
        .send()
        .await
        .expect("page 1");
    let d = first.stream_description().expect("desc");
    assert_eq!(d.shards().len(), 2);
    assert!(d.has_more_shards());
    let second = k
        .describe_stream()
        .stream_name("paged")
        .limit(10)
        .exclusive_start_shard_id(d.shards()[1].shard_id())
        .send()
        .await
        .expect("page 2");
    let d2 = second.stream_description().expect("desc");
    assert_eq!(d2.shards().len(), 3);
    assert!(!d2.has_more_shards());
    assert_eq!(d2.shards()[0].shard_id(), "shardId-000000000002");

    for name in ["a", "b", "c", "d"] {
        create_stream(&k, name, 1).await;
    }
    let page = k.list_streams().limit(2).send().await.expect("list");
    assert_eq!(page.stream_names(), ["a", "b"]);
    assert!(page.has_more_streams());
    assert_eq!(page.stream_summaries().len(), 2);
    let token = page.next_token().expect("token").to_string();
    let page2 = k
        .list_streams()
        .next_token(token)
        .limit(10)
        .send()
        .await
        .expect("list 2");
    assert_eq!(page2.stream_names(), ["c", "d", "paged"]);
    assert!(!page2.has_more_streams());
    let page3 = k
        .list_streams()
        .exclusive_start_stream_name("c")
        .send()
        .await
        .expect("list 3");
    assert_eq!(page3.stream_names(), ["d", "paged"]);
}

#[tokio::test]
async fn validation_errors_use_aws_types_and_wording() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    let err = k
        .create_stream()
        .stream_name("bad name!")
        .shard_count(1)
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(error_code(&err), "ValidationException");
    let msg = err
        .as_service_error()
        .and_then(|e| e.meta().message())
        .unwrap_or_default()
        .to_string();
    assert!(
        msg.starts_with(
            "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint"
        ),
        "{msg}"
    );
    let err = k
        .create_stream()
        .stream_name("x")
        .shard_count(0)
        .send()
        .await
        .expect_err("zero shards");
    assert_eq!(error_code(&err), "ValidationException");
    let long = "n".repeat(129);
    let err = k
        .create_stream()
        .stream_name(long)
        .shard_count(1)
        .send()
        .await
        .expect_err("long");
    assert_eq!(error_code(&err), "ValidationException");
    let err = k
        .delete_stream()
        .stream_name("missing")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let err = k
        .describe_stream_summary()
        .stream_arn("not-an-arn")
        .send()
        .await
        .expect_err("bad arn");
    assert_eq!(error_code(&err), "ValidationException");
}

#[tokio::test]
async fn on_demand_streams_have_four_shards_and_refuse_resharding() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    k.create_stream()
        .stream_name("od")
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("mode"),
        )
        .send()
        .await
        .expect("create on-demand");
    let s = k
        .describe_stream_summary()
        .stream_name("od")
        .send()
        .await
        .expect("summary");
    let s = s.stream_description_summary().expect("summary");
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::OnDemand)
    );
    let err = k
        .split_shard()
        .stream_name("od")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("1000")
        .send()
        .await
        .expect_err("split on on-demand");
    assert_eq!(error_code(&err), "ValidationException");
    let err = k
        .update_shard_count()
        .stream_name("od")
        .target_shard_count(8)
        .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
        .send()
        .await
        .expect_err("update on on-demand");
    assert_eq!(error_code(&err), "ValidationException");
}

#[tokio::test]
async fn status_goes_creating_then_active_with_a_delay() {
    let engine = TestEngine::start_with(EngineConfig {
        create_stream_delay: Duration::from_millis(300),
        ..Default::default()
    });
    let k = engine.kinesis().await;
    k.create_stream()
        .stream_name("slow")
        .shard_count(1)
        .send()
        .await
        .expect("create");
    let s = k
        .describe_stream_summary()
        .stream_name("slow")
        .send()
        .await
        .expect("summary");
    assert_eq!(
        s.stream_description_summary().expect("s").stream_status(),
        &StreamStatus::Creating
    );
    // Writes are refused until ACTIVE.
    let err = k
        .put_record()
        .stream_name("slow")
        .partition_key("k")
        .data(aws_sdk_kinesis::primitives::Blob::new("x"))
        .send()
        .await
        .expect_err("not active yet");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let s = k
        .describe_stream_summary()
        .stream_name("slow")
        .send()
        .await
        .expect("summary");
    assert_eq!(
        s.stream_description_summary().expect("s").stream_status(),
        &StreamStatus::Active
    );
}

#[tokio::test]
async fn retention_changes_validate_and_trim() {
    let config = EngineConfig::default();
    let clock = config.clock.clone();
    let engine = TestEngine::start_with(config);
    let k = engine.kinesis().await;
    create_stream(&k, "ret", 1).await;
    let err = k
        .decrease_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(12)
        .send()
        .await
        .expect_err("below 24");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = k
        .increase_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(9000)
        .send()
        .await
        .expect_err("above 8760");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    k.increase_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(48)
        .send()
        .await
        .expect("increase");
    let err = k
        .increase_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(30)
        .send()
        .await
        .expect_err("increase to less");
    assert_eq!(error_code(&err), "InvalidArgumentException");

    k.put_record()
        .stream_name("ret")
        .partition_key("old")
        .data(aws_sdk_kinesis::primitives::Blob::new("old"))
        .send()
        .await
        .expect("put old");
    // 30 hours later the old record is still inside the 48 h retention...
    clock.advance_ms(30 * 3_600_000);
    k.put_record()
        .stream_name("ret")
        .partition_key("new")
        .data(aws_sdk_kinesis::primitives::Blob::new("new"))
        .send()
        .await
        .expect("put new");
    let all = crate::support::read_shard(&k, "ret", "shardId-000000000000").await;
    assert_eq!(all.len(), 2);
    // ...and falls out when retention drops back to 24 h.
    k.decrease_stream_retention_period()
        .stream_name("ret")
        .retention_period_hours(24)
        .send()
        .await
        .expect("decrease");
    let all = crate::support::read_shard(&k, "ret", "shardId-000000000000").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].partition_key(), Some("new"));
    // And after another 25 hours nothing is left.
    clock.advance_ms(25 * 3_600_000);
    let all = crate::support::read_shard(&k, "ret", "shardId-000000000000").await;
    assert!(all.is_empty());
}

#[tokio::test]
async fn tags_add_list_remove() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "tagged", 1).await;
    k.add_tags_to_stream()
        .stream_name("tagged")
        .tags("team", "data")
        .tags("env", "dev")
        .send()
        .await
        .expect("add tags");
    let t = k
        .list_tags_for_stream()
        .stream_name("tagged")
        .send()
        .await
        .expect("list tags");
    let pairs: Vec<_> = t
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("env".to_string(), "dev".to_string()),
            ("team".to_string(), "data".to_string())
        ]
    );
    let page = k
        .list_tags_for_stream()
        .stream_name("tagged")
        .limit(1)
        .send()
        .await
        .expect("page");
    assert_eq!(page.tags().len(), 1);
    assert!(page.has_more_tags());
    k.remove_tags_from_stream()
        .stream_name("tagged")
        .tag_keys("env")
        .send()
        .await
        .expect("remove");
    let t = k
        .list_tags_for_stream()
        .stream_name("tagged")
        .send()
        .await
        .expect("list tags");
    assert_eq!(t.tags().len(), 1);
    assert_eq!(t.tags()[0].key(), "team");
    let err = k
        .list_tags_for_stream()
        .stream_name("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn describe_limits_counts_open_shards() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "l1", 2).await;
    create_stream(&k, "l2", 3).await;
    let l = k.describe_limits().send().await.expect("limits");
    assert_eq!(l.open_shard_count(), 5);
    assert!(l.shard_limit() >= 5);
}
