//! Requests that once crashed or wedged the engine: each is answered with an AWS-shaped error
//! and the engine keeps serving everyone else.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

use crate::support::TestEngine;

/// A table with a string hash key `h` and a string range key `r`.
async fn table(c: &Client, name: &str) {
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("key")
    };
    let def = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("def")
    };
    c.create_table()
        .table_name(name)
        .key_schema(key("h", KeyType::Hash))
        .key_schema(key("r", KeyType::Range))
        .attribute_definitions(def("h"))
        .attribute_definitions(def("r"))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
}

fn values() -> HashMap<String, AV> {
    HashMap::from([(":n".to_string(), AV::S("x".into()))])
}

async fn still_serving(c: &Client) {
    c.put_item()
        .table_name("ttt")
        .item("h", AV::S("alive".into()))
        .item("r", AV::S("1".into()))
        .send()
        .await
        .expect("the engine still serves writes");
    let got = c
        .get_item()
        .table_name("ttt")
        .key("h", AV::S("alive".into()))
        .key("r", AV::S("1".into()))
        .send()
        .await
        .expect("the engine still serves reads");
    assert!(got.item().is_some());
}

/// Issue 13, finding 1: ~5,000 nested calls or AND/OR terms overflowed the stack and aborted
/// the whole process.
#[tokio::test]
async fn deep_dynamodb_expressions_are_validation_errors_not_a_crash() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "ttt").await;

    let nested = format!("{}a{} = :n", "size(".repeat(5000), ")".repeat(5000));
    let terms: Vec<&str> = std::iter::repeat_n("a = :n", 5000).collect();
    let and_chain = terms.join(" AND ");
    let or_chain = terms.join(" OR ");
    for expr in [&nested, &and_chain, &or_chain] {
        let e = c
            .scan()
            .table_name("ttt")
            .filter_expression(expr.as_str())
            .set_expression_attribute_values(Some(values()))
            .send()
            .await
            .expect_err("refused");
        let e = e
            .as_service_error()
            .expect("a service error, not a dropped connection");
        assert_eq!(e.code(), Some("ValidationException"));
        assert_eq!(
            e.message(),
            Some(
                format!(
                    "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: {}",
                    expr.len()
                )
                .as_str()
            )
        );
    }

    // Within 4 KB: too many operators, and nesting too deep.
    let e = c
        .put_item()
        .table_name("ttt")
        .item("h", AV::S("a".into()))
        .item("r", AV::S("b".into()))
        .condition_expression(terms[..200].join(" OR "))
        .set_expression_attribute_values(Some(values()))
        .send()
        .await
        .expect_err("refused");
    assert_eq!(
        e.message(),
        Some("Invalid ConditionExpression: The expression contains too many operators; operator count: 399")
    );
    let nested_small = format!("SET a = {}b{}", "list_append(".repeat(150), ", :n)".repeat(150));
    assert!(nested_small.len() <= 4096);
    let e = c
        .update_item()
        .table_name("ttt")
        .key("h", AV::S("a".into()))
        .key("r", AV::S("b".into()))
        .update_expression(nested_small)
        .set_expression_attribute_values(Some(values()))
        .send()
        .await
        .expect_err("refused");
    assert_eq!(e.code(), Some("ValidationException"));
    assert_eq!(
        e.message(),
        Some("Invalid UpdateExpression: The expression is nested too deeply;")
    );

    still_serving(&c).await;
}

/// Issue 13: the names/values maps are bounded as AWS bounds them ("the maximum length of all
/// substitution variables in an expression is 2 MB", names and values together), so a request
/// cannot make the engine hold an unbounded placeholder table; just under the bound is served.
#[tokio::test]
async fn names_and_values_over_two_megabytes_together_are_refused() {
    const LIMIT: usize = 2 * 1024 * 1024;
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "ttt").await;
    // `count` values of 400 KB each, all used by the condition; `name` stands for `#x`.
    let values = |count: usize| -> HashMap<String, AV> {
        (0..count)
            .map(|i| (format!(":v{i}"), AV::S("v".repeat(400 * 1024))))
            .collect()
    };
    let condition = |count: usize| {
        let list: Vec<String> = (0..count).map(|i| format!(":v{i}")).collect();
        format!("attribute_not_exists(#x) OR #x IN ({})", list.join(", "))
    };
    let put = |count: usize, name: String| {
        c.put_item()
            .table_name("ttt")
            .item("h", AV::S("subst".into()))
            .item("r", AV::S("1".into()))
            .condition_expression(condition(count))
            .expression_attribute_names("#x", name)
            .set_expression_attribute_values(Some(values(count)))
            .send()
    };
    let long_name = "n".repeat(60 * 1024);

    // 1.6 MB of values + a 60 KB name: within the bound.
    put(4, long_name.clone())
        .await
        .expect("1.66 MB is within the bound");
    // 2,048,000 bytes of values + a 3-byte name: within it.
    put(5, "abc".into())
        .await
        .expect("2,048,000 bytes + a short name is within the bound");
    // The same values + the 60 KB name: 2.11 MB together (each map alone is under 2 MB).
    // And six values: 2.46 MB of values alone.
    for (count, name) in [(5, long_name.clone()), (6, "abc".to_string())] {
        let e = put(count, name).await.expect_err("over 2 MB together");
        let e = e
            .as_service_error()
            .expect("a service error, not a dropped connection");
        assert_eq!(e.code(), Some("ValidationException"));
        let msg = e.message().unwrap_or_default();
        assert!(
            msg.starts_with(&format!(
                "ExpressionAttributeNames and ExpressionAttributeValues exceed the maximum allowed size of {LIMIT} bytes together"
            )),
            "{msg}"
        );
    }
    // The bound holds for every operation that takes the maps, e.g. a Scan's filter.
    let e = c
        .scan()
        .table_name("ttt")
        .filter_expression(condition(6))
        .expression_attribute_names("#x", "abc")
        .set_expression_attribute_values(Some(values(6)))
        .send()
        .await
        .expect_err("over 2 MB");
    assert_eq!(e.code(), Some("ValidationException"));
    still_serving(&c).await;
}

