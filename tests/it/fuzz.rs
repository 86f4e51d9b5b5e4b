//! A seeded, bounded fuzzer on stable Rust: mutated JSON and CBOR requests for every operation
//! of both services, straight into the engine's operation handlers (no network), checking that
//! each is answered — a reply that decodes, or an AWS error with a 4xx status — and never a
//! panic or a 500.
//!
//! CI runs a fixed budget with fixed seeds. Longer runs: `KINLOCAL_FUZZ_ITERS=200000
//! KINLOCAL_FUZZ_SEED=7 cargo test --test it fuzz_ -- --nocapture`. A failure prints the seed,
//! the iteration and the request; add it to `REGRESSIONS` once fixed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use base64::Engine as _;
use kinlocal::engine::codec::{Format, Request};
use kinlocal::engine::{Engine, EngineConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const KINESIS_OPS: &[&str] = &[
    "AddTagsToStream",
    "CreateStream",
    "DecreaseStreamRetentionPeriod",
    "DeleteResourcePolicy",
    "DeleteStream",
    "DeregisterStreamConsumer",
    "DescribeAccountSettings",
    "DescribeLimits",
    "DescribeStream",
    "DescribeStreamConsumer",
    "DescribeStreamSummary",
    "DisableEnhancedMonitoring",
    "EnableEnhancedMonitoring",
    "GetRecords",
    "GetResourcePolicy",
    "GetShardIterator",
    "IncreaseStreamRetentionPeriod",
    "ListShards",
    "ListStreamConsumers",
    "ListStreams",
    "ListTagsForResource",
    "ListTagsForStream",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "PutResourcePolicy",
    "RegisterStreamConsumer",
    "RemoveTagsFromStream",
    "SplitShard",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "TagResource",
    "UntagResource",
    "UpdateAccountSettings",
    "UpdateMaxRecordSize",
    "UpdateShardCount",
    "UpdateStreamMode",
    "UpdateStreamWarmThroughput",
    "NoSuchOperation",
];

const DYNAMODB_OPS: &[&str] = &[
    "BatchGetItem",
    "BatchWriteItem",
    "CreateTable",
    "DeleteItem",
    "DeleteTable",
    "DescribeContinuousBackups",
    "DescribeTable",
    "DescribeTimeToLive",
    "GetItem",
    "ListTables",
    "ListTagsOfResource",
    "PutItem",
    "Query",
    "Scan",
    "TagResource",
    "TransactGetItems",
    "TransactWriteItems",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateItem",
    "UpdateTable",
    "UpdateTimeToLive",
    "NoSuchOperation",
];

/// Requests that once broke the engine (or are close to what did): always replayed.
const REGRESSIONS: &[(&str, &str)] = &[
    // Query with an ExclusiveStartKey outside its key condition: BTreeMap::range panicked.
    (
        "DynamoDB.Query",
        r#"{"TableName":"fz_table","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"m"}},"ExclusiveStartKey":{"pk":{"S":"z"},"sk":{"N":"1"}}}"#,
    ),
    (
        "DynamoDB.Query",
        r#"{"TableName":"fz_table","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"m"}},"ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"N":"1"}},"ScanIndexForward":false}"#,
    ),
];

/// Interesting scalars: boundaries, wrong types, odd text.
fn interesting_string(rng: &mut StdRng, dict: &[String]) -> String {
    if !dict.is_empty() && rng.random_bool(0.4) {
        return dict[rng.random_range(0..dict.len())].clone();
    }
    let pool: &[&str] = &[
        "",
        "fz",
        "fz_stream",
        "fz_table",
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-999999999999",
        "shardId-",
        "-1",
        "0",
        "1e400",
        "340282366920938463463374607431768211455",
        "340282366920938463463374607431768211456",
        "99999999999999999999999999999999999999999999999999999999",
        "49590338271490256608559692538361571095921575989136588898",
        "arn:aws:kinesis:us-east-1:000000000000:stream/fz_stream",
        "arn:aws:kinesis:us-east-1:000000000000:stream/fz_stream/consumer/c:1",
        "arn:aws:dynamodb:us-east-1:000000000000:table/fz_table",
        "TRIM_HORIZON",
        "LATEST",
        "AT_SEQUENCE_NUMBER",
        "AFTER_SEQUENCE_NUMBER",
        "AT_TIMESTAMP",
        "AT_TRIM_HORIZON",
        "AFTER_SHARD_ID",
        "FROM_TRIM_HORIZON",
        "ON_DEMAND",
        "PROVISIONED",
        "HASH",
        "RANGE",
        "ALL_OLD",
        "ALL_NEW",
        "UPDATED_NEW",
        "COUNT",
        "ALL_ATTRIBUTES",
        "SPECIFIC_ATTRIBUTES",
        "pk = :p",
        "pk = :p AND sk BETWEEN :a AND :b",
        "begins_with(sk, :a)",
        "SET #n = :v, c = c + :one REMOVE d ADD e :one DELETE f :s",
        "SET a = list_append(if_not_exists(a, :l), :l)",
        "attribute_not_exists(pk) OR (NOT contains(#n, :v) AND size(x) > :one)",
        "a.b[3].#n, c[0]",
        "#n IN (:a, :b, :v)",
        "(((((",
        "a[99999999999999999999]",
        "SET a[18446744073709551615] = :v",
        "é \u{0} \u{ffff} \u{10ffff}",
        ":v",
        "#n",
    ];
    match rng.random_range(0..10) {
        0 => "a".repeat(rng.random_range(0..70_000)),
        1 => {
            let n = rng.random_range(1..50);
            (0..n)
                .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
                .collect()
        }
        _ => pool[rng.random_range(0..pool.len())].to_string(),
    }
}

/// A DynamoDB attribute value, valid or not.
fn attribute_value(rng: &mut StdRng, dict: &[String], depth: u32) -> Value {
    let s = interesting_string(rng, dict);
    match rng.random_range(0..12) {
        0 => json!({ "S": s }),
        1 => {
            let nines = "9".repeat(39);
            let n =
                ["1", "-0", "1e125", "1e126", "0.000001", "abc", "", nines.as_str()][rng.random_range(0..8)];
            json!({ "N": n })
        }
        2 => json!({ "B": base64::engine::general_purpose::STANDARD.encode(s.as_bytes()) }),
        3 => json!({ "BOOL": rng.random_bool(0.5) }),
        4 => json!({ "NULL": true }),
        5 => json!({ "SS": [s, "x", "x"] }),
        6 => json!({ "NS": ["1", "2", "1.0"] }),
        7 if depth < 6 => {
            json!({ "L": (0..rng.random_range(0..4)).map(|_| attribute_value(rng, dict, depth + 1)).collect::<Vec<_>>() })
        }
        8 if depth < 6 => {
            let mut m = Map::new();
            for i in 0..rng.random_range(0..4) {
                m.insert(format!("k{i}"), attribute_value(rng, dict, depth + 1));
            }
            json!({ "M": m })
        }
        9 => json!({ "S": s, "N": "1" }),
        10 => json!({}),
        _ => random_value(rng, dict, depth + 1),
    }
}

/// Any JSON value, deeper and stranger than any request should be.
fn random_value(rng: &mut StdRng, dict: &[String], depth: u32) -> Value {
    match rng.random_range(0..10) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-3i64..5)),
        3 => {
            let n = [i64::MIN as f64, i64::MAX as f64, u64::MAX as f64, -0.5, 1e300][rng.random_range(0..5)];
            json!(n)
        }
        4 | 5 => json!(interesting_string(rng, dict)),
        6 if depth < 8 => Value::Array(
            (0..rng.random_range(0..5))
                .map(|_| random_value(rng, dict, depth + 1))
                .collect(),
        ),
        7 if depth < 8 => {
            let mut m = Map::new();
            for _ in 0..rng.random_range(0..5) {
                m.insert(interesting_string(rng, dict), random_value(rng, dict, depth + 1));
            }
            Value::Object(m)
        }
        8 => {
            // Deep nesting, beyond any parser's comfort.
            let n = rng.random_range(100..3000);
            let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }
        _ => attribute_value(rng, dict, depth + 1),
    }
}

