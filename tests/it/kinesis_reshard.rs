//! Resharding through the real SDK: split, merge, UpdateShardCount, ListShards filters and
//! paging, and the end of a closed shard (`NextShardIterator: null` + `ChildShards`).

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ScalingType, ShardFilter, ShardFilterType, ShardIteratorType};

use crate::support::{create_stream, error_code, read_shard, TestEngine};

async fn shards(
    k: &aws_sdk_kinesis::Client,
    stream: &str,
    filter: Option<ShardFilter>,
) -> Vec<aws_sdk_kinesis::types::Shard> {
    k.list_shards()
        .stream_name(stream)
        .set_shard_filter(filter)
        .send()
        .await
        .expect("list shards")
        .shards()
        .to_vec()
}

fn filter(kind: ShardFilterType) -> ShardFilter {
    ShardFilter::builder().r#type(kind).build().expect("filter")
}

#[tokio::test]
async fn split_closes_parent_and_children_take_over() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 1).await;
    k.put_record()
        .stream_name("s")
        .partition_key("a")
        .data(Blob::new("before"))
        .send()
        .await
        .expect("put");
    k.split_shard()
        .stream_name("s")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("170141183460469231731687303715884105728")
        .send()
        .await
        .expect("split");
    let all = shards(&k, "s", None).await;
    assert_eq!(all.len(), 3);
    let parent = &all[0];
    assert!(parent
        .sequence_number_range()
        .expect("range")
        .ending_sequence_number()
        .is_some());
    assert_eq!(all[1].parent_shard_id(), Some("shardId-000000000000"));
    assert_eq!(
        all[1].hash_key_range().expect("r").ending_hash_key(),
        "170141183460469231731687303715884105727"
    );
    assert_eq!(
        all[2].hash_key_range().expect("r").starting_hash_key(),
        "170141183460469231731687303715884105728"
    );
    let open = shards(&k, "s", Some(filter(ShardFilterType::AtLatest))).await;
    assert_eq!(
        open.iter().map(|s| s.shard_id()).collect::<Vec<_>>(),
        ["shardId-000000000001", "shardId-000000000002"]
    );

    // New records go to the children; reading the parent ends with ChildShards and no iterator.
    let r = k
        .put_record()
        .stream_name("s")
        .partition_key("a")
        .data(Blob::new("after"))
        .send()
        .await
        .expect("put");
    assert_ne!(r.shard_id(), "shardId-000000000000");
    let it = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("iterator on closed shard")
        .shard_iterator
        .expect("it");
    let out = k.get_records().shard_iterator(it).send().await.expect("get");
    assert_eq!(out.records().len(), 1);
    assert_eq!(out.records()[0].data().as_ref(), b"before");
    assert!(
        out.next_shard_iterator().is_none(),
        "end of a closed shard has no next iterator"
    );
    let children: Vec<_> = out
        .child_shards()
        .iter()
        .map(|c| c.shard_id().to_string())
        .collect();
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
    assert_eq!(out.child_shards()[0].parent_shards(), ["shardId-000000000000"]);

    // Error paths: split a closed shard, bad hash keys.
    let err = k
        .split_shard()
        .stream_name("s")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("1000")
        .send()
        .await
        .expect_err("split closed");
    assert_eq!(error_code(&err), "ResourceInUseException");
    let err = k
        .split_shard()
        .stream_name("s")
        .shard_to_split("shardId-000000000001")
        .new_starting_hash_key("1")
        .send()
        .await
        .expect_err("key at the start");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = k
        .split_shard()
        .stream_name("s")
        .shard_to_split("shardId-000000000099")
        .new_starting_hash_key("1000")
        .send()
        .await
        .expect_err("no shard");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn merge_adjacent_shards_and_refuse_non_adjacent() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 3).await;
    let err = k
        .merge_shards()
        .stream_name("s")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000002")
        .send()
        .await
        .expect_err("not adjacent");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    k.put_record()
        .stream_name("s")
        .partition_key("a")
        .data(Blob::new("p0"))
        .send()
        .await
        .expect("put");
    k.merge_shards()
        .stream_name("s")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await
        .expect("merge");
    let all = shards(&k, "s", None).await;
    let child = all
        .iter()
        .find(|s| s.shard_id() == "shardId-000000000003")
        .expect("child");
    assert_eq!(child.parent_shard_id(), Some("shardId-000000000000"));
    assert_eq!(child.adjacent_parent_shard_id(), Some("shardId-000000000001"));
    assert_eq!(child.hash_key_range().expect("r").starting_hash_key(), "0");
    assert_eq!(
        child.hash_key_range().expect("r").ending_hash_key(),
        "226854911280625642308916404954512140969"
    );
    // Both parents end with the merged child.
    for parent in ["shardId-000000000000", "shardId-000000000001"] {
        let it = k
            .get_shard_iterator()
            .stream_name("s")
            .shard_id(parent)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("it")
            .shard_iterator
            .expect("it");
        let out = k.get_records().shard_iterator(it).send().await.expect("get");
        assert!(out.next_shard_iterator().is_none());
        assert_eq!(out.child_shards()[0].shard_id(), "shardId-000000000003");
        assert_eq!(
            out.child_shards()[0].parent_shards(),
            ["shardId-000000000000", "shardId-000000000001"]
        );
    }
    let err = k
        .merge_shards()
        .stream_name("s")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000003")
        .send()
        .await
        .expect_err("merge closed");
    assert_eq!(error_code(&err), "ResourceInUseException");
}

