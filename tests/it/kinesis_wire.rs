//! AWS's Kinesis front, pinned: the order in which a request is checked, the bodies of its
//! errors, CBOR by default, presigned requests, the signer's region in ARNs, sequence-number
//! layouts and iterator tokens. Each test is named after the AWS behaviour it pins.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::support::{
    create_stream, error_code, kinesis_headers, peers_python, raw_post, raw_post_to, TestEngine,
};

const LIST_STREAMS: &str = "Kinesis_20131202.ListStreams";
const SIGNED: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc";

/// A raw POST with exactly these headers; the body decoded as JSON when it is JSON.
fn post(engine: &TestEngine, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    let (status, head, body) = raw_post(&engine.endpoint, headers, body);
    (status, head.to_ascii_lowercase(), body)
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn cbor_of(body: &[u8]) -> Value {
    let v: ciborium::Value = ciborium::de::from_reader(body).expect("a CBOR body");
    // Error bodies are maps of text to text: compare them as JSON.
    let ciborium::Value::Map(entries) = v else {
        panic!("not a CBOR map: {v:?}")
    };
    let map = entries
        .into_iter()
        .map(|(k, v)| {
            let (ciborium::Value::Text(k), ciborium::Value::Text(v)) = (k, v) else {
                panic!("not text")
            };
            (k, Value::String(v))
        })
        .collect();
    Value::Object(map)
}

/// A signed JSON call by op name.
fn call(engine: &TestEngine, op: &str, body: &Value) -> (u16, Value) {
    let headers = kinesis_headers(op);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, bytes) = post(engine, &refs, body.to_string().as_bytes());
    (status, json_of(&bytes))
}

#[test]
fn an_empty_body_is_a_bare_serialization_exception_not_an_empty_object() {
    let engine = TestEngine::start();
    let headers = kinesis_headers("ListStreams");
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, head, body) = post(&engine, &refs, b"");
    assert_eq!(status, 400);
    assert!(
        head.contains("content-type: application/x-amz-json-1.1"),
        "{head}"
    );
    assert_eq!(json_of(&body), json!({"__type": "SerializationException"}));
    let (status, _, body) = post(&engine, &refs, b"{}");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // Even unsigned: the body is looked at before the signature.
    let (status, _, body) = post(
        &engine,
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", LIST_STREAMS),
        ],
        b"",
    );
    assert_eq!(status, 400);
    assert_eq!(json_of(&body), json!({"__type": "SerializationException"}));
}

#[test]
fn without_a_json_content_type_an_empty_request_is_answered_in_cbor() {
    let engine = TestEngine::start();
    for (headers, want) in [
        (vec![("X-Amz-Target", LIST_STREAMS)], "SerializationException"),
        (vec![], "UnknownOperationException"),
        (
            vec![("X-Amz-Target", "Kinesis_20131202.Whatever")],
            "UnknownOperationException",
        ),
        (
            vec![
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", LIST_STREAMS),
            ],
            "SerializationException",
        ),
        (
            vec![
                ("Content-Type", "application/json"),
                ("X-Amz-Target", LIST_STREAMS),
            ],
            "SerializationException",
        ),
    ] {
        let (status, head, body) = post(&engine, &headers, b"");
        assert_eq!(status, 400, "{headers:?}");
        assert!(
            head.contains("content-type: application/x-amz-cbor-1.1"),
            "{head}"
        );
        assert_eq!(cbor_of(&body), json!({"__type": want}), "{headers:?}");
    }
}

#[test]
fn a_body_without_a_kinesis_content_type_is_refused_in_xml() {
    let engine = TestEngine::start();
    // No operation to name: 403 AccessDeniedException.
    let (status, head, body) = post(&engine, &[("Authorization", SIGNED)], b"{}");
    assert_eq!(status, 403);
    assert!(!head.contains("content-type"), "{head}");
    assert!(String::from_utf8_lossy(&body).starts_with("<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>"));
    // An operation but no content type: 404 with an empty UnknownOperationException element.
    let (status, _, body) = post(&engine, &[("X-Amz-Target", LIST_STREAMS)], b"{}");
    assert_eq!(status, 404);
    assert_eq!(body, b"<UnknownOperationException/>\n");
}

