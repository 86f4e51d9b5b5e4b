//! The exact JSON document Lambda sends for a Kinesis batch (spec §1): field set and order of
//! the AWS example, `data` as padded base64, arrival time as seconds with millisecond precision.
//!
//! Built by hand rather than through `aws_lambda_events`, whose serializer writes the timestamp
//! as a string; real AWS sends a number.

use base64::Engine as _;
use serde_json::Value;

use super::record::{PreparedRecord, SequenceNumber};

/// What every record of one shard's events shares.
#[derive(Debug, Clone)]
pub(crate) struct EventContext {
    /// `shardId-000000000000`; prefix of every `eventID`.
    pub shard_id: String,
    /// `arn:aws:kinesis:<region>:<account>:stream/<name>`.
    pub stream_arn: String,
    /// The stream's region (`awsRegion`).
    pub region: String,
    /// The function's execution role (`invokeIdentityArn`).
    pub role_arn: String,
}

/// One record as read from Kinesis.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord<'a> {
    /// The producer's partition key.
    pub partition_key: &'a str,
    /// The sequence number, as the decimal string Kinesis returned.
    pub sequence_number: &'a str,
    /// The exact record bytes.
    pub data: &'a [u8],
    /// `ApproximateArrivalTimestamp` in Unix milliseconds.
    pub arrival_ms: i64,
}

/// Seconds with exactly millisecond precision, as a JSON number (`1545084650.987`).
///
/// `millis as f64 / 1000` printed by serde_json's shortest round-trip form never shows more
/// than three fractional digits, which `aws_lambda_events` requires (spec §1.4).
pub(crate) fn arrival_timestamp(arrival_ms: i64) -> Value {
    #[allow(clippy::cast_precision_loss)] // ms since 1970 fit in f64's 53-bit mantissa
    let secs = arrival_ms as f64 / 1000.0;
    serde_json::Number::from_f64(secs).map_or(Value::Null, Value::Number)
}

