//! kinlocal's long poll (`x-kinlocal-wait-ms` on GetRecords), through the real aws-sdk-kinesis:
//! a read at the tip of a shard is held open until a record arrives, and answered with it; a
//! read without the header (what every AWS SDK sends) answers at once, as on AWS.

use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use kinlocal::engine::http::WAIT_HEADER;

use crate::support::{create_stream, TestEngine};

async fn tip_iterator(k: &aws_sdk_kinesis::Client, stream: &str, shard: &str) -> String {
    k.get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await
        .expect("iterator")
        .shard_iterator()
        .expect("an open shard has an iterator")
        .to_string()
}

async fn get_records(
    k: &aws_sdk_kinesis::Client,
    iterator: String,
    wait_ms: Option<u64>,
) -> aws_sdk_kinesis::operation::get_records::GetRecordsOutput {
    let req = k.get_records().shard_iterator(iterator);
    match wait_ms {
        Some(ms) => req
            .customize()
            .mutate_request(move |r| {
                r.headers_mut().insert(WAIT_HEADER, ms.to_string());
            })
            .send()
            .await
            .expect("get records"),
        None => req.send().await.expect("get records"),
    }
}

/// Puts one record on the stream's only shard after `after`.
fn put_later(k: &aws_sdk_kinesis::Client, stream: &str, after: Duration) -> tokio::task::JoinHandle<()> {
    let (k, stream) = (k.clone(), stream.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        k.put_record()
            .stream_name(stream)
            .partition_key("pk")
            .data(Blob::new("late"))
            .send()
            .await
            .expect("put");
    })
}

#[tokio::test]
async fn a_long_poll_at_the_tip_is_answered_with_the_record_put_while_it_waits() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "lp", 1).await;
    let it = tip_iterator(&k, "lp", "shardId-000000000000").await;
    // The read starts before the put, and still returns the record.
    let put = put_later(&k, "lp", Duration::from_millis(150));
    let out = get_records(&k, it, Some(1000)).await;
    put.await.expect("putter");
    let data: Vec<&[u8]> = out.records().iter().map(|r| r.data().as_ref()).collect();
    assert_eq!(data, vec![b"late".as_slice()]);
    assert!(out.next_shard_iterator().is_some());
}

#[tokio::test]
async fn without_the_header_an_empty_read_answers_at_once_as_on_aws() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "now", 1).await;
    let it = tip_iterator(&k, "now", "shardId-000000000000").await;
    let put = put_later(&k, "now", Duration::from_millis(400));
    let out = get_records(&k, it.clone(), None).await;
    assert!(out.records().is_empty(), "answered before the put");
    put.await.expect("putter");
    // A long poll with records already there answers with them (no wait), and one that times
    // out answers empty with a next iterator.
    let out = get_records(&k, it, Some(1000)).await;
    assert_eq!(out.records().len(), 1);
    let next = out.next_shard_iterator().expect("next").to_string();
    let out = get_records(&k, next, Some(50)).await;
    assert!(out.records().is_empty());
    assert!(out.next_shard_iterator().is_some());
}

#[tokio::test]
async fn a_long_poll_on_a_shard_closed_meanwhile_reports_its_end_and_children() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "rs", 1).await;
    let it = tip_iterator(&k, "rs", "shardId-000000000000").await;
    let k2 = k.clone();
    let split = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        k2.split_shard()
            .stream_name("rs")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key("170141183460469231731687303715884105728")
            .send()
            .await
            .expect("split");
    });
    // Held open past the split, the read reports the shard's end and its children.
    let out = get_records(&k, it, Some(1000)).await;
    split.await.expect("splitter");
    assert!(
        out.next_shard_iterator().is_none(),
        "a closed shard read to its end"
    );
    assert_eq!(out.child_shards().len(), 2);
}