fn item(rng: &mut StdRng, dict: &[String]) -> Value {
    let mut m = Map::new();
    let pk = ["a", "m", "z"][rng.random_range(0..3)];
    m.insert("pk".into(), json!({ "S": pk }));
    m.insert("sk".into(), json!({ "N": rng.random_range(0..5).to_string() }));
    for i in 0..rng.random_range(0..4) {
        m.insert(format!("attr{i}"), attribute_value(rng, dict, 0));
    }
    Value::Object(m)
}

/// A plausible request for `op`, before mutation.
fn template(op: &str, rng: &mut StdRng, dict: &[String]) -> Value {
    let stream = if rng.random_bool(0.8) {
        "fz_stream"
    } else {
        "fz_other"
    };
    let table = if rng.random_bool(0.8) {
        "fz_table"
    } else {
        "fz_other"
    };
    let data = base64::engine::general_purpose::STANDARD.encode(interesting_string(rng, dict));
    let key = json!({ "pk": { "S": "m" }, "sk": { "N": "1" } });
    let values = json!({ ":p": {"S": "m"}, ":a": {"N": "0"}, ":b": {"N": "3"}, ":v": attribute_value(rng, dict, 0),
        ":one": {"N": "1"}, ":l": {"L": []}, ":s": {"SS": ["x"]} });
    let names = json!({ "#n": "name" });
    let expr = interesting_string(rng, dict);
    match op {
        "CreateStream" => json!({ "StreamName": stream, "ShardCount": rng.random_range(1..4) }),
        "PutRecord" => json!({ "StreamName": stream, "PartitionKey": "pk", "Data": data }),
        "PutRecords" => {
            json!({ "StreamName": stream, "Records": (0..rng.random_range(1..5)).map(|i| json!({"PartitionKey": format!("p{i}"), "Data": data})).collect::<Vec<_>>() })
        }
        "GetShardIterator" => {
            json!({ "StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON", "StartingSequenceNumber": interesting_string(rng, dict), "Timestamp": 1.5e9 })
        }
        "GetRecords" => {
            json!({ "ShardIterator": interesting_string(rng, dict), "Limit": rng.random_range(0..20_000) })
        }
        "SplitShard" => {
            json!({ "StreamName": stream, "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": interesting_string(rng, dict) })
        }
        "MergeShards" => {
            json!({ "StreamName": stream, "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000001" })
        }
        "UpdateShardCount" => {
            json!({ "StreamName": stream, "TargetShardCount": rng.random_range(0..8), "ScalingType": "UNIFORM_SCALING" })
        }
        "ListShards" => {
            json!({ "StreamName": stream, "MaxResults": rng.random_range(0..20), "ShardFilter": { "Type": interesting_string(rng, dict), "ShardId": "shardId-000000000000" } })
        }
        "RegisterStreamConsumer" | "DescribeStreamConsumer" | "DeregisterStreamConsumer" => {
            json!({ "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fz_stream", "ConsumerName": "c" })
        }
        "AddTagsToStream" | "TagResource" => {
            json!({ "StreamName": stream, "ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fz_stream", "Tags": { "k": "v" } })
        }
        "IncreaseStreamRetentionPeriod" | "DecreaseStreamRetentionPeriod" => {
            json!({ "StreamName": stream, "RetentionPeriodHours": rng.random_range(0..10_000) })
        }
        "CreateTable" => json!({ "TableName": table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            "BillingMode": "PAY_PER_REQUEST" }),
        "PutItem" => {
            json!({ "TableName": table, "Item": item(rng, dict), "ConditionExpression": expr, "ExpressionAttributeValues": values, "ExpressionAttributeNames": names })
        }
        "GetItem" | "DeleteItem" => {
            json!({ "TableName": table, "Key": key, "ProjectionExpression": expr, "ExpressionAttributeNames": names })
        }
        "UpdateItem" => {
            json!({ "TableName": table, "Key": key, "UpdateExpression": expr, "ExpressionAttributeValues": values, "ExpressionAttributeNames": names, "ReturnValues": "ALL_NEW" })
        }
        "Query" => {
            json!({ "TableName": table, "KeyConditionExpression": "pk = :p", "FilterExpression": expr, "ExpressionAttributeValues": values, "ExpressionAttributeNames": names,
            "ExclusiveStartKey": key, "ScanIndexForward": rng.random_bool(0.5), "Limit": rng.random_range(0..5) })
        }
        "Scan" => {
            json!({ "TableName": table, "FilterExpression": expr, "ExpressionAttributeValues": values, "ExpressionAttributeNames": names, "Limit": rng.random_range(0..5), "Segment": rng.random_range(0..3), "TotalSegments": rng.random_range(0..3) })
        }
        "BatchWriteItem" => {
            json!({ "RequestItems": { table: [ {"PutRequest": {"Item": item(rng, dict)}}, {"DeleteRequest": {"Key": key}} ] } })
        }
        "BatchGetItem" => json!({ "RequestItems": { table: { "Keys": [key, key] } } }),
        "TransactWriteItems" => {
            json!({ "TransactItems": [ {"Put": {"TableName": table, "Item": item(rng, dict)}}, {"Update": {"TableName": table, "Key": key, "UpdateExpression": expr, "ExpressionAttributeValues": values}} ] })
        }
        "TransactGetItems" => json!({ "TransactItems": [ {"Get": {"TableName": table, "Key": key}} ] }),
        "UpdateTable" => {
            json!({ "TableName": table, "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1} })
        }
        "UpdateTimeToLive" => {
            json!({ "TableName": table, "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "ttl"} })
        }
        op if DYNAMODB_OPS.contains(&op) => {
            json!({ "TableName": table, "ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/fz_table" })
        }
        _ => {
            json!({ "StreamName": stream, "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/fz_stream" })
        }
    }
}

/// Every JSON pointer to a member or element of `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(c, p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(c, p, out);
            }
        }
        _ => {}
    }
}

