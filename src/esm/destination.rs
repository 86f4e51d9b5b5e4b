//! The on-failure destination: the invocation record Lambda sends when it discards a batch
//! (spec §2.6), written to a directory (one JSON file with the event as `payload`, like
//! Lambda's S3 destination) or put on another Kinesis stream (the record alone, like SQS/SNS).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::policy::Condition;
use super::record::PreparedRecord;

/// What is known about a discarded range.
#[derive(Debug, Clone)]
pub struct Discarded<'a> {
    /// The last invocation's request id (a fresh one if the function was never invoked).
    pub request_id: &'a str,
    /// `requestContext.functionArn`.
    pub function_arn: &'a str,
    /// Why.
    pub condition: Condition,
    /// `approximateInvokeCount`.
    pub invoke_count: u32,
    /// `responseContext.functionError` (`None` is JSON null).
    pub function_error: Option<&'static str>,
    /// The shard.
    pub shard_id: &'a str,
    /// The stream ARN.
    pub stream_arn: &'a str,
    /// The discarded records, in order (never empty).
    pub records: &'a [PreparedRecord],
    /// When it was discarded.
    pub at: SystemTime,
}

fn iso_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn iso_from_ms(ms: i64) -> String {
    let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    iso_millis(t)
}

/// The on-failure invocation record, fields in AWS's order. `responseContext` is left out for
/// `RecordAgeExceeded`, as AWS does.
pub(crate) fn failure_record(d: &Discarded<'_>) -> Value {
    let mut request = Map::new();
    request.insert("requestId".into(), d.request_id.into());
    request.insert("functionArn".into(), d.function_arn.into());
    request.insert("condition".into(), d.condition.as_str().into());
    request.insert("approximateInvokeCount".into(), d.invoke_count.into());
    let mut rec = Map::new();
    rec.insert("requestContext".into(), Value::Object(request));
    if d.condition == Condition::RetryAttemptsExhausted {
        let mut response = Map::new();
        response.insert("statusCode".into(), 200.into());
        response.insert("executedVersion".into(), "$LATEST".into());
        response.insert(
            "functionError".into(),
            d.function_error.map_or(Value::Null, Value::from),
        );
        rec.insert("responseContext".into(), Value::Object(response));
    }
    rec.insert("version".into(), "1.0".into());
    rec.insert("timestamp".into(), iso_millis(d.at).into());
    let first = d.records.first();
    let last = d.records.last();
    let mut info = Map::new();
    info.insert("shardId".into(), d.shard_id.into());
    info.insert(
        "startSequenceNumber".into(),
        first
            .map(|r| r.sequence_number.to_string())
            .unwrap_or_default()
            .into(),
    );
    info.insert(
        "endSequenceNumber".into(),
        last.map(|r| r.sequence_number.to_string())
            .unwrap_or_default()
            .into(),
    );
    info.insert(
        "approximateArrivalOfFirstRecord".into(),
        iso_from_ms(first.map_or(0, |r| r.arrival_ms)).into(),
    );
    info.insert(
        "approximateArrivalOfLastRecord".into(),
        iso_from_ms(last.map_or(0, |r| r.arrival_ms)).into(),
    );
    info.insert("batchSize".into(), d.records.len().into());
    info.insert("streamArn".into(), d.stream_arn.into());
    rec.insert("KinesisBatchInfo".into(), Value::Object(info));
    Value::Object(rec)
}

/// Why a discarded batch could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// Writing the file failed.
    #[error("cannot write on-failure record to {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// PutRecord on the destination stream failed.
    #[error("cannot put on-failure record on stream {stream}: {detail}")]
    Stream {
        /// The destination stream.
        stream: String,
        /// The SDK error.
        detail: String,
    },
}

/// A configured on-failure destination.
#[derive(Debug, Clone)]
pub enum Destination {
    /// A directory tree of JSON files.
    Directory(PathBuf),
    /// Another stream.
    Stream {
        /// The Kinesis client.
        client: aws_sdk_kinesis::Client,
        /// The destination stream's name.
        name: String,
    },
}

impl Destination {
    /// Delivers one discarded range; returns where it went (for the log line).
    pub async fn send(&self, d: &Discarded<'_>) -> Result<String, DestinationError> {
        let record = failure_record(d);
        match self {
            Self::Directory(dir) => write_file(dir, d, record).await,
            Self::Stream { client, name } => {
                let bytes = serde_json::to_vec(&record).unwrap_or_default();
                client
                    .put_record()
                    .stream_name(name)
                    .partition_key(d.shard_id)
                    .data(aws_sdk_kinesis::primitives::Blob::new(bytes))
                    .send()
                    .await
                    .map_err(|e| DestinationError::Stream {
                        stream: name.clone(),
                        detail: crate::aws_error::detail(&e),
                    })?;
                Ok(format!("stream:{name}"))
            }
        }
    }
}

