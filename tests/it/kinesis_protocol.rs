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
