//! DynamoDB on the engine's port, driven by the real aws-sdk-dynamodb client: every operation,
//! expression form and legacy parameter a lease table uses, errors as DynamoDB words them,
//! persistence across `kill -9`, and atomic conditional writes under a race.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeDefinition, AttributeValue as AV, AttributeValueUpdate, BillingMode,
    ComparisonOperator, Condition, ExpectedAttributeValue, KeySchemaElement, KeyType, ProvisionedThroughput,
    ReturnValue, ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use kinlocal::engine::EngineConfig;

use crate::support::{dynamodb_client, TestEngine};

type Item = HashMap<String, AV>;

/// A call's result reduced to what the assertions compare: `Err((code, message))`.
type Outcome = Result<(), (String, String)>;

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn n(v: &str) -> AV {
    AV::N(v.to_string())
}

fn item(pairs: &[(&str, AV)]) -> Item {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// `(code, message)` of a service error.
fn err<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> (String, String) {
    match e.as_service_error() {
        Some(se) => (
            se.code().unwrap_or("").to_string(),
            se.message().unwrap_or("").to_string(),
        ),
        None => (format!("not a service error: {e:?}"), String::new()),
    }
}

/// A lease table as the KCL creates it: `leaseKey` (S) HASH.
async fn lease_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("leaseKey")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("leaseKey")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("def"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create lease table");
}

/// A table with a string hash key `h` and a number range key `r`.
async fn range_table(c: &Client, name: &str, range_type: ScalarAttributeType) {
    c.create_table()
        .table_name(name)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("h")
                .key_type(KeyType::Hash)
                .build()
                .expect("k"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("r")
                .key_type(KeyType::Range)
                .build()
                .expect("k"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("h")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("d"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("r")
                .attribute_type(range_type)
                .build()
                .expect("d"),
        )
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .expect("pt"),
        )
        .send()
        .await
        .expect("create range table");
}

#[tokio::test]
async fn dynamodb_tables_create_describe_list_delete() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "leases").await;
    range_table(&c, "events", ScalarAttributeType::N).await;

    let t = c
        .describe_table()
        .table_name("leases")
        .send()
        .await
        .expect("describe");
    let t = t.table().expect("table");
    assert_eq!(t.table_name(), Some("leases"));
    assert_eq!(t.table_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(
        t.table_arn(),
        Some("arn:aws:dynamodb:us-east-1:000000000000:table/leases")
    );
    assert_eq!(t.key_schema()[0].attribute_name(), "leaseKey");
    assert_eq!(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(t.item_count(), Some(0));
    assert!(t.creation_date_time().is_some());

    let e = c
        .describe_table()
        .table_name("events")
        .send()
        .await
        .expect("describe");
    let e = e.table().expect("table");
    assert_eq!(e.key_schema().len(), 2);
    assert_eq!(
        e.provisioned_throughput().and_then(|p| p.read_capacity_units()),
        Some(5)
    );
    assert_eq!(
        e.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PROVISIONED")
    );

    // Duplicate, missing.
    let dup = c
        .create_table()
        .table_name("leases")
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("leaseKey")
                .key_type(KeyType::Hash)
                .build()
                .expect("k"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("leaseKey")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("d"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(
        err(dup),
        (
            "ResourceInUseException".into(),
            "Table already exists: leases".into()
        )
    );
    let missing = c
        .describe_table()
        .table_name("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(
        err(missing),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found: Table: nope not found".into()
        )
    );

    // ListTables pages in name order.
    for name in ["t-c", "t-a", "t-b"] {
        lease_table(&c, name).await;
    }
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_tables()
            .limit(2)
            .set_exclusive_start_table_name(start.clone())
            .send()
            .await
            .expect("list");
        pages += 1;
        names.extend(page.table_names().iter().cloned());
        start = page.last_evaluated_table_name().map(str::to_string);
        if start.is_none() {
            break;
        }
    }
    assert_eq!(names, ["events", "leases", "t-a", "t-b", "t-c"]);
    assert_eq!(pages, 3);

    let del = c.delete_table().table_name("t-a").send().await.expect("delete");
    assert_eq!(
        del.table_description()
            .and_then(|t| t.table_status())
            .map(|s| s.as_str()),
        Some("DELETING")
    );
    let after = c.list_tables().send().await.expect("list");
    assert!(!after.table_names().contains(&"t-a".to_string()));
    let gone = c.delete_table().table_name("t-a").send().await.expect_err("gone");
    assert_eq!(err(gone).0, "ResourceNotFoundException");
    // Items of a deleted table are gone with it.
    let get = c
        .get_item()
        .table_name("t-a")
        .key("leaseKey", s("x"))
        .send()
        .await
        .expect_err("no table");
    assert_eq!(
        err(get),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
}

#[tokio::test]
async fn dynamodb_create_table_validation() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    let no_throughput = c
        .create_table()
        .table_name("bad")
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("k")
                .key_type(KeyType::Hash)
                .build()
                .expect("k"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("k")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("d"),
        )
        .send()
        .await
        .expect_err("provisioned needs throughput");
    assert_eq!(
        err(no_throughput),
        (
            "ValidationException".into(),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED".into()
        )
    );
    let undefined = c
        .create_table()
        .table_name("bad")
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("k")
                .key_type(KeyType::Hash)
                .build()
                .expect("k"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("other")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("d"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect_err("key not defined");
    assert_eq!(
        err(undefined).1,
        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [k], AttributeDefinitions: [other]"
    );
    let short = c
        .describe_table()
        .table_name("ab")
        .send()
        .await
        .expect_err("short name");
    assert_eq!(
        err(short),
        (
            "ValidationException".into(),
            "TableName must be at least 3 characters long and at most 255 characters long".into()
        )
    );
}

#[tokio::test]
async fn dynamodb_create_table_delay_keeps_table_creating() {
    let engine = TestEngine::start_with(EngineConfig {
        create_table_delay: Duration::from_millis(400),
        ..EngineConfig::default()
    });
    let c = engine.dynamodb().await;
    lease_table(&c, "slow").await;
    let status = |t: aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput| {
        t.table()
            .and_then(|t| t.table_status())
            .map(|s| s.as_str().to_string())
    };
    let first = c
        .describe_table()
        .table_name("slow")
        .send()
        .await
        .expect("describe");
    assert_eq!(status(first).as_deref(), Some("CREATING"));
    let put = c
        .put_item()
        .table_name("slow")
        .item("leaseKey", s("a"))
        .send()
        .await
        .expect_err("not active yet");
    assert_eq!(err(put).0, "ResourceNotFoundException");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = c
        .describe_table()
        .table_name("slow")
        .send()
        .await
        .expect("describe");
    assert_eq!(status(later).as_deref(), Some("ACTIVE"));
    c.put_item()
        .table_name("slow")
        .item("leaseKey", s("a"))
        .send()
        .await
        .expect("active now");
}

#[tokio::test]
async fn dynamodb_every_attribute_type_round_trips() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "types").await;
    let full = item(&[
        ("leaseKey", s("all")),
        ("s", s("héllo ✓")),
        ("empty", s("")),
        ("n", n("-12.345")),
        ("big", n("12345678901234567890123456789012345678")),
        ("tiny", n("0.00000000000000000000000000000000000001")),
        ("b", AV::B(Blob::new(vec![0u8, 1, 2, 255]))),
        ("t", AV::Bool(true)),
        ("f", AV::Bool(false)),
        ("nul", AV::Null(true)),
        (
            "m",
            AV::M(item(&[(
                "inner",
                AV::L(vec![n("1"), s("x"), AV::M(HashMap::new())]),
            )])),
        ),
        ("l", AV::L(vec![])),
        ("ss", AV::Ss(vec!["b".into(), "a".into()])),
        ("ns", AV::Ns(vec!["1".into(), "2.5".into()])),
        ("bs", AV::Bs(vec![Blob::new(vec![1u8]), Blob::new(vec![2u8])])),
    ]);
    c.put_item()
        .table_name("types")
        .set_item(Some(full.clone()))
        .send()
        .await
        .expect("put");
    let got = c
        .get_item()
        .table_name("types")
        .key("leaseKey", s("all"))
        .consistent_read(true)
        .send()
        .await
        .expect("get");
    let mut got = got.item().cloned().expect("item");
    // Sets are unordered: compare them sorted.
    for k in ["ss", "ns"] {
        if let Some(AV::Ss(v) | AV::Ns(v)) = got.get_mut(k) {
            v.sort();
        }
    }
    let mut want = full;
    if let Some(AV::Ss(v)) = want.get_mut("ss") {
        v.sort();
    }
    assert_eq!(got, want);

    // Numbers come back normalized, as DynamoDB answers them.
    c.put_item()
        .table_name("types")
        .item("leaseKey", s("nums"))
        .item("a", n("1.50"))
        .item("b", n("01"))
        .item("c", n("1E+2"))
        .item("d", n("-0.0"))
        .send()
        .await
        .expect("put numbers");
    let got = c
        .get_item()
        .table_name("types")
        .key("leaseKey", s("nums"))
        .send()
        .await
        .expect("get");
    let got = got.item().expect("item");
    assert_eq!(got["a"], n("1.5"));
    assert_eq!(got["b"], n("1"));
    assert_eq!(got["c"], n("100"));
    assert_eq!(got["d"], n("0"));

    // What DynamoDB refuses.
    let cases: Vec<(AV, &str)> = vec![
        (
            AV::Ss(vec![]),
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            AV::Ns(vec![]),
            "One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            AV::Bs(vec![]),
            "One or more parameter values were invalid: Binary sets should not be empty",
        ),
        (
            AV::Ss(vec!["a".into(), "a".into()]),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        ),
        (
            AV::Ns(vec!["1".into(), "1.0".into()]),
            "Input collection contains duplicates",
        ),
        (
            n("123456789012345678901234567890123456789"),
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            n("1e126"),
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            n("1e-131"),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        (
            n("abc"),
            "The parameter cannot be converted to a numeric value: abc",
        ),
    ];
    for (value, message) in cases {
        let e = c
            .put_item()
            .table_name("types")
            .item("leaseKey", s("bad"))
            .item("v", value.clone())
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            err(e),
            ("ValidationException".into(), message.into()),
            "{value:?}"
        );
    }
}

#[tokio::test]
async fn dynamodb_kcl_lease_lifecycle_with_legacy_parameters() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "kcl").await;
    let absent = ExpectedAttributeValue::builder().exists(false).build();
    let create = |owner: &str| {
        c.put_item()
            .table_name("kcl")
            .item("leaseKey", s("shardId-000000000000"))
            .item("leaseCounter", n("5"))
            .item("leaseOwner", s(owner))
            .item("checkpoint", s("TRIM_HORIZON"))
            .expected("leaseKey", absent.clone())
    };
    create("worker-a").send().await.expect("create if absent");
    let again = create("worker-b").send().await.expect_err("already there");
    assert_eq!(
        err(again),
        (
            "ConditionalCheckFailedException".into(),
            "The conditional request failed".into()
        )
    );

    // Take the lease: counter 5 -> 6, owner removed (as the KCL's evictLease does).
    let counter_is = |v: &str| ExpectedAttributeValue::builder().value(n(v)).exists(true).build();
    let out = c
        .update_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .expected("leaseCounter", counter_is("5"))
        .attribute_updates(
            "leaseCounter",
            AttributeValueUpdate::builder()
                .value(n("6"))
                .action(AttributeAction::Put)
                .build(),
        )
        .attribute_updates(
            "leaseOwner",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Delete)
                .build(),
        )
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("compare and set");
    let attrs = out.attributes().expect("all new");
    assert_eq!(attrs["leaseCounter"], n("6"));
    assert!(!attrs.contains_key("leaseOwner"));
    assert_eq!(attrs["checkpoint"], s("TRIM_HORIZON"));

    // A stale counter loses.
    let stale = c
        .update_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .expected("leaseCounter", counter_is("5"))
        .attribute_updates(
            "leaseCounter",
            AttributeValueUpdate::builder()
                .value(n("6"))
                .action(AttributeAction::Put)
                .build(),
        )
        .send()
        .await
        .expect_err("stale");
    assert_eq!(err(stale).0, "ConditionalCheckFailedException");

    // ADD through AttributeUpdates, and a ComparisonOperator form of Expected.
    c.update_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .expected(
            "leaseCounter",
            ExpectedAttributeValue::builder()
                .comparison_operator(ComparisonOperator::Ge)
                .attribute_value_list(n("6"))
                .build(),
        )
        .attribute_updates(
            "leaseCounter",
            AttributeValueUpdate::builder()
                .value(n("1"))
                .action(AttributeAction::Add)
                .build(),
        )
        .attribute_updates(
            "ownerSwitchesSinceCheckpoint",
            AttributeValueUpdate::builder()
                .value(n("1"))
                .action(AttributeAction::Add)
                .build(),
        )
        .send()
        .await
        .expect("add");
    let got = c
        .get_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .consistent_read(true)
        .send()
        .await
        .expect("get");
    let got = got.item().expect("item");
    assert_eq!(got["leaseCounter"], n("7"));
    assert_eq!(got["ownerSwitchesSinceCheckpoint"], n("1"));

    // Mistakes in Expected are answered in DynamoDB's words.
    let bad = c
        .put_item()
        .table_name("kcl")
        .item("leaseKey", s("x"))
        .expected("leaseKey", ExpectedAttributeValue::builder().exists(true).build())
        .send()
        .await
        .expect_err("exists without value");
    assert_eq!(
        err(bad).1,
        "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: leaseKey"
    );
    let mixed = c
        .put_item()
        .table_name("kcl")
        .item("leaseKey", s("x"))
        .expected("leaseKey", absent.clone())
        .condition_expression("attribute_not_exists(leaseKey)")
        .send()
        .await
        .expect_err("mixed");
    assert_eq!(
        err(mixed).1,
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    );

    // Conditional delete (the KCL deletes a finished shard's lease only if it still holds it).
    let wrong = c
        .delete_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .expected("leaseCounter", counter_is("6"))
        .send()
        .await
        .expect_err("counter moved on");
    assert_eq!(err(wrong).0, "ConditionalCheckFailedException");
    let deleted = c
        .delete_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .expected("leaseCounter", counter_is("7"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.attributes().expect("old")["leaseCounter"], n("7"));
    let none = c
        .get_item()
        .table_name("kcl")
        .key("leaseKey", s("shardId-000000000000"))
        .send()
        .await
        .expect("get");
    assert!(none.item().is_none());
}

