//! The wire protocol below the SDK: malformed bodies, unknown operations, missing auth, CBOR.

use crate::support::{kinesis_headers, raw_post, TestEngine};

fn post(engine: &TestEngine, op: &str, body: &[u8]) -> (u16, String, serde_json::Value) {
    let headers = kinesis_headers(op);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, head, body) = raw_post(&engine.endpoint, &refs, body);
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (status, head, json)
}

#[test]
fn malformed_bodies_get_serialization_exception() {
    let engine = TestEngine::start();
    for body in [
        &b"{not json"[..],
        b"[1,2]",
        b"\"str\"",
        b"{\"StreamName\": 5}",
        b"\xff\xfe",
    ] {
        let (status, head, json) = post(&engine, "CreateStream", body);
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(json["__type"], "SerializationException", "{body:?}");
        assert!(head.to_ascii_lowercase().contains("x-amzn-requestid"));
    }
    // The engine keeps serving after bad input.
    let (status, _, json) = post(&engine, "ListStreams", b"{}");
    assert_eq!(status, 200);
    assert_eq!(json["StreamNames"], serde_json::json!([]));
}

#[test]
fn unknown_operation_and_missing_auth() {
    let engine = TestEngine::start();
    let (status, _, json) = post(&engine, "MakeCoffee", b"{}");
    assert_eq!(status, 400);
    assert_eq!(json["__type"], "UnknownOperationException");
    let (status, _, body) = raw_post(
        &engine.endpoint,
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
        ],
        b"{}",
    );
    assert_eq!(status, 400);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["__type"], "MissingAuthenticationTokenException");
    let (status, _, body) = raw_post(
        &engine.endpoint,
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=a/b"),
        ],
        b"{}",
    );
    assert_eq!(status, 400);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["__type"], "IncompleteSignatureException");
}

#[test]
fn missing_required_members_are_validation_errors() {
    let engine = TestEngine::start();
    let (status, _, json) = post(&engine, "PutRecord", b"{\"StreamName\":\"s\"}");
    assert_eq!(status, 400);
    assert_eq!(json["__type"], "ValidationException");
    let msg = json["message"].as_str().unwrap_or_default();
    assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
    assert!(msg.contains("Value null at 'data' failed to satisfy constraint: Member must not be null"));
}

fn cbor(v: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("cbor");
    out
}

fn cbor_post(engine: &TestEngine, op: &str, body: &ciborium::Value) -> (u16, ciborium::Value) {
    let target = format!("Kinesis_20131202.{op}");
    let (status, head, bytes) = raw_post(
        &engine.endpoint,
        &[
            ("Content-Type", "application/x-amz-cbor-1.1"),
            ("X-Amz-Target", &target),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x",
            ),
            ("X-Amz-Date", "20260101T000000Z"),
        ],
        &cbor(body),
    );
    assert!(
        head.to_ascii_lowercase().contains("application/x-amz-cbor-1.1"),
        "{head}"
    );
    (
        status,
        ciborium::de::from_reader(&bytes[..]).expect("cbor response"),
    )
}

fn map(entries: Vec<(&str, ciborium::Value)>) -> ciborium::Value {
    ciborium::Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (ciborium::Value::Text(k.into()), v))
            .collect(),
    )
}

fn get<'a>(v: &'a ciborium::Value, key: &str) -> &'a ciborium::Value {
    let ciborium::Value::Map(entries) = v else {
        panic!("not a map: {v:?}")
    };
    &entries
        .iter()
        .find(|(k, _)| k == &ciborium::Value::Text(key.into()))
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
        .1
}

