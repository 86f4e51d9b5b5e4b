//! Records through the real aws-sdk-kinesis: puts, reads, iterators, ordering, limits.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use kinlocal::engine::EngineConfig;

use crate::support::{create_stream, error_code, read_shard, TestEngine};

fn entry(pk: &str, data: &[u8]) -> PutRecordsRequestEntry {
    PutRecordsRequestEntry::builder()
        .partition_key(pk)
        .data(Blob::new(data))
        .build()
        .expect("entry")
}

#[tokio::test]
async fn partition_keys_land_on_aws_shards() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 3).await;
    for (pk, shard) in [
        ("a", "shardId-000000000000"),
        ("test", "shardId-000000000000"),
        ("user123", "shardId-000000000001"),
        ("1", "shardId-000000000002"),
        ("pk-0", "shardId-000000000002"),
    ] {
        let r = k
            .put_record()
            .stream_name("s")
            .partition_key(pk)
            .data(Blob::new(pk))
            .send()
            .await
            .expect("put");
        assert_eq!(r.shard_id(), shard, "partition key {pk}");
    }
    // ExplicitHashKey overrides the MD5 of the key.
    let r = k
        .put_record()
        .stream_name("s")
        .partition_key("a")
        .explicit_hash_key("340282366920938463463374607431768211455")
        .data(Blob::new("x"))
        .send()
        .await
        .expect("put ehk");
    assert_eq!(r.shard_id(), "shardId-000000000002");
    let err = k
        .put_record()
        .stream_name("s")
        .partition_key("a")
        .explicit_hash_key("340282366920938463463374607431768211456")
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("ehk too big");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = k
        .put_record()
        .stream_name("s")
        .partition_key("a")
        .explicit_hash_key("abc")
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("ehk not a number");
    assert_eq!(error_code(&err), "ValidationException");
}

#[tokio::test]
async fn put_records_round_trip_in_order_with_increasing_sequence_numbers() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 2).await;
    let entries: Vec<_> = (0..500)
        .map(|i| entry(&format!("key-{}", i % 7), format!("{{\"n\":{i}}}").as_bytes()))
        .collect();
    let out = k
        .put_records()
        .stream_name("s")
        .set_records(Some(entries))
        .send()
        .await
        .expect("put records");
    assert_eq!(out.failed_record_count(), Some(0));
    assert_eq!(out.records().len(), 500);
    let mut read = Vec::new();
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let recs = read_shard(&k, "s", shard).await;
        // Within a shard, sequence numbers strictly increase (compare by length, then digits).
        for w in recs.windows(2) {
            let (a, b) = (w[0].sequence_number(), w[1].sequence_number());
            assert!((a.len(), a) < (b.len(), b), "{a} !< {b}");
        }
        for r in &recs {
            // The sequence number the put returned is the one the read gives.
            assert!(out
                .records()
                .iter()
                .any(|e| e.sequence_number() == Some(r.sequence_number())));
        }
        read.extend(recs);
    }
    assert_eq!(read.len(), 500);
    // Per-key order is the put order.
    for key in 0..7 {
        let ns: Vec<i64> = read
            .iter()
            .filter(|r| r.partition_key() == Some(format!("key-{key}").as_str()))
            .map(|r| {
                let v: serde_json::Value = serde_json::from_slice(r.data().as_ref()).expect("json");
                v["n"].as_i64().expect("n")
            })
            .collect();
        let mut sorted = ns.clone();
        sorted.sort_unstable();
        assert_eq!(ns, sorted, "key-{key} out of order");
    }
    let arrival = read[0].approximate_arrival_timestamp().expect("arrival");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("now")
        .as_secs() as i64;
    assert!((arrival.secs() - now).abs() < 60);
}

#[tokio::test]
async fn put_records_limits() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 1).await;
    let too_many: Vec<_> = (0..501).map(|i| entry(&i.to_string(), b"x")).collect();
    let err = k
        .put_records()
        .stream_name("s")
        .set_records(Some(too_many))
        .send()
        .await
        .expect_err("501");
    assert_eq!(error_code(&err), "ValidationException");
    // Over the stream's MaxRecordSizeInKiB (1 MiB by default).
    let big = vec![b'x'; 1024 * 1024 + 1];
    let err = k
        .put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new(big))
        .send()
        .await
        .expect_err("oversized record");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    // Eleven records of 1 MiB - 10 bytes: over the 10 MiB request limit.
    let chunk = vec![b'y'; 1024 * 1024 - 10];
    let heavy: Vec<_> = (0..11).map(|i| entry(&i.to_string(), &chunk)).collect();
    let err = k
        .put_records()
        .stream_name("s")
        .set_records(Some(heavy))
        .send()
        .await
        .expect_err("> 10 MiB");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    // Nine of them (9 MiB) are one request now.
    let nine: Vec<_> = (0..9).map(|i| entry(&i.to_string(), &chunk)).collect();
    let ok = k
        .put_records()
        .stream_name("s")
        .set_records(Some(nine))
        .send()
        .await
        .expect("9 MiB PutRecords");
    assert_eq!(ok.failed_record_count(), Some(0));
    // A record of exactly 1 MiB including its key is fine.
    let exact = vec![b'z'; 1024 * 1024 - 1];
    k.put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new(exact))
        .send()
        .await
        .expect("1 MiB record");
    let err = k
        .put_record()
        .stream_name("missing")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("missing stream");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

