//! BatchWriteItem, BatchGetItem, TransactWriteItems and TransactGetItems through the real SDK:
//! shapes, limits, every validation error, all-or-nothing cancellation with reasons in order,
//! idempotency tokens, and atomicity under many concurrent conflicting transactions.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BillingMode, ConditionCheck, Delete, DeleteRequest, Get, KeyType,
    KeysAndAttributes, Put, PutRequest, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType as T, TransactGetItem, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;

use crate::dynamodb_support::{def, err, item, key, n, s, wait_table_active, Item};
use crate::support::TestEngine;

async fn table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", T::S))
        .send()
        .await
        .expect("create");
    wait_table_active(c, name).await;
}

fn put_req(it: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(it))
                .build()
                .expect("put request"),
        )
        .build()
}

fn del_req(id: &str) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .key("id", s(id))
                .build()
                .expect("delete request"),
        )
        .build()
}

async fn get(c: &Client, table: &str, id: &str) -> Option<Item> {
    c.get_item()
        .table_name(table)
        .key("id", s(id))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
}

#[tokio::test]
async fn dynamodb_batch_write_and_get() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "aaa").await;
    table(&c, "bbb").await;

    let out = c
        .batch_write_item()
        .request_items(
            "aaa",
            (0..10)
                .map(|i| put_req(item(&[("id", s(&format!("a{i}"))), ("v", n(i))])))
                .collect(),
        )
        .request_items("bbb", vec![put_req(item(&[("id", s("b0"))])), del_req("nothing")])
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("batch write");
    assert_eq!(out.unprocessed_items().map(|m| m.len()), Some(0));
    let mut caps: Vec<(String, f64)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap_or("").to_string(),
                c.capacity_units().unwrap_or(0.0),
            )
        })
        .collect();
    caps.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(caps, [("aaa".to_string(), 10.0), ("bbb".to_string(), 2.0)]);
    // Deletes in a batch.
    c.batch_write_item()
        .request_items("aaa", vec![del_req("a0"), del_req("a1")])
        .send()
        .await
        .expect("batch delete");
    assert!(get(&c, "aaa", "a0").await.is_none());
    assert!(get(&c, "aaa", "a2").await.is_some());

    let keys = |ids: &[&str]| {
        let mut b = KeysAndAttributes::builder();
        for id in ids {
            b = b.keys(HashMap::from([("id".to_string(), s(id))]));
        }
        b
    };
    let got = c
        .batch_get_item()
        .request_items(
            "aaa",
            keys(&["a0", "a2", "a3"])
                .projection_expression("#v")
                .expression_attribute_names("#v", "v")
                .build()
                .expect("keys"),
        )
        .request_items("bbb", keys(&["b0"]).build().expect("keys"))
        .send()
        .await
        .expect("batch get");
    let responses = got.responses().expect("responses");
    let mut vs: Vec<&AV> = responses["aaa"].iter().filter_map(|i| i.get("v")).collect();
    vs.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(vs, [&n(2), &n(3)]);
    assert!(
        responses["aaa"].iter().all(|i| i.len() == 1),
        "projected to v only"
    );
    assert_eq!(responses["bbb"].len(), 1);
    assert_eq!(got.unprocessed_keys().map(|m| m.len()), Some(0));

    // Limits and validation.
    let v = |m: &str| Err::<(), _>(("ValidationException".to_string(), m.to_string()));
    let too_many: Vec<WriteRequest> = (0..26)
        .map(|i| put_req(item(&[("id", s(&format!("x{i}")))])))
        .collect();
    assert_eq!(
        c.batch_write_item().request_items("aaa", too_many).send().await.map(|_| ()).map_err(err),
        v("1 validation error detected: Value '[...]' at 'requestItems.aaa.member' failed to satisfy constraint: Member must have length less than or equal to 25")
    );
    let split = |from: usize, to: usize| -> Vec<WriteRequest> {
        (from..to)
            .map(|i| put_req(item(&[("id", s(&format!("x{i}")))])))
            .collect()
    };
    assert_eq!(
        c.batch_write_item()
            .request_items("aaa", split(0, 13))
            .request_items("bbb", split(0, 13))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Too many items requested for the BatchWriteItem call")
    );
    assert_eq!(
        c.batch_write_item()
            .request_items("aaa", vec![put_req(item(&[("id", s("d"))])), del_req("d")])
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Provided list of item keys contains duplicates")
    );
    assert!(
        get(&c, "aaa", "d").await.is_none(),
        "a refused batch writes nothing"
    );
    assert_eq!(
        c.batch_write_item()
            .request_items("aaa", vec![put_req(item(&[("nokey", s("d"))]))])
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("The provided key element does not match the schema")
    );
    assert_eq!(
        c.batch_write_item()
            .request_items("missing", vec![del_req("x")])
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        Err((
            "ResourceNotFoundException".to_string(),
            "Requested resource not found".to_string()
        ))
    );
    let hundred_one: Vec<&str> = Vec::new();
    let mut big = keys(&hundred_one);
    for i in 0..101 {
        big = big.keys(HashMap::from([("id".to_string(), s(&format!("k{i}")))]));
    }
    assert_eq!(
        c.batch_get_item()
            .request_items("aaa", big.build().expect("keys"))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("1 validation error detected: Value '[...]' at 'requestItems.aaa.member.keys' failed to satisfy constraint: Member must have length less than or equal to 100")
    );
    assert_eq!(
        c.batch_get_item()
            .request_items("aaa", keys(&["a2", "a2"]).build().expect("keys"))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Provided list of item keys contains duplicates")
    );
}

