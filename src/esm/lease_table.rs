//! The DynamoDB lease table in the KCL format (spec §4), and everything known about it: how it
//! is created, how an item decodes into a [`Lease`], how it is scanned (also by `kinlocal
//! status`), and the writes: one item per shard keyed `leaseKey` = shard id, every write
//! conditional on `leaseCounter` through the legacy `Expected` API, as the KCL does.
//!
//! The operations are the KCL's (create, renew, take, checkpoint, shard end, release) on a
//! [`Lease`] that carries the counter it last saw: the fencing token that lets several
//! consumers share one table. Who takes what, and when, is decided in [`super::leases`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeDefinition, AttributeValue, AttributeValueUpdate, ExpectedAttributeValue,
    KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType, TableStatus,
};
use aws_sdk_dynamodb::Client;

use super::checkpoint::{BadCheckpoint, Checkpoint};

/// One shard's lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// `leaseKey`: the shard id.
    pub lease_key: String,
    /// `leaseOwner`, absent when unassigned.
    pub owner: Option<String>,
    /// `leaseCounter` as last seen: the fencing token for the next conditional write.
    pub counter: u64,
    /// `checkpoint`.
    pub checkpoint: Checkpoint,
    /// `ownerSwitchesSinceCheckpoint`.
    pub owner_switches: u64,
    /// `parentShardId`.
    pub parent_shard_ids: Vec<String>,
    /// `childShardIds`.
    pub child_shard_ids: Vec<String>,
    /// `streamName` (written by kinlocal; the KCL ignores it).
    pub stream_name: Option<String>,
}

/// A lease table failure.
#[derive(Debug, thiserror::Error)]
pub enum LeaseTableError {
    /// An item whose `checkpoint` cannot be read.
    #[error(
        "lease table {table}: lease {key}: checkpoint {source} (fix or delete the item, or use --reset)"
    )]
    Corrupt {
        /// The table.
        table: String,
        /// The lease key.
        key: String,
        /// What is wrong with it.
        source: BadCheckpoint,
    },
    /// The conditional write failed: another worker changed the lease.
    #[error("lost the lease on {0}: another consumer with the same --app took it")]
    LeaseLost(String),
    /// The DynamoDB endpoint cannot be reached.
    #[error("cannot reach the DynamoDB endpoint for lease table {table}: {detail} (check --endpoint-url / AWS_ENDPOINT_URL_DYNAMODB)")]
    Unreachable {
        /// The table.
        table: String,
        /// What went wrong.
        detail: String,
    },
    /// Any other DynamoDB error.
    #[error("lease table {table}: {detail}")]
    Dynamo {
        /// The table.
        table: String,
        /// What went wrong.
        detail: String,
    },
}

/// The lease table of one application.
#[derive(Debug, Clone)]
pub struct LeaseTable {
    client: Client,
    table: String,
    owner: String,
    /// Written as `streamName` on new leases: the KCL ignores it, and it lets `kinlocal
    /// status` tell which stream a bare shard-id lease belongs to when several streams exist.
    stream_name: Option<String>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn put(v: AttributeValue) -> AttributeValueUpdate {
    AttributeValueUpdate::builder()
        .action(AttributeAction::Put)
        .value(v)
        .build()
}

fn expect_eq(v: AttributeValue) -> ExpectedAttributeValue {
    ExpectedAttributeValue::builder().value(v).build()
}

impl LeaseTable {
    /// A table named `app` (the KCL application name), written to as worker `owner`.
    pub fn new(client: Client, app: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            client,
            table: app.into(),
            owner: owner.into(),
            stream_name: None,
        }
    }