async fn iterator(
    k: &aws_sdk_kinesis::Client,
    kind: ShardIteratorType,
    seq: Option<&str>,
    ts: Option<aws_sdk_kinesis::primitives::DateTime>,
) -> Result<String, String> {
    k.get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(kind)
        .set_starting_sequence_number(seq.map(str::to_string))
        .set_timestamp(ts)
        .send()
        .await
        .map(|o| o.shard_iterator.unwrap_or_default())
        .map_err(|e| error_code(&e))
}

async fn data_from(k: &aws_sdk_kinesis::Client, it: &str) -> Vec<String> {
    let r = k.get_records().shard_iterator(it).send().await.expect("get");
    r.records()
        .iter()
        .map(|r| String::from_utf8_lossy(r.data().as_ref()).to_string())
        .collect()
}

#[tokio::test]
async fn all_five_iterator_types() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 1).await;
    let mut seqs = Vec::new();
    for i in 0..3 {
        let r = k
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new(format!("r{i}")))
            .send()
            .await
            .expect("put");
        seqs.push(r.sequence_number().to_string());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let th = iterator(&k, ShardIteratorType::TrimHorizon, None, None)
        .await
        .expect("th");
    assert_eq!(data_from(&k, &th).await, ["r0", "r1", "r2"]);
    let at = iterator(&k, ShardIteratorType::AtSequenceNumber, Some(&seqs[1]), None)
        .await
        .expect("at");
    assert_eq!(data_from(&k, &at).await, ["r1", "r2"]);
    let after = iterator(&k, ShardIteratorType::AfterSequenceNumber, Some(&seqs[1]), None)
        .await
        .expect("after");
    assert_eq!(data_from(&k, &after).await, ["r2"]);
    let latest = iterator(&k, ShardIteratorType::Latest, None, None)
        .await
        .expect("latest");
    assert!(data_from(&k, &latest).await.is_empty());
    // LATEST then sees records put after it was issued.
    k.put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new("r3"))
        .send()
        .await
        .expect("put");
    assert_eq!(data_from(&k, &latest).await, ["r3"]);
    // AT_TIMESTAMP: the first record arriving at or after the time.
    let r = read_shard(&k, "s", "shardId-000000000000").await;
    let t = *r[2].approximate_arrival_timestamp().expect("ts");
    let at_ts = iterator(&k, ShardIteratorType::AtTimestamp, None, Some(t))
        .await
        .expect("at ts");
    assert_eq!(data_from(&k, &at_ts).await, ["r2", "r3"]);
    let future = aws_sdk_kinesis::primitives::DateTime::from_secs(4_000_000_000);
    // A time in the future is refused, as AWS does.
    assert_eq!(
        iterator(&k, ShardIteratorType::AtTimestamp, None, Some(future)).await,
        Err("InvalidArgumentException".to_string())
    );

    // Error paths.
    assert_eq!(
        iterator(&k, ShardIteratorType::AtSequenceNumber, None, None).await,
        Err("InvalidArgumentException".to_string())
    );
    assert_eq!(
        iterator(&k, ShardIteratorType::AtSequenceNumber, Some("12345"), None).await,
        Err("InvalidArgumentException".to_string())
    );
    assert_eq!(
        iterator(&k, ShardIteratorType::AtTimestamp, None, None).await,
        Err("InvalidArgumentException".to_string())
    );
    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000009")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect_err("no such shard");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn get_records_limit_paging_and_millis_behind() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "s", 1).await;
    let entries: Vec<_> = (0..25).map(|i| entry("k", format!("{i}").as_bytes())).collect();
    k.put_records()
        .stream_name("s")
        .set_records(Some(entries))
        .send()
        .await
        .expect("put");
    let mut it = iterator(&k, ShardIteratorType::TrimHorizon, None, None)
        .await
        .expect("it");
    let mut seen = Vec::new();
    loop {
        let r = k
            .get_records()
            .shard_iterator(&it)
            .limit(10)
            .send()
            .await
            .expect("get");
        let n = r.records().len();
        assert!(n <= 10);
        seen.extend(
            r.records()
                .iter()
                .map(|r| String::from_utf8_lossy(r.data().as_ref()).to_string()),
        );
        if seen.len() < 25 {
            assert!(n == 10);
        } else {
            assert_eq!(r.millis_behind_latest(), Some(0));
        }
        it = r
            .next_shard_iterator()
            .expect("open shard keeps an iterator")
            .to_string();
        if n == 0 {
            break;
        }
    }
    let expected: Vec<String> = (0..25).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
    let err = k
        .get_records()
        .shard_iterator(&it)
        .limit(10_001)
        .send()
        .await
        .expect_err("limit");
    assert_eq!(error_code(&err), "ValidationException");
    let err = k
        .get_records()
        .shard_iterator("bm90LWFuLWl0ZXJhdG9y")
        .send()
        .await
        .expect_err("bad it");
    assert_eq!(error_code(&err), "InvalidArgumentException");
}