fn tput(table: &str, it: Item, cond: Option<&str>) -> TransactWriteItem {
    let mut p = Put::builder().table_name(table).set_item(Some(it));
    if let Some(c) = cond {
        p = p.condition_expression(c);
    }
    TransactWriteItem::builder().put(p.build().expect("put")).build()
}

fn tadd(table: &str, id: &str, delta: i64, require_at_least: Option<i64>) -> TransactWriteItem {
    let mut u = Update::builder()
        .table_name(table)
        .key("id", s(id))
        .update_expression("ADD balance :d")
        .expression_attribute_values(":d", n(delta));
    if let Some(min) = require_at_least {
        u = u
            .condition_expression("balance >= :min")
            .expression_attribute_values(":min", n(min));
    }
    TransactWriteItem::builder()
        .update(u.build().expect("update"))
        .build()
}

#[tokio::test]
async fn dynamodb_transactions_are_all_or_nothing_with_reasons_in_order() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "acct").await;
    c.transact_write_items()
        .transact_items(tput(
            "acct",
            item(&[("id", s("a")), ("balance", n(10))]),
            Some("attribute_not_exists(id)"),
        ))
        .transact_items(tput("acct", item(&[("id", s("b")), ("balance", n(0))]), None))
        .send()
        .await
        .expect("create accounts");

    // The third action's condition fails: nothing is applied, reasons line up with actions.
    let failed = c
        .transact_write_items()
        .transact_items(tadd("acct", "a", -5, Some(5)))
        .transact_items(tadd("acct", "c", 5, None))
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("acct")
                        .key("id", s("b"))
                        .condition_expression("balance > :big")
                        .expression_attribute_values(":big", n(100))
                        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                        .build()
                        .expect("check"),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name("acct")
                        .key("id", s("zzz"))
                        .build()
                        .expect("delete"),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("cancelled");
    let se = failed.as_service_error().expect("service error");
    assert!(se.is_transaction_canceled_exception(), "{se:?}");
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) = se else {
        panic!("not a TransactionCanceledException: {se:?}");
    };
    assert_eq!(
        tc.message(),
        Some("Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, ConditionalCheckFailed, None]")
    );
    let reasons = tc.cancellation_reasons();
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("")).collect();
    assert_eq!(codes, ["None", "None", "ConditionalCheckFailed", "None"]);
    assert_eq!(reasons[2].message(), Some("The conditional request failed"));
    assert_eq!(reasons[2].item().and_then(|i| i.get("balance")), Some(&n(0)));
    assert!(reasons[0].item().is_none());
    assert_eq!(
        get(&c, "acct", "a").await.and_then(|i| i.get("balance").cloned()),
        Some(n(10))
    );
    assert_eq!(
        get(&c, "acct", "b").await.and_then(|i| i.get("balance").cloned()),
        Some(n(0))
    );
    assert!(
        get(&c, "acct", "c").await.is_none(),
        "the update that would create c did not"
    );

    // Success applies every action; TransactGetItems reads them together, projected.
    c.transact_write_items()
        .transact_items(tadd("acct", "a", -5, Some(5)))
        .transact_items(tadd("acct", "b", 5, None))
        .send()
        .await
        .expect("transfer");
    let read = c
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("acct")
                        .key("id", s("a"))
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("acct")
                        .key("id", s("b"))
                        .projection_expression("balance")
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("acct")
                        .key("id", s("none"))
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .send()
        .await
        .expect("transact get");
    let r = read.responses();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].item().and_then(|i| i.get("balance")), Some(&n(5)));
    assert_eq!(r[1].item().map(|i| i.len()), Some(1));
    assert_eq!(r[1].item().and_then(|i| i.get("balance")), Some(&n(5)));
    assert!(r[2].item().is_none());

    // Validation: two actions on one item, too many actions, missing table, bad update.
    let v = |m: &str| Err::<(), _>(("ValidationException".to_string(), m.to_string()));
    assert_eq!(
        c.transact_write_items()
            .transact_items(tadd("acct", "a", 1, None))
            .transact_items(tadd("acct", "a", 1, None))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Transaction request cannot include multiple operations on one item")
    );
    let many: Vec<TransactWriteItem> = (0..101)
        .map(|i| tadd("acct", &format!("k{i}"), 1, None))
        .collect();
    assert_eq!(
        c.transact_write_items()
            .set_transact_items(Some(many))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
    );
    assert_eq!(
        c.transact_write_items()
            .transact_items(tadd("nope", "a", 1, None))
            .send()
            .await
            .map(|_| ())
            .map_err(err)
            .map_err(|e| e.0),
        Err("ResourceNotFoundException".to_string())
    );
    // A type error found while applying an update cancels with ValidationError.
    c.put_item()
        .table_name("acct")
        .set_item(Some(item(&[("id", s("str")), ("balance", s("text"))])))
        .send()
        .await
        .expect("put");
    let e = c
        .transact_write_items()
        .transact_items(tadd("acct", "a", 1, None))
        .transact_items(tadd("acct", "str", 1, None))
        .send()
        .await
        .expect_err("validation error");
    let (code, msg) = err(e);
    assert_eq!(code, "TransactionCanceledException");
    assert!(msg.ends_with("[None, ValidationError]"), "{msg}");
    assert_eq!(
        get(&c, "acct", "a").await.and_then(|i| i.get("balance").cloned()),
        Some(n(5))
    );
}