/// Writes `s` as a JSON string (quoted, escaped).
fn push_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Serialises one record's entry once, in AWS's field order, so batching and retries reuse
/// the bytes. Written by hand: this runs for every record consumed, and the base64 `data`
/// (the bulk of the bytes) needs no escaping, which a generic serializer would scan for.
pub(crate) fn prepare(ctx: &EventContext, r: &RawRecord<'_>) -> PreparedRecord {
    let b64 = base64::engine::general_purpose::STANDARD;
    let data_len = r.data.len().div_ceil(3) * 4;
    let mut out = Vec::with_capacity(data_len + 400 + r.partition_key.len() + ctx.stream_arn.len());
    out.extend_from_slice(br#"{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"#);
    push_str(&mut out, r.partition_key);
    out.extend_from_slice(br#","sequenceNumber":"#);
    push_str(&mut out, r.sequence_number);
    out.extend_from_slice(br#","data":""#);
    let start = out.len();
    out.resize(start + data_len, 0);
    let written = b64.encode_slice(r.data, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.extend_from_slice(br#"","approximateArrivalTimestamp":"#);
    let _ = serde_json::to_writer(&mut out, &arrival_timestamp(r.arrival_ms));
    out.extend_from_slice(br#"},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"#);
    push_str(&mut out, &format!("{}:{}", ctx.shard_id, r.sequence_number));
    out.extend_from_slice(br#","eventName":"aws:kinesis:record","invokeIdentityArn":"#);
    push_str(&mut out, &ctx.role_arn);
    out.extend_from_slice(br#","awsRegion":"#);
    push_str(&mut out, &ctx.region);
    out.extend_from_slice(br#","eventSourceARN":"#);
    push_str(&mut out, &ctx.stream_arn);
    out.push(b'}');
    PreparedRecord {
        sequence_number: SequenceNumber::new(r.sequence_number),
        arrival_ms: r.arrival_ms,
        json: out,
    }
}

/// Bytes the envelope adds around the entries: `{"Records":[` + `]}`.
pub(crate) const ENVELOPE_BYTES: usize = br#"{"Records":[]}"#.len();

/// The size of the event holding `records`, without building it.
pub(crate) fn event_size(records: &[PreparedRecord]) -> usize {
    ENVELOPE_BYTES + records.iter().map(|r| r.json.len()).sum::<usize>() + records.len().saturating_sub(1)
}

/// The invocation payload: `{"Records":[...]}` with the prepared entries in order.
pub fn build(records: &[PreparedRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(event_size(records));
    out.extend_from_slice(br#"{"Records":["#);
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&r.json);
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> EventContext {
        EventContext {
            shard_id: "shardId-000000000006".into(),
            stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
            region: "us-east-2".into(),
            role_arn: "arn:aws:iam::123456789012:role/lambda-role".into(),
        }
    }

    /// The AWS documentation example (spec §1.3), byte for byte modulo whitespace.
    #[test]
    fn matches_the_aws_example_exactly() {
        let c = ctx();
        let recs = [
            prepare(
                &c,
                &RawRecord {
                    partition_key: "1",
                    sequence_number: "49590338271490256608559692538361571095921575989136588898",
                    data: b"Hello, this is a test.",
                    arrival_ms: 1_545_084_650_987,
                },
            ),
            prepare(
                &c,
                &RawRecord {
                    partition_key: "1",
                    sequence_number: "49590338271490256608559692540925702759324208523137515618",
                    data: b"This is only a test.",
                    arrival_ms: 1_545_084_711_166,
                },
            ),
        ];
        let expected = r#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"},{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692540925702759324208523137515618","data":"VGhpcyBpcyBvbmx5IGEgdGVzdC4=","approximateArrivalTimestamp":1545084711.166},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692540925702759324208523137515618","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}"#;
        let built = build(&recs);
        assert_eq!(String::from_utf8_lossy(&built), expected);
        assert_eq!(event_size(&recs), built.len());
    }

    #[test]
    fn partition_keys_and_contexts_are_escaped() {
        let mut c = ctx();
        c.role_arn = "arn:aws:iam::1:role/\"quoted\"".into();
        let key = "k\"\\\u{1}é\n";
        let r = prepare(
            &c,
            &RawRecord {
                partition_key: key,
                sequence_number: "1",
                data: &[0, 255, 1],
                arrival_ms: 1,
            },
        );
        let v: Value = serde_json::from_slice(&r.json).expect("valid JSON");
        assert_eq!(v["kinesis"]["partitionKey"], key);
        assert_eq!(v["invokeIdentityArn"], c.role_arn.as_str());
        assert_eq!(v["kinesis"]["data"], "AP8B");
        assert_eq!(v["kinesis"]["approximateArrivalTimestamp"].as_f64(), Some(0.001));
    }

    #[test]
    fn timestamps_never_carry_more_than_milliseconds() {
        for ms in [
            0_i64,
            1,
            999,
            1_545_084_650_001,
            1_545_084_650_010,
            1_700_000_000_123,
        ] {
            let text = arrival_timestamp(ms).to_string();
            let frac = text.split('.').nth(1).unwrap_or("");
            assert!(frac.len() <= 3, "{ms} printed as {text}");
            let back: f64 = text.parse().expect("a number");
            #[allow(clippy::cast_possible_truncation)]
            let round = (back * 1000.0).round() as i64;
            assert_eq!(round, ms);
        }
    }

    #[test]
    fn data_is_padded_base64_of_the_exact_bytes() {
        let r = prepare(
            &ctx(),
            &RawRecord {
                partition_key: "k",
                sequence_number: "1",
                data: &[0xff, 0x00],
                arrival_ms: 0,
            },
        );
        let v: Value = serde_json::from_slice(&r.json).expect("json");
        assert_eq!(v["kinesis"]["data"], "/wA=");
        assert_eq!(build(&[]), br#"{"Records":[]}"#);
        assert_eq!(event_size(&[]), ENVELOPE_BYTES);
    }
}
