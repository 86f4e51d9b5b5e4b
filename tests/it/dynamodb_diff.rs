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