#[test]
fn cbor_like_the_java_sdks() {
    use ciborium::Value as C;
    let engine = TestEngine::start();
    let (status, _) = cbor_post(
        &engine,
        "CreateStream",
        &map(vec![
            ("StreamName", C::Text("c".into())),
            ("ShardCount", C::Integer(1.into())),
        ]),
    );
    assert_eq!(status, 200);
    let payload = vec![0u8, 1, 2, 255];
    let (status, out) = cbor_post(
        &engine,
        "PutRecord",
        &map(vec![
            ("StreamName", C::Text("c".into())),
            ("PartitionKey", C::Text("k".into())),
            ("Data", C::Bytes(payload.clone())),
        ]),
    );
    assert_eq!(status, 200);
    assert_eq!(get(&out, "ShardId"), &C::Text("shardId-000000000000".into()));
    let (_, it) = cbor_post(
        &engine,
        "GetShardIterator",
        &map(vec![
            ("StreamName", C::Text("c".into())),
            ("ShardId", C::Text("shardId-000000000000".into())),
            ("ShardIteratorType", C::Text("TRIM_HORIZON".into())),
        ]),
    );
    let (status, recs) = cbor_post(
        &engine,
        "GetRecords",
        &map(vec![("ShardIterator", get(&it, "ShardIterator").clone())]),
    );
    assert_eq!(status, 200);
    let C::Array(records) = get(&recs, "Records") else {
        panic!("records")
    };
    assert_eq!(records.len(), 1);
    assert_eq!(
        get(&records[0], "Data"),
        &C::Bytes(payload),
        "blobs are CBOR byte strings"
    );
    match get(&records[0], "ApproximateArrivalTimestamp") {
        C::Tag(1, inner) => {
            let C::Integer(ms) = **inner else { panic!("millis") };
            let ms = i128::from(ms);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("now")
                .as_millis() as i128;
            assert!((now - ms).abs() < 60_000, "timestamps are epoch milliseconds");
        }
        other => panic!("timestamp not tagged: {other:?}"),
    }
    // Errors come back in CBOR too.
    let (status, err) = cbor_post(
        &engine,
        "DescribeStream",
        &map(vec![("StreamName", C::Text("nope".into()))]),
    );
    assert_eq!(status, 400);
    assert_eq!(get(&err, "__type"), &C::Text("ResourceNotFoundException".into()));
    // Garbage CBOR is a SerializationException.
    let (status, _, bytes) = raw_post(
        &engine.endpoint,
        &[
            ("Content-Type", "application/x-amz-cbor-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.ListStreams"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x",
            ),
            ("X-Amz-Date", "20260101T000000Z"),
        ],
        &[0xff, 0x00, 0x13],
    );
    assert_eq!(status, 400);
    let v: ciborium::Value = ciborium::de::from_reader(&bytes[..]).expect("cbor error body");
    assert_eq!(get(&v, "__type"), &C::Text("SerializationException".into()));
}

fn raw(engine: &TestEngine, request: &str) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let addr = engine.endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request.replace("{addr}", addr).as_bytes())
        .expect("write");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read");
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head, resp[split + 4..].to_vec())
}

#[test]
fn every_reply_carries_x_amzn_request_id_and_x_amz_id_2() {
    let engine = TestEngine::start();
    for body in [&b"{}"[..], b"{bad"] {
        let (_, head, _) = post(&engine, "ListStreams", body);
        let head = head.to_ascii_lowercase();
        assert!(head.contains("x-amzn-requestid: "), "{head}");
        assert!(head.contains("x-amz-id-2: "), "{head}");
    }
}

#[test]
fn non_post_requests_get_403_access_denied_xml() {
    let engine = TestEngine::start();
    let (status, head, body) = raw(
        &engine,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 403);
    assert!(head.contains("x-amzn-requestid"));
    let body = String::from_utf8_lossy(&body);
    assert!(body.starts_with("<AccessDeniedException>"), "{body}");
    assert!(body.contains("<Message>Unable to determine service/operation name to be authorized</Message>"));
}

#[test]
fn cors_preflight_and_allow_origin_on_replies_from_a_page() {
    let engine = TestEngine::start();
    let (status, head, body) = raw(
        &engine,
        "OPTIONS / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nOrigin: http://localhost:3000\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type,x-amz-target,authorization\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(body.is_empty());
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(head.contains("access-control-allow-methods: post"), "{head}");
    assert!(
        head.contains("access-control-allow-headers: content-type,x-amz-target,authorization"),
        "{head}"
    );
    assert!(head.contains("access-control-max-age: 172800"), "{head}");
    // A POST from the page gets the origin header and the readable headers.
    let mut headers = kinesis_headers("ListStreams");
    headers.push(("Origin", "http://localhost:3000".to_string()));
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, head, _) = raw_post(&engine.endpoint, &refs, b"{}");
    assert_eq!(status, 200);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(
        head.contains("access-control-expose-headers: x-amzn-requestid"),
        "{head}"
    );
    // Without Origin, no CORS headers.
    let (_, head, _) = post(&engine, "ListStreams", b"{}");
    assert!(!head.to_ascii_lowercase().contains("access-control-allow-origin"));
}

