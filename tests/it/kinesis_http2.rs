//! HTTP/2 (cleartext, prior knowledge) and HTTP/1.1 on the same port, as AWS's endpoints accept
//! both: the Node.js SDK v3 speaks HTTP/2 to an `http://` endpoint with its default settings.

use base64::Engine as _;

use crate::support::{kinesis_headers, H2Client, TestEngine};

fn dynamodb_headers(op: &str) -> Vec<(&'static str, String)> {
    let mut h = kinesis_headers(op);
    h[0].1 = "application/x-amz-json-1.0".into();
    h[1].1 = format!("DynamoDB_20120810.{op}");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_and_http1_share_one_port() {
    let engine = TestEngine::start();
    // HTTP/1.1: the Rust SDK creates the stream.
    let k = engine.kinesis().await;
    crate::support::create_stream(&k, "h2", 1).await;

    // HTTP/2 on the same port: put, read back, and a DynamoDB call, all on one connection.
    let mut h2 = H2Client::connect(&engine.endpoint).await;
    let data = base64::engine::general_purpose::STANDARD.encode(b"over h2");
    let (status, version, put) = h2
        .call(
            &kinesis_headers("PutRecord"),
            serde_json::json!({"StreamName": "h2", "PartitionKey": "p", "Data": data})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!((status, version), (200, hyper::Version::HTTP_2), "{put}");
    assert_eq!(put["ShardId"], "shardId-000000000000");

    let (status, _, it) = h2
        .call(
            &kinesis_headers("GetShardIterator"),
            br#"{"StreamName":"h2","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#,
        )
        .await;
    assert_eq!(status, 200, "{it}");
    let (status, _, got) = h2
        .call(
            &kinesis_headers("GetRecords"),
            serde_json::json!({"ShardIterator": it["ShardIterator"]})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["Records"][0]["Data"], data.as_str());
    assert_eq!(got["Records"][0]["SequenceNumber"], put["SequenceNumber"]);

    let (status, version, tables) = h2.call(&dynamodb_headers("ListTables"), b"{}").await;
    assert_eq!((status, version), (200, hyper::Version::HTTP_2), "{tables}");
    assert_eq!(tables["TableNames"], serde_json::json!([]));

    // Errors keep AWS's shape over HTTP/2.
    let (status, _, err) = h2
        .call(
            &kinesis_headers("DescribeStreamSummary"),
            br#"{"StreamName":"nope"}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["__type"], "ResourceNotFoundException");

    // And the HTTP/1.1 client sees what HTTP/2 wrote.
    let records = crate::support::read_shard(&k, "h2", "shardId-000000000000").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data().as_ref(), b"over h2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_multiplexes_concurrent_requests_on_one_connection() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    crate::support::create_stream(&k, "mux", 2).await;
    let h2 = H2Client::connect(&engine.endpoint).await;
    let mut calls = Vec::new();
    for i in 0..50 {
        let mut h2 = h2.clone();
        calls.push(tokio::spawn(async move {
            let body = serde_json::json!({
                "StreamName": "mux",
                "PartitionKey": format!("pk-{i}"),
                "Data": base64::engine::general_purpose::STANDARD.encode(format!("r{i}")),
            });
            h2.call(&kinesis_headers("PutRecord"), body.to_string().as_bytes())
                .await
        }));
    }
    for call in calls {
        let (status, version, body) = call.await.expect("task");
        assert_eq!((status, version), (200, hyper::Version::HTTP_2), "{body}");
    }
    let mut total = 0;
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        total += crate::support::read_shard(&k, "mux", shard).await.len();
    }
    assert_eq!(total, 50);
}
