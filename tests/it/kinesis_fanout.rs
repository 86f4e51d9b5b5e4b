//! Enhanced fan-out: the consumer operations with AWS's shapes and errors, and SubscribeToShard
//! as an AWS event stream, from the Rust SDK (HTTP/1.1 and HTTP/2), a raw HTTP/2 client and boto3.

use std::time::Duration;

use aws_sdk_kinesis::types::{
    ConsumerStatus, ShardIteratorType, StartingPosition, SubscribeToShardEventStream,
};
use aws_sdk_kinesis::Client;

use crate::support::{create_stream, error_code, kinesis_headers, peers_python, H2Client, TestEngine};

async fn stream_arn(k: &Client, name: &str) -> String {
    k.describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .expect("describe")
        .stream_description_summary()
        .map(|s| s.stream_arn().to_string())
        .expect("summary")
}

async fn register(k: &Client, arn: &str, name: &str) -> String {
    let out = k
        .register_stream_consumer()
        .stream_arn(arn)
        .consumer_name(name)
        .send()
        .await
        .expect("register");
    out.consumer().expect("consumer").consumer_arn().to_string()
}

async fn put(k: &Client, stream: &str, pk: &str, data: &str) -> String {
    k.put_record()
        .stream_name(stream)
        .partition_key(pk)
        .data(aws_sdk_kinesis::primitives::Blob::new(data.as_bytes()))
        .send()
        .await
        .expect("put")
        .sequence_number()
        .to_string()
}

fn at(kind: ShardIteratorType) -> StartingPosition {
    StartingPosition::builder()
        .r#type(kind)
        .build()
        .expect("position")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_operations_have_aws_shapes_and_errors() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "fan", 1).await;
    let arn = stream_arn(&k, "fan").await;

    let out = k
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .expect("register");
    let c = out.consumer().expect("consumer");
    assert_eq!(c.consumer_name(), "app");
    let created = c.consumer_creation_timestamp().secs();
    assert_eq!(c.consumer_arn(), format!("{arn}/consumer/app:{created}"));
    // No --update-stream-delay: the consumer is ACTIVE at once.
    assert!(matches!(
        c.consumer_status(),
        ConsumerStatus::Creating | ConsumerStatus::Active
    ));

    let dup = k
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(error_code(&dup), "ResourceInUseException");

    // Described by ARN, or by stream ARN + name.
    let by_arn = k
        .describe_stream_consumer()
        .consumer_arn(c.consumer_arn())
        .send()
        .await
        .expect("describe by arn");
    let d = by_arn.consumer_description().expect("description");
    assert_eq!(d.stream_arn(), arn);
    assert_eq!(d.consumer_status(), &ConsumerStatus::Active);
    let by_name = k
        .describe_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .expect("describe by name");
    assert_eq!(
        by_name.consumer_description().map(|d| d.consumer_arn()),
        Some(c.consumer_arn())
    );
    let missing = k
        .describe_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("nobody")
        .send()
        .await
        .expect_err("unknown consumer");
    assert_eq!(error_code(&missing), "ResourceNotFoundException");
    // An ARN whose creation time is not the consumer's names another (older) consumer.
    let stale = k
        .describe_stream_consumer()
        .consumer_arn(format!("{arn}/consumer/app:1"))
        .send()
        .await
        .expect_err("stale arn");
    assert_eq!(error_code(&stale), "ResourceNotFoundException");

    // 20 consumers per stream.
    for i in 1..20 {
        register(&k, &arn, &format!("c{i:02}")).await;
    }
    let over = k
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("one-too-many")
        .send()
        .await
        .expect_err("21st consumer");
    assert_eq!(error_code(&over), "LimitExceededException");

    // Listing pages with NextToken.
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = k
            .list_stream_consumers()
            .stream_arn(&arn)
            .max_results(7)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("list");
        names.extend(page.consumers().iter().map(|c| c.consumer_name().to_string()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names.len(), 20);
    assert_eq!(names[0], "app");

    let summary = k
        .describe_stream_summary()
        .stream_name("fan")
        .send()
        .await
        .expect("summary");
    assert_eq!(
        summary
            .stream_description_summary()
            .and_then(|s| s.consumer_count()),
        Some(20)
    );

    // A stream with consumers is deleted only when told to take them along.
    let refused = k
        .delete_stream()
        .stream_name("fan")
        .send()
        .await
        .expect_err("consumers registered");
    assert_eq!(error_code(&refused), "ResourceInUseException");

    k.deregister_stream_consumer()
        .consumer_arn(c.consumer_arn())
        .send()
        .await
        .expect("deregister");
    let gone = k
        .describe_stream_consumer()
        .consumer_arn(c.consumer_arn())
        .send()
        .await
        .expect_err("deregistered");
    assert_eq!(error_code(&gone), "ResourceNotFoundException");
    k.delete_stream()
        .stream_name("fan")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .expect("delete with consumers");
}

