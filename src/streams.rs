//! Stream administration: create a stream idempotently (same shape = success, other shape = a
//! clear error), wait for `ACTIVE`, delete, list, and read a stream's open shards.
//!
//! Everything here talks to Kinesis through the AWS SDK only, so it works the same against the
//! embedded engine, a container or real AWS.

use std::time::{Duration, Instant};

use aws_sdk_kinesis::error::SdkError;
use aws_sdk_kinesis::operation::list_shards::ListShardsError;
use aws_sdk_kinesis::operation::list_streams::ListStreamsError;
use aws_sdk_kinesis::types::{Shard, StreamMode, StreamModeDetails, StreamStatus};
use aws_sdk_kinesis::Client;
use serde::Serialize;

use crate::aws_error::{self, AwsError};
use crate::backoff::Backoff;

/// The stream every subcommand uses when no name is given.
pub(crate) const DEFAULT_STREAM: &str = "kinlocal";

/// Retention Kinesis gives a new stream.
pub(crate) const DEFAULT_RETENTION_HOURS: u32 = 24;

/// How long to wait for a stream to become `ACTIVE` (or to disappear) before giving up.
pub(crate) const WAIT_TIMEOUT: Duration = Duration::from_secs(300);

/// Polls for a state change quickly at first (local engines are fast), then once a second.
const WAIT_BACKOFF: Backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));

/// Provisioned with a shard count, or on-demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// `PROVISIONED` with this many open shards.
    Provisioned {
        /// Open shard count.
        shards: u32,
    },
    /// `ON_DEMAND`: AWS manages the shards.
    OnDemand,
    /// No shard count asked for: a new stream gets one provisioned shard, an existing stream is
    /// accepted whatever its capacity (so `create-stream` after `up` is fine).
    Unspecified,
}

impl std::fmt::Display for Capacity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Provisioned { shards: 1 } => f.write_str("1 shard (provisioned)"),
            Self::Provisioned { shards } => write!(f, "{shards} shards (provisioned)"),
            Self::OnDemand => f.write_str("on-demand capacity"),
            Self::Unspecified => f.write_str("any capacity"),
        }
    }
}

/// What a caller asks a stream to look like. `None` fields are "don't care" when comparing with
/// an existing stream (`produce --shards N` does not care about retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamShape {
    /// Capacity mode and shard count.
    pub capacity: Capacity,
    /// Retention in hours; `None` = keep what the stream has (24 h for a new one).
    pub retention_hours: Option<u32>,
}