fn mutate(v: &mut Value, rng: &mut StdRng, dict: &[String]) {
    for _ in 0..rng.random_range(0..4) {
        let mut ptrs = Vec::new();
        pointers(v, String::new(), &mut ptrs);
        if ptrs.is_empty() {
            *v = random_value(rng, dict, 0);
            continue;
        }
        let p = ptrs[rng.random_range(0..ptrs.len())].clone();
        match rng.random_range(0..4) {
            0 => {
                if let Some(t) = v.pointer_mut(&p) {
                    *t = random_value(rng, dict, 0);
                }
            }
            1 => {
                let (parent, last) = p.rsplit_once('/').unwrap_or(("", ""));
                match v.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) if !a.is_empty() => {
                        a.pop();
                    }
                    _ => {}
                }
            }
            2 => {
                if let Some(t) = v.pointer_mut(&p) {
                    *t = attribute_value(rng, dict, 0);
                }
            }
            _ => {
                if let Some(Value::Array(a)) = v.pointer_mut(&p) {
                    let n = rng.random_range(0..2000);
                    let first = a.first().cloned().unwrap_or(Value::Null);
                    a.extend(std::iter::repeat_n(first, n));
                } else if let Some(Value::Object(m)) = v.pointer_mut(&p) {
                    m.insert(interesting_string(rng, dict), random_value(rng, dict, 0));
                }
            }
        }
    }
}