#[test]
fn application_json_is_answered_in_the_old_coral_envelope() {
    let engine = TestEngine::start();
    let headers = [
        ("Content-Type", "application/json"),
        ("X-Amz-Target", LIST_STREAMS),
    ];
    let (status, head, body) = post(&engine, &headers, b"{}");
    assert_eq!(status, 404);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(
        json_of(&body),
        json!({"Output": {"__type": "com.amazon.coral.service#UnknownOperationException"}, "Version": "1.0"})
    );
    let (status, _, body) = post(&engine, &headers, b"hello");
    assert_eq!(status, 400);
    assert_eq!(
        json_of(&body),
        json!({"Output": {"__type": "com.amazon.coral.service#SerializationException"}, "Version": "1.0"})
    );
}

#[test]
fn decoding_and_type_conversion_come_before_authentication_and_validation_after() {
    let engine = TestEngine::start();
    let unsigned = |target: &'static str| {
        vec![
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", target),
        ]
    };
    let cases: [(&str, &[u8], Value); 6] = [
        // Another service's target is refused before its members' types are looked at.
        (
            "Other_20200101.CreateStream",
            br#"{"StreamName": 5}"#,
            json!({"__type": "UnknownOperationException"}),
        ),
        // Not JSON: a bare SerializationException, whatever the signature.
        (
            LIST_STREAMS,
            b"hello",
            json!({"__type": "SerializationException"}),
        ),
        // Not an operation Kinesis has.
        (
            "Kinesis_20131202.MakeCoffee",
            b"{}",
            json!({"__type": "UnknownOperationException"}),
        ),
        // A member of the wrong type.
        (
            "Kinesis_20131202.CreateStream",
            br#"{"StreamName": 5}"#,
            json!({"__type": "SerializationException", "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"}),
        ),
        // Well-typed but invalid: the signature is checked first.
        (
            "Kinesis_20131202.CreateStream",
            br#"{"StreamName": ""}"#,
            json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}),
        ),
        (
            LIST_STREAMS,
            b"{}",
            json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}),
        ),
    ];
    for (target, body, want) in cases {
        let (status, _, got) = post(&engine, &unsigned(target), body);
        assert_eq!(status, 400, "{target}");
        assert_eq!(json_of(&got), want, "{target} {}", String::from_utf8_lossy(body));
    }
    // Signed, the same invalid name is the ValidationException.
    let (status, got) = call(
        &engine,
        "CreateStream",
        &json!({"StreamName": "", "ShardCount": 1}),
    );
    assert_eq!(status, 400);
    assert_eq!(got["__type"], "ValidationException");
}

