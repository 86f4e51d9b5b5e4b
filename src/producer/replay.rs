//! `--from FILE|-`: replay newline-delimited JSON, one record per line. Blank lines are
//! skipped. An invalid line is reported with its number; a file is checked completely before
//! anything is sent.
//!
//! A file holds one of two forms, decided by its first record line:
//! - **data lines**: any JSON value, sent as the record's data with its bytes unchanged (the
//!   line without its `\n` or `\r\n` terminator); `--partition-key` chooses the keys;
//! - **record lines**, what `kinlocal tail --json` prints: an object with AWS's member names
//!   for a record, `{"PartitionKey": …, "Data": "<base64>"}` plus optionally `ExplicitHashKey`
//!   (used when sending) and `SequenceNumber`, `ApproximateArrivalTimestamp`, `ShardId`,
//!   `EncryptionType` (what the stream told `tail`; ignored when sending). Each record is
//!   sent with its own partition key, so the records land as they did and keep per-key order.
//!
//! Why the form is per file rather than per line: a data file whose later lines happen to
//! look like records would otherwise be replayed half one way, half the other.

use std::io::BufRead;
use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::partition::ChosenKey;

/// The largest record Kinesis takes (data + partition key).
pub(crate) const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Kinesis' longest partition key, in Unicode characters.
const MAX_KEY_CHARS: usize = super::partition::MAX_KEY_CHARS;

/// A line that cannot be replayed, or a read error.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The line is not one JSON value.
    #[error("line {line}: not valid JSON ({detail})")]
    InvalidJson {
        /// 1-based line number.
        line: u64,
        /// The parser's message.
        detail: String,
    },
    /// The line is larger than a Kinesis record can be.
    #[error("line {line}: the record is {size} bytes; Kinesis takes at most 1 MiB ({MAX_RECORD_BYTES} bytes) per record")]
    TooLarge {
        /// 1-based line number.
        line: u64,
        /// Its size in bytes.
        size: usize,
    },
    /// In a file of record lines, a line that is not one.
    #[error("line {line}: {detail} (line {first} is a record line, {{\"PartitionKey\": …, \"Data\": \"<base64>\"}}, so every line must be)")]
    NotARecord {
        /// 1-based line number.
        line: u64,
        /// The line of the file's first record.
        first: u64,
        /// What is wrong.
        detail: String,
    },
    /// A record line whose fields Kinesis would refuse.
    #[error("line {line}: {detail}")]
    BadRecord {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        detail: String,
    },
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// A record line: AWS's member names for a Kinesis record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct RecordLine {
    /// The shard it was read from (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<String>,
    /// Its sequence number there (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    /// When it arrived there, epoch seconds with millisecond precision (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_arrival_timestamp: Option<f64>,
    /// How it was encrypted there (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
    /// The partition key it is sent with.
    pub partition_key: String,
    /// The hash key that picks its shard instead of the partition key's MD5 (decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit_hash_key: Option<String>,
    /// The data, base64-encoded (standard alphabet, padded).
    pub data: String,
}

impl RecordLine {
    /// The line `tail --json` prints for a record read from `shard_id`.
    pub(crate) fn read(
        shard_id: &str,
        sequence_number: &str,
        arrival_ms: i64,
        partition_key: &str,
        data: &[u8],
    ) -> Self {
        Self {
            shard_id: Some(shard_id.to_string()),
            sequence_number: Some(sequence_number.to_string()),
            // Milliseconds as AWS's JSON carries them: seconds with a fraction.
            #[allow(clippy::cast_precision_loss)]
            approximate_arrival_timestamp: Some(arrival_ms as f64 / 1000.0),
            encryption_type: None,
            partition_key: partition_key.to_string(),
            explicit_hash_key: None,
            data: base64::engine::general_purpose::STANDARD.encode(data),
        }
    }
}

/// One record to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplayRecord {
    /// Its data.
    pub data: Vec<u8>,
    /// From a record line: its own key; from a data line: `None` (`--partition-key` decides).
    pub key: Option<ChosenKey>,
}

/// The form of a file, once its first record line is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Data,
    /// Record lines; the line number of the first.
    Records(u64),
}

/// Reads records from newline-delimited JSON.
pub(crate) struct Replay<R> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
    form: Option<Form>,
}

