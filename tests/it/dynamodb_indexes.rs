//! Secondary indexes through the real SDK: created with the table or by UpdateTable (CREATING,
//! then ACTIVE, backfilled), maintained on every kind of write, read by Query and Scan with
//! their projections, sparse, paged, and every error DynamoDB answers about them.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BillingMode, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, KeyType, ProjectionType, ProvisionedThroughput, ReturnConsumedCapacity,
    ScalarAttributeType as T, Select,
};
use aws_sdk_dynamodb::Client;
use kinlocal::engine::EngineConfig;

use crate::dynamodb_support::{
    client_no_retry, def, err, gsi, index_status, item, key, lsi, n, names, projection, s, strings,
    wait_index_active, wait_table_active, Item,
};
use crate::support::TestEngine;

/// `orders`: pk `id` (S); GSI `byCustomer` (customer S, amt N) INCLUDE [status];
/// GSI `byStatus` (status S) KEYS_ONLY.
async fn orders_table(c: &Client) {
    c.create_table()
        .table_name("orders")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", T::S))
        .attribute_definitions(def("customer", T::S))
        .attribute_definitions(def("amt", T::N))
        .attribute_definitions(def("status", T::S))
        .global_secondary_indexes(gsi(
            "byCustomer",
            "customer",
            Some("amt"),
            projection(ProjectionType::Include, &["status"]),
        ))
        .global_secondary_indexes(gsi(
            "byStatus",
            "status",
            None,
            projection(ProjectionType::KeysOnly, &[]),
        ))
        .send()
        .await
        .expect("create orders");
    wait_table_active(c, "orders").await;
}

async fn put(c: &Client, table: &str, it: Item) {
    c.put_item()
        .table_name(table)
        .set_item(Some(it))
        .send()
        .await
        .expect("put");
}

async fn query_customer(c: &Client, customer: &str) -> Vec<Item> {
    c.query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s(customer))
        .send()
        .await
        .expect("query index")
        .items
        .unwrap_or_default()
}