#[test]
fn wrong_json_types_get_aws_serialization_wording_with_message_only() {
    let engine = TestEngine::start();
    let cases = [
        ("CreateStream", json!({"StreamName": "s", "ShardCount": "1"}), "class java.lang.String can not be converted to an Integer"),
        ("CreateStream", json!({"StreamName": ["s"]}), "Start of list found where not expected"),
        ("CreateStream", json!({"StreamName": "s", "Tags": "t"}), "Expected map or null"),
        ("DeleteStream", json!({"StreamName": "s", "EnforceConsumerDeletion": "maybe"}), "'MAYBE' can not be converted to an Boolean"),
        ("PutRecord", json!({"StreamName": "s", "PartitionKey": "p", "Data": true}), "class java.lang.Boolean can not be converted to a Blob"),
        ("PutRecord", json!({"StreamName": "s", "PartitionKey": "p", "Data": "abcde"}), "'abcde' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ("PutRecord", json!({"StreamName": "s", "PartitionKey": "p", "Data": "ab!="}), "'ab!=' can not be converted to a Blob: Invalid Base64 character: '!'"),
        ("PutRecords", json!({"StreamName": "s", "Records": {}}), "Start of structure or map found where not expected."),
        ("GetShardIterator", json!({"StreamName": "s", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "2026-01-01T00:00:00Z"}), "class java.lang.String can not be converted to milliseconds since epoch"),
        ("ListShards", json!({"StreamName": "s", "ShardFilter": {"Type": "AT_TIMESTAMP", "Timestamp": true}}), "class java.lang.Boolean can not be converted to milliseconds since epoch"),
    ];
    for (op, body, message) in cases {
        let (status, got) = call(&engine, op, &body);
        assert_eq!(status, 400, "{op} {body}");
        assert_eq!(
            got,
            json!({"__type": "SerializationException", "Message": message}),
            "{op} {body}"
        );
    }
    // Unknown members are ignored, fractions floored.
    let (status, got) = call(
        &engine,
        "CreateStream",
        &json!({"StreamName": "s", "ShardCount": 1.7, "Colour": "red"}),
    );
    assert_eq!(status, 200, "{got}");
    let (_, got) = call(&engine, "DescribeStreamSummary", &json!({"StreamName": "s"}));
    assert_eq!(got["StreamDescriptionSummary"]["OpenShardCount"], 1);
}

#[test]
fn presigned_query_string_requests_are_accepted_and_their_malformed_forms_refused() {
    let engine = TestEngine::start();
    let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Feu-west-2%2Fkinesis%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-target&X-Amz-Signature=0123abcd";
    let presigned = |query: &str, op: &str, body: &str, auth: Option<&str>| {
        let target = format!("Kinesis_20131202.{op}");
        let mut headers = vec![
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", target.as_str()),
        ];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let (status, _, body) =
            raw_post_to(&engine.endpoint, &format!("/?{query}"), &headers, body.as_bytes());
        (status, json_of(&body))
    };
    let (status, got) = presigned(
        query,
        "CreateStream",
        r#"{"StreamName":"p","ShardCount":1}"#,
        None,
    );
    assert_eq!(status, 200, "{got}");
    let (status, got) = presigned(query, "DescribeStreamSummary", r#"{"StreamName":"p"}"#, None);
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["StreamDescriptionSummary"]["StreamARN"], "arn:aws:kinesis:eu-west-2:000000000000:stream/p",
        "the presigned credential scope names the region"
    );
    let (status, got) = presigned(query, "ListStreams", "{}", Some(SIGNED));
    assert_eq!(
        (status, got["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );
    assert_eq!(
        got["message"],
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    );
    let (status, got) = presigned(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=d&X-Amz-Signature=s",
        "ListStreams",
        "{}",
        None,
    );
    assert_eq!(
        (status, got["__type"].as_str()),
        (400, Some("IncompleteSignatureException"))
    );
    assert_eq!(
        got["message"],
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    );
}

/// botocore presigns a Kinesis call; the URL is POSTed with its body by plain urllib.
const BOTO3_PRESIGNED: &str = r#"
import json, sys, urllib.request, urllib.error
import boto3
endpoint = sys.argv[1]
k = boto3.client("kinesis", endpoint_url=endpoint, region_name="ap-southeast-2",
                 aws_access_key_id="test", aws_secret_access_key="test")
k.create_stream(StreamName="presigned", ShardCount=1)
url = k.generate_presigned_url("describe_stream_summary", Params={"StreamName": "presigned"}, ExpiresIn=60)
def post(url, headers):
    req = urllib.request.Request(url, data=json.dumps({"StreamName": "presigned"}).encode(), method="POST",
        headers=dict({"Content-Type": "application/x-amz-json-1.1",
                      "X-Amz-Target": "Kinesis_20131202.DescribeStreamSummary"}, **headers))
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
ok = post(url, {})
both = post(url, {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x"})
print(json.dumps({"url": url, "ok": ok, "both": both}))
"#;

#[test]
fn a_url_presigned_by_botocore_is_accepted_and_its_scope_names_the_region() {
    let Some(python) = peers_python() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "boto3 missing from the peers venv under CI (.ci/run installs it)"
        );
        println!("SKIP: boto3 not installed (scripts/peers.sh install); presigned boto3 test not run");
        return;
    };
    let engine = TestEngine::start();
    let out = std::process::Command::new(python)
        .args(["-c", BOTO3_PRESIGNED, &engine.endpoint])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "boto3 script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("json result");
    let url = got["url"].as_str().unwrap_or_default();
    assert!(
        url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256") && !url.contains("Authorization"),
        "{url}"
    );
    assert_eq!(got["ok"][0], 200, "{got}");
    assert_eq!(
        got["ok"][1]["StreamDescriptionSummary"]["StreamARN"],
        "arn:aws:kinesis:ap-southeast-2:000000000000:stream/presigned"
    );
    assert_eq!(got["both"][0], 400, "{got}");
    assert_eq!(got["both"][1]["__type"], "InvalidSignatureException");
}

async fn client_in(endpoint: &str, region: &'static str) -> aws_sdk_kinesis::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_kinesis::Client::new(&conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn arns_carry_the_region_the_client_signed_for_and_other_regions_or_accounts_are_not_found() {
    let engine = TestEngine::start();
    let eu = client_in(&engine.endpoint, "eu-west-1").await;
    create_stream(&eu, "regional", 1).await;
    let summary = eu
        .describe_stream_summary()
        .stream_name("regional")
        .send()
        .await
        .expect("summary");
    let arn = summary
        .stream_description_summary()
        .map(|s| s.stream_arn().to_string())
        .unwrap_or_default();
    assert_eq!(arn, "arn:aws:kinesis:eu-west-1:000000000000:stream/regional");
    let consumer = eu
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .expect("register");
    let consumer_arn = consumer
        .consumer()
        .map(|c| c.consumer_arn().to_string())
        .unwrap_or_default();
    assert!(
        consumer_arn.starts_with(&format!("{arn}/consumer/app:")),
        "{consumer_arn}"
    );

    // The ARN works for the region it names.
    eu.describe_stream_summary()
        .stream_arn(&arn)
        .send()
        .await
        .expect("by ARN");
    // Another region's or account's ARN names nothing here.
    for foreign in [
        "arn:aws:kinesis:us-east-1:000000000000:stream/regional",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/regional",
    ] {
        let err = eu
            .describe_stream_summary()
            .stream_arn(foreign)
            .send()
            .await
            .expect_err(foreign);
        assert_eq!(error_code(&err), "ResourceNotFoundException", "{foreign}");
        let err = eu
            .put_record()
            .stream_arn(foreign)
            .partition_key("p")
            .data(Blob::new("x"))
            .send()
            .await
            .expect_err(foreign);
        assert_eq!(error_code(&err), "ResourceNotFoundException", "{foreign}");
    }
    // A client signing for us-east-1 sees the stream under its own region, and the eu ARN
    // (and its consumer) as foreign.
    let us = client_in(&engine.endpoint, "us-east-1").await;
    let summary = us
        .describe_stream_summary()
        .stream_name("regional")
        .send()
        .await
        .expect("summary");
    assert_eq!(
        summary.stream_description_summary().map(|s| s.stream_arn()),
        Some("arn:aws:kinesis:us-east-1:000000000000:stream/regional")
    );
    let err = us
        .describe_stream_consumer()
        .consumer_arn(&consumer_arn)
        .send()
        .await
        .expect_err("foreign consumer");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

async fn first_sequence_number(
    k: &aws_sdk_kinesis::Client,
    stream: &str,
    hash_key: &str,
) -> (String, String) {
    let put = k
        .put_record()
        .stream_name(stream)
        .partition_key("p")
        .explicit_hash_key(hash_key)
        .data(Blob::new("x"))
        .send()
        .await
        .expect("put");
    (put.shard_id().to_string(), put.sequence_number().to_string())
}

fn invalid_argument_message<E, R>(err: &aws_sdk_kinesis::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    assert_eq!(error_code(err), "InvalidArgumentException", "{err:?}");
    err.as_service_error()
        .and_then(|e| e.message())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn starting_sequence_numbers_are_read_by_their_layout_with_aws_errors() {
    use kinlocal::engine::kinesis::sequence::SeqParts;
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "seqs", 2).await;
    let (shard0, seq0) = first_sequence_number(&k, "seqs", "0").await;
    let (shard1, seq1) = first_sequence_number(&k, "seqs", &(u128::MAX).to_string()).await;
    assert_eq!(
        (shard0.as_str(), shard1.as_str()),
        ("shardId-000000000000", "shardId-000000000001")
    );
    let iterator = |shard: &str, seq: &str| {
        k.get_shard_iterator()
            .stream_name("seqs")
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(seq)
            .send()
    };
    iterator(&shard0, &seq0).await.expect("its own shard");

    let err = iterator(&shard0, &seq1)
        .await
        .expect_err("another shard's number");
    assert_eq!(
        invalid_argument_message(&err),
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000"
    );
    let garbage = "9".repeat(56);
    let err = iterator(&shard0, &garbage).await.expect_err("no layout");
    assert_eq!(
        invalid_argument_message(&err),
        format!("StartingSequenceNumber {garbage} used in GetShardIterator on shard shardId-000000000000 in stream seqs under account 000000000000 is invalid.")
    );
    // Shard 0 of a stream created at another time.
    let foreign = SeqParts {
        shard_created_secs: 1_500_000_000,
        shard_index: 0,
        index: 0,
        record_secs: 1_500_000_001,
    }
    .encode();
    let err = iterator(&shard0, &foreign)
        .await
        .expect_err("another stream's number");
    assert_eq!(
        invalid_argument_message(&err),
        format!("StartingSequenceNumber {foreign} used in GetShardIterator on shard shardId-000000000000 in stream seqs under account 000000000000 is invalid because it did not come from this stream.")
    );
    // A number that does not match the pattern is a ValidationException.
    let err = iterator(&shard0, "0123").await.expect_err("pattern");
    assert_eq!(error_code(&err), "ValidationException");
    // TRIM_HORIZON with a number: AWS's "and also a".
    let err = k
        .get_shard_iterator()
        .stream_name("seqs")
        .shard_id(&shard0)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .starting_sequence_number(&seq0)
        .send()
        .await
        .expect_err("both");
    assert!(invalid_argument_message(&err)
        .ends_with("Request specified TRIM_HORIZON and also a StartingSequenceNumber."));
}

#[tokio::test(flavor = "multi_thread")]
async fn sequence_number_for_ordering_must_have_a_layout_and_no_future_time() {
    use kinlocal::engine::kinesis::sequence::SeqParts;
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "ordered", 1).await;
    let (_, first) = first_sequence_number(&k, "ordered", "0").await;
    let put = |ordering: String| {
        k.put_record()
            .stream_name("ordered")
            .partition_key("p")
            .data(Blob::new("y"))
            .sequence_number_for_ordering(ordering)
            .send()
    };
    let second = put(first.clone()).await.expect("ordered after the first");
    assert!(second.sequence_number().len() == first.len() && second.sequence_number() > first.as_str());
    let future = SeqParts {
        shard_created_secs: 1_700_000_000,
        shard_index: 0,
        index: 1,
        record_secs: 4_000_000_000,
    }
    .encode();
    for bad in ["9".repeat(56), future] {
        let err = put(bad.clone()).await.expect_err(&bad);
        assert_eq!(
            invalid_argument_message(&err),
            format!("ExclusiveMinimumSequenceNumber {bad} used in PutRecord on stream ordered under account 000000000000 is invalid.")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shard_iterators_are_opaque_base64_of_aws_size_and_foreign_ones_are_invalid() {
    let engine = TestEngine::start();
    let other = TestEngine::start();
    let k = engine.kinesis().await;
    let k_other = other.kinesis().await;
    for client in [&k, &k_other] {
        create_stream(client, "its", 1).await;
    }
    let iterator = |client: &aws_sdk_kinesis::Client| {
        client
            .get_shard_iterator()
            .stream_name("its")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
    };
    let mine = iterator(&k)
        .await
        .expect("iterator")
        .shard_iterator()
        .unwrap_or_default()
        .to_string();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&mine)
        .expect("base64");
    assert!((152..=280).contains(&raw.len()), "{} bytes", raw.len());
    // Eight bytes 0…01 then the sealed body: `AAAAAAAAAA` and one of `E`–`H`, as AWS's.
    assert!(
        mine.starts_with("AAAAAAAAAA") && "EFGH".contains(&mine[10..11]),
        "{mine}"
    );
    assert!(
        !String::from_utf8_lossy(&raw).contains("its"),
        "the stream name is not readable"
    );
    k.get_records().shard_iterator(&mine).send().await.expect("reads");

    let foreign = iterator(&k_other)
        .await
        .expect("iterator")
        .shard_iterator()
        .unwrap_or_default()
        .to_string();
    let mut tampered = raw.clone();
    tampered[60] ^= 0x20;
    let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
    for bad in [foreign, tampered, "AAAAAAAAAAE=".to_string()] {
        let err = k
            .get_records()
            .shard_iterator(&bad)
            .send()
            .await
            .expect_err("invalid");
        assert_eq!(invalid_argument_message(&err), "Invalid ShardIterator.");
    }
}
