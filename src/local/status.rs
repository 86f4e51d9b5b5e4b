//! `status`: is the endpoint healthy, which streams and shards does it hold with approximate
//! record counts, and where is each consumer application (lease table) per shard — its
//! checkpoint and how many records it is behind.
//!
//! Lease tables are found by shape, not by name: every table whose key schema is exactly
//! `leaseKey` HASH is a KCL-format lease table (spec §4), whichever consumer created it.
use serde::Serialize;

use super::{embedded, ready};
use crate::endpoint::{Clients, Source, UpState};
use crate::esm::checkpoint::Checkpoint;
use crate::esm::lag;
use crate::esm::lease_table::{self, Lease};

/// GetRecords calls per shard before a count is reported as "at least": status stays cheap on
/// big streams.
const MAX_READS_PER_SHARD: usize = 10;

/// Everything `status` reports.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Status {
    /// `embedded`, `docker`, `external` (flag or environment) or `aws`.
    pub backend: String,
    /// Where the endpoint came from.
    pub source: Source,
    /// Kinesis endpoint (`null`: AWS's own).
    pub kinesis_endpoint: Option<String>,
    /// DynamoDB endpoint.
    pub dynamodb_endpoint: Option<String>,
    /// Region.
    pub region: String,
    /// Both services answer (and, embedded, the engine process is ours and alive).
    pub healthy: bool,
    /// Why it is not healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Pid of the embedded engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Containers of the docker backend.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    /// Streams.
    pub streams: Vec<StreamInfo>,
    /// Consumer applications, one per lease table.
    pub applications: Vec<Application>,
}

/// One stream.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StreamInfo {
    /// Name.
    pub name: String,
    /// `ACTIVE`, `CREATING`, ...
    pub status: String,
    /// Its shards, open and closed.
    pub shards: Vec<ShardInfo>,
}

/// One shard.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ShardInfo {
    /// `shardId-000000000000`.
    pub shard_id: String,
    /// `open` (no ending sequence number) or `closed` (after a reshard).
    pub state: &'static str,
    /// Parent shard, after a reshard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
    /// Records within retention.
    pub records: u64,
    /// `records` is a lower bound (the count stopped early).
    pub records_capped: bool,
}

/// One consumer application: its lease table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Application {
    /// The lease table (for kinlocal and the KCL: the application name).
    pub lease_table: String,
    /// One lease per shard.
    pub leases: Vec<LeaseInfo>,
}

/// One lease: a shard's checkpoint and lag.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LeaseInfo {
    /// `leaseKey` as stored.
    pub lease_key: String,
    /// The stream, when it can be told (a `streamName` attribute, the multi-stream key format,
    /// or the only stream there is).
    pub stream: Option<String>,
    /// The shard id.
    pub shard_id: String,
    /// `leaseOwner`.
    pub owner: Option<String>,
    /// `checkpoint`: a sequence number or `TRIM_HORIZON` / `LATEST` / `SHARD_END` / ...
    pub checkpoint: Option<String>,
    /// Records after the checkpoint (`null` when it cannot be told).
    pub lag_records: Option<u64>,
    /// `lag_records` is a lower bound.
    pub lag_capped: bool,
    /// How long the oldest undelivered record (the first after the checkpoint) has been in
    /// the stream, in milliseconds (its arrival time to now); 0 when nothing is behind.
    pub lag_age_ms: Option<u64>,
    /// Arrival time of the oldest undelivered record, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_undelivered_arrival_ms: Option<i64>,
}