/// `DIR/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>.json`: Lambda's S3 key layout below
/// the ESM prefix, plus an extension. Written to a temporary name and renamed, so a reader
/// never sees half a file.
async fn write_file(dir: &Path, d: &Discarded<'_>, mut record: Value) -> Result<String, DestinationError> {
    let payload = super::event::build(d.records);
    if let (Value::Object(map), Ok(p)) = (&mut record, serde_json::from_slice::<Value>(&payload)) {
        map.insert("payload".into(), p);
    }
    let stamp = humantime::format_rfc3339_seconds(d.at).to_string();
    let (date, time) = stamp.split_once('T').unwrap_or((stamp.as_str(), "00:00:00Z"));
    let folder = dir.join(path_component(d.shard_id)).join(date.replace('-', "/"));
    let name = format!(
        "{date}T{}-{}.json",
        time.trim_end_matches('Z').replace(':', "."),
        uuid::Uuid::new_v4()
    );
    let path = folder.join(&name);
    let io = |source| DestinationError::Io {
        path: path.clone(),
        source,
    };
    tokio::fs::create_dir_all(&folder).await.map_err(io)?;
    let tmp = folder.join(format!(".{name}.tmp"));
    let mut bytes = serde_json::to_vec_pretty(&record).unwrap_or_default();
    bytes.push(b'\n');
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(path.display().to_string())
}

/// A name from the endpoint (a shard id) made safe as one path component below `DIR`: only
/// `[A-Za-z0-9._-]` are kept (others become `_`), never `.`/`..`, never hidden, never empty,
/// at most 200 bytes. A real shard id (`shardId-000000000001`) is unchanged.
fn path_component(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::record::SequenceNumber;

    fn recs() -> Vec<PreparedRecord> {
        vec![
            PreparedRecord {
                sequence_number: SequenceNumber::new("101"),
                arrival_ms: 1_573_691_884_835,
                json: br#"{"a":1}"#.to_vec(),
            },
            PreparedRecord {
                sequence_number: SequenceNumber::new("102"),
                arrival_ms: 1_573_691_885_580,
                json: br#"{"a":2}"#.to_vec(),
            },
        ]
    }

    fn discarded<'a>(records: &'a [PreparedRecord], condition: Condition) -> Discarded<'a> {
        Discarded {
            request_id: "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
            function_arn: "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            condition,
            invoke_count: 3,
            function_error: Some("Unhandled"),
            shard_id: "shardId-000000000001",
            stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
            records,
            at: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_573_691_886_021),
        }
    }

    /// The spec §2.6 example, field for field and in order.
    #[test]
    fn matches_the_aws_example() {
        let r = recs();
        let v = failure_record(&discarded(&r, Condition::RetryAttemptsExhausted));
        let expected = r#"{"requestContext":{"requestId":"c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-2:123456789012:function:myfunction","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2019-11-14T00:38:06.021Z","KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"101","endSequenceNumber":"102","approximateArrivalOfFirstRecord":"2019-11-14T00:38:04.835Z","approximateArrivalOfLastRecord":"2019-11-14T00:38:05.580Z","batchSize":2,"streamArn":"arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;
        assert_eq!(v.to_string(), expected);
    }

    #[test]
    fn record_age_has_no_response_context_and_partial_failure_has_null_error() {
        let r = recs();
        let v = failure_record(&discarded(&r, Condition::RecordAgeExceeded));
        assert!(v.get("responseContext").is_none());
        let mut d = discarded(&r, Condition::RetryAttemptsExhausted);
        d.function_error = None;
        let v = failure_record(&d);
        assert_eq!(v["responseContext"]["functionError"], Value::Null);
    }

    #[tokio::test]
    async fn directory_destination_writes_one_file_with_the_payload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = recs();
        let where_ = Destination::Directory(dir.path().to_path_buf())
            .send(&discarded(&r, Condition::RetryAttemptsExhausted))
            .await
            .expect("written");
        assert!(where_.contains("shardId-000000000001/2019/11/14/2019-11-14T00.38.06-"));
        let v: Value = serde_json::from_slice(&std::fs::read(&where_).expect("read")).expect("json");
        assert_eq!(v["payload"]["Records"][1]["a"], 2);
        assert_eq!(v["KinesisBatchInfo"]["batchSize"], 2);
    }

    #[test]
    fn names_from_the_endpoint_never_leave_the_directory() {
        assert_eq!(path_component("shardId-000000000001"), "shardId-000000000001");
        for hostile in [
            "../../etc",
            "..",
            ".",
            "",
            "/abs/path",
            "a/../../b",
            "C:\\x",
            "\u{0}",
        ] {
            let c = path_component(hostile);
            assert!(!c.is_empty() && !c.starts_with('.'), "{hostile:?} -> {c:?}");
            assert!(!c.contains('/') && !c.contains('\\'), "{hostile:?} -> {c:?}");
            let p = Path::new("/dir").join(&c);
            assert_eq!(p.parent(), Some(Path::new("/dir")), "{hostile:?} -> {c:?}");
        }
        assert_eq!(path_component(&"x".repeat(500)).len(), 200);
    }

    #[tokio::test]
    async fn a_hostile_shard_id_is_written_inside_the_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("failures");
        let r = recs();
        let mut d = discarded(&r, Condition::RetryAttemptsExhausted);
        d.shard_id = "../../escaped";
        let written = Destination::Directory(dir.clone())
            .send(&d)
            .await
            .expect("written");
        let written = PathBuf::from(written);
        assert!(written.starts_with(&dir), "{}", written.display());
        assert!(written.exists());
        assert!(!root.path().join("escaped").exists());
    }
}