#[tokio::test]
async fn dynamodb_condition_expressions() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "cond").await;
    c.put_item()
        .table_name("cond")
        .item("leaseKey", s("k"))
        .item("leaseCounter", n("10"))
        .item("leaseOwner", s("worker-a"))
        .item("tags", AV::Ss(vec!["x".into(), "y".into()]))
        .item("m", AV::M(item(&[("lvl", AV::L(vec![n("1"), n("2")]))])))
        .send()
        .await
        .expect("seed");
    let values = item(&[
        (":ten", n("10")),
        (":nine", n("9")),
        (":eleven", n("11")),
        (":a", s("worker-a")),
        (":b", s("worker-b")),
        (":w", s("worker")),
        (":x", s("x")),
        (":two", n("2")),
        (":ss", s("SS")),
    ]);
    let expectations = [
        ("attribute_exists(leaseKey)", true),
        ("attribute_not_exists(leaseKey)", false),
        ("attribute_not_exists(nothing)", true),
        ("leaseCounter = :ten", true),
        ("leaseCounter <> :ten", false),
        ("leaseCounter < :eleven AND leaseCounter > :nine", true),
        ("leaseCounter <= :nine OR leaseCounter >= :eleven", false),
        ("NOT leaseCounter = :nine", true),
        (
            "(leaseOwner = :b OR leaseOwner = :a) AND NOT (leaseCounter = :nine)",
            true,
        ),
        (
            "leaseOwner = :b OR (leaseOwner = :a AND leaseCounter = :nine)",
            false,
        ),
        ("begins_with(leaseOwner, :w)", true),
        ("begins_with(leaseOwner, :b)", false),
        ("leaseCounter BETWEEN :nine AND :eleven", true),
        ("leaseCounter IN (:nine, :eleven)", false),
        ("leaseOwner IN (:b, :a)", true),
        ("contains(tags, :x) AND attribute_type(tags, :ss)", true),
        ("size(tags) = :two AND m.lvl[1] = :two", true),
        ("#c = :ten", true),
        ("nothing <> :ten", true),
        ("leaseOwner > :nine", false),
    ];
    for (expr, should_pass) in expectations {
        // Only the placeholders the expression names (DynamoDB refuses unused ones).
        let values_used: Item = values
            .iter()
            .filter(|(k, _)| {
                expr.split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == ':'))
                    .any(|tok| tok == k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut req = c
            .update_item()
            .table_name("cond")
            .key("leaseKey", s("k"))
            .update_expression("SET touched = :one")
            .expression_attribute_values(":one", n("1"))
            .condition_expression(expr);
        for (k, v) in values_used {
            req = req.expression_attribute_values(k, v);
        }
        if expr.contains("#c") {
            req = req.expression_attribute_names("#c", "leaseCounter");
        }
        let result = req.send().await;
        match (should_pass, result) {
            (true, Ok(_)) => {}
            (false, Err(e)) => assert_eq!(err(e).0, "ConditionalCheckFailedException", "{expr}"),
            (true, Err(e)) => panic!("{expr} should pass: {:?}", err(e)),
            (false, Ok(_)) => panic!("{expr} should fail"),
        }
    }

    // PutItem with attribute_not_exists is create-if-absent; the failed put leaves the item alone.
    let e = c
        .put_item()
        .table_name("cond")
        .item("leaseKey", s("k"))
        .condition_expression("attribute_not_exists(leaseKey)")
        .send()
        .await
        .expect_err("exists");
    assert_eq!(err(e).0, "ConditionalCheckFailedException");
    let still = c
        .get_item()
        .table_name("cond")
        .key("leaseKey", s("k"))
        .send()
        .await
        .expect("get");
    assert_eq!(still.item().expect("item")["leaseCounter"], n("10"));
}