#[tokio::test]
async fn dynamodb_transaction_client_request_token_is_idempotent() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    table(&c, "acct").await;
    let send = |token: &str, delta: i64| {
        c.transact_write_items()
            .client_request_token(token)
            .transact_items(tadd("acct", "a", delta, None))
            .send()
    };
    send("token-1", 5).await.expect("first");
    send("token-1", 5).await.expect("retry answers success");
    assert_eq!(
        get(&c, "acct", "a").await.and_then(|i| i.get("balance").cloned()),
        Some(n(5)),
        "the retry changed nothing"
    );
    let (code, _) = err(send("token-1", 6).await.expect_err("different request"));
    assert_eq!(code, "IdempotentParameterMismatchException");
    send("token-2", 5).await.expect("new token");
    assert_eq!(
        get(&c, "acct", "a").await.and_then(|i| i.get("balance").cloned()),
        Some(n(10))
    );
}

/// Many tasks move money between a few accounts with conditional transactions while readers
/// check the total with TransactGetItems: no reader ever sees a half-applied transfer, no
/// balance goes negative, and the total is conserved at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_concurrent_conflicting_transactions_never_apply_partially() {
    const ACCOUNTS: usize = 5;
    const START: i64 = 100;
    let engine = TestEngine::start();
    let c = Arc::new(engine.dynamodb().await);
    table(&c, "bank").await;
    for i in 0..ACCOUNTS {
        c.put_item()
            .table_name("bank")
            .set_item(Some(item(&[
                ("id", s(&format!("acct{i}"))),
                ("balance", n(START)),
            ])))
            .send()
            .await
            .expect("seed");
    }
    let mut tasks = Vec::new();
    for t in 0..16usize {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut cancelled) = (0, 0);
            for k in 0..30usize {
                let from = (t + k) % ACCOUNTS;
                let to = (t * 7 + k * 3 + 1) % ACCOUNTS;
                if from == to {
                    continue;
                }
                let amount = ((t + k) % 40 + 1) as i64;
                let res = c
                    .transact_write_items()
                    .transact_items(tadd("bank", &format!("acct{from}"), -amount, Some(amount)))
                    .transact_items(tadd("bank", &format!("acct{to}"), amount, None))
                    .send()
                    .await;
                match res {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        let (code, _) = err(e);
                        assert_eq!(code, "TransactionCanceledException");
                        cancelled += 1;
                    }
                }
            }
            (ok, cancelled)
        }));
    }
    let reader = {
        let c = c.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                let mut req = c.transact_get_items();
                for i in 0..ACCOUNTS {
                    req = req.transact_items(
                        TransactGetItem::builder()
                            .get(
                                Get::builder()
                                    .table_name("bank")
                                    .key("id", s(&format!("acct{i}")))
                                    .build()
                                    .expect("get"),
                            )
                            .build(),
                    );
                }
                let out = req.send().await.expect("snapshot");
                let total: i64 = out
                    .responses()
                    .iter()
                    .map(|r| match r.item().and_then(|i| i.get("balance")) {
                        Some(AV::N(v)) => v.parse::<i64>().expect("number"),
                        other => panic!("no balance: {other:?}"),
                    })
                    .inspect(|b| assert!(*b >= 0, "negative balance"))
                    .sum();
                assert_eq!(total, START * ACCOUNTS as i64, "a reader saw a partial transfer");
            }
        })
    };
    let mut applied = 0;
    for t in tasks {
        let (ok, _) = t.await.expect("task");
        applied += ok;
    }
    reader.await.expect("reader");
    assert!(applied > 0, "some transfers went through");
    let mut total = 0;
    for i in 0..ACCOUNTS {
        let b = get(&c, "bank", &format!("acct{i}"))
            .await
            .and_then(|i| i.get("balance").cloned());
        let Some(AV::N(v)) = b else { panic!("balance") };
        let v: i64 = v.parse().expect("number");
        assert!(v >= 0);
        total += v;
    }
    assert_eq!(total, START * ACCOUNTS as i64);
}
