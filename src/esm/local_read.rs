//! GetRecords against a local `http://` endpoint without the AWS SDK: one kept-alive HTTP/1.1
//! connection per held read (hyper's client), driven in the task that makes the read (no
//! connection task of its own to wake), the request signed by [`super::local_request`], the
//! JSON 1.1 answer read into the SDK's `Record` type.
//!
//! Why: through the SDK an idle consumer of 4 shards cost 11.3 % of a core against an endpoint
//! that answers at once (BENCHMARKS.md). This client makes the reads kinlocal's engine holds
//! open (its answer says so); against other endpoints it makes the first read only, and the
//! sweeps ([`super::read_sweep`]) take over. AWS itself (and an `https://` endpoint) is always
//! read through the SDK.

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{EncryptionType, Record};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;

use super::local_request::RequestWriter;

/// How long connecting may take (the SDK's connect timeout for local endpoints).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long an answer may take beyond the long poll asked for.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A local endpoint read without the SDK.
#[derive(Debug, Clone)]
pub(crate) struct LocalEndpoint {
    /// `host:port`, for connecting and for the `host` header.
    authority: String,
    /// The region requests are signed for.
    region: String,
}

impl LocalEndpoint {
    /// The endpoint at `url` if it can be read this way: plain `http://`, no path (anything
    /// else goes through the SDK).
    pub(crate) fn from_url(url: &str, region: &str) -> Option<Self> {
        let rest = url.strip_prefix("http://")?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return None;
        }
        Some(Self {
            authority: authority.to_string(),
            region: region.to_string(),
        })
    }

    /// `host:port`.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// Writes this endpoint's GetRecords requests.
    pub(crate) fn request_writer(&self) -> RequestWriter {
        let credentials = crate::endpoint::local_credentials();
        RequestWriter::new(
            &self.authority,
            &self.region,
            credentials.access_key_id(),
            credentials.secret_access_key(),
        )
    }
}

/// What one GetRecords returned.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub records: Vec<Record>,
    pub next_shard_iterator: Option<String>,
    pub millis_behind_latest: Option<i64>,
    /// The children, when the shard has ended and the endpoint names them.
    pub child_shards: Vec<String>,
}

/// Why a GetRecords failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// `ExpiredIteratorException`: the reader gets a new iterator.
    #[error("ExpiredIteratorException: {0}")]
    ExpiredIterator(String),
    /// Any other error the endpoint answered with (throttling included).
    #[error("{code}: {message}")]
    Service { code: String, message: String },
    /// No answer, or one that is not GetRecords' (the reader retries later).
    #[error("{0}")]
    Transport(String),
}