    /// Records `stream` as `streamName` on the leases this table creates.
    pub(crate) fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream_name = Some(stream.into());
        self
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.table
    }

    /// This worker's id (`leaseOwner`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn err(&self, e: impl std::fmt::Display) -> LeaseTableError {
        LeaseTableError::Dynamo {
            table: self.table.clone(),
            detail: e.to_string(),
        }
    }

    /// Creates the table (key `leaseKey` S, 10/10 capacity like KCL 2.x) unless it exists,
    /// and waits until it is ACTIVE.
    pub async fn ensure(&self) -> Result<(), LeaseTableError> {
        let exists = match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                false
            }
            Err(e) if crate::aws_error::is_unreachable(&e) => {
                return Err(LeaseTableError::Unreachable {
                    table: self.table.clone(),
                    detail: crate::aws_error::detail(&e),
                })
            }
            Err(e) => return Err(self.err(crate::aws_error::detail(&e))),
        };
        if !exists {
            let created = self
                .client
                .create_table()
                .table_name(&self.table)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("leaseKey")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(|e| self.err(e))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("leaseKey")
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(|e| self.err(e))?,
                )
                .provisioned_throughput(
                    ProvisionedThroughput::builder()
                        .read_capacity_units(10)
                        .write_capacity_units(10)
                        .build()
                        .map_err(|e| self.err(e))?,
                )
                .send()
                .await;
            if let Err(e) = created {
                // Another consumer may have created it in between.
                if !e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception())
                {
                    return Err(self.err(crate::aws_error::detail(&e)));
                }
            }
        }
        for _ in 0..600 {
            let d = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| self.err(crate::aws_error::detail(&e)))?;
            if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(self.err("did not become ACTIVE within 30 s"))
    }

    /// Every lease in the table.
    pub async fn list(&self) -> Result<HashMap<String, Lease>, LeaseTableError> {
        Ok(scan(&self.client, &self.table)
            .await?
            .into_iter()
            .map(|l| (l.lease_key.clone(), l))
            .collect())
    }

    /// Deletes every lease (`--reset`).
    pub(crate) async fn delete_all(&self) -> Result<usize, LeaseTableError> {
        let leases = self.list().await?;
        for key in leases.keys() {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("leaseKey", s(key))
                .send()
                .await
                .map_err(|e| self.err(crate::aws_error::detail(&e)))?;
        }
        Ok(leases.len())
    }

    /// Creates the lease of a shard, unowned (any worker may take it), at `checkpoint` (a
    /// sentinel), unless it exists (then the stored one is returned).
    pub async fn create(
        &self,
        shard_id: &str,
        checkpoint: &Checkpoint,
        parents: &[String],
        hash_range: Option<(&str, &str)>,
    ) -> Result<Lease, LeaseTableError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("leaseKey", s(shard_id))
            .item("leaseCounter", n(0))
            .item("checkpoint", s(checkpoint.as_str()))
            .item("checkpointSubSequenceNumber", n(0))
            .item("ownerSwitchesSinceCheckpoint", n(0))
            .expected(
                "leaseKey",
                ExpectedAttributeValue::builder().exists(false).build(),
            );
        if let Some(stream) = &self.stream_name {
            req = req.item("streamName", s(stream));
        }
        if !parents.is_empty() {
            // DynamoDB rejects empty sets: the attribute is left out for root shards.
            req = req.item("parentShardId", AttributeValue::Ss(parents.to_vec()));
        }
        if let Some((start, end)) = hash_range {
            req = req
                .item("startingHashKey", s(start))
                .item("endingHashKey", s(end));
        }
        match req.send().await {
            Ok(_) => Ok(Lease {
                lease_key: shard_id.into(),
                owner: None,
                counter: 0,
                checkpoint: checkpoint.clone(),
                owner_switches: 0,
                parent_shard_ids: parents.to_vec(),
                child_shard_ids: Vec::new(),
                stream_name: self.stream_name.clone(),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                self.get(shard_id)
                    .await?
                    .ok_or_else(|| LeaseTableError::LeaseLost(shard_id.into()))
            }
            Err(e) => Err(self.err(crate::aws_error::detail(&e))),
        }
    }

    /// Reads one lease.
    pub async fn get(&self, shard_id: &str) -> Result<Option<Lease>, LeaseTableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("leaseKey", s(shard_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(crate::aws_error::detail(&e)))?;
        out.item()
            .map(|item| decode(item, &self.table))
            .transpose()
            .map(Option::flatten)
    }

    /// Conditional update: `leaseCounter` must still be what `lease` saw (and, with
    /// `owned`, `leaseOwner` must be this worker); bumps the counter.
    async fn update(
        &self,
        lease: &mut Lease,
        mut updates: Vec<(&'static str, AttributeValueUpdate)>,
        owned: bool,
    ) -> Result<(), LeaseTableError> {
        let next = lease.counter + 1;
        updates.push(("leaseCounter", put(n(next))));
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("leaseKey", s(&lease.lease_key))
            .expected("leaseCounter", expect_eq(n(lease.counter)));
        if owned {
            req = req.expected("leaseOwner", expect_eq(s(&self.owner)));
        }
        for (k, v) in updates {
            req = req.attribute_updates(k, v);
        }
        match req.send().await {
            Ok(_) => {
                lease.counter = next;
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(LeaseTableError::LeaseLost(lease.lease_key.clone()))
            }
            Err(e) => Err(self.err(crate::aws_error::detail(&e))),
        }
    }

    /// KCL "take": this worker becomes the owner.
    pub async fn take(&self, lease: &mut Lease) -> Result<(), LeaseTableError> {
        let switched = lease.owner.as_deref() != Some(self.owner.as_str());
        let switches = lease.owner_switches + u64::from(switched);
        self.update(
            lease,
            vec![
                ("leaseOwner", put(s(&self.owner))),
                ("ownerSwitchesSinceCheckpoint", put(n(switches))),
            ],
            false,
        )
        .await?;
        lease.owner = Some(self.owner.clone());
        lease.owner_switches = switches;
        Ok(())
    }

    /// KCL checkpoint: the last successfully processed sequence number (or a sentinel).
    pub async fn checkpoint(
        &self,
        lease: &mut Lease,
        checkpoint: &Checkpoint,
    ) -> Result<(), LeaseTableError> {
        self.update(
            lease,
            vec![
                ("checkpoint", put(s(checkpoint.as_str()))),
                ("checkpointSubSequenceNumber", put(n(0))),
                ("ownerSwitchesSinceCheckpoint", put(n(0))),
            ],
            false,
        )
        .await?;
        lease.checkpoint = checkpoint.clone();
        lease.owner_switches = 0;
        Ok(())
    }

    /// KCL shard end: checkpoint `SHARD_END` and record the children.
    pub(crate) async fn shard_end(
        &self,
        lease: &mut Lease,
        children: &[String],
    ) -> Result<(), LeaseTableError> {
        let mut updates = vec![
            ("checkpoint", put(s(Checkpoint::ShardEnd.as_str()))),
            ("checkpointSubSequenceNumber", put(n(0))),
            ("ownerSwitchesSinceCheckpoint", put(n(0))),
        ];
        if !children.is_empty() {
            updates.push(("childShardIds", put(AttributeValue::Ss(children.to_vec()))));
        }
        self.update(lease, updates, false).await?;
        lease.checkpoint = Checkpoint::ShardEnd;
        lease.child_shard_ids = children.to_vec();
        Ok(())
    }

    /// KCL renew: bumps the counter so that other workers see this one alive. A failed
    /// condition is re-read once: if the item is still ours at exactly the next counter, an
    /// earlier attempt of this very request went through (a retried request), as the KCL checks.
    pub async fn renew(&self, lease: &mut Lease) -> Result<(), LeaseTableError> {
        match self.update(lease, Vec::new(), false).await {
            Err(LeaseTableError::LeaseLost(key)) => match self.get(&lease.lease_key).await? {
                Some(now)
                    if now.owner.as_deref() == Some(self.owner.as_str())
                        && now.counter == lease.counter + 1 =>
                {
                    lease.counter = now.counter;
                    Ok(())
                }
                _ => Err(LeaseTableError::LeaseLost(key)),
            },
            other => other,
        }
    }

    /// KCL release (evict): gives the lease up so that another worker can take it at once;
    /// only while this worker still owns it at the counter it saw.
    pub async fn release(&self, lease: &mut Lease) -> Result<(), LeaseTableError> {
        let update = AttributeValueUpdate::builder()
            .action(AttributeAction::Delete)
            .build();
        self.update(lease, vec![("leaseOwner", update)], true).await?;
        lease.owner = None;
        Ok(())
    }
}