/// A legacy `QueryFilter` with thousands of entries used to build a condition as deep as the
/// request was long; evaluating it must not exhaust the stack.
#[tokio::test]
async fn a_legacy_filter_with_thousands_of_entries_is_evaluated() {
    use aws_sdk_dynamodb::types::{ComparisonOperator, Condition};
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "ttt").await;
    still_serving(&c).await;
    let mut filter = HashMap::new();
    for i in 0..20_000 {
        filter.insert(
            format!("a{i}"),
            Condition::builder()
                .comparison_operator(ComparisonOperator::Null)
                .build()
                .expect("condition"),
        );
    }
    let out = c
        .scan()
        .table_name("ttt")
        .set_scan_filter(Some(filter))
        .send()
        .await
        .expect("scan with a large legacy filter");
    assert_eq!(out.count(), 1);
    still_serving(&c).await;
}

/// Issue 13, finding 1: a `Query` whose `ExclusiveStartKey` lies outside the key condition
/// panicked inside the engine and dropped the connection without an answer.
#[tokio::test]
async fn a_query_starting_outside_its_key_condition_gets_an_answer() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "ttt").await;
    still_serving(&c).await;
    for forward in [true, false] {
        let r = c
            .query()
            .table_name("ttt")
            .key_condition_expression("h = :h")
            .expression_attribute_values(":h", AV::S("m".into()))
            .exclusive_start_key("h", AV::S(if forward { "z" } else { "a" }.into()))
            .exclusive_start_key("r", AV::S("1".into()))
            .scan_index_forward(forward)
            .send()
            .await;
        match r {
            Ok(out) => assert_eq!(out.count(), 0),
            // Whatever the engine decides about such a key, the client hears it.
            Err(e) => assert!(
                e.as_service_error().and_then(|e| e.code()).is_some(),
                "answered with an AWS error, not a dropped connection: {e:?}"
            ),
        }
    }
    still_serving(&c).await;
}

/// Issue 13, finding 10: `serve --host 0.0.0.0` (or `::`, or via the environment) exposed an
/// engine that checks no signatures without a word.
#[test]
fn a_non_loopback_host_needs_allow_remote_and_is_warned_about() {
    for (args, env) in [
        (vec!["--host", "0.0.0.0"], None),
        (vec!["--host", "::"], None),
        (vec![], Some("0.0.0.0")),
    ] {
        let mut cmd = crate::support::kinlocal();
        cmd.args(["serve", "--port", "0"]).args(&args);
        if let Some(host) = env {
            cmd.env("KINLOCAL_HOST", host);
        }
        let out = cmd
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} {env:?} refused");
        assert!(stderr.contains("checks no signatures"), "{stderr}");
        assert!(stderr.contains("--allow-remote"), "{stderr}");
    }

    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args([
            "serve",
            "--port",
            "0",
            "--json",
            "--host",
            "0.0.0.0",
            "--allow-remote",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("address line");
    assert!(line.contains("\"host\":\"0.0.0.0\""), "{line}");
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("checks no signatures"),
        "{stderr}"
    );
}

/// Issue 13, finding 6: uploads that never finish were never timed out; enough of them locked
/// every other client out.
#[tokio::test]
async fn never_ending_uploads_are_timed_out_while_normal_clients_are_served() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let engine = TestEngine::start_with(kinlocal::engine::EngineConfig {
        conn: kinlocal::engine::conn::ConnLimits {
            request_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(2),
            max_connections: 16,
        },
        ..Default::default()
    });
    let addr = engine.endpoint.trim_start_matches("http://").to_string();
    // More stalled clients than the engine serves at once: half stop inside the body, half
    // inside the headers.
    let mut stalled = Vec::new();
    for i in 0..40 {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 100000\r\n"
        );
        if i % 2 == 0 {
            s.write_all(format!("{head}\r\n{{\"Limit\":").as_bytes())
                .expect("write");
        } else {
            s.write_all(head.as_bytes()).expect("write");
        }
        stalled.push(s);
    }
    let k = engine.kinesis().await;
    let started = Instant::now();
    for _ in 0..5 {
        k.list_streams().send().await.expect("a normal client is served");
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "served while the stalled uploads wait"
    );
    // Every stalled connection is answered (408) or closed by the engine.
    for mut s in stalled {
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        let mut buf = Vec::new();
        match s.read_to_end(&mut buf) {
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
            }
            Err(e) => assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the engine never closed a stalled upload"
            ),
        }
    }
    k.list_streams().send().await.expect("still serving");
}