/// Gathers the status. `state` is the state of `up` when the endpoint came from it.
pub(crate) async fn gather(clients: &Clients, state: Option<&UpState>) -> Status {
    let endpoint = &clients.endpoint;
    let backend = match (endpoint.source, state) {
        (Source::State, Some(s)) => s.backend.clone(),
        (Source::Aws, _) => "aws".to_string(),
        _ => "external".to_string(),
    };
    let mut status = Status {
        backend,
        source: endpoint.source,
        kinesis_endpoint: endpoint.kinesis_url.clone(),
        dynamodb_endpoint: endpoint.dynamodb_url.clone(),
        region: endpoint.region.clone(),
        healthy: false,
        problem: None,
        pid: state.and_then(|s| s.pid),
        containers: state.map(|s| s.containers.clone()).unwrap_or_default(),
        streams: Vec::new(),
        applications: Vec::new(),
    };
    if let Err(e) = ready::probe(&ready::without_retries(clients)).await {
        status.problem = Some(e.last_error);
        return status;
    }
    status.healthy = true;
    if let (Source::State, Some(pid)) = (endpoint.source, status.pid) {
        // Something answers, but not the engine `up` started (it died and the port was reused).
        if !embedded::is_our_engine(pid) {
            status.healthy = false;
            status.problem = Some(format!(
                "the embedded engine (pid {pid}) is not running; run `kinlocal up` again"
            ));
        }
    }
    match streams(clients).await {
        Ok(s) => status.streams = s,
        Err(e) => {
            status.healthy = false;
            status.problem = Some(e);
            return status;
        }
    }
    match applications(clients, &status.streams).await {
        Ok(a) => status.applications = a,
        Err(e) => {
            status.healthy = false;
            status.problem = Some(e);
        }
    }
    status
}

async fn streams(clients: &Clients) -> Result<Vec<StreamInfo>, String> {
    let k = &clients.kinesis;
    let names = crate::streams::stream_names(k)
        .await
        .map_err(|e| crate::aws_error::describe("Kinesis", "ListStreams", &e).text)?;
    let mut out = Vec::new();
    for name in names {
        let summary = k
            .describe_stream_summary()
            .stream_name(&name)
            .send()
            .await
            .map_err(|e| crate::aws_error::describe("Kinesis", "DescribeStreamSummary", &e).text)?;
        let stream_status = summary
            .stream_description_summary()
            .map(|s| s.stream_status().as_str().to_string())
            .unwrap_or_default();
        let shards = crate::streams::list_shards(k, &name)
            .await
            .map_err(|e| crate::aws_error::describe("Kinesis", "ListShards", &e).text)?;
        let mut infos = Vec::new();
        for shard in shards {
            let open = shard
                .sequence_number_range()
                .is_none_or(|r| r.ending_sequence_number().is_none());
            let count = lag::behind(
                k,
                &name,
                shard.shard_id(),
                &Checkpoint::TrimHorizon,
                None,
                MAX_READS_PER_SHARD,
            )
            .await?
            .unwrap_or_default();
            infos.push(ShardInfo {
                shard_id: shard.shard_id().to_string(),
                state: if open { "open" } else { "closed" },
                parent_shard_id: shard.parent_shard_id().map(str::to_string),
                records: count.records,
                records_capped: count.capped,
            });
        }
        out.push(StreamInfo {
            name,
            status: stream_status,
            shards: infos,
        });
    }
    Ok(out)
}

async fn applications(clients: &Clients, streams: &[StreamInfo]) -> Result<Vec<Application>, String> {
    let d = &clients.dynamodb;
    let mut tables: Vec<String> = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let out = d
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .map_err(|e| crate::aws_error::describe("DynamoDB", "ListTables", &e).text)?;
        tables.extend(out.table_names().iter().cloned());
        match out.last_evaluated_table_name() {
            Some(t) => start = Some(t.to_string()),
            None => break,
        }
    }
    let mut apps = Vec::new();
    for table in tables {
        let desc = d
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .map_err(|e| crate::aws_error::describe("DynamoDB", "DescribeTable", &e).text)?;
        let schema = desc.table().map(|t| t.key_schema()).unwrap_or_default();
        if !lease_table::is_lease_table(schema) {
            continue;
        }
        let stored = lease_table::scan(d, &table).await.map_err(|e| e.to_string())?;
        let mut leases = Vec::new();
        for l in &stored {
            leases.push(lease(clients, l, streams).await);
        }
        leases.sort_by(|a, b| (&a.stream, &a.shard_id).cmp(&(&b.stream, &b.shard_id)));
        // An empty lease table is no consumer: `status` lists applications that ran.
        if leases.is_empty() {
            continue;
        }
        apps.push(Application {
            lease_table: table,
            leases,
        });
    }
    Ok(apps)
}

