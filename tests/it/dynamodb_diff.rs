//! Differential test: the same DynamoDB call sequence against our engine and against dynalite
//! (started with `scripts/peers.sh`), comparing normalized results: item contents, error
//! codes (and messages where dynalite mirrors DynamoDB's), counts and paging.
//!
//! The sequence is what a lease table sees: create-if-absent, compare-and-set on a counter,
//! take-over of an expired lease, release, checkpoint, in both the expression and the legacy
//! (`Expected` / `AttributeUpdates`) forms, plus scans, queries and the common mistakes.
//! Ignored by default (needs the peer emulators: `scripts/peers.sh install`, then `--ignored`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeDefinition, AttributeValue as AV, AttributeValueUpdate, BillingMode,
    ExpectedAttributeValue, KeySchemaElement, KeyType, ReturnValue, ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use serde_json::{json, Value as Json};

use crate::support::{dynamodb_client, TestEngine};

type Item = HashMap<String, AV>;

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn n(v: &str) -> AV {
    AV::N(v.to_string())
}

/// A comparable form of a value: sets sorted, maps with sorted keys.
fn canon(v: &AV) -> Json {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    match v {
        AV::S(x) => json!({"S": x}),
        AV::N(x) => json!({"N": x}),
        AV::B(b) => json!({"B": b.as_ref()}),
        AV::Bool(b) => json!({"BOOL": b}),
        AV::Null(_) => json!({"NULL": true}),
        AV::M(m) => json!({"M": canon_item(m)}),
        AV::L(l) => json!({"L": l.iter().map(canon).collect::<Vec<_>>()}),
        AV::Ss(x) => json!({"SS": sorted(x.clone())}),
        AV::Ns(x) => json!({"NS": sorted(x.clone())}),
        AV::Bs(x) => {
            let mut v: Vec<Vec<u8>> = x.iter().map(|b| b.as_ref().to_vec()).collect();
            v.sort();
            json!({"BS": v})
        }
        other => json!({"unknown": format!("{other:?}")}),
    }
}

fn canon_item(item: &Item) -> Json {
    let sorted: BTreeMap<&String, Json> = item.iter().map(|(k, v)| (k, canon(v))).collect();
    json!(sorted)
}

fn canon_opt(item: Option<&Item>) -> Json {
    item.map_or(Json::Null, canon_item)
}

/// Records each step's normalized outcome.
struct Recorder {
    steps: Vec<(String, Json)>,
}

impl Recorder {
    /// Records `result`: the `ok` projection, or the error code (and message when
    /// `with_message`, for the errors whose wording dynalite mirrors).
    fn rec<T, E, R>(
        &mut self,
        label: &str,
        result: Result<T, SdkError<E, R>>,
        with_message: bool,
        ok: impl FnOnce(T) -> Json,
    ) where
        E: ProvideErrorMetadata + std::fmt::Debug,
        R: std::fmt::Debug,
    {
        let outcome = match result {
            Ok(v) => json!({"ok": ok(v)}),
            Err(e) => match e.as_service_error() {
                Some(se) if with_message => json!({"error": se.code(), "message": se.message()}),
                Some(se) => json!({"error": se.code()}),
                None => json!({"transport error": format!("{e:?}")}),
            },
        };
        self.steps.push((label.to_string(), outcome));
    }
}

async fn create_table(c: &Client, name: &str, range: Option<ScalarAttributeType>) {
    let mut req = c
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
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
        );
    if let Some(t) = range {
        req = req
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("r")
                    .key_type(KeyType::Range)
                    .build()
                    .expect("k"),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("r")
                    .attribute_type(t)
                    .build()
                    .expect("d"),
            );
    }
    req.send().await.expect("create table");
    // dynalite answers CREATING first even with no delay.
    for _ in 0..100 {
        let d = c
            .describe_table()
            .table_name(name)
            .send()
            .await
            .expect("describe");
        if d.table().and_then(|t| t.table_status()).map(|s| s.as_str()) == Some("ACTIVE") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("table {name} never became ACTIVE");
}