/// The request body: JSON or CBOR, sometimes with its bytes damaged.
fn encode(v: &Value, kinesis: bool, rng: &mut StdRng) -> (Format, Vec<u8>) {
    let cbor = kinesis && rng.random_bool(0.25);
    let (format, mut bytes) = if cbor {
        let mut out = Vec::new();
        let _ = ciborium::into_writer(v, &mut out);
        (Format::Cbor, out)
    } else {
        let format = if kinesis { Format::Json11 } else { Format::Json10 };
        (format, serde_json::to_vec(v).unwrap_or_default())
    };
    if rng.random_bool(0.1) && !bytes.is_empty() {
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes[at] ^= 1 << rng.random_range(0..8),
                1 => bytes.truncate(at),
                _ => bytes.insert(at, rng.random()),
            }
            if bytes.is_empty() {
                break;
            }
        }
    }
    (format, bytes)
}

/// Strings from replies worth feeding back: iterators, tokens, ARNs, sequence numbers.
fn harvest(reply: &Value, dict: &mut Vec<String>) {
    match reply {
        Value::Object(m) => {
            for (k, v) in m {
                if let Value::String(s) = v {
                    if k.contains("Iterator")
                        || k.contains("Token")
                        || k.contains("ARN")
                        || k.contains("SequenceNumber")
                        || k.contains("ShardId")
                    {
                        if dict.len() < 500 {
                            dict.push(s.clone());
                        } else {
                            let i = s.len() % dict.len();
                            dict[i] = s.clone();
                        }
                    }
                } else {
                    harvest(v, dict);
                }
            }
        }
        Value::Array(a) => a.iter().take(20).for_each(|v| harvest(v, dict)),
        _ => {}
    }
}

