//! `kinlocal event`: a Kinesis event for a handler's unit tests, built by the same code that
//! builds what `consume` delivers ([`crate::esm::event`], [`crate::esm::window`]), so it is
//! byte for byte what kinlocal and Lambda send — only the sequence numbers and arrival times
//! are made up.

use std::time::Duration;

use crate::esm::event::{self, EventContext, RawRecord};
use crate::esm::window::{Envelope, Window};

/// Where the records pretend to come from.
#[derive(Debug, Clone)]
pub struct SampleSource {
    /// `eventSourceARN`.
    pub stream_arn: String,
    /// `shardId-000000000000`.
    pub shard_id: String,
    /// `awsRegion`.
    pub region: String,
    /// `invokeIdentityArn`.
    pub role_arn: String,
    /// One partition key for every record; `None`: `pk-0`, `pk-1`, ….
    pub partition_key: Option<String>,
    /// Arrival time of the first record (Unix ms); the others follow 1 ms apart.
    pub first_arrival_ms: i64,
    /// With a tumbling window of this length: the window envelope of its first invocation.
    pub tumbling_window: Option<Duration>,
}

/// A made-up sequence number of AWS's shape (56 digits) for the `i`-th record.
pub fn sequence_number(i: usize) -> String {
    format!("4959033827149025660855969253836157109592157598913{i:07}")
}

/// One record of a sample event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    /// Its data.
    pub data: Vec<u8>,
    /// Its own partition key (a record line of `tail --json`); the source's key wins over it.
    pub partition_key: Option<String>,
}

impl From<Vec<u8>> for SampleRecord {
    fn from(data: Vec<u8>) -> Self {
        Self {
            data,
            partition_key: None,
        }
    }
}

/// The event `consume` would deliver for `records`, in order.
pub fn build(source: &SampleSource, records: &[SampleRecord]) -> Vec<u8> {
    let ctx = EventContext {
        shard_id: source.shard_id.clone(),
        stream_arn: source.stream_arn.clone(),
        region: source.region.clone(),
        role_arn: source.role_arn.clone(),
    };
    let prepared: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let key = source
                .partition_key
                .clone()
                .or_else(|| record.partition_key.clone())
                .unwrap_or_else(|| format!("pk-{i}"));
            let data = &record.data;
            let seq = sequence_number(i);
            let offset = i64::try_from(i).unwrap_or(i64::MAX);
            event::prepare(
                &ctx,
                &RawRecord {
                    partition_key: &key,
                    sequence_number: &seq,
                    data,
                    arrival_ms: source.first_arrival_ms.saturating_add(offset),
                },
            )
        })
        .collect();
    let built = event::build(&prepared);
    match source.tumbling_window {
        None => built,
        Some(length) => {
            let state = serde_json::json!({});
            Envelope {
                window: Window::containing(source.first_arrival_ms, length),
                state: &state,
                shard_id: &source.shard_id,
                event_source_arn: &source.stream_arn,
                is_final: false,
                terminated_early: false,
            }
            .wrap(built)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SampleSource {
        SampleSource {
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
            shard_id: "shardId-000000000000".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::000000000000:role/lambda-role".into(),
            partition_key: None,
            first_arrival_ms: 1_700_000_000_123,
            tumbling_window: None,
        }
    }

    #[test]
    fn sequence_numbers_have_aws_shape_and_grow() {
        assert_eq!(sequence_number(0).len(), 56);
        assert!(sequence_number(1) > sequence_number(0));
    }

    #[test]
    fn the_event_is_what_aws_lambda_events_reads() {
        let own_key = SampleRecord {
            data: b"raw".to_vec(),
            partition_key: Some("user-7".into()),
        };
        let bytes = build(&source(), &[br#"{"a":1}"#.to_vec().into(), own_key]);
        let e: aws_lambda_events::event::kinesis::KinesisEvent =
            serde_json::from_slice(&bytes).expect("a KinesisEvent");
        assert_eq!(e.records.len(), 2);
        assert_eq!(e.records[0].kinesis.partition_key, "pk-0");
        assert_eq!(e.records[1].kinesis.partition_key, "user-7");
        assert_eq!(&e.records[1].kinesis.data.0[..], b"raw");
        let mut windowed = source();
        windowed.tumbling_window = Some(Duration::from_secs(60));
        let v: serde_json::Value =
            serde_json::from_slice(&build(&windowed, &[b"{}".to_vec().into()])).expect("json");
        assert_eq!(v["window"]["start"], "2023-11-14T22:13:00Z");
        assert_eq!(v["isFinalInvokeForWindow"], false);
    }
}