#[tokio::test]
async fn dynamodb_update_expressions_and_return_values() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "upd").await;
    let update = |expr: &str, rv: ReturnValue| {
        c.update_item()
            .table_name("upd")
            .key("leaseKey", s("k"))
            .update_expression(expr)
            .return_values(rv)
    };
    // Creates the item: SET with if_not_exists on a missing item.
    let out = update(
        "SET c = if_not_exists(c, :zero) + :one, holder = :a",
        ReturnValue::AllNew,
    )
    .expression_attribute_values(":zero", n("0"))
    .expression_attribute_values(":one", n("1"))
    .expression_attribute_values(":a", s("a"))
    .send()
    .await
    .expect("create via update");
    assert_eq!(
        out.attributes().cloned().expect("new"),
        item(&[("leaseKey", s("k")), ("c", n("1")), ("holder", s("a"))])
    );
    let out = update("SET c = c + :d, holder = :b", ReturnValue::UpdatedOld)
        .expression_attribute_values(":d", n("0.5"))
        .expression_attribute_values(":b", s("b"))
        .send()
        .await
        .expect("add");
    assert_eq!(
        out.attributes().cloned().expect("old"),
        item(&[("c", n("1")), ("holder", s("a"))])
    );
    let out = update("SET c = c - :d", ReturnValue::UpdatedNew)
        .expression_attribute_values(":d", n("2"))
        .send()
        .await
        .expect("subtract");
    assert_eq!(out.attributes().cloned().expect("new"), item(&[("c", n("-0.5"))]));
    let out = update("ADD tags :t, hits :one", ReturnValue::AllOld)
        .expression_attribute_values(":t", AV::Ss(vec!["a".into(), "b".into()]))
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .expect("add set");
    assert_eq!(out.attributes().expect("old")["holder"], s("b"));
    update("ADD tags :t, hits :one DELETE gone :g", ReturnValue::None)
        .expression_attribute_values(":t", AV::Ss(vec!["c".into()]))
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":g", AV::Ss(vec!["zz".into()]))
        .send()
        .await
        .expect("add again");
    update(
        "DELETE tags :t REMOVE holder SET l = list_append(:l1, :l2), m = :m",
        ReturnValue::None,
    )
    .expression_attribute_values(":t", AV::Ss(vec!["a".into(), "c".into()]))
    .expression_attribute_values(":l1", AV::L(vec![n("1")]))
    .expression_attribute_values(":l2", AV::L(vec![n("2")]))
    .expression_attribute_values(":m", AV::M(item(&[("x", s("y"))])))
    .send()
    .await
    .expect("delete from set");
    let out = update("SET m.z = :v, l[0] = :v REMOVE m.x", ReturnValue::UpdatedNew)
        .expression_attribute_values(":v", s("v"))
        .send()
        .await
        .expect("nested");
    assert_eq!(
        out.attributes().cloned().expect("updated new"),
        item(&[("m", AV::M(item(&[("z", s("v"))]))), ("l", AV::L(vec![s("v")]))])
    );
    let got = c
        .get_item()
        .table_name("upd")
        .key("leaseKey", s("k"))
        .send()
        .await
        .expect("get");
    let got = got.item().cloned().expect("item");
    assert_eq!(
        got,
        item(&[
            ("leaseKey", s("k")),
            ("c", n("-0.5")),
            ("hits", n("2")),
            ("tags", AV::Ss(vec!["b".into()])),
            ("l", AV::L(vec![s("v"), n("2")])),
            ("m", AV::M(item(&[("z", s("v"))]))),
        ])
    );

    // Errors: key attributes, arithmetic on a missing attribute, wrong ADD operand.
    let key_update = update("SET leaseKey = :v", ReturnValue::None)
        .expression_attribute_values(":v", s("v"))
        .send()
        .await
        .expect_err("key");
    assert_eq!(
        err(key_update).1,
        "One or more parameter values were invalid: Cannot update attribute leaseKey. This attribute is part of the key"
    );
    let missing = update("SET x = nothing + :one", ReturnValue::None)
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .expect_err("missing operand");
    assert_eq!(
        err(missing).1,
        "The provided expression refers to an attribute that does not exist in the item"
    );
    let add_string = update("ADD c :s", ReturnValue::None)
        .expression_attribute_values(":s", s("x"))
        .send()
        .await
        .expect_err("add string");
    assert_eq!(
        err(add_string).1,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
    );
    let bad_rv = c
        .put_item()
        .table_name("upd")
        .item("leaseKey", s("z"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect_err("put all new");
    assert_eq!(err(bad_rv).1, "ReturnValues can only be ALL_OLD or NONE");
}

#[tokio::test]
async fn dynamodb_get_item_projection() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "proj").await;
    c.put_item()
        .table_name("proj")
        .item("leaseKey", s("k"))
        .item("a", n("1"))
        .item("status", s("x"))
        .item("m", AV::M(item(&[("x", n("1")), ("y", n("2"))])))
        .send()
        .await
        .expect("put");
    let got = c
        .get_item()
        .table_name("proj")
        .key("leaseKey", s("k"))
        .consistent_read(true)
        .projection_expression("a, #s, m.y")
        .expression_attribute_names("#s", "status")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.item().cloned().expect("item"),
        item(&[
            ("a", n("1")),
            ("status", s("x")),
            ("m", AV::M(item(&[("y", n("2"))])))
        ])
    );
    let legacy = c
        .get_item()
        .table_name("proj")
        .key("leaseKey", s("k"))
        .attributes_to_get("a")
        .send()
        .await
        .expect("get legacy");
    assert_eq!(legacy.item().cloned().expect("item"), item(&[("a", n("1"))]));
    let reserved = c
        .get_item()
        .table_name("proj")
        .key("leaseKey", s("k"))
        .projection_expression("status")
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(
        err(reserved).1,
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
}