/// A stream as `describe-stream-summary` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamInfo {
    /// Stream name.
    pub name: String,
    /// Stream ARN.
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING` or `DELETING`.
    pub status: String,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub mode: String,
    /// Number of open shards.
    pub open_shards: u32,
    /// Retention in hours.
    pub retention_hours: u32,
}

impl StreamInfo {
    fn capacity(&self) -> Capacity {
        if self.mode == StreamMode::OnDemand.as_str() {
            Capacity::OnDemand
        } else {
            Capacity::Provisioned {
                shards: self.open_shards,
            }
        }
    }

    /// Whether this stream has the asked-for shape (unset fields match anything).
    pub fn matches(&self, shape: &StreamShape) -> bool {
        let capacity_ok = match shape.capacity {
            Capacity::OnDemand => self.capacity() == Capacity::OnDemand,
            // While UPDATING (a reshard) the open shard count is in flux; compare anyway: a
            // script asking for N shards wants N.
            wanted @ Capacity::Provisioned { .. } => self.capacity() == wanted,
            Capacity::Unspecified => true,
        };
        capacity_ok && shape.retention_hours.is_none_or(|h| h == self.retention_hours)
    }

    fn describe_shape(&self) -> String {
        format!("{}, retention {} h", self.capacity(), self.retention_hours)
    }
}

fn describe_wanted(shape: &StreamShape) -> String {
    match shape.retention_hours {
        Some(h) => format!("{}, retention {h} h", shape.capacity),
        None => shape.capacity.to_string(),
    }
}

/// What `ensure_stream` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// The stream did not exist and was created.
    Created(StreamInfo),
    /// The stream existed with the asked-for shape; nothing changed.
    Existed(StreamInfo),
}

/// An open shard's hash key range (from ListShards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRange {
    /// `shardId-000000000000`.
    pub shard_id: String,
    /// First hash key of the shard.
    pub start: u128,
    /// Last hash key of the shard (inclusive).
    pub end: u128,
}

/// Everything that can go wrong administering streams; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    /// The stream exists with another shape.
    #[error(
        "stream '{name}' already exists with {actual}, not {wanted}: delete it first \
         (`kinlocal delete-stream {name}`) or ask for the shape it has"
    )]
    ShapeMismatch {
        /// Stream name.
        name: String,
        /// What it has.
        actual: String,
        /// What was asked for.
        wanted: String,
    },
    /// The stream does not exist.
    #[error("stream '{name}' does not exist{hint}")]
    NotFound {
        /// Stream name.
        name: String,
        /// What to do about it (may be empty).
        hint: String,
    },
    /// The stream is being deleted.
    #[error("stream '{0}' is being deleted: wait until it is gone, then try again")]
    Deleting(String),
    /// Waiting for a state took too long.
    #[error("stream '{name}' is still {status} after {} s; giving up", .waited.as_secs())]
    Timeout {
        /// Stream name.
        name: String,
        /// Last status seen.
        status: String,
        /// How long we waited.
        waited: Duration,
    },
    /// An API call failed (the service's answer, or why there was none).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// An answer kinlocal cannot use.
    #[error("{op} '{name}' failed: {detail}")]
    Api {
        /// The operation (`CreateStream`, ...).
        op: &'static str,
        /// Stream name.
        name: String,
        /// The error, with the AWS error code when there is one.
        detail: String,
    },
}

/// `DescribeStreamSummary`; `Ok(None)` when the stream does not exist.
pub async fn describe(client: &Client, name: &str) -> Result<Option<StreamInfo>, StreamsError> {
    match client.describe_stream_summary().stream_name(name).send().await {
        Ok(out) => {
            let Some(s) = out.stream_description_summary() else {
                return Err(StreamsError::Api {
                    op: "DescribeStreamSummary",
                    name: name.to_string(),
                    detail: "the response has no StreamDescriptionSummary".into(),
                });
            };
            let mode = s
                .stream_mode_details()
                .map(StreamModeDetails::stream_mode)
                .map_or(StreamMode::Provisioned.as_str(), StreamMode::as_str)
                .to_string();
            Ok(Some(StreamInfo {
                name: s.stream_name().to_string(),
                arn: s.stream_arn().to_string(),
                status: s.stream_status().as_str().to_string(),
                mode,
                open_shards: u32::try_from(s.open_shard_count()).unwrap_or(0),
                retention_hours: u32::try_from(s.retention_period_hours()).unwrap_or(0),
            }))
        }
        Err(e) if aws_error::code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(StreamsError::Aws(aws_error::describe(
            "Kinesis",
            "DescribeStreamSummary",
            &e,
        ))),
    }
}

/// Creates `name` with `shape` unless it exists. An existing stream with the same shape is a
/// success (`Ensured::Existed`); with another shape it is `StreamsError::ShapeMismatch`.
/// With `wait`, returns once the stream is `ACTIVE`. A retention other than 24 h needs an
/// `ACTIVE` stream to be set, so it waits for that even without `wait`.
pub async fn ensure_stream(
    client: &Client,
    name: &str,
    shape: &StreamShape,
    wait: bool,
) -> Result<Ensured, StreamsError> {
    if let Some(info) = describe(client, name).await? {
        return existing(client, name, shape, info, wait).await;
    }
    let mut req = client.create_stream().stream_name(name);
    req = match shape.capacity {
        // PROVISIONED is the default mode; older emulators do not know StreamModeDetails.
        Capacity::Provisioned { shards } => req.shard_count(i32::try_from(shards).unwrap_or(i32::MAX)),
        Capacity::Unspecified => req.shard_count(1),
        Capacity::OnDemand => req.stream_mode_details(on_demand_details()?),
    };
    match req.send().await {
        Ok(_) => {}
        // Someone else created it between our describe and create: judge its shape.
        Err(e) if aws_error::code(&e) == Some("ResourceInUseException") => {
            if let Some(info) = describe(client, name).await? {
                return existing(client, name, shape, info, wait).await;
            }
            return Err(StreamsError::Aws(aws_error::describe(
                "Kinesis",
                "CreateStream",
                &e,
            )));
        }
        Err(e) => {
            return Err(StreamsError::Aws(aws_error::describe(
                "Kinesis",
                "CreateStream",
                &e,
            )))
        }
    }
    let retention = shape.retention_hours.filter(|h| *h != DEFAULT_RETENTION_HOURS);
    let mut info = if wait || retention.is_some() {
        wait_active(client, name, WAIT_TIMEOUT).await?
    } else {
        describe(client, name)
            .await?
            .ok_or_else(|| StreamsError::NotFound {
                name: name.to_string(),
                hint: " (it vanished right after CreateStream)".into(),
            })?
    };
    if let Some(hours) = retention {
        client
            .increase_stream_retention_period()
            .stream_name(name)
            .retention_period_hours(i32::try_from(hours).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| {
                StreamsError::Aws(aws_error::describe(
                    "Kinesis",
                    "IncreaseStreamRetentionPeriod",
                    &e,
                ))
            })?;
        info = if wait {
            wait_active(client, name, WAIT_TIMEOUT).await?
        } else {
            describe(client, name).await?.unwrap_or(info)
        };
    }
    Ok(Ensured::Created(info))
}

fn on_demand_details() -> Result<StreamModeDetails, StreamsError> {
    StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .map_err(|e| StreamsError::Api {
            op: "CreateStream",
            name: String::new(),
            detail: e.to_string(),
        })
}

async fn existing(
    client: &Client,
    name: &str,
    shape: &StreamShape,
    info: StreamInfo,
    wait: bool,
) -> Result<Ensured, StreamsError> {
    if info.status == StreamStatus::Deleting.as_str() {
        return Err(StreamsError::Deleting(name.to_string()));
    }
    // A stream still CREATING reports its final shape already; compare first, then wait.
    if !info.matches(shape) {
        return Err(StreamsError::ShapeMismatch {
            name: name.to_string(),
            actual: info.describe_shape(),
            wanted: describe_wanted(shape),
        });
    }
    let info = if wait && info.status != StreamStatus::Active.as_str() {
        wait_active(client, name, WAIT_TIMEOUT).await?
    } else {
        info
    };
    Ok(Ensured::Existed(info))
}

/// Polls until the stream is `ACTIVE` (quickly at first: local engines are fast).
pub async fn wait_active(client: &Client, name: &str, timeout: Duration) -> Result<StreamInfo, StreamsError> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let Some(info) = describe(client, name).await? else {
            return Err(StreamsError::NotFound {
                name: name.to_string(),
                hint: " (it disappeared while we waited for it to become ACTIVE)".into(),
            });
        };
        if info.status == StreamStatus::Active.as_str() {
            return Ok(info);
        }
        if info.status == StreamStatus::Deleting.as_str() {
            return Err(StreamsError::Deleting(name.to_string()));
        }
        if started.elapsed() >= timeout {
            return Err(StreamsError::Timeout {
                name: name.to_string(),
                status: info.status,
                waited: started.elapsed(),
            });
        }
        attempt += 1;
        tokio::time::sleep(WAIT_BACKOFF.delay(attempt)).await;
    }
}

/// Deletes `name`. With `wait`, returns once it is gone. A missing stream is
/// `StreamsError::NotFound` unless `if_exists` (then `Ok(false)`).
pub async fn delete_stream(
    client: &Client,
    name: &str,
    wait: bool,
    if_exists: bool,
) -> Result<bool, StreamsError> {
    match client
        .delete_stream()
        .stream_name(name)
        .enforce_consumer_deletion(true)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if aws_error::code(&e) == Some("ResourceNotFoundException") => {
            return if if_exists {
                Ok(false)
            } else {
                Err(StreamsError::NotFound {
                    name: name.to_string(),
                    hint: " (pass --if-exists to accept that)".into(),
                })
            };
        }
        Err(e) => {
            return Err(StreamsError::Aws(aws_error::describe(
                "Kinesis",
                "DeleteStream",
                &e,
            )))
        }
    }
    if wait {
        let started = Instant::now();
        let mut attempt = 0;
        while let Some(info) = describe(client, name).await? {
            if started.elapsed() >= WAIT_TIMEOUT {
                return Err(StreamsError::Timeout {
                    name: name.to_string(),
                    status: info.status,
                    waited: started.elapsed(),
                });
            }
            attempt += 1;
            tokio::time::sleep(WAIT_BACKOFF.delay(attempt)).await;
        }
    }
    Ok(true)
}

/// Every stream name, following pagination (`NextToken`, or `ExclusiveStartStreamName` for
/// endpoints that only know the older scheme). The one ListStreams loop: callers word the error.
pub async fn stream_names(client: &Client) -> Result<Vec<String>, SdkError<ListStreamsError>> {
    let mut names: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = client.list_streams();
        if let Some(t) = &token {
            req = req.next_token(t);
        } else if let Some(last) = names.last() {
            req = req.exclusive_start_stream_name(last);
        }
        let out = req.send().await?;
        let page = out.stream_names();
        names.extend(page.iter().cloned());
        token = out.next_token().map(str::to_string);
        if !out.has_more_streams() || (page.is_empty() && token.is_none()) {
            break;
        }
    }
    Ok(names)
}

/// Every shard of a stream, open and closed, in the order ListShards gives them, following
/// `NextToken`. The one ListShards loop: callers word the error.
pub async fn list_shards(client: &Client, stream: &str) -> Result<Vec<Shard>, SdkError<ListShardsError>> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = match &token {
            Some(t) => client.list_shards().next_token(t),
            None => client.list_shards().stream_name(stream),
        };
        let out = req.send().await?;
        let page = out.shards();
        shards.extend(page.iter().cloned());
        // An empty page with a token would loop forever on a confused endpoint.
        match out.next_token() {
            Some(t) if !t.is_empty() && !page.is_empty() => token = Some(t.to_string()),
            _ => return Ok(shards),
        }
    }
}

/// Every stream with its summary (streams deleted while we list are skipped).
pub async fn list_streams(client: &Client) -> Result<Vec<StreamInfo>, StreamsError> {
    let mut out = Vec::new();
    let names = stream_names(client)
        .await
        .map_err(|e| StreamsError::Aws(aws_error::describe("Kinesis", "ListStreams", &e)))?;
    for name in names {
        if let Some(info) = describe(client, &name).await? {
            out.push(info);
        }
    }
    Ok(out)
}

/// The open shards of a stream (no `EndingSequenceNumber`), ordered by starting hash key.
pub async fn open_shards(client: &Client, name: &str) -> Result<Vec<ShardRange>, StreamsError> {
    let api = |detail: String| StreamsError::Api {
        op: "ListShards",
        name: name.to_string(),
        detail,
    };
    let listed = list_shards(client, name).await.map_err(|e| {
        if aws_error::code(&e) == Some("ResourceNotFoundException") {
            StreamsError::NotFound {
                name: name.to_string(),
                hint: String::new(),
            }
        } else {
            StreamsError::Aws(aws_error::describe("Kinesis", "ListShards", &e))
        }
    })?;
    let mut shards = Vec::new();
    for shard in &listed {
        let closed = shard
            .sequence_number_range()
            .and_then(|r| r.ending_sequence_number())
            .is_some();
        if closed {
            continue;
        }
        let range = shard.hash_key_range();
        let parse = |s: Option<&str>| {
            s.and_then(|v| v.parse::<u128>().ok())
                .ok_or_else(|| api(format!("shard {} has no valid hash key range", shard.shard_id())))
        };
        shards.push(ShardRange {
            shard_id: shard.shard_id().to_string(),
            start: parse(range.map(|r| r.starting_hash_key()))?,
            end: parse(range.map(|r| r.ending_hash_key()))?,
        });
    }
    shards.sort_by_key(|s| s.start);
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(mode: &str, shards: u32, retention: u32) -> StreamInfo {
        StreamInfo {
            name: "s".into(),
            arn: "arn".into(),
            status: "ACTIVE".into(),
            mode: mode.into(),
            open_shards: shards,
            retention_hours: retention,
        }
    }

    #[test]
    fn same_shape_matches_and_unset_retention_is_dont_care() {
        let s = info("PROVISIONED", 3, 48);
        assert!(s.matches(&StreamShape {
            capacity: Capacity::Provisioned { shards: 3 },
            retention_hours: None
        }));
        assert!(s.matches(&StreamShape {
            capacity: Capacity::Provisioned { shards: 3 },
            retention_hours: Some(48)
        }));
        assert!(!s.matches(&StreamShape {
            capacity: Capacity::Provisioned { shards: 3 },
            retention_hours: Some(24)
        }));
        assert!(!s.matches(&StreamShape {
            capacity: Capacity::Provisioned { shards: 2 },
            retention_hours: None
        }));
        assert!(!s.matches(&StreamShape {
            capacity: Capacity::OnDemand,
            retention_hours: None
        }));
    }

    #[test]
    fn on_demand_ignores_shard_count() {
        let s = info("ON_DEMAND", 4, 24);
        assert!(s.matches(&StreamShape {
            capacity: Capacity::OnDemand,
            retention_hours: Some(24)
        }));
        assert!(!s.matches(&StreamShape {
            capacity: Capacity::Provisioned { shards: 4 },
            retention_hours: None
        }));
    }

    #[test]
    fn shapes_read_well() {
        assert_eq!(
            info("PROVISIONED", 1, 24).describe_shape(),
            "1 shard (provisioned), retention 24 h"
        );
        assert_eq!(
            describe_wanted(&StreamShape {
                capacity: Capacity::Provisioned { shards: 3 },
                retention_hours: None
            }),
            "3 shards (provisioned)"
        );
    }
}
