//! `--from FILE|-`: replay newline-delimited JSON, one record per line, bytes sent unchanged
//! (the line without its `\n` or `\r\n` terminator). Blank lines are skipped. An invalid line
//! is reported with its number; a file is checked completely before anything is sent.

use std::io::BufRead;
use std::path::Path;

/// The largest record Kinesis takes (data + partition key).
pub(crate) const MAX_RECORD_BYTES: usize = 1024 * 1024;

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
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads records from newline-delimited JSON.
pub(crate) struct Replay<R> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> Replay<R> {
    /// Replays from `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            buf: Vec::with_capacity(1024),
        }
    }

    /// The line number of the last record returned.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The next record, `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> Result<Option<Vec<u8>>, ReplayError> {
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
            check_line(data, self.line)?;
            return Ok(Some(data.to_vec()));
        }
    }
}

fn check_line(data: &[u8], line: u64) -> Result<(), ReplayError> {
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
}