#[tokio::test]
async fn dynamodb_query_order_conditions_and_paging() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    range_table(&c, "qnum", ScalarAttributeType::N).await;
    for r in ["10", "9", "-1", "100", "2.5"] {
        c.put_item()
            .table_name("qnum")
            .item("h", s("a"))
            .item("r", n(r))
            .item("odd", AV::Bool(r == "9" || r == "-1"))
            .send()
            .await
            .expect("put");
    }
    c.put_item()
        .table_name("qnum")
        .item("h", s("b"))
        .item("r", n("1"))
        .send()
        .await
        .expect("put");
    let ranges = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| match &i["r"] {
                AV::N(v) => v.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    let all = c
        .query()
        .table_name("qnum")
        .key_condition_expression("h = :h")
        .expression_attribute_values(":h", s("a"))
        .send()
        .await
        .expect("query");
    assert_eq!(
        ranges(all.items()),
        ["-1", "2.5", "9", "10", "100"],
        "numeric order"
    );
    assert_eq!(all.count(), 5);
    assert!(all.last_evaluated_key().is_none());

    let back = c
        .query()
        .table_name("qnum")
        .key_condition_expression("h = :h AND r BETWEEN :lo AND :hi")
        .expression_attribute_values(":h", s("a"))
        .expression_attribute_values(":lo", n("0"))
        .expression_attribute_values(":hi", n("10"))
        .scan_index_forward(false)
        .send()
        .await
        .expect("between");
    assert_eq!(ranges(back.items()), ["10", "9", "2.5"]);

    let gt = c
        .query()
        .table_name("qnum")
        .key_condition_expression("h = :h AND r > :v")
        .filter_expression("odd = :t")
        .expression_attribute_values(":h", s("a"))
        .expression_attribute_values(":v", n("0"))
        .expression_attribute_values(":t", AV::Bool(true))
        .send()
        .await
        .expect("filter");
    assert_eq!(ranges(gt.items()), ["9"]);
    assert_eq!(gt.count(), 1);
    assert_eq!(gt.scanned_count(), 4);

    // Paging with Limit / ExclusiveStartKey, backwards.
    let mut seen = Vec::new();
    let mut start = None;
    let mut pages = 0;
    loop {
        let page = c
            .query()
            .table_name("qnum")
            .key_condition_expression("h = :h")
            .expression_attribute_values(":h", s("a"))
            .scan_index_forward(false)
            .limit(2)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("page");
        pages += 1;
        seen.extend(ranges(page.items()));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["100", "10", "9", "2.5", "-1"]);
    assert_eq!(pages, 3);

    let count = c
        .query()
        .table_name("qnum")
        .key_condition_expression("h = :h")
        .expression_attribute_values(":h", s("a"))
        .select(Select::Count)
        .send()
        .await
        .expect("count");
    assert_eq!(count.count(), 5);
    assert!(count.items().is_empty());

    // Legacy KeyConditions.
    let legacy = c
        .query()
        .table_name("qnum")
        .key_conditions(
            "h",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(s("a"))
                .build()
                .expect("cond"),
        )
        .key_conditions(
            "r",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Lt)
                .attribute_value_list(n("9"))
                .build()
                .expect("cond"),
        )
        .send()
        .await
        .expect("legacy query");
    assert_eq!(ranges(legacy.items()), ["-1", "2.5"]);

    // String range keys sort bytewise; begins_with works on them.
    range_table(&c, "qstr", ScalarAttributeType::S).await;
    for r in ["b", "a", "B", "ab", "aa"] {
        c.put_item()
            .table_name("qstr")
            .item("h", s("x"))
            .item("r", s(r))
            .send()
            .await
            .expect("put");
    }
    let q = c
        .query()
        .table_name("qstr")
        .key_condition_expression("h = :h")
        .expression_attribute_values(":h", s("x"))
        .send()
        .await
        .expect("query");
    let order: Vec<&AV> = q.items().iter().map(|i| &i["r"]).collect();
    assert_eq!(order, [&s("B"), &s("a"), &s("aa"), &s("ab"), &s("b")]);
    let bw = c
        .query()
        .table_name("qstr")
        .key_condition_expression("h = :h AND begins_with(r, :p)")
        .expression_attribute_values(":h", s("x"))
        .expression_attribute_values(":p", s("a"))
        .send()
        .await
        .expect("begins_with");
    assert_eq!(bw.count(), 3);

    // Key condition mistakes.
    let or = c
        .query()
        .table_name("qnum")
        .key_condition_expression("h = :h OR r = :r")
        .expression_attribute_values(":h", s("a"))
        .expression_attribute_values(":r", n("1"))
        .send()
        .await
        .expect_err("or");
    assert_eq!(
        err(or).1,
        "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"
    );
    let no_hash = c
        .query()
        .table_name("qnum")
        .key_condition_expression("r = :r")
        .expression_attribute_values(":r", n("1"))
        .send()
        .await
        .expect_err("no hash");
    assert_eq!(err(no_hash).1, "Query condition missed key schema element: h");
}