impl<R: BufRead> Replay<R> {
    /// Replays from `reader`.
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            buf: Vec::with_capacity(1024),
            form: None,
        }
    }

    /// The line number of the last record returned.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The next record, `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> Result<Option<ReplayRecord>, ReplayError> {
        loop {
            self.buf.clear();
            if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut data = &self.buf[..];
            if let Some(d) = data.strip_suffix(b"\n") {
                data = d;
            }
            if let Some(d) = data.strip_suffix(b"\r") {
                data = d;
            }
            if data.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = self.line;
            // A record line carries base64 (4/3 of the data) and a few members.
            if data.len() >= MAX_RECORD_BYTES * 2 {
                return Err(ReplayError::TooLarge {
                    line,
                    size: data.len(),
                });
            }
            let form = match self.form {
                Some(f) => f,
                None => {
                    let f = if serde_json::from_slice::<RecordLine>(data).is_ok() {
                        Form::Records(line)
                    } else {
                        Form::Data
                    };
                    self.form = Some(f);
                    f
                }
            };
            return match form {
                Form::Data => {
                    check_data_line(data, line)?;
                    Ok(Some(ReplayRecord {
                        data: data.to_vec(),
                        key: None,
                    }))
                }
                Form::Records(first) => record(data, line, first).map(Some),
            };
        }
    }
}

fn check_data_line(data: &[u8], line: u64) -> Result<(), ReplayError> {
    // One byte of partition key at least: anything this big can never be sent.
    if data.len() >= MAX_RECORD_BYTES {
        return Err(ReplayError::TooLarge {
            line,
            size: data.len(),
        });
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(data).map_err(|e| ReplayError::InvalidJson {
        line,
        // The parser only saw this line: its "at line 1" would contradict our line number.
        detail: format!("{} at column {}", json_problem(&e), e.column()),
    })?;
    Ok(())
}

fn record(text: &[u8], line: u64, first: u64) -> Result<ReplayRecord, ReplayError> {
    let r: RecordLine = serde_json::from_slice(text).map_err(|e| ReplayError::NotARecord {
        line,
        first,
        detail: if e.is_syntax() || e.is_eof() {
            format!("not valid JSON ({} at column {})", json_problem(&e), e.column())
        } else {
            json_problem(&e)
        },
    })?;
    let bad = |detail: String| ReplayError::BadRecord { line, detail };
    let data = base64::engine::general_purpose::STANDARD
        .decode(&r.data)
        .map_err(|e| bad(format!("Data is not base64 ({e})")))?;
    let chars = r.partition_key.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS {
        return Err(bad(format!(
            "PartitionKey must be 1 to {MAX_KEY_CHARS} characters, this one has {chars}"
        )));
    }
    if let Some(h) = &r.explicit_hash_key {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_digit()) || h.parse::<u128>().is_err() {
            return Err(bad(format!(
                "ExplicitHashKey '{h}' is not a decimal number from 0 to 2^128 - 1"
            )));
        }
    }
    let size = data.len() + r.partition_key.len();
    if size > MAX_RECORD_BYTES {
        return Err(ReplayError::TooLarge { line, size });
    }
    Ok(ReplayRecord {
        data,
        key: Some(ChosenKey {
            partition_key: r.partition_key,
            explicit_hash_key: r.explicit_hash_key,
        }),
    })
}