#[test]
fn unknown_operation_error_has_no_message_member() {
    let engine = TestEngine::start();
    let (status, _, json) = post(&engine, "MakeCoffee", b"{}");
    assert_eq!(status, 400);
    assert_eq!(json, serde_json::json!({"__type": "UnknownOperationException"}));
}

fn created(engine: &TestEngine, name: &str, shards: u32) {
    let (status, _, json) = post(
        engine,
        "CreateStream",
        serde_json::json!({"StreamName": name, "ShardCount": shards})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{json}");
}

#[test]
fn shard_ids_resolve_by_the_number_after_the_first_dash_and_errors_name_the_canonical_id() {
    let engine = TestEngine::start();
    created(&engine, "ids", 2);
    for id in ["shardId-000000000001", "shardId-1", "anything-1", "1"] {
        let (status, _, json) = post(
            &engine,
            "GetShardIterator",
            serde_json::json!({"StreamName": "ids", "ShardId": id, "ShardIteratorType": "LATEST"})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(status, 200, "{id}: {json}");
    }
    let (status, _, json) = post(
        &engine,
        "GetShardIterator",
        br#"{"StreamName":"ids","ShardId":"shardId-7","ShardIteratorType":"LATEST"}"#,
    );
    assert_eq!(status, 400);
    assert_eq!(json["__type"], "ResourceNotFoundException");
    let msg = json["message"].as_str().unwrap_or_default();
    assert!(msg.contains("shardId-000000000007"), "{msg}");
}

#[test]
fn merge_shards_refuses_a_pair_in_the_wrong_order() {
    let engine = TestEngine::start();
    created(&engine, "merge", 2);
    let (status, _, json) = post(
        &engine,
        "MergeShards",
        br#"{"StreamName":"merge","ShardToMerge":"shardId-000000000001","AdjacentShardToMerge":"shardId-000000000000"}"#,
    );
    assert_eq!(status, 400);
    assert_eq!(json["__type"], "InvalidArgumentException");
    let (status, _, json) = post(
        &engine,
        "MergeShards",
        br#"{"StreamName":"merge","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}"#,
    );
    assert_eq!(status, 200, "{json}");
}

#[test]
fn list_shards_without_stream_name_or_next_token_is_invalid_argument() {
    let engine = TestEngine::start();
    let (status, _, json) = post(&engine, "ListShards", b"{}");
    assert_eq!(status, 400);
    assert_eq!(json["__type"], "InvalidArgumentException");
}

#[test]
fn at_timestamp_in_the_future_is_invalid_argument() {
    let engine = TestEngine::start();
    created(&engine, "future", 1);
    let (status, _, json) = post(
        &engine,
        "GetShardIterator",
        br#"{"StreamName":"future","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":4000000000}"#,
    );
    assert_eq!(status, 400);
    assert_eq!(json["__type"], "InvalidArgumentException");
    assert!(json["message"]
        .as_str()
        .is_some_and(|m| m.contains("cannot be greater than the currentTimestampInMillis")));
}

#[test]
fn unencrypted_put_answers_have_no_encryption_type() {
    let engine = TestEngine::start();
    created(&engine, "plain", 1);
    let (status, _, json) = post(
        &engine,
        "PutRecord",
        br#"{"StreamName":"plain","PartitionKey":"p","Data":"aGk="}"#,
    );
    assert_eq!(status, 200);
    assert!(json.get("EncryptionType").is_none(), "{json}");
    let (_, _, json) = post(
        &engine,
        "PutRecords",
        br#"{"StreamName":"plain","Records":[{"PartitionKey":"p","Data":"aGk="}]}"#,
    );
    assert!(json.get("EncryptionType").is_none(), "{json}");
}