#[tokio::test]
async fn dynamodb_scan_paging_and_filters() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "scan").await;
    for i in 0..25 {
        c.put_item()
            .table_name("scan")
            .item("leaseKey", s(&format!("shard-{i:03}")))
            .item("n", n(&i.to_string()))
            .send()
            .await
            .expect("put");
    }
    let mut keys = Vec::new();
    let mut start = None;
    let mut pages = 0;
    loop {
        let page = c
            .scan()
            .table_name("scan")
            .limit(10)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        pages += 1;
        assert!(page.count() <= 10);
        keys.extend(page.items().iter().map(|i| i["leaseKey"].clone()));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(keys.len(), 25);
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(unique.len(), 25, "no item twice");

    let filtered = c
        .scan()
        .table_name("scan")
        .filter_expression("n >= :ten AND NOT begins_with(leaseKey, :p)")
        .expression_attribute_values(":ten", n("10"))
        .expression_attribute_values(":p", s("shard-02"))
        .projection_expression("n")
        .send()
        .await
        .expect("filter");
    assert_eq!(filtered.count(), 10);
    assert_eq!(filtered.scanned_count(), 25);
    assert!(filtered
        .items()
        .iter()
        .all(|i| i.len() == 1 && i.contains_key("n")));

    let legacy = c
        .scan()
        .table_name("scan")
        .scan_filter(
            "n",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Lt)
                .attribute_value_list(n("3"))
                .build()
                .expect("cond"),
        )
        .select(Select::Count)
        .send()
        .await
        .expect("legacy filter");
    assert_eq!(legacy.count(), 3);

    // Segments partition the table.
    let mut total = 0;
    for seg in 0..3 {
        let page = c
            .scan()
            .table_name("scan")
            .segment(seg)
            .total_segments(3)
            .send()
            .await
            .expect("segment");
        total += page.count();
    }
    assert_eq!(total, 25);
}

