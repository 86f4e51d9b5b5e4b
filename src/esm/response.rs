//! What the function's return value means for the batch: with `--report-batch-item-failures`,
//! the partial batch response classified as in spec §2.7 (the invoker found the value).
//!
//! The classification is deliberately lenient the way Lambda is: a missing or malformed
//! top-level shape fails open (success); a malformed *item* fails closed (complete failure).

use serde_json::Value;

use super::record::PreparedRecord;

/// Classifies the function's return value (the response body; empty when it returned
/// nothing). A body that is not JSON fails open, like a missing one.
pub(crate) fn classify_returned(value: &[u8], batch: &[PreparedRecord]) -> BatchResponse {
    let parsed = if value.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<Value>(value).ok()
    };
    classify(parsed.as_ref(), batch)
}

/// How Lambda treats a batch given the handler's return value (spec §2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchResponse {
    /// Every record succeeded.
    Success,
    /// Records before `first_failed` succeeded; retry from it (the lowest reported failure).
    Partial {
        /// Index in the batch of the lowest reported sequence number.
        first_failed: usize,
    },
    /// The whole batch failed (a bad item in the response).
    CompleteFailure,
}

/// Classifies a return value against the batch it answers.
///
/// Choices where the spec is silent or uncertain (see the README):
/// - any non-object return (`""`, `[]`, numbers, booleans, strings) is success, like `""`
///   and `[]`, which AWS treats as success;
/// - `batchItemFailures` that is neither null nor an array is a complete failure;
/// - a well-formed identifier that is not a sequence number of the batch is a complete
///   failure (LocalStack's reading; unverified on AWS).
pub(crate) fn classify(return_value: Option<&Value>, batch: &[PreparedRecord]) -> BatchResponse {
    let Some(Value::Object(obj)) = return_value else {
        return BatchResponse::Success;
    };
    let items = match obj.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchResponse::Success,
        Some(Value::Array(items)) => items,
        Some(_) => return BatchResponse::CompleteFailure,
    };
    let mut lowest: Option<usize> = None;
    for item in items {
        let Some(Value::String(id)) = item.get("itemIdentifier") else {
            return BatchResponse::CompleteFailure;
        };
        if id.is_empty() {
            return BatchResponse::CompleteFailure;
        }
        let Some(idx) = batch.iter().position(|r| r.sequence_number.as_str() == id) else {
            return BatchResponse::CompleteFailure;
        };
        lowest = Some(lowest.map_or(idx, |l| l.min(idx)));
    }
    match lowest {
        None => BatchResponse::Success,
        Some(first_failed) => BatchResponse::Partial { first_failed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::record::SequenceNumber;
    use serde_json::json;

    fn batch() -> Vec<PreparedRecord> {
        ["100", "200", "300"]
            .iter()
            .map(|s| PreparedRecord {
                sequence_number: SequenceNumber::new(*s),
                arrival_ms: 0,
                json: Vec::new(),
            })
            .collect()
    }

    fn classify_json(v: Option<Value>) -> BatchResponse {
        classify(v.as_ref(), &batch())
    }

    /// Every row of the spec §2.7 table.
    #[test]
    fn the_spec_table() {
        use BatchResponse::*;
        assert_eq!(classify_json(Some(json!({"batchItemFailures": []}))), Success);
        assert_eq!(classify_json(Some(json!({"batchItemFailures": null}))), Success);
        assert_eq!(classify_json(Some(json!({}))), Success);
        assert_eq!(classify_json(Some(Value::Null)), Success);
        assert_eq!(classify_json(None), Success);
        assert_eq!(classify_json(Some(json!(""))), Success);
        assert_eq!(classify_json(Some(json!([]))), Success);
        assert_eq!(
            classify_json(Some(json!({"batchItemFailures": [{"itemIdentifier": "200"}]}))),
            Partial { first_failed: 1 }
        );
        assert_eq!(
            classify_json(Some(json!({"batchItemFailures": [{"itemIdentifier": ""}]}))),
            CompleteFailure
        );
        assert_eq!(
            classify_json(Some(json!({"batchItemFailures": [{"itemIdentifier": null}]}))),
            CompleteFailure
        );
        assert_eq!(
            classify_json(Some(json!({"batchItemFailures": [{"foo": 123}]}))),
            CompleteFailure
        );
        assert_eq!(
            classify_json(Some(json!({"batchItemFailures": [{"foo": null}]}))),
            CompleteFailure
        );
        assert_eq!(
            classify_json(Some(json!({"batchItemFailures": [{"itemIdentifier": 123}]}))),
            CompleteFailure
        );
        // Fails open: an object without the key is success (spec §2.7 [inferred]).
        assert_eq!(classify_json(Some(json!({"failed": ["200"]}))), Success);
    }

    #[test]
    fn lowest_failure_wins_and_unknown_ids_fail_the_batch() {
        use BatchResponse::*;
        let v = json!({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]});
        assert_eq!(classify_json(Some(v)), Partial { first_failed: 1 });
        let v = json!({"batchItemFailures": [{"itemIdentifier": "999"}]});
        assert_eq!(classify_json(Some(v)), CompleteFailure);
        let v = json!({"batchItemFailures": "200"});
        assert_eq!(classify_json(Some(v)), CompleteFailure);
    }

    #[test]
    fn return_bodies_are_parsed_leniently() {
        use BatchResponse::*;
        assert_eq!(classify_returned(b"", &batch()), Success);
        assert_eq!(classify_returned(b"not json", &batch()), Success);
        assert_eq!(
            classify_returned(br#"{"batchItemFailures":[{"itemIdentifier":"300"}]}"#, &batch()),
            Partial { first_failed: 2 }
        );
    }
}