/// Whether a table with this key schema is a KCL lease table (`leaseKey` HASH only).
pub(crate) fn is_lease_table(key_schema: &[KeySchemaElement]) -> bool {
    matches!(key_schema, [k] if k.attribute_name() == "leaseKey" && k.key_type() == &KeyType::Hash)
}

/// Every lease of `table` (a consistent scan, all pages).
pub async fn scan(client: &Client, table: &str) -> Result<Vec<Lease>, LeaseTableError> {
    let mut out = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| LeaseTableError::Dynamo {
                table: table.to_string(),
                detail: crate::aws_error::detail(&e),
            })?;
        for item in page.items() {
            if let Some(l) = decode(item, table)? {
                out.push(l);
            }
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    Ok(out)
}

/// Decodes one item (`None` without a `leaseKey`); a missing `checkpoint` is `TRIM_HORIZON`,
/// as the KCL reads it.
pub fn decode(item: &HashMap<String, AttributeValue>, table: &str) -> Result<Option<Lease>, LeaseTableError> {
    let get_s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let get_n = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let get_ss = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    };
    let Some(lease_key) = get_s("leaseKey") else {
        return Ok(None);
    };
    let checkpoint = match get_s("checkpoint") {
        None => Checkpoint::TrimHorizon,
        Some(c) => c.parse().map_err(|source| LeaseTableError::Corrupt {
            table: table.to_string(),
            key: lease_key.clone(),
            source,
        })?,
    };
    Ok(Some(Lease {
        lease_key,
        owner: get_s("leaseOwner"),
        counter: get_n("leaseCounter"),
        checkpoint,
        owner_switches: get_n("ownerSwitchesSinceCheckpoint"),
        parent_shard_ids: get_ss("parentShardId"),
        child_shard_ids: get_ss("childShardIds"),
        stream_name: get_s("streamName"),
    }))
}