/// Reads events until the shard ends (or, with `until_caught_up`, until an event finds nothing
/// left to read); returns the records and the child shards.
async fn collect(
    k: &Client,
    consumer: &str,
    shard: &str,
    start: StartingPosition,
    until_caught_up: bool,
) -> (Vec<(String, String)>, Vec<String>) {
    let mut out = k
        .subscribe_to_shard()
        .consumer_arn(consumer)
        .shard_id(shard)
        .starting_position(start)
        .send()
        .await
        .expect("subscribe");
    let mut records = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), out.event_stream.recv())
            .await
            .expect("an event within 10 s")
            .expect("event stream");
        let Some(SubscribeToShardEventStream::SubscribeToShardEvent(e)) = event else {
            panic!("stream ended before the shard did: {event:?}");
        };
        for r in e.records() {
            records.push((
                r.partition_key().unwrap_or_default().to_string(),
                String::from_utf8_lossy(r.data().as_ref()).to_string(),
            ));
        }
        if !e.child_shards().is_empty() {
            assert!(e.continuation_sequence_number().is_empty());
            let children = e
                .child_shards()
                .iter()
                .map(|c| c.shard_id().to_string())
                .collect();
            return (records, children);
        }
        assert!(!e.continuation_sequence_number().is_empty());
        if until_caught_up && e.millis_behind_latest() == 0 {
            return (records, Vec::new());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_shard_from_the_rust_sdk_delivers_every_record_in_order_across_a_reshard() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    every_record_in_order_across_a_reshard(&k, &k).await;
}

/// The Rust SDK over cleartext HTTP/2 (its own client speaks HTTP/2 only through TLS, so the
/// test gives it one that opens h2c connections); every answer must have been HTTP/2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_shard_from_the_rust_sdk_over_http2_delivers_every_record_in_order_across_a_reshard() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    let h2 = crate::sdk_h2c::H2cConnector::default();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&engine.endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .http_client(h2.http_client())
        .load()
        .await;
    let over_h2 = Client::new(&conf);
    every_record_in_order_across_a_reshard(&k, &over_h2).await;
    let versions = h2.versions.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(versions.len() >= 3, "one subscription per shard: {versions:?}");
    assert!(
        versions.iter().all(|v| *v == hyper::Version::HTTP_2),
        "{versions:?}"
    );
}

/// Five records before a subscription, five during it, a split, six after: the subscriber
/// (`sub`) sees the parent's ten in order, then each child's in order.
async fn every_record_in_order_across_a_reshard(k: &Client, sub: &Client) {
    create_stream(k, "sub", 1).await;
    let arn = stream_arn(k, "sub").await;
    let consumer = register(k, &arn, "app").await;
    for i in 0..5 {
        put(k, "sub", &format!("pk{}", i % 3), &format!("before-{i}")).await;
    }
    // Records put while subscribed are pushed as they arrive; then the shard splits.
    let k2 = k.clone();
    let producer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        for i in 0..5 {
            put(&k2, "sub", &format!("pk{}", i % 3), &format!("during-{i}")).await;
        }
        k2.split_shard()
            .stream_name("sub")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key("170141183460469231731687303715884105728")
            .send()
            .await
            .expect("split");
        for i in 0..6 {
            put(&k2, "sub", &format!("pk{}", i % 3), &format!("after-{i}")).await;
        }
    });
    let (parent, children) = collect(
        sub,
        &consumer,
        "shardId-000000000000",
        at(ShardIteratorType::TrimHorizon),
        false,
    )
    .await;
    producer.await.expect("producer");
    let expected: Vec<String> = (0..5)
        .map(|i| format!("before-{i}"))
        .chain((0..5).map(|i| format!("during-{i}")))
        .collect();
    assert_eq!(parent.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), expected);
    assert_eq!(children, vec!["shardId-000000000001", "shardId-000000000002"]);

    let mut after = Vec::new();
    for child in &children {
        let (records, _) = collect(sub, &consumer, child, at(ShardIteratorType::TrimHorizon), true).await;
        // Within a child, records come in the order they were put.
        let mut sorted = records.clone();
        sorted.sort_by_key(|r| r.1.clone());
        assert_eq!(records, sorted);
        after.extend(records);
    }
    after.sort_by_key(|r| r.1.clone());
    assert_eq!(
        after.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        (0..6).map(|i| format!("after-{i}")).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_subscription_within_five_seconds_is_resource_in_use() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "twice", 1).await;
    let arn = stream_arn(&k, "twice").await;
    let consumer = register(&k, &arn, "app").await;
    let _first = k
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000000")
        .starting_position(at(ShardIteratorType::Latest))
        .send()
        .await
        .expect("first subscription");
    let second = k
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000000")
        .starting_position(at(ShardIteratorType::Latest))
        .send()
        .await
        .expect_err("second subscription within 5 s");
    assert_eq!(error_code(&second), "ResourceInUseException");
    // Unknown consumer, bad shard: errors before any event.
    let err = k
        .subscribe_to_shard()
        .consumer_arn(format!("{arn}/consumer/nobody:1"))
        .shard_id("shardId-000000000000")
        .starting_position(at(ShardIteratorType::Latest))
        .send()
        .await
        .expect_err("unknown consumer");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let err = k
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000009")
        .starting_position(at(ShardIteratorType::Latest))
        .send()
        .await
        .expect_err("unknown shard");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