#[tokio::test]
async fn dynamodb_gsi_is_maintained_by_every_write_and_projected() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    orders_table(&c).await;

    for (id, customer, total, status) in [
        ("o1", "ann", "30", "open"),
        ("o2", "ann", "10", "shipped"),
        ("o3", "bob", "20", "open"),
        ("o4", "ann", "20", "open"),
    ] {
        put(
            &c,
            "orders",
            item(&[
                ("id", s(id)),
                ("customer", s(customer)),
                ("amt", n(total)),
                ("status", s(status)),
                ("note", s("x")),
            ]),
        )
        .await;
    }
    // Sparse: no `customer`, so not in byCustomer; in byStatus.
    put(&c, "orders", item(&[("id", s("o5")), ("status", s("open"))])).await;

    // Sorted by the index's sort key; INCLUDE projects table keys, index keys and `status`.
    let ann = query_customer(&c, "ann").await;
    assert_eq!(strings(&ann, "id"), ["o2", "o4", "o1"]);
    assert_eq!(names(&ann[0]), ["amt", "customer", "id", "status"]);

    // UpdateItem moves an item between index partitions.
    c.update_item()
        .table_name("orders")
        .key("id", s("o1"))
        .update_expression("SET customer = :b")
        .expression_attribute_values(":b", s("bob"))
        .send()
        .await
        .expect("update");
    assert_eq!(strings(&query_customer(&c, "ann").await, "id"), ["o2", "o4"]);
    assert_eq!(strings(&query_customer(&c, "bob").await, "id"), ["o3", "o1"]);
    // REMOVE of an index key takes the item out of the index.
    c.update_item()
        .table_name("orders")
        .key("id", s("o3"))
        .update_expression("REMOVE customer")
        .send()
        .await
        .expect("remove");
    assert_eq!(strings(&query_customer(&c, "bob").await, "id"), ["o1"]);
    // DeleteItem too.
    c.delete_item()
        .table_name("orders")
        .key("id", s("o4"))
        .send()
        .await
        .expect("delete");
    assert_eq!(strings(&query_customer(&c, "ann").await, "id"), ["o2"]);

    // KEYS_ONLY: table key + index key only.
    let open = c
        .query()
        .table_name("orders")
        .index_name("byStatus")
        .key_condition_expression("#s = :o")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":o", s("open"))
        .send()
        .await
        .expect("query keys only");
    let mut ids = strings(open.items(), "id");
    ids.sort();
    assert_eq!(ids, ["o1", "o3", "o5"]);
    assert!(open.items().iter().all(|i| names(i) == ["id", "status"]));

    // Range conditions, descending order, and a filter on a projected attribute.
    let big = c
        .query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c AND amt >= :t")
        .filter_expression("#s = :open")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":c", s("bob"))
        .expression_attribute_values(":t", n(25))
        .expression_attribute_values(":open", s("open"))
        .scan_index_forward(false)
        .send()
        .await
        .expect("range query");
    assert_eq!(strings(big.items(), "id"), ["o1"]);

    // Scan of an index sees only the indexed (non-sparse) items, projected.
    let scan = c
        .scan()
        .table_name("orders")
        .index_name("byCustomer")
        .send()
        .await
        .expect("scan index");
    assert_eq!(scan.count(), 2);
    assert!(scan.items().iter().all(|i| !i.contains_key("note")));

    // DescribeTable shows both indexes, with their counts.
    let d = c
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .expect("describe");
    let t = d.table().expect("table");
    let gsis = t.global_secondary_indexes();
    assert_eq!(gsis.len(), 2);
    let by_customer = gsis
        .iter()
        .find(|g| g.index_name() == Some("byCustomer"))
        .expect("byCustomer");
    assert_eq!(by_customer.index_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(by_customer.item_count(), Some(2));
    assert!(by_customer.index_size_bytes().unwrap_or(0) > 0);
    assert_eq!(
        by_customer
            .projection()
            .and_then(|p| p.projection_type())
            .map(|p| p.as_str()),
        Some("INCLUDE")
    );
    assert_eq!(
        by_customer.projection().map(|p| p.non_key_attributes().to_vec()),
        Some(vec!["status".to_string()])
    );
    assert!(by_customer
        .index_arn()
        .is_some_and(|a| a.ends_with(":table/orders/index/byCustomer")));
    assert_eq!(by_customer.backfilling(), None);
    let status_ix = gsis
        .iter()
        .find(|g| g.index_name() == Some("byStatus"))
        .expect("byStatus");
    assert_eq!(status_ix.item_count(), Some(4));

    // ConsumedCapacity INDEXES names the index a read used.
    let cc = c
        .query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s("bob"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("capacity");
    let cap = cc.consumed_capacity().expect("consumed");
    assert_eq!(cap.table_name(), Some("orders"));
    assert!(cap
        .global_secondary_indexes()
        .is_some_and(|m| m.contains_key("byCustomer")));
}

#[tokio::test]
async fn dynamodb_gsi_pages_with_table_and_index_keys() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    orders_table(&c).await;
    for i in 0..25 {
        put(
            &c,
            "orders",
            item(&[
                ("id", s(&format!("o{i:02}"))),
                ("customer", s("ann")),
                ("amt", n(i % 5)),
            ]),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut start: Option<Item> = None;
    let mut pages = 0;
    loop {
        let page = c
            .query()
            .table_name("orders")
            .index_name("byCustomer")
            .key_condition_expression("customer = :c")
            .expression_attribute_values(":c", s("ann"))
            .limit(7)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("page");
        pages += 1;
        seen.extend(strings(page.items(), "id"));
        match page.last_evaluated_key() {
            Some(k) => {
                let mut k_names: Vec<&String> = k.keys().collect();
                k_names.sort();
                assert_eq!(k_names, ["amt", "customer", "id"]);
                start = Some(k.clone());
            }
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "every item exactly once");

    // A start key without the index's keys is refused.
    let bad = c
        .query()
        .table_name("orders")
        .index_name("byCustomer")
        .key_condition_expression("customer = :c")
        .expression_attribute_values(":c", s("ann"))
        .exclusive_start_key("id", s("o01"))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(
        bad,
        Err((
            "ValidationException".into(),
            "The provided starting key is invalid".into()
        ))
    );
}

#[tokio::test]
async fn dynamodb_lsi_query_and_all_attributes_from_the_table() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    c.create_table()
        .table_name("events")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("device", KeyType::Hash))
        .key_schema(key("seq", KeyType::Range))
        .attribute_definitions(def("device", T::S))
        .attribute_definitions(def("seq", T::N))
        .attribute_definitions(def("at", T::S))
        .local_secondary_indexes(lsi(
            "byTime",
            "device",
            "at",
            projection(ProjectionType::KeysOnly, &[]),
        ))
        .send()
        .await
        .expect("create");
    for (seq, at) in [(1, "2024-03"), (2, "2024-01"), (3, "2024-02")] {
        put(
            &c,
            "events",
            item(&[
                ("device", s("d1")),
                ("seq", n(seq)),
                ("at", s(at)),
                ("payload", s("p")),
            ]),
        )
        .await;
    }
    let q = c
        .query()
        .table_name("events")
        .index_name("byTime")
        .key_condition_expression("device = :d AND begins_with(#at, :y)")
        .expression_attribute_names("#at", "at")
        .expression_attribute_values(":d", s("d1"))
        .expression_attribute_values(":y", s("2024"))
        .send()
        .await
        .expect("lsi query");
    assert_eq!(strings(q.items(), "at"), ["2024-01", "2024-02", "2024-03"]);
    assert!(q.items().iter().all(|i| names(i) == ["at", "device", "seq"]));
    // ALL_ATTRIBUTES on an LSI fetches the whole item from the table; consistent reads work.
    let all = c
        .query()
        .table_name("events")
        .index_name("byTime")
        .key_condition_expression("device = :d")
        .expression_attribute_values(":d", s("d1"))
        .select(Select::AllAttributes)
        .consistent_read(true)
        .send()
        .await
        .expect("all attributes");
    assert!(all.items().iter().all(|i| i.contains_key("payload")));

    let d = c
        .describe_table()
        .table_name("events")
        .send()
        .await
        .expect("describe");
    let l = &d.table().expect("table").local_secondary_indexes()[0];
    assert_eq!(l.index_name(), Some("byTime"));
    assert_eq!(l.item_count(), Some(3));

    // ItemCollectionMetrics for a table with an LSI.
    let out = c
        .put_item()
        .table_name("events")
        .set_item(Some(item(&[("device", s("d1")), ("seq", n(9))])))
        .return_item_collection_metrics(aws_sdk_dynamodb::types::ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .expect("put with metrics");
    let m = out.item_collection_metrics().expect("metrics");
    assert_eq!(
        m.item_collection_key().and_then(|k| k.get("device")),
        Some(&s("d1"))
    );
    assert_eq!(m.size_estimate_range_gb(), [0.0, 1.0]);
}

#[tokio::test]
async fn dynamodb_index_errors_use_dynamodb_wording() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    orders_table(&c).await;
    let q = || {
        c.query()
            .table_name("orders")
            .key_condition_expression("customer = :c")
            .expression_attribute_values(":c", s("ann"))
    };
    let v = |m: &str| Err::<(), _>(("ValidationException".to_string(), m.to_string()));
    assert_eq!(
        q().index_name("nope").send().await.map(|_| ()).map_err(err),
        v("The table does not have the specified index: nope")
    );
    assert_eq!(
        q().index_name("byCustomer")
            .consistent_read(true)
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Consistent reads are not supported on global secondary indexes")
    );
    assert_eq!(
        q().index_name("byCustomer").select(Select::AllAttributes).send().await.map(|_| ()).map_err(err),
        v("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byCustomer because its projection type is not ALL")
    );
    assert_eq!(
        q().index_name("byCustomer")
            .filter_expression("amt > :z")
            .expression_attribute_values(":z", n(0))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Filter Expression can only contain non-primary key attributes: Primary key attribute: amt")
    );
    assert_eq!(
        c.query()
            .table_name("orders")
            .index_name("byCustomer")
            .key_condition_expression("id = :c")
            .expression_attribute_values(":c", s("o1"))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Query condition missed key schema element: customer")
    );
    // A write whose index key has the wrong type, or is empty, is refused and changes nothing.
    let bad = c
        .put_item()
        .table_name("orders")
        .set_item(Some(item(&[
            ("id", s("x")),
            ("amt", s("ten")),
            ("customer", s("c")),
        ])))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(
        bad,
        v("One or more parameter values were invalid: Type mismatch for Index Key amt Expected: N Actual: S IndexName: byCustomer")
    );
    let bad = c
        .update_item()
        .table_name("orders")
        .key("id", s("x"))
        .update_expression("SET customer = :e")
        .expression_attribute_values(":e", s(""))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(bad.map_err(|e| e.0), Err("ValidationException".to_string()));
    let got = c
        .get_item()
        .table_name("orders")
        .key("id", s("x"))
        .send()
        .await
        .expect("get");
    assert!(got.item().is_none());

    // CreateTable index validation.
    let mk = |name: &str| {
        c.create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("id", KeyType::Hash))
            .attribute_definitions(def("id", T::S))
    };
    assert_eq!(
        mk("tx1")
            .global_secondary_indexes(gsi("gmiss", "missing", None, projection(ProjectionType::All, &[])))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [missing], AttributeDefinitions: [id]")
    );
    assert_eq!(
        mk("tx2")
            .attribute_definitions(def("x", T::S))
            .local_secondary_indexes(lsi("lsi1", "id", "x", projection(ProjectionType::All, &[])))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
    );
    assert_eq!(
        mk("tx3")
            .attribute_definitions(def("x", T::S))
            .global_secondary_indexes(gsi("gxx", "x", None, projection(ProjectionType::KeysOnly, &["a"])))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified")
    );
    assert_eq!(
        mk("tx4")
            .attribute_definitions(def("x", T::S))
            .global_secondary_indexes(gsi("gxx", "x", None, projection(ProjectionType::All, &[])))
            .global_secondary_indexes(gsi("gxx", "x", None, projection(ProjectionType::All, &[])))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("One or more parameter values were invalid: Duplicate index name: gxx")
    );
    assert_eq!(
        c.create_table()
            .table_name("tx5")
            .key_schema(key("id", KeyType::Hash))
            .attribute_definitions(def("id", T::S))
            .attribute_definitions(def("x", T::S))
            .provisioned_throughput(
                ProvisionedThroughput::builder()
                    .read_capacity_units(1)
                    .write_capacity_units(1)
                    .build()
                    .expect("pt")
            )
            .global_secondary_indexes(gsi("gxx", "x", None, projection(ProjectionType::All, &[])))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: gxx")
    );
}