#[tokio::test]
async fn update_shard_count_scales_uniformly_and_keeps_records() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 2).await;
    for i in 0..20 {
        k.put_record()
            .stream_name("s")
            .partition_key(format!("k{i}"))
            .data(Blob::new(format!("{i}")))
            .send()
            .await
            .expect("put");
    }
    let out = k
        .update_shard_count()
        .stream_name("s")
        .target_shard_count(3)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .expect("update");
    assert_eq!(out.current_shard_count(), Some(2));
    assert_eq!(out.target_shard_count(), Some(3));
    let open = shards(&k, "s", Some(filter(ShardFilterType::AtLatest))).await;
    let mut ranges: Vec<_> = open
        .iter()
        .map(|s| s.hash_key_range().expect("r").starting_hash_key().to_string())
        .collect();
    ranges.sort_by_key(|r| (r.len(), r.clone()));
    assert_eq!(
        ranges,
        [
            "0",
            "113427455640312821154458202477256070485",
            "226854911280625642308916404954512140970"
        ]
    );
    let mut total = 0;
    for s in shards(&k, "s", None).await {
        total += read_shard(&k, "s", s.shard_id()).await.len();
    }
    assert_eq!(total, 20);
    let err = k
        .update_shard_count()
        .stream_name("s")
        .target_shard_count(7)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .expect_err("more than double");
    assert_eq!(error_code(&err), "LimitExceededException");
}

#[tokio::test]
async fn list_shards_paging_filters_and_tokens() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 4).await;
    let page = k
        .list_shards()
        .stream_name("s")
        .max_results(3)
        .send()
        .await
        .expect("page 1");
    assert_eq!(page.shards().len(), 3);
    let token = page.next_token().expect("token").to_string();
    let err = k
        .list_shards()
        .stream_name("s")
        .next_token(&token)
        .send()
        .await
        .expect_err("token + name");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let page2 = k.list_shards().next_token(&token).send().await.expect("page 2");
    assert_eq!(page2.shards().len(), 1);
    assert_eq!(page2.shards()[0].shard_id(), "shardId-000000000003");
    assert!(page2.next_token().is_none());
    let after = k
        .list_shards()
        .stream_name("s")
        .exclusive_start_shard_id("shardId-000000000001")
        .send()
        .await
        .expect("after");
    assert_eq!(after.shards().len(), 2);
    let after_filter = ShardFilter::builder()
        .r#type(ShardFilterType::AfterShardId)
        .shard_id("shardId-000000000002")
        .build()
        .expect("filter");
    assert_eq!(shards(&k, "s", Some(after_filter)).await.len(), 1);

    k.split_shard()
        .stream_name("s")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("1000")
        .send()
        .await
        .expect("split");
    assert_eq!(
        shards(&k, "s", Some(filter(ShardFilterType::AtTrimHorizon)))
            .await
            .len(),
        4
    );
    assert_eq!(
        shards(&k, "s", Some(filter(ShardFilterType::FromTrimHorizon)))
            .await
            .len(),
        6
    );
    assert_eq!(
        shards(&k, "s", Some(filter(ShardFilterType::AtLatest)))
            .await
            .len(),
        5
    );
    let ts = ShardFilter::builder()
        .r#type(ShardFilterType::AtTimestamp)
        .timestamp(aws_sdk_kinesis::primitives::DateTime::from_secs(0))
        .build()
        .expect("filter");
    assert_eq!(
        shards(&k, "s", Some(ts)).await.len(),
        4,
        "at the stream's start: the first four shards"
    );
    let err = k
        .list_shards()
        .stream_name("s")
        .shard_filter(
            ShardFilter::builder()
                .r#type(ShardFilterType::AtTimestamp)
                .build()
                .expect("f"),
        )
        .send()
        .await
        .expect_err("no timestamp");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = k
        .list_shards()
        .stream_name("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}