/// Decodes AWS event stream frames from a body: `(event or exception type, JSON payload)`.
fn frames(
    decoder: &mut aws_smithy_eventstream::frame::MessageFrameDecoder,
    buf: &mut bytes::BytesMut,
) -> Vec<(String, serde_json::Value)> {
    use aws_smithy_eventstream::frame::DecodedFrame;
    let mut out = Vec::new();
    while let Ok(DecodedFrame::Complete(msg)) = decoder.decode_frame(&mut *buf) {
        let kind = msg
            .headers()
            .iter()
            .find(|h| matches!(h.name().as_str(), ":event-type" | ":exception-type"))
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let json = serde_json::from_slice(msg.payload()).unwrap_or(serde_json::Value::Null);
        out.push((kind, json));
    }
    out
}

async fn next_data(body: &mut hyper::body::Incoming) -> bytes::Bytes {
    use http_body_util::BodyExt;
    tokio::time::timeout(Duration::from_secs(8), body.frame())
        .await
        .expect("a frame within 8 s")
        .expect("body open")
        .expect("frame")
        .into_data()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_shard_over_http2_pushes_records_and_idle_heartbeats() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "h2sub", 1).await;
    let arn = stream_arn(&k, "h2sub").await;
    let consumer = register(&k, &arn, "app").await;
    let mut h2 = H2Client::connect(&engine.endpoint).await;
    let body = serde_json::json!({
        "ConsumerARN": consumer,
        "ShardId": "shardId-000000000000",
        "StartingPosition": {"Type": "LATEST"},
    });
    let resp = h2
        .send(&kinesis_headers("SubscribeToShard"), body.to_string().as_bytes())
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.amazon.eventstream")
    );
    let mut body = resp.into_body();
    let mut decoder = aws_smithy_eventstream::frame::MessageFrameDecoder::new();
    let mut buf = bytes::BytesMut::new();
    let mut events = Vec::new();
    while events.len() < 2 {
        buf.extend_from_slice(&next_data(&mut body).await);
        events.extend(frames(&mut decoder, &mut buf));
    }
    assert_eq!(events[0].0, "initial-response");
    assert_eq!(events[1].0, "SubscribeToShardEvent");
    assert_eq!(events[1].1["Records"], serde_json::json!([]));
    assert_eq!(events[1].1["MillisBehindLatest"], 0);

    // A record put now is pushed at once.
    let seq = put(&k, "h2sub", "pk", "pushed").await;
    while events.len() < 3 {
        buf.extend_from_slice(&next_data(&mut body).await);
        events.extend(frames(&mut decoder, &mut buf));
    }
    assert_eq!(events[2].1["Records"][0]["SequenceNumber"], seq.as_str());
    assert_eq!(events[2].1["ContinuationSequenceNumber"], seq.as_str());
    // Then nothing arrives: an empty event comes within five seconds anyway.
    let started = std::time::Instant::now();
    while events.len() < 4 {
        buf.extend_from_slice(&next_data(&mut body).await);
        events.extend(frames(&mut decoder, &mut buf));
    }
    assert!(started.elapsed() >= Duration::from_secs(3), "heartbeat too early");
    assert_eq!(events[3].0, "SubscribeToShardEvent");
    assert_eq!(events[3].1["Records"], serde_json::json!([]));
    assert_eq!(events[3].1["ContinuationSequenceNumber"], seq.as_str());
}

/// boto3 (HTTP/1.1) subscribes through a split: the parent's records, its ChildShards, then each
/// child's records, all in put order.
const BOTO3_SUBSCRIBE: &str = r#"
import json, sys, time, boto3
k = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
k.create_stream(StreamName="py", ShardCount=1)
arn = k.describe_stream_summary(StreamName="py")["StreamDescriptionSummary"]["StreamARN"]
consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="py-app")["Consumer"]["ConsumerARN"]
for i in range(3):
    k.put_record(StreamName="py", PartitionKey="pk%d" % i, Data=("before-%d" % i).encode())