/// Runs one request; `Err` describes what went wrong.
fn check(
    engine: &Arc<Engine>,
    target: &str,
    format: Format,
    body: &[u8],
    dict: &mut Vec<String>,
) -> Result<(), String> {
    let (service, op) = target.split_once('.').unwrap_or(("", ""));
    let req = Request { format, body };
    let outcome = catch_unwind(AssertUnwindSafe(|| match service {
        "Kinesis" => engine.kinesis.handle(op, &req),
        _ => engine.dynamodb.handle(op, &req),
    }))
    .map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("panicked: {msg}")
    })?;
    match outcome {
        Ok(reply) => {
            let decodes = match format {
                // Timestamps are CBOR tags, which JSON values cannot hold.
                Format::Cbor => ciborium::from_reader::<ciborium::Value, _>(reply.0.as_slice()).is_ok(),
                _ => match serde_json::from_slice::<Value>(&reply.0) {
                    Ok(v) => {
                        harvest(&v, dict);
                        true
                    }
                    Err(_) => false,
                },
            };
            if decodes {
                Ok(())
            } else {
                Err("a success reply that does not decode".into())
            }
        }
        Err(e) if e.status >= 500 => Err(format!("answered {}: {} {}", e.status, e.code, e.message)),
        Err(_) => Ok(()),
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fuzz(seed: u64, iterations: u64) {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut dict: Vec<String> = Vec::new();
    // Something to work on: a stream and a table that the templates name.
    for (target, body) in [
        (
            "Kinesis.CreateStream",
            json!({"StreamName": "fz_stream", "ShardCount": 2}),
        ),
        ("DynamoDB.CreateTable", template("CreateTable", &mut rng, &dict)),
    ] {
        let body = serde_json::to_vec(&body).expect("json");
        let format = if target.starts_with("Kinesis") {
            Format::Json11
        } else {
            Format::Json10
        };
        check(&engine, target, format, &body, &mut dict).expect("set-up");
    }
    for i in 0..iterations {
        let kinesis = rng.random_bool(0.5);
        let ops = if kinesis { KINESIS_OPS } else { DYNAMODB_OPS };
        let op = ops[rng.random_range(0..ops.len())];
        let mut v = template(op, &mut rng, &dict);
        if rng.random_bool(0.8) {
            mutate(&mut v, &mut rng, &dict);
        }
        let (format, body) = encode(&v, kinesis, &mut rng);
        let target = format!("{}.{op}", if kinesis { "Kinesis" } else { "DynamoDB" });
        if let Err(what) = check(&engine, &target, format, &body, &mut dict) {
            let shown: String = String::from_utf8_lossy(&body).chars().take(4000).collect();
            panic!("seed {seed}, iteration {i}: {target} {what}\nrequest ({format:?}): {shown}");
        }
    }
}

#[test]
fn fuzz_regressions_are_answered() {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let mut dict = Vec::new();
    let mut rng = StdRng::seed_from_u64(0);
    let setup = serde_json::to_vec(&template("CreateTable", &mut rng, &dict)).expect("json");
    check(&engine, "DynamoDB.CreateTable", Format::Json10, &setup, &mut dict).expect("set-up");
    for (target, body) in REGRESSIONS {
        check(&engine, target, Format::Json10, body.as_bytes(), &mut dict)
            .unwrap_or_else(|e| panic!("{target}: {e}\n{body}"));
    }
}

#[test]
fn fuzz_engine_operations_with_a_fixed_budget() {
    let iterations = setting("KINLOCAL_FUZZ_ITERS", 1000);
    let seeds: Vec<u64> = match std::env::var("KINLOCAL_FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("KINLOCAL_FUZZ_SEED is a number")],
        Err(_) => vec![1, 2, 3],
    };
    for seed in seeds {
        fuzz(seed, iterations);
    }
}