#[tokio::test]
async fn expired_iterator_is_refused() {
    let config = EngineConfig::default();
    let clock = config.clock.clone();
    let engine = TestEngine::start_with(config);
    let k = engine.kinesis().await;
    create_stream(&k, "s", 1).await;
    let it = iterator(&k, ShardIteratorType::TrimHorizon, None, None)
        .await
        .expect("it");
    clock.advance_ms(5 * 60 * 1000 + 1);
    let err = k
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect_err("expired");
    assert_eq!(error_code(&err), "ExpiredIteratorException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_limits_throttles_writes_per_record_and_reads_per_call() {
    let engine = TestEngine::start_with(EngineConfig {
        enforce_limits: true,
        ..Default::default()
    });
    let k = engine.kinesis().await;
    create_stream(&k, "s", 1).await;
    // Five batches of 500 at once: 2,500 records within a second or two, over the 1,000/s
    // limit of one shard whichever way they fall across second boundaries.
    let mut tasks = Vec::new();
    for batch in 0..5 {
        let k = k.clone();
        tasks.push(tokio::spawn(async move {
            let entries: Vec<_> = (0..500)
                .map(|i| entry("k", format!("{batch}-{i}").as_bytes()))
                .collect();
            k.put_records()
                .stream_name("s")
                .set_records(Some(entries))
                .send()
                .await
                .expect("put")
        }));
    }
    let mut accepted = 0;
    let mut throttled = 0;
    let mut ids = HashSet::new();
    for t in tasks {
        let out = t.await.expect("task");
        for e in out.records() {
            match e.error_code() {
                Some(code) => {
                    assert_eq!(code, "ProvisionedThroughputExceededException");
                    assert!(e.error_message().unwrap_or_default().contains("Rate exceeded"));
                    assert!(e.sequence_number().is_none());
                    throttled += 1;
                }
                None => {
                    accepted += 1;
                    ids.insert(e.sequence_number().expect("seq").to_string());
                }
            }
        }
    }
    assert!(
        throttled > 0,
        "2,500 records in about a second must hit the 1,000/s limit"
    );
    assert!(accepted >= 1000);
    assert_eq!(ids.len(), accepted);
    // Exactly the accepted records were stored.
    let stored = read_shard(&k, "s", "shardId-000000000000").await;
    assert_eq!(stored.len(), accepted);
    // Twelve reads at once: more than 5 in one second are throttled. Without SDK retries, so
    // the throttle is seen; a few rounds, in case a loaded machine spreads one round over two
    // seconds.
    let k = crate::support::kinesis_client_no_retry(&engine.endpoint).await;
    let it = iterator(&k, ShardIteratorType::TrimHorizon, None, None)
        .await
        .expect("it");
    let mut throttled_reads = 0;
    for _round in 0..5 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mut reads = Vec::new();
        for _ in 0..12 {
            let (k, it) = (k.clone(), it.clone());
            reads.push(tokio::spawn(async move {
                k.get_records().shard_iterator(it).limit(1).send().await
            }));
        }
        for r in reads {
            if let Err(e) = r.await.expect("task") {
                assert_eq!(error_code(&e), "ProvisionedThroughputExceededException");
                throttled_reads += 1;
            }
        }
        if throttled_reads > 0 {
            break;
        }
    }
    assert!(throttled_reads >= 1, "more than 5 reads/s must be throttled");
}