#[tokio::test]
async fn dynamodb_update_table_adds_a_gsi_creating_then_active_and_backfilled() {
    let engine = TestEngine::start_with(EngineConfig {
        create_table_delay: Duration::from_millis(400),
        ..EngineConfig::default()
    });
    let c = engine.dynamodb().await;
    c.create_table()
        .table_name("users")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", T::S))
        .send()
        .await
        .expect("create");
    wait_table_active(&c, "users").await;
    for i in 0..10 {
        let mut it = item(&[("id", s(&format!("u{i}")))]);
        if i % 2 == 0 {
            it.insert("team".into(), s("red"));
        }
        put(&c, "users", it).await;
    }
    let create = |name: &str| {
        GlobalSecondaryIndexUpdate::builder()
            .create(
                CreateGlobalSecondaryIndexAction::builder()
                    .index_name(name)
                    .key_schema(key("team", KeyType::Hash))
                    .projection(projection(ProjectionType::All, &[]))
                    .build()
                    .expect("create action"),
            )
            .build()
    };
    let out = c
        .update_table()
        .table_name("users")
        .attribute_definitions(def("team", T::S))
        .global_secondary_index_updates(create("byTeam"))
        .send()
        .await
        .expect("update table");
    let desc = out.table_description().expect("description");
    let g = &desc.global_secondary_indexes()[0];
    assert_eq!(g.index_status().map(|s| s.as_str()), Some("CREATING"));
    assert_eq!(g.backfilling(), Some(true));
    assert_eq!(desc.table_status().map(|s| s.as_str()), Some("UPDATING"));

    // While building: not readable, and no second online index change.
    let early = c
        .query()
        .table_name("users")
        .index_name("byTeam")
        .key_condition_expression("team = :t")
        .expression_attribute_values(":t", s("red"))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(
        early,
        Err((
            "ValidationException".into(),
            "Cannot read from backfilling global secondary index: byTeam".into()
        ))
    );
    let second = client_no_retry(&engine.endpoint)
        .await
        .update_table()
        .table_name("users")
        .attribute_definitions(def("team", T::S))
        .global_secondary_index_updates(create("byTeam2"))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(second.map_err(|e| e.0), Err("LimitExceededException".to_string()));
    // Writes during the backfill land in the index too.
    put(&c, "users", item(&[("id", s("late")), ("team", s("red"))])).await;

    wait_index_active(&c, "users", "byTeam").await;
    wait_table_active(&c, "users").await;
    let red = c
        .query()
        .table_name("users")
        .index_name("byTeam")
        .key_condition_expression("team = :t")
        .expression_attribute_values(":t", s("red"))
        .send()
        .await
        .expect("query new index");
    assert_eq!(red.count(), 6, "5 backfilled + 1 written during the build");

    // Creating it again, deleting an unknown index: DynamoDB's errors.
    let again = c
        .update_table()
        .table_name("users")
        .attribute_definitions(def("team", T::S))
        .global_secondary_index_updates(create("byTeam"))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(again.map_err(|e| e.0), Err("ValidationException".to_string()));
    let delete = |name: &str| {
        GlobalSecondaryIndexUpdate::builder()
            .delete(
                DeleteGlobalSecondaryIndexAction::builder()
                    .index_name(name)
                    .build()
                    .expect("delete action"),
            )
            .build()
    };
    let unknown = c
        .update_table()
        .table_name("users")
        .global_secondary_index_updates(delete("nope"))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(
        unknown,
        Err((
            "ResourceNotFoundException".into(),
            "Requested resource not found: Index: nope not found".into()
        ))
    );
    // Deleting answers DELETING once; then the index is gone.
    let out = c
        .update_table()
        .table_name("users")
        .global_secondary_index_updates(delete("byTeam"))
        .send()
        .await
        .expect("delete index");
    let g = &out.table_description().expect("desc").global_secondary_indexes()[0];
    assert_eq!(g.index_status().map(|s| s.as_str()), Some("DELETING"));
    assert_eq!(index_status(&c, "users", "byTeam").await, None);
    let gone = c
        .query()
        .table_name("users")
        .index_name("byTeam")
        .key_condition_expression("team = :t")
        .expression_attribute_values(":t", s("red"))
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(
        gone,
        Err((
            "ValidationException".into(),
            "The table does not have the specified index: byTeam".into()
        ))
    );
}