/// The JSON 1.1 answer, as far as a reader needs it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsOutput {
    records: Option<Vec<WireRecord>>,
    next_shard_iterator: Option<String>,
    millis_behind_latest: Option<i64>,
    // Absent or `null` (kinesis-mock writes `null` for an empty list): read as empty, as the
    // SDK reads them.
    child_shards: Option<Vec<WireChild>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRecord {
    sequence_number: String,
    approximate_arrival_timestamp: Option<f64>,
    data: String,
    partition_key: String,
    encryption_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireChild {
    shard_id: String,
}

/// One HTTP/1.1 connection; its driver is polled only while a request is in flight, in the
/// caller's task (no task of its own to wake on another thread).
struct Connection {
    send: http1::SendRequest<Full<Bytes>>,
    driver: Pin<Box<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>>,
    /// Whether a request has been answered on it (a failure on a reused connection may be the
    /// endpoint having closed it while idle: retried once on a new one).
    reused: bool,
}

/// A shard reader's GetRecords client for a [`LocalEndpoint`].
pub(crate) struct LocalReads {
    endpoint: LocalEndpoint,
    writer: RequestWriter,
    connection: Option<Connection>,
    /// Whether the endpoint held a read sent with the long-poll hint (known after the first).
    long_polls: Option<bool>,
}

impl LocalReads {
    pub(crate) fn new(endpoint: LocalEndpoint) -> Self {
        Self {
            writer: endpoint.request_writer(),
            endpoint,
            connection: None,
            long_polls: None,
        }
    }

    /// Whether the endpoint holds reads sent with the long-poll hint (kinlocal's engine says so
    /// in its answer), once a read with the hint has been answered.
    pub(crate) fn long_polls(&self) -> Option<bool> {
        self.long_polls
    }

    /// One GetRecords; `wait` is kinlocal's long-poll hint (ignored by other endpoints).
    pub(crate) async fn get_records(
        &mut self,
        iterator: &str,
        limit: i32,
        wait: Option<Duration>,
    ) -> Result<Page, ReadError> {
        let timeout = wait.unwrap_or_default() + ANSWER_TIMEOUT;
        for attempt in 0..2 {
            let request = self
                .writer
                .get_records_request(iterator, limit, wait, SystemTime::now())
                .map_err(|e| ReadError::Transport(format!("GetRecords request: {e}")))?
                .map(Full::new);
            let mut connection = match self.connection.take() {
                Some(c) => c,
                None => self.connect().await?,
            };
            let reused = connection.reused;
            match tokio::time::timeout(timeout, round_trip(&mut connection, request)).await {
                Ok(Ok((status, keep_alive, held, answer))) => {
                    if wait.is_some() {
                        self.long_polls = Some(held);
                    }
                    if keep_alive {
                        connection.reused = true;
                        self.connection = Some(connection);
                    }
                    return page(status, &answer);
                }
                Ok(Err(_)) if reused && attempt == 0 => continue,
                Ok(Err(e)) => return Err(ReadError::Transport(e)),
                Err(_) => {
                    return Err(ReadError::Transport(format!(
                        "no answer from {} within {}",
                        self.endpoint.authority,
                        humantime::format_duration(timeout)
                    )))
                }
            }
        }
        Err(ReadError::Transport(format!(
            "{} closed the connection",
            self.endpoint.authority
        )))
    }

    async fn connect(&self) -> Result<Connection, ReadError> {
        let authority = &self.endpoint.authority;
        let failed =
            |e: &dyn std::fmt::Display| ReadError::Transport(format!("cannot connect to {authority}: {e}"));
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(authority))
            .await
            .map_err(|e| failed(&e))?
            .map_err(|e| failed(&e))?;
        // Requests are small and answered at once: no Nagle delay on either.
        let _ = stream.set_nodelay(true);
        let (send, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed(&e))?;
        Ok(Connection {
            send,
            driver: Box::pin(driver),
            reused: false,
        })
    }
}

/// Sends `request` on `connection` and reads the whole answer: its status, whether the
/// connection may be used again, whether the endpoint held the read, its body.
async fn round_trip(
    connection: &mut Connection,
    request: hyper::Request<Full<Bytes>>,
) -> Result<(hyper::StatusCode, bool, bool, Bytes), String> {
    let Connection { send, driver, .. } = connection;
    let exchange = async {
        send.ready().await.map_err(|e| e.to_string())?;
        let response = send.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let close = response
            .headers()
            .get(hyper::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let held = response.headers().contains_key(crate::engine::http::WAIT_HEADER);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, !close, held, body))
    };
    tokio::select! {
        biased;
        answer = exchange => answer,
        ended = driver.as_mut() => Err(match ended {
            Ok(()) => "the endpoint closed the connection".to_string(),
            Err(e) => e.to_string(),
        }),
    }
}

/// The answer read: a page, or the endpoint's error.
pub(crate) fn page(status: hyper::StatusCode, body: &[u8]) -> Result<Page, ReadError> {
    if !status.is_success() {
        return Err(service_error(status, body));
    }
    let out: GetRecordsOutput = serde_json::from_slice(body).map_err(|e| {
        ReadError::Transport(format!(
            "GetRecords answered with something else than its output: {e}"
        ))
    })?;
    let wire = out.records.unwrap_or_default();
    let mut records = Vec::with_capacity(wire.len());
    for r in wire {
        let data = base64::engine::general_purpose::STANDARD
            .decode(r.data.as_bytes())
            .map_err(|e| {
                ReadError::Transport(format!("record {}: Data is not base64: {e}", r.sequence_number))
            })?;
        let record = Record::builder()
            .sequence_number(r.sequence_number)
            .partition_key(r.partition_key)
            .data(Blob::new(data))
            .set_approximate_arrival_timestamp(
                r.approximate_arrival_timestamp
                    .filter(|t| t.is_finite())
                    .map(DateTime::from_secs_f64),
            )
            .set_encryption_type(r.encryption_type.as_deref().map(EncryptionType::from))
            .build()
            .map_err(|e| ReadError::Transport(e.to_string()))?;
        records.push(record);
    }
    Ok(Page {
        records,
        next_shard_iterator: out.next_shard_iterator,
        millis_behind_latest: out.millis_behind_latest,
        child_shards: out
            .child_shards
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.shard_id)
            .collect(),
    })
}

