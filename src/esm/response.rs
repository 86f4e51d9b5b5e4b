//! What the handler said: its return value (found in stdout among log lines) and, with
//! `--report-batch-item-failures`, the partial batch response classified as in spec §2.7.
//!
//! The classification is deliberately lenient the way Lambda is: a missing or malformed
//! top-level shape fails open (success); a malformed *item* fails closed (complete failure).

use serde_json::Value;

use super::record::PreparedRecord;

/// Stdout split into the function's return value and its log lines.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerOutput {
    /// The return value, when stdout carried one.
    pub return_value: Option<Value>,
    /// Stdout lines that are logs, in order.
    pub log_lines: Vec<String>,
}

/// Finds the return value in stdout: the whole of stdout if it is one JSON document;
/// otherwise the last non-empty line if it is JSON (the lines before it are logs);
/// otherwise there is none and every line is a log.
pub fn split_stdout(stdout: &[u8]) -> HandlerOutput {
    let text = String::from_utf8_lossy(stdout);
    if text.trim().is_empty() {
        return HandlerOutput {
            return_value: None,
            log_lines: Vec::new(),
        };
    }
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        return HandlerOutput {
            return_value: Some(v),
            log_lines: Vec::new(),
        };
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let return_value = lines.last().and_then(|l| serde_json::from_str::<Value>(l).ok());
    if return_value.is_some() {
        lines.pop();
    }
    HandlerOutput {
        return_value,
        log_lines: lines,
    }
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
pub fn classify(return_value: Option<&Value>, batch: &[PreparedRecord]) -> BatchResponse {
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
    fn return_value_is_whole_stdout_or_last_json_line() {
        let o = split_stdout(b"{\n  \"batchItemFailures\": []\n}\n");
        assert_eq!(o.return_value, Some(json!({"batchItemFailures": []})));
        assert!(o.log_lines.is_empty());

        let o = split_stdout(b"processing 3 records\nall good\n{\"ok\":true}\n\n");
        assert_eq!(o.return_value, Some(json!({"ok": true})));
        assert_eq!(o.log_lines, vec!["processing 3 records", "all good"]);

        let o = split_stdout(b"just logs\nno json here\n");
        assert_eq!(o.return_value, None);
        assert_eq!(o.log_lines, vec!["just logs", "no json here"]);

        let o = split_stdout(b"");
        assert_eq!(o.return_value, None);
        assert!(o.log_lines.is_empty());

        let o = split_stdout(b"null\n");
        assert_eq!(o.return_value, Some(Value::Null));
    }
}