#[tokio::test]
async fn dynamodb_update_table_billing_throughput_and_streams() {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    c.create_table()
        .table_name("tbl")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", T::S))
        .send()
        .await
        .expect("create");
    let v = |m: &str| Err::<(), _>(("ValidationException".to_string(), m.to_string()));
    assert_eq!(
        c.update_table().table_name("tbl").send().await.map(|_| ()).map_err(err),
        v("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
    );
    let pt = |r: i64, w: i64| {
        ProvisionedThroughput::builder()
            .read_capacity_units(r)
            .write_capacity_units(w)
            .build()
            .expect("pt")
    };
    assert_eq!(
        c.update_table().table_name("tbl").provisioned_throughput(pt(5, 5)).send().await.map(|_| ()).map_err(err),
        v("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
    );
    assert_eq!(
        c.update_table().table_name("tbl").billing_mode(BillingMode::Provisioned).send().await.map(|_| ()).map_err(err),
        v("One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
    );
    let out = c
        .update_table()
        .table_name("tbl")
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(pt(5, 7))
        .send()
        .await
        .expect("to provisioned");
    let d = out.table_description().expect("desc");
    assert_eq!(
        d.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PROVISIONED")
    );
    assert_eq!(
        d.provisioned_throughput().and_then(|p| p.read_capacity_units()),
        Some(5)
    );
    assert_eq!(
        d.provisioned_throughput().and_then(|p| p.write_capacity_units()),
        Some(7)
    );
    assert_eq!(
        c.update_table().table_name("tbl").provisioned_throughput(pt(5, 7)).send().await.map(|_| ()).map_err(err),
        v("The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 7. Requested WriteCapacityUnits: 7. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.")
    );

    // Streams: accepted and shown.
    let spec = |on: bool| {
        let b = aws_sdk_dynamodb::types::StreamSpecification::builder().stream_enabled(on);
        let b = if on {
            b.stream_view_type(aws_sdk_dynamodb::types::StreamViewType::NewAndOldImages)
        } else {
            b
        };
        b.build().expect("spec")
    };
    let out = c
        .update_table()
        .table_name("tbl")
        .stream_specification(spec(true))
        .send()
        .await
        .expect("enable stream");
    let d = out.table_description().expect("desc");
    assert_eq!(d.stream_specification().map(|s| s.stream_enabled()), Some(true));
    assert!(d
        .latest_stream_arn()
        .is_some_and(|a| a.contains(":table/tbl/stream/")));
    assert!(d.latest_stream_label().is_some());
    assert_eq!(
        c.update_table()
            .table_name("tbl")
            .stream_specification(spec(true))
            .send()
            .await
            .map(|_| ())
            .map_err(err),
        v("Table already has an enabled stream: TableName: tbl")
    );
    c.update_table()
        .table_name("tbl")
        .stream_specification(spec(false))
        .send()
        .await
        .expect("disable stream");
    let d = c
        .describe_table()
        .table_name("tbl")
        .send()
        .await
        .expect("describe");
    assert!(d.table().and_then(|t| t.stream_specification()).is_none());
    assert_eq!(
        c.update_table()
            .table_name("nope")
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map(|_| ())
            .map_err(err)
            .map_err(|e| e.0),
        Err("ResourceNotFoundException".to_string())
    );
    // Back to on demand.
    let out = c
        .update_table()
        .table_name("tbl")
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("to on demand");
    assert_eq!(
        out.table_description()
            .and_then(|d| d.provisioned_throughput())
            .and_then(|p| p.read_capacity_units()),
        Some(0)
    );
}

/// Regression (issue 13): a Query whose ExclusiveStartKey lies in another partition than its
/// key condition made a range scan with its start after its end panic, and the client saw its
/// connection dropped without an answer. DynamoDB answers a ValidationException.
#[tokio::test]
async fn regression_query_exclusive_start_key_outside_key_condition_is_a_validation_error_not_a_dropped_connection(
) {
    let engine = TestEngine::start();
    let c = engine.dynamodb().await;
    c.create_table()
        .table_name("ranges")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("h", KeyType::Hash))
        .key_schema(key("r", KeyType::Range))
        .attribute_definitions(def("h", T::S))
        .attribute_definitions(def("r", T::N))
        .send()
        .await
        .expect("create");
    for h in ["a", "z"] {
        put(&c, "ranges", item(&[("h", s(h)), ("r", n(1))])).await;
    }
    let q = |start_h: &str, start_r: i64, cond: &str| {
        let mut b = c
            .query()
            .table_name("ranges")
            .key_condition_expression(cond)
            .expression_attribute_values(":h", s("a"))
            .exclusive_start_key("h", s(start_h))
            .exclusive_start_key("r", n(start_r));
        if cond.contains(":lo") {
            b = b.expression_attribute_values(":lo", n(0));
        }
        b.send()
    };
    let v = |m: &str| Err::<(), _>(("ValidationException".to_string(), m.to_string()));
    assert_eq!(
        q("z", 1, "h = :h").await.map(|_| ()).map_err(err),
        v("The provided starting key is outside query boundaries based on provided conditions")
    );
    assert_eq!(
        q("a", -5, "h = :h AND r > :lo").await.map(|_| ()).map_err(err),
        v("The provided starting key does not match the range key predicate")
    );
    assert_eq!(
        q("z", 1, "h = :h AND r > :lo").await.map(|_| ()).map_err(err),
        v("The query can return at most one row and cannot be restarted")
    );
    // Descending with a start key in another partition: also refused, and the engine still serves.
    let desc = c
        .query()
        .table_name("ranges")
        .key_condition_expression("h = :h")
        .expression_attribute_values(":h", s("z"))
        .exclusive_start_key("h", s("a"))
        .exclusive_start_key("r", n(1))
        .scan_index_forward(false)
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    assert_eq!(desc.map_err(|e| e.0), Err("ValidationException".to_string()));
    let ok = c
        .query()
        .table_name("ranges")
        .key_condition_expression("h = :h")
        .expression_attribute_values(":h", s("a"))
        .send()
        .await
        .expect("engine still serving");
    assert_eq!(ok.count(), 1);
    assert_eq!(ok.items()[0].get("h"), Some(&AV::S("a".into())));
}