/// An error answer: AWS's `__type` (without a `namespace#` prefix) and message.
fn service_error(status: hyper::StatusCode, body: &[u8]) -> ReadError {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = value
        .get("__type")
        .and_then(|t| t.as_str())
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| value.get(*k).and_then(|m| m.as_str()))
        .map(str::to_string)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_string());
    if code == "ExpiredIteratorException" {
        ReadError::ExpiredIterator(message)
    } else {
        ReadError::Service { code, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_endpoints_without_a_path_are_read_directly() {
        let e = LocalEndpoint::from_url("http://127.0.0.1:4567", "eu-west-1").expect("plain");
        assert_eq!(e.authority, "127.0.0.1:4567");
        assert_eq!(e.region, "eu-west-1");
        assert!(LocalEndpoint::from_url("http://localhost:4566/", "us-east-1").is_some());
        for url in [
            "https://127.0.0.1:4567",
            "http://127.0.0.1:4566/kinesis",
            "http://",
            "http://user@host:1",
            "127.0.0.1:4567",
        ] {
            assert!(LocalEndpoint::from_url(url, "us-east-1").is_none(), "{url}");
        }
    }

    #[test]
    fn a_page_is_read_as_the_sdk_reads_it() {
        let body = br#"{"Records":[{"SequenceNumber":"49","ApproximateArrivalTimestamp":1764633600.25,
            "Data":"aGVsbG8=","PartitionKey":"k","EncryptionType":"NONE"}],
            "NextShardIterator":"it-2","MillisBehindLatest":7,
            "ChildShards":[{"ShardId":"shardId-000000000001","ParentShards":["shardId-000000000000"],
            "HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"}}]}"#;
        let p = page(hyper::StatusCode::OK, body).expect("page");
        assert_eq!(p.records.len(), 1);
        let r = &p.records[0];
        assert_eq!(r.sequence_number(), "49");
        assert_eq!(r.partition_key(), Some("k"));
        assert_eq!(r.data().as_ref(), b"hello");
        assert_eq!(
            r.approximate_arrival_timestamp().and_then(|t| t.to_millis().ok()),
            Some(1_764_633_600_250)
        );
        assert_eq!(r.encryption_type(), Some(&EncryptionType::None));
        assert_eq!(p.next_shard_iterator.as_deref(), Some("it-2"));
        assert_eq!(p.millis_behind_latest, Some(7));
        assert_eq!(p.child_shards, vec!["shardId-000000000001".to_string()]);
        let closed = page(hyper::StatusCode::OK, br#"{"Records":[],"MillisBehindLatest":0}"#)
            .expect("closed shard page");
        assert!(closed.next_shard_iterator.is_none() && closed.records.is_empty());
        // kinesis-mock writes null for empty lists.
        let nulls = page(
            hyper::StatusCode::OK,
            br#"{"ChildShards":null,"MillisBehindLatest":null,"NextShardIterator":"x","Records":null}"#,
        )
        .expect("nulls read as empty");
        assert!(nulls.records.is_empty() && nulls.child_shards.is_empty());
    }

    #[test]
    fn errors_are_told_apart_by_their_type() {
        let expired = page(
            hyper::StatusCode::BAD_REQUEST,
            br#"{"__type":"ExpiredIteratorException","message":"Iterator expired"}"#,
        );
        assert!(matches!(expired, Err(ReadError::ExpiredIterator(m)) if m == "Iterator expired"));
        let throttled = page(
            hyper::StatusCode::BAD_REQUEST,
            br#"{"__type":"com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException","Message":"Rate exceeded"}"#,
        );
        let Err(e) = throttled else { panic!("an error") };
        assert_eq!(
            e.to_string(),
            "ProvisionedThroughputExceededException: Rate exceeded"
        );
        let Err(e) = page(hyper::StatusCode::BAD_GATEWAY, b"<html>") else {
            panic!("an error")
        };
        assert_eq!(e.to_string(), "HTTP 502: Bad Gateway");
        assert!(matches!(
            page(hyper::StatusCode::OK, b"{\"Records\":[{\"Data\":1}]}"),
            Err(ReadError::Transport(_))
        ));
        assert!(matches!(
            page(
                hyper::StatusCode::OK,
                br#"{"Records":[{"SequenceNumber":"1","Data":"!!","PartitionKey":"k"}]}"#
            ),
            Err(ReadError::Transport(m)) if m.contains("not base64")
        ));
    }
}