/// The stream and shard a lease key names: `shardId-…` (KCL single-stream: the stream comes
/// from a `streamName` attribute or is the only stream holding that shard) or
/// `account:stream:epoch:shardId-…` (KCL multi-stream) or `stream:shardId-…`.
fn locate(lease_key: &str, stream_attr: Option<String>, streams: &[StreamInfo]) -> (Option<String>, String) {
    let parts: Vec<&str> = lease_key.split(':').collect();
    let shard = parts.last().copied().unwrap_or(lease_key).to_string();
    let from_key = match parts.len() {
        4 => Some(parts[1].to_string()),
        2 => Some(parts[0].to_string()),
        _ => None,
    };
    let stream = stream_attr.or(from_key).or_else(|| {
        let mut holding = streams
            .iter()
            .filter(|s| s.shards.iter().any(|sh| sh.shard_id == shard));
        match (holding.next(), holding.next()) {
            (Some(only), None) => Some(only.name.clone()),
            _ => None,
        }
    });
    (stream, shard)
}

async fn lease(clients: &Clients, stored: &Lease, streams: &[StreamInfo]) -> LeaseInfo {
    let lease_key = stored.lease_key.clone();
    let (stream, shard_id) = locate(&lease_key, stored.stream_name.clone(), streams);
    let mut info = LeaseInfo {
        lease_key,
        stream: stream.clone(),
        shard_id: shard_id.clone(),
        owner: stored.owner.clone(),
        checkpoint: Some(stored.checkpoint.to_string()),
        lag_records: None,
        lag_capped: false,
        lag_age_ms: None,
        oldest_undelivered_arrival_ms: None,
    };
    let Some(stream) = stream else { return info };
    // The mapping's AT_TIMESTAMP time is not in the lease table: such a lag cannot be told.
    let counted = lag::behind(
        &clients.kinesis,
        &stream,
        &shard_id,
        &stored.checkpoint,
        None,
        MAX_READS_PER_SHARD,
    )
    .await;
    if let Ok(Some(count)) = counted {
        info.lag_records = Some(count.records);
        info.lag_capped = count.capped;
        info.oldest_undelivered_arrival_ms = count.oldest_arrival_ms;
        info.lag_age_ms = Some(u64::try_from(count.age(lag::now_ms()).as_millis()).unwrap_or(u64::MAX));
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str, shards: &[&str]) -> StreamInfo {
        StreamInfo {
            name: name.into(),
            status: "ACTIVE".into(),
            shards: shards
                .iter()
                .map(|s| ShardInfo {
                    shard_id: s.to_string(),
                    state: "open",
                    parent_shard_id: None,
                    records: 0,
                    records_capped: false,
                })
                .collect(),
        }
    }

    #[test]
    fn lease_keys_are_located_in_every_kcl_format() {
        let one = [stream("orders", &["shardId-000000000000"])];
        assert_eq!(
            locate("shardId-000000000000", None, &one),
            (Some("orders".into()), "shardId-000000000000".into())
        );
        let two = [
            stream("orders", &["shardId-000000000000"]),
            stream("clicks", &["shardId-000000000000"]),
        ];
        assert_eq!(locate("shardId-000000000000", None, &two).0, None, "ambiguous");
        assert_eq!(
            locate("shardId-000000000000", Some("clicks".into()), &two).0,
            Some("clicks".into())
        );
        assert_eq!(
            locate("000000000000:clicks:1700000000:shardId-000000000001", None, &two),
            (Some("clicks".into()), "shardId-000000000001".into())
        );
        assert_eq!(
            locate("orders:shardId-000000000002", None, &two),
            (Some("orders".into()), "shardId-000000000002".into())
        );
    }
}