k.split_shard(StreamName="py", ShardToSplit="shardId-000000000000",
              NewStartingHashKey="170141183460469231731687303715884105728")
for i in range(8):
    k.put_record(StreamName="py", PartitionKey="pk%d" % i, Data=("after-%d" % i).encode())

def read(shard):
    out, children = [], []
    resp = k.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard,
                                StartingPosition={"Type": "TRIM_HORIZON"})
    for event in resp["EventStream"]:
        e = event["SubscribeToShardEvent"]
        out += [r["Data"].decode() for r in e["Records"]]
        if e.get("ChildShards"):
            children = [c["ShardId"] for c in e["ChildShards"]]
            break
        if e["MillisBehindLatest"] == 0:
            break
    return out, children

parent, children = read("shardId-000000000000")
result = {"parent": parent, "children": children, "child_records": {}}
for child in children:
    result["child_records"][child] = read(child)[0]
print(json.dumps(result))
"#;

#[test]
fn subscribe_to_shard_from_boto3_over_http1_follows_a_split() {
    let Some(python) = peers_python() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "boto3 missing from the peers venv under CI (.ci/run installs it)"
        );
        println!("SKIP: boto3 not installed (peer.sh install); boto3 SubscribeToShard test not run");
        return;
    };
    let engine = TestEngine::start();
    let out = std::process::Command::new(python)
        .args(["-c", BOTO3_SUBSCRIBE, &engine.endpoint])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "boto3 script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json result");
    assert_eq!(
        result["parent"],
        serde_json::json!(["before-0", "before-1", "before-2"])
    );
    assert_eq!(
        result["children"],
        serde_json::json!(["shardId-000000000001", "shardId-000000000002"])
    );
    let mut after: Vec<String> = Vec::new();
    for child in ["shardId-000000000001", "shardId-000000000002"] {
        let records: Vec<String> = result["child_records"][child]
            .as_array()
            .expect("records")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let mut sorted = records.clone();
        sorted.sort();
        assert_eq!(records, sorted, "records of {child} in put order");
        after.extend(records);
    }
    after.sort();
    assert_eq!(after, (0..8).map(|i| format!("after-{i}")).collect::<Vec<_>>());
}

/// What a client can observe of the consumer operations: shapes, statuses and error codes.
async fn consumer_observations(k: &Client) -> Vec<String> {
    let mut seen = Vec::new();
    k.create_stream()
        .stream_name("diff")
        .shard_count(1)
        .send()
        .await
        .expect("create");
    for _ in 0..100 {
        let s = k.describe_stream_summary().stream_name("diff").send().await;
        if s.ok()
            .and_then(|s| s.stream_description_summary)
            .is_some_and(|s| s.stream_status().as_str() == "ACTIVE")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let arn = stream_arn(k, "diff").await;
    let consumer = register(k, &arn, "app").await;
    seen.push(format!(
        "consumer arn shape ok: {}",
        consumer.starts_with(&format!("{arn}/consumer/app:"))
    ));
    for _ in 0..100 {
        let d = k
            .describe_stream_consumer()
            .consumer_arn(&consumer)
            .send()
            .await
            .expect("describe");
        if d.consumer_description().map(|c| c.consumer_status().as_str()) == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let d = k
        .describe_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .expect("describe by name");
    let c = d.consumer_description().expect("description");
    seen.push(format!(
        "described: {} {} stream arn matches {}",
        c.consumer_name(),
        c.consumer_status().as_str(),
        c.stream_arn() == arn
    ));
    let list = k
        .list_stream_consumers()
        .stream_arn(&arn)
        .send()
        .await
        .expect("list");
    seen.push(format!(
        "listed: {:?}",
        list.consumers()
            .iter()
            .map(|c| c.consumer_name())
            .collect::<Vec<_>>()
    ));
    let dup = k
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .map(|_| "ok".to_string())
        .unwrap_or_else(|e| error_code(&e));
    seen.push(format!("duplicate: {dup}"));
    let missing = k
        .describe_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("nobody")
        .send()
        .await
        .map(|_| "ok".to_string())
        .unwrap_or_else(|e| error_code(&e));
    seen.push(format!("unknown consumer: {missing}"));
    seen
}

#[tokio::test]
#[ignore = "differential: needs the peer emulators (bash scripts/peers.sh install), run with --ignored"]
async fn consumer_operations_match_kinesis_mock() {
    let Some(peer) = crate::peers::Peer::start("kinesis-mock") else {
        return;
    };
    let engine = TestEngine::start();
    let ours = consumer_observations(&engine.kinesis().await).await;
    let theirs = consumer_observations(&crate::support::kinesis_client(&peer.endpoint).await).await;
    assert_eq!(ours, theirs);
}