#[tokio::test]
async fn dynamodb_validation_errors_use_dynamodb_wording() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "val").await;
    let cases: Vec<(&str, Outcome)> = vec![
        (
            "missing key attribute",
            c.put_item()
                .table_name("val")
                .item("other", s("x"))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "wrong key type",
            c.put_item()
                .table_name("val")
                .item("leaseKey", n("1"))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "key mismatch on get",
            c.get_item()
                .table_name("val")
                .key("nope", s("x"))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "empty string key",
            c.get_item()
                .table_name("val")
                .key("leaseKey", s(""))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "syntax error",
            c.put_item()
                .table_name("val")
                .item("leaseKey", s("x"))
                .condition_expression("leaseKey = = :v")
                .expression_attribute_values(":v", s("x"))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "undefined value",
            c.put_item()
                .table_name("val")
                .item("leaseKey", s("x"))
                .condition_expression("leaseKey = :v")
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "unused value",
            c.put_item()
                .table_name("val")
                .item("leaseKey", s("x"))
                .condition_expression("attribute_not_exists(leaseKey)")
                .expression_attribute_values(":v", s("x"))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
        (
            "missing table",
            c.put_item()
                .table_name("nope")
                .item("leaseKey", s("x"))
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        ),
    ];
    let want = [
        ("ValidationException", "One or more parameter values were invalid: Missing the key leaseKey in the item"),
        ("ValidationException", "One or more parameter values were invalid: Type mismatch for key leaseKey expected: S actual: N"),
        ("ValidationException", "The provided key element does not match the schema"),
        ("ValidationException", "One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty string value. Key: leaseKey"),
        ("ValidationException", "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :v\""),
        ("ValidationException", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v"),
        ("ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"),
        ("ResourceNotFoundException", "Requested resource not found"),
    ];
    for ((name, got), (code, message)) in cases.into_iter().zip(want) {
        assert_eq!(got, Err((code.to_string(), message.to_string())), "{name}");
    }
}

/// Sends one raw signed-looking request and returns (status, body).
fn raw_call(endpoint: &str, target: &str, body: &[u8]) -> (u16, String) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test]
async fn dynamodb_malformed_requests_are_errors_not_panics() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "raw").await;
    let ep = engine.endpoint.clone();
    let cases: Vec<(&str, &str, &str)> = vec![
        ("PutItem", "{not json", "SerializationException"),
        ("PutItem", r#"{"TableName": 5}"#, "SerializationException"),
        (
            "PutItem",
            r#"{"TableName": "raw", "Item": {"leaseKey": {"S": 5}}}"#,
            "SerializationException",
        ),
        (
            "PutItem",
            r#"{"TableName": "raw", "Item": {"leaseKey": "x"}}"#,
            "SerializationException",
        ),
        (
            "PutItem",
            r#"{"TableName": "raw", "Item": {"leaseKey": {}}}"#,
            "ValidationException",
        ),
        ("PutItem", r#"{"TableName": "raw"}"#, "ValidationException"),
        (
            "PutItem",
            r#"{"TableName": "raw", "Item": {"leaseKey": {"S": "a", "N": "1"}}}"#,
            "ValidationException",
        ),
        (
            "PutItem",
            r#"{"TableName": "raw", "Item": {"leaseKey": {"B": "not base64!"}}}"#,
            "SerializationException",
        ),
        (
            "UpdateItem",
            r#"{"TableName": "raw", "Key": {"leaseKey": {"S": "a"}}, "UpdateExpression": "SET a = :v"}"#,
            "ValidationException",
        ),
        (
            "UpdateItem",
            r#"{"TableName": "raw", "Key": {"leaseKey": {"S": "a"}}, "UpdateExpression": "SET a[99999999999999999999999] = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}"#,
            "ValidationException",
        ),
        (
            "UpdateItem",
            r#"{"TableName": "raw", "Key": {"leaseKey": {"S": "a"}}, "UpdateExpression": "ADD é :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}"#,
            "ValidationException",
        ),
        (
            "Query",
            r#"{"TableName": "raw", "KeyConditionExpression": "leaseKey = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}"#,
            "ValidationException",
        ),
        ("Query", r#"{"TableName": "raw"}"#, "ValidationException"),
        (
            "Scan",
            r#"{"TableName": "raw", "Limit": 0}"#,
            "ValidationException",
        ),
        (
            "Scan",
            r#"{"TableName": "raw", "ExclusiveStartKey": {"other": {"S": "x"}}}"#,
            "ValidationException",
        ),
        (
            "CreateTable",
            r#"{"TableName": "zzz", "KeySchema": [], "AttributeDefinitions": []}"#,
            "ValidationException",
        ),
        (
            "CreateTable",
            r#"{"TableName": "zzz", "KeySchema": [{"AttributeName": "a", "KeyType": "RANGE"}], "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}"#,
            "ValidationException",
        ),
        ("Frobnicate", "{}", "UnknownOperationException"),
    ];
    for (target, body, code) in cases {
        let (status, text) = tokio::task::spawn_blocking({
            let ep = ep.clone();
            let body = body.to_string();
            let target = target.to_string();
            move || raw_call(&ep, &target, body.as_bytes())
        })
        .await
        .expect("join");
        assert_eq!(status, 400, "{target} {body}: {text}");
        assert!(
            text.contains(code),
            "{target} {body}: expected {code}, got {text}"
        );
    }
    // Still serving after all that.
    c.put_item()
        .table_name("raw")
        .item("leaseKey", s("ok"))
        .send()
        .await
        .expect("alive");
}

#[tokio::test]
async fn dynamodb_race_conditional_updates_have_exactly_one_winner() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    lease_table(&c, "race").await;
    c.put_item()
        .table_name("race")
        .item("leaseKey", s("lease"))
        .item("leaseCounter", n("0"))
        .item("v", s("start"))
        .send()
        .await
        .expect("seed");
    let c = Arc::new(c);

    // 50 takers race from the same observed state: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.update_item()
                .table_name("race")
                .key("leaseKey", s("lease"))
                .update_expression("SET v = :new, leaseOwner = :me")
                .condition_expression("v = :old")
                .expression_attribute_values(":new", s(&format!("taken-{i}")))
                .expression_attribute_values(":me", s(&format!("worker-{i}")))
                .expression_attribute_values(":old", s("start"))
                .send()
                .await
                .map_err(err)
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => wins += 1,
            Err((code, _)) => assert_eq!(code, "ConditionalCheckFailedException"),
        }
    }
    assert_eq!(wins, 1);

    // Compare-and-set increments from 8 workers, 25 each, reach exactly 200.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut conflicts = 0u32;
            while done < 25 {
                let got = c
                    .get_item()
                    .table_name("race")
                    .key("leaseKey", s("lease"))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("get");
                let current = match got.item().and_then(|i| i.get("leaseCounter")) {
                    Some(AV::N(v)) => v.parse::<u64>().expect("counter"),
                    other => panic!("counter missing: {other:?}"),
                };
                let res = c
                    .update_item()
                    .table_name("race")
                    .key("leaseKey", s("lease"))
                    .update_expression("SET leaseCounter = :next")
                    .condition_expression("leaseCounter = :cur")
                    .expression_attribute_values(":next", n(&(current + 1).to_string()))
                    .expression_attribute_values(":cur", n(&current.to_string()))
                    .send()
                    .await;
                match res {
                    Ok(_) => done += 1,
                    Err(e) => {
                        assert_eq!(err(e).0, "ConditionalCheckFailedException");
                        conflicts += 1;
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let got = c
        .get_item()
        .table_name("race")
        .key("leaseKey", s("lease"))
        .consistent_read(true)
        .send()
        .await
        .expect("get");
    assert_eq!(got.item().expect("item")["leaseCounter"], n("200"));
}

/// Starts `kinlocal serve` on a data directory and returns the child and its endpoint.
fn serve(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kinlocal"))
        .args(["serve", "--port", "0", "--json", "--data-dir"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn kinlocal serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read endpoint line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("json line");
    let endpoint = v["endpoint"].as_str().expect("endpoint").to_string();
    (child, endpoint)
}

#[tokio::test]
async fn dynamodb_acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, endpoint) = serve(dir.path());
    let c = dynamodb_client(&endpoint).await;
    lease_table(&c, "durable").await;
    for i in 0..20 {
        c.put_item()
            .table_name("durable")
            .item("leaseKey", s(&format!("shard-{i}")))
            .item("leaseCounter", n("1"))
            .item(
                "checkpoint",
                s("49590338271490256608559692538361571095921575989136588898"),
            )
            .send()
            .await
            .expect("put");
    }
    c.update_item()
        .table_name("durable")
        .key("leaseKey", s("shard-3"))
        .update_expression("SET leaseCounter = leaseCounter + :one, holder = :o")
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":o", s("w"))
        .send()
        .await
        .expect("update");
    c.delete_item()
        .table_name("durable")
        .key("leaseKey", s("shard-7"))
        .send()
        .await
        .expect("delete");
    lease_table(&c, "dropped").await;
    c.delete_table().table_name("dropped").send().await.expect("drop");
    // SIGKILL: no chance to flush anything that was not already written.
    child.kill().expect("kill -9");
    child.wait().expect("reap");

    let (mut child, endpoint) = serve(dir.path());
    let c = dynamodb_client(&endpoint).await;
    let tables = c.list_tables().send().await.expect("list");
    assert_eq!(tables.table_names(), ["durable"]);
    let scan = c.scan().table_name("durable").send().await.expect("scan");
    assert_eq!(scan.count(), 19);
    let got = c
        .get_item()
        .table_name("durable")
        .key("leaseKey", s("shard-3"))
        .send()
        .await
        .expect("get");
    let got = got.item().expect("item");
    assert_eq!(got["leaseCounter"], n("2"));
    assert_eq!(got["holder"], s("w"));
    assert_eq!(
        got["checkpoint"],
        s("49590338271490256608559692538361571095921575989136588898")
    );
    let desc = c
        .describe_table()
        .table_name("durable")
        .send()
        .await
        .expect("describe");
    assert_eq!(desc.table().and_then(|t| t.item_count()), Some(19));
    child.kill().expect("kill");
    child.wait().expect("reap");
}