/// The call sequence, run once per endpoint.
async fn sequence(c: &Client) -> Vec<(String, Json)> {
    let mut r = Recorder { steps: Vec::new() };
    create_table(c, "leases", None).await;
    let d = c.describe_table().table_name("leases").send().await;
    r.rec("describe", d, false, |d| {
        let t = d.table().cloned().expect("table");
        json!({
            "name": t.table_name(),
            "keys": t.key_schema().iter().map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string())).collect::<Vec<_>>(),
            "billing": t.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str().to_string()),
            "items": t.item_count(),
        })
    });

    // Create-if-absent, expression and legacy forms.
    for attempt in ["first", "second"] {
        let res = c
            .put_item()
            .table_name("leases")
            .item("leaseKey", s("shard-0"))
            .item("leaseCounter", n("1"))
            .item("leaseOwner", s("worker-a"))
            .item("checkpoint", s("TRIM_HORIZON"))
            .condition_expression("attribute_not_exists(leaseKey)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        r.rec(&format!("create-if-absent expr {attempt}"), res, true, |o| {
            canon_opt(o.attributes.as_ref())
        });
        let res = c
            .put_item()
            .table_name("leases")
            .item("leaseKey", s("shard-1"))
            .item("leaseCounter", n("1"))
            .item("leaseOwner", s("worker-b"))
            .item("checkpoint", s("LATEST"))
            .expected(
                "leaseKey",
                ExpectedAttributeValue::builder().exists(false).build(),
            )
            .send()
            .await;
        r.rec(&format!("create-if-absent legacy {attempt}"), res, true, |o| {
            canon_opt(o.attributes.as_ref())
        });
    }

    // Compare-and-set on the counter (renewal), then a stale one.
    for (label, expect) in [("renew", "1"), ("renew stale", "1")] {
        let res = c
            .update_item()
            .table_name("leases")
            .key("leaseKey", s("shard-0"))
            .update_expression("SET leaseCounter = leaseCounter + :one")
            .condition_expression("leaseCounter = :c AND leaseOwner = :me")
            .expression_attribute_values(":one", n("1"))
            .expression_attribute_values(":c", n(expect))
            .expression_attribute_values(":me", s("worker-a"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        r.rec(label, res, true, |o| canon_opt(o.attributes.as_ref()));
    }
    // The KCL's legacy compare-and-set: Expected counter + AttributeUpdates PUT / DELETE.
    for (label, expect) in [("evict legacy", "1"), ("evict legacy stale", "1")] {
        let res = c
            .update_item()
            .table_name("leases")
            .key("leaseKey", s("shard-1"))
            .expected(
                "leaseCounter",
                ExpectedAttributeValue::builder()
                    .value(n(expect))
                    .exists(true)
                    .build(),
            )
            .attribute_updates(
                "leaseCounter",
                AttributeValueUpdate::builder()
                    .value(n("2"))
                    .action(AttributeAction::Put)
                    .build(),
            )
            .attribute_updates(
                "leaseOwner",
                AttributeValueUpdate::builder()
                    .action(AttributeAction::Delete)
                    .build(),
            )
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        r.rec(label, res, true, |o| canon_opt(o.attributes.as_ref()));
    }
    // Take-over of an expired lease: owner and counter must both still be what we saw.
    for (label, owner) in [("take over", "worker-a"), ("take over stale", "worker-a")] {
        let res = c
            .update_item()
            .table_name("leases")
            .key("leaseKey", s("shard-0"))
            .update_expression("SET leaseOwner = :new, leaseCounter = leaseCounter + :one ADD ownerSwitchesSinceCheckpoint :one")
            .condition_expression("leaseOwner = :old AND leaseCounter = :c")
            .expression_attribute_values(":new", s("worker-c"))
            .expression_attribute_values(":old", s(owner))
            .expression_attribute_values(":c", n("2"))
            .expression_attribute_values(":one", n("1"))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        r.rec(label, res, true, |o| canon_opt(o.attributes.as_ref()));
    }
    // Checkpoint by the owner; then by someone else.
    for (label, me) in [("checkpoint", "worker-c"), ("checkpoint not owner", "worker-a")] {
        let res = c
            .update_item()
            .table_name("leases")
            .key("leaseKey", s("shard-0"))
            .update_expression("SET checkpoint = :seq, checkpointSubSequenceNumber = :zero, ownerSwitchesSinceCheckpoint = :zero")
            .condition_expression("attribute_exists(leaseKey) AND leaseOwner = :me")
            .expression_attribute_values(":seq", s("49590338271490256608559692538361571095921575989136588898"))
            .expression_attribute_values(":zero", n("0"))
            .expression_attribute_values(":me", s(me))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        r.rec(label, res, true, |o| canon_opt(o.attributes.as_ref()));
    }
    // Release: remove the owner if we still hold it.
    for label in ["release", "release again"] {
        let res = c
            .update_item()
            .table_name("leases")
            .key("leaseKey", s("shard-0"))
            .update_expression("REMOVE leaseOwner")
            .condition_expression("leaseOwner = :me")
            .expression_attribute_values(":me", s("worker-c"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        r.rec(label, res, true, |o| canon_opt(o.attributes.as_ref()));
    }
    // Sets, lists, if_not_exists, numbers.
    let res = c
        .update_item()
        .table_name("leases")
        .key("leaseKey", s("shard-2"))
        .update_expression("SET parents = list_append(if_not_exists(parents, :empty), :p), n = :n ADD children :kids, tally :big")
        .expression_attribute_values(":empty", AV::L(vec![]))
        .expression_attribute_values(":p", AV::L(vec![s("shard-0")]))
        .expression_attribute_values(":n", n("1.50"))
        .expression_attribute_values(":kids", AV::Ss(vec!["c2".into(), "c1".into()]))
        .expression_attribute_values(":big", n("12345678901234567890.123456789"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    r.rec("update creates item", res, true, |o| {
        canon_opt(o.attributes.as_ref())
    });
    let res = c
        .update_item()
        .table_name("leases")
        .key("leaseKey", s("shard-2"))
        .update_expression("DELETE children :c1 ADD tally :neg SET n = n - :n")
        .expression_attribute_values(":c1", AV::Ss(vec!["c1".into()]))
        .expression_attribute_values(":neg", n("-0.123456789"))
        .expression_attribute_values(":n", n("0.25"))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await;
    r.rec("set arithmetic", res, true, |o| canon_opt(o.attributes.as_ref()));
    for (k, v) in [
        ("a", "1.50"),
        ("b", "01"),
        ("c", "-0.0"),
        ("d", "1E+2"),
        ("e", "0.000100"),
    ] {
        let res = c
            .put_item()
            .table_name("leases")
            .item("leaseKey", s(&format!("num-{k}")))
            .item("v", n(v))
            .send()
            .await;
        r.rec(&format!("put number {v}"), res, true, |_| json!(null));
    }

    // Reads.
    let res = c
        .get_item()
        .table_name("leases")
        .key("leaseKey", s("shard-0"))
        .consistent_read(true)
        .projection_expression("leaseCounter, #c")
        .expression_attribute_names("#c", "checkpoint")
        .send()
        .await;
    r.rec("get projected", res, true, |o| canon_opt(o.item.as_ref()));
    let res = c
        .get_item()
        .table_name("leases")
        .key("leaseKey", s("nope"))
        .send()
        .await;
    r.rec("get missing", res, true, |o| canon_opt(o.item.as_ref()));

    // Scan with pagination: the set of items and the page sizes agree (order may not).
    let mut all = Vec::new();
    let mut pages = Vec::new();
    let mut start = None;
    loop {
        let page = c
            .scan()
            .table_name("leases")
            .limit(3)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        pages.push((page.count(), page.scanned_count()));
        all.extend(page.items().iter().map(canon_item));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    all.sort_by_key(|v| v.to_string());
    r.steps
        .push(("scan all".into(), json!({"items": all, "pages": pages})));
    let res = c
        .scan()
        .table_name("leases")
        .filter_expression("begins_with(leaseKey, :p) AND attribute_not_exists(leaseOwner)")
        .expression_attribute_values(":p", s("shard"))
        .select(Select::Count)
        .send()
        .await;
    r.rec("scan filter count", res, true, |o| {
        json!([o.count(), o.scanned_count()])
    });

    // Query on a table with a numeric range key: order, direction, paging.
    create_table(c, "ranged", Some(ScalarAttributeType::N)).await;
    for v in ["10", "9", "-1", "100", "2.5", "0"] {
        c.put_item()
            .table_name("ranged")
            .item("leaseKey", s("p"))
            .item("r", n(v))
            .send()
            .await
            .expect("put ranged");
    }
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut start = None;
        loop {
            let page = c
                .query()
                .table_name("ranged")
                .key_condition_expression("leaseKey = :p AND r >= :lo")
                .expression_attribute_values(":p", s("p"))
                .expression_attribute_values(":lo", n("0"))
                .scan_index_forward(forward)
                .limit(2)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("query");
            seen.push(json!({
                "items": page.items().iter().map(canon_item).collect::<Vec<_>>(),
                "last": canon_opt(page.last_evaluated_key()),
            }));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        r.steps.push((format!("query forward={forward}"), json!(seen)));
    }

    // Mistakes.
    let res = c
        .put_item()
        .table_name("leases")
        .item("other", s("x"))
        .send()
        .await;
    r.rec("missing key attribute", res, true, |_| json!(null));
    let res = c
        .put_item()
        .table_name("leases")
        .item("leaseKey", n("1"))
        .send()
        .await;
    r.rec("wrong key type", res, true, |_| json!(null));
    let res = c
        .get_item()
        .table_name("leases")
        .key("leaseKey", n("1"))
        .send()
        .await;
    r.rec("wrong key type on get", res, true, |_| json!(null));
    let res = c
        .put_item()
        .table_name("missing-table")
        .item("leaseKey", s("x"))
        .send()
        .await;
    r.rec("missing table", res, false, |_| json!(null));
    let res = c
        .put_item()
        .table_name("leases")
        .item("leaseKey", s("x"))
        .item("empty", AV::Ss(vec![]))
        .send()
        .await;
    r.rec("empty set", res, true, |_| json!(null));
    let res = c
        .update_item()
        .table_name("leases")
        .key("leaseKey", s("x"))
        .update_expression("SET a = = :v")
        .expression_attribute_values(":v", s("v"))
        .send()
        .await;
    r.rec("syntax error", res, false, |_| json!(null));
    let res = c
        .update_item()
        .table_name("leases")
        .key("leaseKey", s("x"))
        .update_expression("SET status = :v")
        .expression_attribute_values(":v", s("v"))
        .send()
        .await;
    r.rec("reserved word", res, true, |_| json!(null));
    let res = c
        .update_item()
        .table_name("leases")
        .key("leaseKey", s("x"))
        .update_expression("SET leaseKey = :v")
        .expression_attribute_values(":v", s("v"))
        .send()
        .await;
    r.rec("update key", res, true, |_| json!(null));
    let res = c
        .put_item()
        .table_name("leases")
        .item("leaseKey", s("x"))
        .condition_expression("attribute_not_exists(leaseKey)")
        .expression_attribute_values(":unused", s("v"))
        .send()
        .await;
    r.rec("unused value", res, true, |_| json!(null));

    // Conditional deletes.
    for (label, counter) in [("delete stale", "1"), ("delete", "3")] {
        let res = c
            .delete_item()
            .table_name("leases")
            .key("leaseKey", s("shard-0"))
            .condition_expression("leaseCounter = :c")
            .expression_attribute_values(":c", n(counter))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        r.rec(label, res, true, |o| canon_opt(o.attributes.as_ref()));
    }
    r.steps
}

/// Steps where dynalite 4.0 departs from DynamoDB, with the error DynamoDB answers.
///
/// `Expected: {a: {Value: v, Exists: true}}` means "a exists and equals v" (the KCL's
/// compare-and-set on leaseCounter relies on it); dynalite only checks that `a` exists.
const DYNALITE_BUGS: &[(&str, &str)] = &[("evict legacy stale", "ConditionalCheckFailedException")];

#[tokio::test]
#[ignore = "differential: needs the peer emulators (scripts/peers.sh install), run with --ignored"]
async fn dynamodb_diff_against_dynalite() {
    let Some(peer) = crate::peers::Peer::start("dynalite") else {
        return;
    };
    let url = peer.endpoint.as_str();

    let engine = TestEngine::start();
    let ours = sequence(&engine.dynamodb().await).await;
    let theirs = sequence(&dynamodb_client(url).await).await;

    if std::env::var_os("KINLOCAL_DIFF_VERBOSE").is_some() {
        for ((label, a), (_, b)) in ours.iter().zip(&theirs) {
            println!("{label}:\n  kinlocal: {a}\n  dynalite: {b}");
        }
    }
    assert_eq!(ours.len(), theirs.len());
    let mut diffs = Vec::new();
    for ((label, a), (_, b)) in ours.iter().zip(&theirs) {
        if let Some((_, want)) = DYNALITE_BUGS.iter().find(|(l, _)| l == label) {
            // dynalite is wrong here; hold us to DynamoDB's documented answer instead.
            assert_eq!(a["error"], *want, "{label}: kinlocal {a}");
            continue;
        }
        if a != b {
            diffs.push(format!("{label}:\n  kinlocal: {a}\n  dynalite: {b}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    // The sequence really exercised both outcomes of the conditional writes.
    let outcomes: Vec<&Json> = ours.iter().map(|(_, v)| v).collect();
    assert!(outcomes
        .iter()
        .any(|v| v["error"] == "ConditionalCheckFailedException"));
    assert!(outcomes.iter().filter(|v| v.get("ok").is_some()).count() > 10);
}

/// Items in a comparable, order-independent form (for answers whose order DynamoDB leaves open).
fn canon_set(items: &[Item]) -> Json {
    let mut v: Vec<String> = items.iter().map(|i| canon_item(i).to_string()).collect();
    v.sort();
    json!(v)
}

/// The second sequence: secondary indexes created with the table, batches, tags, time to
/// live, UpdateTable's refusals and start keys outside a query. (dynalite serves no
/// transactions; those are held to DynamoDB's documented behaviour in `dynamodb_transact`.)
async fn sequence_indexes_batches_tags(c: &Client) -> Vec<(String, Json)> {
    use crate::dynamodb_support::{def, gsi, key, projection};
    use aws_sdk_dynamodb::types::{
        DeleteRequest, KeysAndAttributes, ProjectionType, ProvisionedThroughput, PutRequest, Tag,
        WriteRequest,
    };
    let mut r = Recorder { steps: Vec::new() };
    c.create_table()
        .table_name("orders")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", ScalarAttributeType::S))
        .attribute_definitions(def("customer", ScalarAttributeType::S))
        .attribute_definitions(def("amt", ScalarAttributeType::N))
        .global_secondary_indexes(gsi(
            "byCustomer",
            "customer",
            Some("amt"),
            projection(ProjectionType::Include, &["note"]),
        ))
        .send()
        .await
        .expect("create orders");
    for _ in 0..100 {
        let d = c
            .describe_table()
            .table_name("orders")
            .send()
            .await
            .expect("describe");
        let t = d.table().expect("table");
        let ready = t.table_status().map(|s| s.as_str()) == Some("ACTIVE")
            && t.global_secondary_indexes()
                .iter()
                .all(|g| g.index_status().map(|s| s.as_str()) == Some("ACTIVE"));
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let put = |id: &str, customer: Option<&str>, amt: i64| {
        let mut it: Item = HashMap::from([
            ("id".to_string(), s(id)),
            ("amt".to_string(), n(&amt.to_string())),
            ("note".to_string(), s("n")),
            ("other".to_string(), s("o")),
        ]);
        if let Some(cu) = customer {
            it.insert("customer".into(), s(cu));
        }
        WriteRequest::builder()
            .put_request(PutRequest::builder().set_item(Some(it)).build().expect("put"))
            .build()
    };
    let res = c
        .batch_write_item()
        .request_items(
            "orders",
            vec![
                put("o1", Some("ann"), 30),
                put("o2", Some("ann"), 10),
                put("o3", Some("bob"), 20),
                put("o4", None, 5),
            ],
        )
        .send()
        .await;
    r.rec(
        "batch write",
        res,
        true,
        |o| json!({"unprocessed": o.unprocessed_items().map(|m| m.len())}),
    );
    let res = c
        .batch_write_item()
        .request_items("orders", vec![put("o9", None, 1), put("o9", None, 2)])
        .send()
        .await;
    r.rec("batch write duplicate keys", res, true, |_| json!(null));
    let res = c
        .batch_write_item()
        .request_items("nosuchtable", vec![put("o9", None, 1)])
        .send()
        .await;
    r.rec("batch write missing table", res, false, |_| json!(null));
    let res = c
        .batch_write_item()
        .request_items(
            "orders",
            vec![WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(HashMap::from([("nokey".to_string(), s("x"))])))
                        .build()
                        .expect("put"),
                )
                .build()],
        )
        .send()
        .await;
    r.rec("batch write without key", res, true, |_| json!(null));
    let res = c
        .batch_write_item()
        .request_items(
            "orders",
            vec![WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .key("id", s("o3"))
                        .build()
                        .expect("delete"),
                )
                .build()],
        )
        .send()
        .await;
    r.rec("batch delete", res, true, |_| json!(null));

    let keys = |ids: &[&str]| {
        let mut b = KeysAndAttributes::builder();
        for id in ids {
            b = b.keys(HashMap::from([("id".to_string(), s(id))]));
        }
        b
    };
    let res = c
        .batch_get_item()
        .request_items(
            "orders",
            keys(&["o1", "o2", "o3"])
                .projection_expression("id, amt")
                .build()
                .expect("keys"),
        )
        .send()
        .await;
    r.rec("batch get", res, true, |o| {
        json!({
            "items": canon_set(o.responses().and_then(|m| m.get("orders")).map(Vec::as_slice).unwrap_or(&[])),
            "unprocessed": o.unprocessed_keys().map(|m| m.len()),
        })
    });
    let res = c
        .batch_get_item()
        .request_items("orders", keys(&["o1", "o1"]).build().expect("keys"))
        .send()
        .await;
    r.rec("batch get duplicate keys", res, true, |_| json!(null));

    // The index: sorted by its range key, projected, sparse.
    for forward in [true, false] {
        let res = c
            .query()
            .table_name("orders")
            .index_name("byCustomer")
            .key_condition_expression("customer = :c")
            .expression_attribute_values(":c", s("ann"))
            .scan_index_forward(forward)
            .send()
            .await;
        r.rec(
            &format!("index query forward={forward}"),
            res,
            true,
            |o| json!({"items": o.items().iter().map(canon_item).collect::<Vec<_>>(), "count": o.count()}),
        );
    }
    let res = c
        .query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s("ann"))
        .limit(1)
        .send()
        .await;
    r.rec("index query page", res, true, |o| {
        json!({"items": o.items().iter().map(canon_item).collect::<Vec<_>>(), "last": o.last_evaluated_key().map(canon_item)})
    });
    let res = c
        .scan()
        .table_name("orders")
        .index_name("byCustomer")
        .send()
        .await;
    r.rec(
        "index scan",
        res,
        true,
        |o| json!({"items": canon_set(o.items()), "count": o.count()}),
    );
    let res = c
        .query()
        .table_name("orders")
        .index_name("nope")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s("ann"))
        .send()
        .await;
    r.rec("unknown index", res, true, |_| json!(null));
    let res = c
        .query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s("ann"))
        .consistent_read(true)
        .send()
        .await;
    r.rec("consistent read on gsi", res, true, |_| json!(null));
    let res = c
        .query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s("ann"))
        .select(Select::AllAttributes)
        .send()
        .await;
    r.rec("all attributes on include gsi", res, true, |_| json!(null));
    let res = c
        .put_item()
        .table_name("orders")
        .item("id", s("bad"))
        .item("amt", s("text"))
        .send()
        .await;
    r.rec("index key type mismatch", res, true, |_| json!(null));
    let res = c
        .query()
        .table_name("orders")
        .key_condition_expression("id = :i")
        .expression_attribute_values(":i", s("o1"))
        .exclusive_start_key("id", s("o2"))
        .send()
        .await;
    r.rec("start key outside query", res, true, |_| json!(null));
    let d = c.describe_table().table_name("orders").send().await;
    r.rec("describe indexes", d, false, |d| {
        let t = d.table().cloned().expect("table");
        json!(t
            .global_secondary_indexes()
            .iter()
            .map(|g| json!({
                "name": g.index_name(),
                "status": g.index_status().map(|s| s.as_str().to_string()),
                "keys": g.key_schema().iter().map(|k| k.attribute_name().to_string()).collect::<Vec<_>>(),
                "projection": g.projection().and_then(|p| p.projection_type()).map(|p| p.as_str().to_string()),
                "nonKey": g.projection().map(|p| p.non_key_attributes().to_vec()),
            }))
            .collect::<Vec<_>>())
    });

    // Tags.
    let arn = c
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .ok()
        .and_then(|d| d.table().and_then(|t| t.table_arn().map(str::to_string)))
        .unwrap_or_default();
    let res = c
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("team").value("streams").build().expect("tag"))
        .tags(Tag::builder().key("env").value("dev").build().expect("tag"))
        .send()
        .await;
    r.rec("tag", res, true, |_| json!(null));
    let res = c.untag_resource().resource_arn(&arn).tag_keys("env").send().await;
    r.rec("untag", res, true, |_| json!(null));
    let res = c.list_tags_of_resource().resource_arn(&arn).send().await;
    r.rec("list tags", res, true, |o| {
        json!(o
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<Vec<_>>())
    });
    let res = c.list_tags_of_resource().resource_arn("not-an-arn").send().await;
    r.rec("list tags bad arn", res, false, |_| json!(null));
    let res = c.describe_time_to_live().table_name("orders").send().await;
    r.rec("describe ttl", res, true, |o| {
        json!(o
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .map(|s| s.as_str().to_string()))
    });

    // UpdateTable refusals.
    let res = c.update_table().table_name("orders").send().await;
    r.rec("update table nothing", res, true, |_| json!(null));
    let res = c
        .update_table()
        .table_name("orders")
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .expect("pt"),
        )
        .send()
        .await;
    r.rec("update table throughput on demand", res, true, |_| json!(null));
    r.steps
}

#[tokio::test]
#[ignore = "differential: needs the peer emulators (scripts/peers.sh install), run with --ignored"]
async fn dynamodb_diff_indexes_batches_tags_against_dynalite() {
    let Some(peer) = crate::peers::Peer::start("dynalite") else {
        return;
    };
    let engine = TestEngine::start();
    let ours = sequence_indexes_batches_tags(&engine.dynamodb().await).await;
    let theirs = sequence_indexes_batches_tags(&dynamodb_client(peer.endpoint.as_str()).await).await;
    assert_eq!(ours.len(), theirs.len());
    let diffs: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((label, a), (_, b))| format!("{label}:\n  kinlocal: {a}\n  dynalite: {b}"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(ours.iter().filter(|(_, v)| v.get("ok").is_some()).count() >= 10);
    assert!(ours.iter().filter(|(_, v)| v.get("error").is_some()).count() >= 8);
}
