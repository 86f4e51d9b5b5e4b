//! Small builders shared by the DynamoDB tests: key schema, attribute definitions, index
//! definitions, waits on table and index status, and an SDK error reduced to code + message.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

/// An item as the SDK holds it.
pub type Item = HashMap<String, AV>;

/// A string attribute value.
pub fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

/// A number attribute value.
pub fn n(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

/// An item from pairs.
pub fn item(pairs: &[(&str, AV)]) -> Item {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// A key schema element.
pub fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("key schema element")
}

/// An attribute definition.
pub fn def(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .expect("attribute definition")
}

/// A projection (`non_key` only for INCLUDE).
pub fn projection(kind: ProjectionType, non_key: &[&str]) -> Projection {
    let mut p = Projection::builder().projection_type(kind);
    for a in non_key {
        p = p.non_key_attributes(*a);
    }
    p.build()
}

/// A GSI definition without provisioned throughput (on-demand tables).
pub fn gsi(name: &str, hash: &str, range: Option<&str>, p: Projection) -> GlobalSecondaryIndex {
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .projection(p);
    if let Some(r) = range {
        b = b.key_schema(key(r, KeyType::Range));
    }
    b.build().expect("gsi")
}

/// An LSI definition.
pub fn lsi(name: &str, hash: &str, range: &str, p: Projection) -> LocalSecondaryIndex {
    LocalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(range, KeyType::Range))
        .projection(p)
        .build()
        .expect("lsi")
}

/// `(code, message)` of a service error.
pub fn err<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> (String, String) {
    match e.as_service_error() {
        Some(se) => (
            se.code().unwrap_or("").to_string(),
            se.message().unwrap_or("").to_string(),
        ),
        None => (format!("not a service error: {e:?}"), String::new()),
    }
}

/// Waits until the table is ACTIVE.
pub async fn wait_table_active(c: &Client, table: &str) {
    for _ in 0..200 {
        let d = c
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("describe");
        if d.table().and_then(|t| t.table_status()).map(|s| s.as_str()) == Some("ACTIVE") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("table {table} never became ACTIVE");
}

/// The IndexStatus of a GSI now (`None` when the table has no such index).
pub async fn index_status(c: &Client, table: &str, index: &str) -> Option<String> {
    let d = c
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe");
    d.table()?
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(index))
        .and_then(|g| g.index_status())
        .map(|s| s.as_str().to_string())
}

/// Waits until the GSI is ACTIVE, as the KCL does before it queries it.
pub async fn wait_index_active(c: &Client, table: &str, index: &str) {
    for _ in 0..200 {
        if index_status(c, table, index).await.as_deref() == Some("ACTIVE") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("index {index} on {table} never became ACTIVE");
}

/// The string value of attribute `name` in each item.
pub fn strings(items: &[Item], name: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| match i.get(name) {
            Some(AV::S(v)) => v.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The sorted attribute names of an item.
pub fn names(item: &Item) -> Vec<String> {
    let mut v: Vec<String> = item.keys().cloned().collect();
    v.sort();
    v
}

/// A DynamoDB client that reports throttling-class errors (`LimitExceededException`) instead
/// of retrying them, as the SDK's standard retry mode would.
pub async fn client_no_retry(endpoint: &str) -> Client {
    let base = crate::support::dynamodb_client(endpoint).await;
    let conf = base
        .config()
        .to_builder()
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}
