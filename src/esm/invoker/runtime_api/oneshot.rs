//! `kinlocal invoke`: one invocation with a Kinesis event, through a warm instance (started,
//! used once, shut down) or a process per batch; and the event built from bare records the
//! way `consume` builds it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::esm::event::{self, EventContext, RawRecord};
use crate::esm::invoker::{FunctionLog, InitError, Invocation, Invoker, Outcome};

/// Sequence numbers of built records: 56 digits like Kinesis's, increasing.
const SEQUENCE_PREFIX: &str = "4959033827149025660855969253836157109592";

/// The event `consume` would send for `records` (their data), all with `partition_key`, as if
/// they had just arrived on `shardId-000000000000`.
pub(crate) fn event_from_records(records: &[Vec<u8>], partition_key: &str, ctx: &EventContext) -> Vec<u8> {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let prepared: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let sequence_number = format!("{SEQUENCE_PREFIX}{i:016}");
            event::prepare(
                ctx,
                &RawRecord {
                    partition_key,
                    sequence_number: &sequence_number,
                    data,
                    arrival_ms: now_ms,
                },
            )
        })
        .collect();
    event::build(&prepared)
}

/// Starts the invoker (a warm one initializes here: an init failure is an error and nothing
/// is invoked), runs one invocation between Lambda's START / END / REPORT lines, shuts it down.
pub(crate) async fn invoke_once(
    mut invoker: Box<dyn Invoker>,
    payload: Vec<u8>,
    function_arn: String,
    timeout: Duration,
    logs: FunctionLog,
) -> Result<Outcome, InitError> {
    invoker.start().await?;
    let request_id = uuid::Uuid::new_v4().to_string();
    logs.line(&format!("START RequestId: {request_id} Version: $LATEST"));
    let report = invoker
        .invoke(Invocation {
            request_id: request_id.clone(),
            payload: Arc::new(payload),
            deadline: SystemTime::now() + timeout,
            timeout,
            function_arn,
            shard_id: "shardId-000000000000".into(),
            lane: 0,
        })
        .await;
    logs.line(&format!("END RequestId: {request_id}"));
    logs.line(&format!(
        "REPORT RequestId: {request_id}\tDuration: {:.2} ms",
        report.duration.as_secs_f64() * 1000.0
    ));
    invoker.shutdown().await;
    Ok(report.outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_events_parse_as_kinesis_events() {
        let ctx = EventContext {
            shard_id: "shardId-000000000000".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::000000000000:role/lambda-role".into(),
        };
        let bytes = event_from_records(&[b"{\"a\":1}".to_vec(), b"x".to_vec()], "pk", &ctx);
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        let records = v["Records"].as_array().expect("records");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["kinesis"]["data"], "eyJhIjoxfQ==");
        assert_eq!(records[1]["kinesis"]["partitionKey"], "pk");
        let s0 = records[0]["kinesis"]["sequenceNumber"]
            .as_str()
            .unwrap_or_default();
        let s1 = records[1]["kinesis"]["sequenceNumber"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(s0.len(), 56);
        assert!(s0 < s1);
        assert_eq!(records[0]["eventID"], format!("shardId-000000000000:{s0}"));
    }
}