/// serde_json's message without its " at line L column C" suffix.
fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Reads a whole file once and checks every line: the number of records, or the first error.
pub(crate) fn validate_file(path: &Path) -> Result<u64, ReplayError> {
    let file = std::fs::File::open(path)?;
    let mut replay = Replay::new(std::io::BufReader::with_capacity(1 << 16, file));
    let mut n = 0;
    while replay.next_record()?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Result<Vec<Vec<u8>>, ReplayError> {
        Ok(records(input)?.into_iter().map(|r| r.data).collect())
    }

    fn records(input: &[u8]) -> Result<Vec<ReplayRecord>, ReplayError> {
        let mut r = Replay::new(input);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    #[test]
    fn lines_are_sent_unchanged_and_blank_lines_skipped() {
        let input = b"{\"a\": 1,  \"b\":[1, 2]}\n\n  \r\n\"just a string\"\r\n{\"last\":true}";
        let recs = all(input).expect("valid");
        assert_eq!(
            recs,
            vec![
                b"{\"a\": 1,  \"b\":[1, 2]}".to_vec(),
                b"\"just a string\"".to_vec(),
                b"{\"last\":true}".to_vec()
            ]
        );
    }

    #[test]
    fn invalid_line_is_reported_with_its_number() {
        let err = all(b"{\"a\":1}\n\n{\"a\":\n").expect_err("invalid");
        assert!(matches!(err, ReplayError::InvalidJson { line: 3, .. }), "{err}");
        assert!(err.to_string().starts_with("line 3: not valid JSON"));
        let err = all(b"{} {}\n").expect_err("two values");
        assert!(matches!(err, ReplayError::InvalidJson { line: 1, .. }));
    }

    #[test]
    fn oversized_line_is_rejected() {
        let mut big = b"\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES));
        big.extend(b"\"\n");
        let err = all(&big).expect_err("too big");
        assert!(matches!(err, ReplayError::TooLarge { line: 1, .. }));
        assert!(err.to_string().contains("1 MiB"));
    }

    #[test]
    fn record_lines_carry_their_keys_and_base64_data() {
        let line = RecordLine::read(
            "shardId-000000000001",
            "49590",
            1_700_000_000_123,
            "user-7",
            b"\x00{\"a\":1}",
        );
        let text = serde_json::to_string(&line).expect("json");
        assert_eq!(
            text,
            r#"{"ShardId":"shardId-000000000001","SequenceNumber":"49590","ApproximateArrivalTimestamp":1700000000.123,"PartitionKey":"user-7","Data":"AHsiYSI6MX0="}"#
        );
        let input =
            format!("{text}\n\n{{\"PartitionKey\":\"k\",\"Data\":\"aGk=\",\"ExplicitHashKey\":\"42\"}}\n");
        let recs = records(input.as_bytes()).expect("valid");
        assert_eq!(recs[0].data, b"\x00{\"a\":1}".to_vec());
        assert_eq!(
            recs[0].key,
            Some(ChosenKey {
                partition_key: "user-7".into(),
                explicit_hash_key: None
            })
        );
        assert_eq!(recs[1].data, b"hi".to_vec());
        assert_eq!(
            recs[1].key.as_ref().and_then(|k| k.explicit_hash_key.as_deref()),
            Some("42")
        );
    }

    #[test]
    fn the_first_line_decides_the_form_of_the_file() {
        // A data file: a later line that looks like a record is data like the others.
        let recs = records(b"{\"a\":1}\n{\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}\n").expect("data");
        assert!(recs.iter().all(|r| r.key.is_none()));
        assert_eq!(recs[1].data, br#"{"PartitionKey":"k","Data":"aGk="}"#.to_vec());
        // An object with other members is data.
        let recs = records(br#"{"PartitionKey":"k","Data":"aGk=","user":1}"#).expect("data");
        assert!(recs[0].key.is_none());
        // A record file: a data line in it is an error naming both lines.
        let err = records(b"{\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}\n{\"a\":1}\n").expect_err("mixed");
        assert!(
            matches!(
                err,
                ReplayError::NotARecord {
                    line: 2,
                    first: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("line 2: unknown field `a`"), "{err}");
    }

    #[test]
    fn bad_record_fields_are_named() {
        let first = "{\"PartitionKey\":\"k\",\"Data\":\"aGk=\"}\n";
        for (line, want) in [
            (
                r#"{"PartitionKey":"k","Data":"%%%"}"#,
                "line 2: Data is not base64",
            ),
            (
                r#"{"PartitionKey":"","Data":"aGk="}"#,
                "line 2: PartitionKey must be 1 to 256 characters, this one has 0",
            ),
            (
                r#"{"PartitionKey":"k","Data":"aGk=","ExplicitHashKey":"-1"}"#,
                "line 2: ExplicitHashKey '-1' is not",
            ),
            (r#"{"PartitionKey":"k"}"#, "line 2: missing field `Data`"),
        ] {
            let err = records(format!("{first}{line}\n").as_bytes()).expect_err(line);
            assert!(err.to_string().starts_with(want), "{err}");
        }
    }
}
