//! A function's output read as it comes, in bounded memory: lines cut at a maximum length,
//! and, for the process invoker's stdout, the return value told apart from log lines by the
//! lenient rule of the handler contract (the whole of stdout if it is one JSON document,
//! else the last non-empty line if it is JSON; everything else is logs).
//!
//! Nothing is accumulated beyond what could still be the return value (at most
//! [`MAX_RESPONSE_BYTES`] plus the line being read), so a handler printing hundreds of
//! megabytes costs a few megabytes here; log lines reach the sink while the function runs.

use super::{FunctionLog, Outcome, MAX_RESPONSE_BYTES};

/// Longest log line passed on; the rest of a longer line is cut (CloudWatch Logs' own limit
/// on an event is 256 KB).
pub(crate) const MAX_LOG_LINE: usize = 256 * 1024;

/// Splits a byte stream into lines, keeping at most `cap` bytes of each and counting the rest.
#[derive(Debug)]
pub(crate) struct LineAssembler {
    line: Vec<u8>,
    cut: usize,
    cap: usize,
}

impl LineAssembler {
    /// Lines of at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            line: Vec::new(),
            cut: 0,
            cap,
        }
    }

    /// Feeds a chunk; `emit(line, cut)` gets each complete line (without `\n` or `\r\n`) and
    /// how many bytes were cut from it.
    pub fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(&[u8], usize)) {
        while !chunk.is_empty() {
            let (part, rest, complete) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], &chunk[i + 1..], true),
                None => (chunk, &[][..], false),
            };
            let room = self.cap.saturating_sub(self.line.len());
            let keep = part.len().min(room);
            self.line.extend_from_slice(&part[..keep]);
            self.cut += part.len() - keep;
            if complete {
                self.emit_line(&mut emit);
            }
            chunk = rest;
        }
    }

    fn emit_line(&mut self, emit: &mut impl FnMut(&[u8], usize)) {
        if self.line.last() == Some(&b'\r') && self.cut == 0 {
            self.line.pop();
        }
        emit(&self.line, self.cut);
        self.line.clear();
        self.cut = 0;
    }

    /// The unterminated last line, if any.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8], usize)) {
        if !self.line.is_empty() || self.cut > 0 {
            self.emit_line(&mut emit);
        }
    }
}

/// Sends a line to the log, cut to [`MAX_LOG_LINE`] with a note of how much was left out.
pub(crate) fn log_line(logs: &FunctionLog, line: &[u8], cut: usize) {
    let keep = line.len().min(MAX_LOG_LINE);
    let cut = cut + (line.len() - keep);
    let text = String::from_utf8_lossy(&line[..keep]);
    if cut == 0 {
        logs.line(&text);
    } else {
        logs.line(&format!("{text} [{cut} more bytes cut]"));
    }
}

/// Tells, byte by byte, whether what was seen so far can still be exactly one JSON document
/// (surrounded by whitespace). Conservative: it only says "broken" when that is certain; the
/// final word belongs to the JSON parser.
#[derive(Debug, Default, Clone)]
struct DocScan {
    depth: u32,
    in_string: bool,
    escaped: bool,
    scalar: bool,
    started: bool,
    done: bool,
    broken: bool,
}

impl DocScan {
    fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if self.broken {
                return;
            }
            self.byte(b);
        }
    }

    fn byte(&mut self, b: u8) {
        let ws = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if self.done {
            self.broken = !ws;
            return;
        }
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                self.done = self.depth == 0;
            }
            return;
        }
        if self.scalar {
            if ws {
                self.done = true;
            } else if matches!(b, b'{' | b'[' | b'"' | b'}' | b']') {
                self.broken = true;
            }
            return;
        }
        match b {
            _ if ws => {}
            b'"' => {
                self.started = true;
                self.in_string = true;
            }
            b'{' | b'[' => {
                self.started = true;
                self.depth += 1;
            }
            b'}' | b']' => {
                if self.depth == 0 {
                    self.broken = true;
                } else {
                    self.depth -= 1;
                    self.done = self.depth == 0;
                }
            }
            _ if !self.started => {
                if b"-0123456789tfn".contains(&b) {
                    self.started = true;
                    self.scalar = true;
                } else {
                    self.broken = true;
                }
            }
            _ => {}
        }
    }

    /// A whole value was seen and nothing but whitespace after it.
    fn complete(&self) -> bool {
        !self.broken && (self.done || self.scalar)
    }
}

/// One stdout line kept back because it may be the return value.
#[derive(Debug)]
struct Candidate {
    line: Vec<u8>,
    cut: usize,
    scan: DocScan,
    /// Empty lines seen after it (logs if another line follows).
    blanks_after: usize,
}

/// Where the stdout reader is.
#[derive(Debug)]
enum Mode {
    /// Everything so far may be one JSON document: kept whole (at most the response limit).
    Document { bytes: Vec<u8> },
    /// Not one document: lines, the last non-empty one kept back.
    Lines,
}

/// Reads a process's stdout: log lines go to the sink as they complete; at the end,
/// [`StdoutCollector::finish`] says what the function returned.
#[derive(Debug)]
pub(crate) struct StdoutCollector {
    logs: FunctionLog,
    mode: Mode,
    /// The scan of the whole output (an oversized single document is a function error).
    whole: DocScan,
    oversized: bool,
    lines: LineAssembler,
    candidate: Option<Candidate>,
    /// DocScan of the line being assembled (for an oversized last line).
    line_scan: DocScan,
}

impl StdoutCollector {
    /// A collector logging to `logs`.
    pub fn new(logs: FunctionLog) -> Self {
        Self {
            logs,
            mode: Mode::Document { bytes: Vec::new() },
            whole: DocScan::default(),
            oversized: false,
            lines: LineAssembler::new(MAX_RESPONSE_BYTES + 1),
            candidate: None,
            line_scan: DocScan::default(),
        }
    }

    /// Feeds the next chunk of stdout.
    pub fn push(&mut self, chunk: &[u8]) {
        self.whole.feed(chunk);
        if let Mode::Document { bytes } = &mut self.mode {
            bytes.extend_from_slice(chunk);
            if self.whole.broken || bytes.len() > MAX_RESPONSE_BYTES {
                self.oversized = !self.whole.broken;
                let held = std::mem::take(bytes);
                self.mode = Mode::Lines;
                self.push_lines(&held);
            }
            return;
        }
        self.push_lines(chunk);
    }

    fn push_lines(&mut self, chunk: &[u8]) {
        let mut lines = std::mem::replace(&mut self.lines, LineAssembler::new(0));
        let mut rest = chunk;
        while !rest.is_empty() {
            let end = rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let (piece, tail) = rest.split_at(end);
            self.line_scan.feed(piece);
            lines.push(piece, |line, cut| self.take_line(line, cut));
            rest = tail;
        }
        self.lines = lines;
    }

    fn take_line(&mut self, line: &[u8], cut: usize) {
        let scan = std::mem::take(&mut self.line_scan);
        if cut == 0 && line.iter().all(u8::is_ascii_whitespace) {
            match &mut self.candidate {
                Some(c) => c.blanks_after += 1,
                None => log_line(&self.logs, line, 0),
            }
            return;
        }
        self.flush_candidate();
        self.candidate = Some(Candidate {
            line: line.to_vec(),
            cut,
            scan,
            blanks_after: 0,
        });
    }

    fn flush_candidate(&mut self) {
        if let Some(c) = self.candidate.take() {
            log_line(&self.logs, &c.line, c.cut);
            for _ in 0..c.blanks_after {
                self.logs.line("");
            }
        }
    }

    /// The function's return value once stdout closed: `Returned` with the JSON text (empty
    /// when there is none), or the function error of a return value over the limit.
    pub fn finish(mut self) -> Outcome {
        if let Mode::Document { bytes } = &mut self.mode {
            let text = String::from_utf8_lossy(bytes);
            if text.trim().is_empty() {
                return Outcome::Returned(Vec::new());
            }
            if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
                return Outcome::Returned(text.trim().as_bytes().to_vec());
            }
            let held = std::mem::take(bytes);
            self.mode = Mode::Lines;
            self.push_lines(&held);
        }
        let mut lines = std::mem::replace(&mut self.lines, LineAssembler::new(0));
        lines.finish(|line, cut| self.take_line(line, cut));
        if self.oversized && self.whole.complete() {
            // One JSON document over the limit: its lines were logged while it was unclear.
            self.candidate = None;
            return Outcome::response_too_large();
        }
        let Some(c) = self.candidate.take() else {
            return Outcome::Returned(Vec::new());
        };
        if c.cut > 0 || c.line.len() > MAX_RESPONSE_BYTES {
            if c.scan.complete() {
                return Outcome::response_too_large();
            }
            log_line(&self.logs, &c.line, c.cut);
            return Outcome::Returned(Vec::new());
        }
        let text = String::from_utf8_lossy(&c.line);
        if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
            return Outcome::Returned(text.trim().as_bytes().to_vec());
        }
        log_line(&self.logs, &c.line, 0);
        Outcome::Returned(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::super::LogSink;
    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<String>>);

    impl LogSink for Lines {
        fn log(&self, label: &str, line: &str) {
            if let Ok(mut v) = self.0.lock() {
                v.push(format!("{label}|{line}"));
            }
        }
    }

    fn collect(chunks: &[&[u8]]) -> (Outcome, Vec<String>) {
        let sink = Arc::new(Lines::default());
        let mut c = StdoutCollector::new(FunctionLog::new(sink.clone(), "s", 0));
        for ch in chunks {
            c.push(ch);
        }
        let out = c.finish();
        let lines = sink.0.lock().map(|v| v.clone()).unwrap_or_default();
        (out, lines)
    }

    fn returned(s: &str) -> Outcome {
        Outcome::Returned(s.as_bytes().to_vec())
    }

    #[test]
    fn return_value_is_whole_stdout_or_last_json_line() {
        let (o, l) = collect(&[b"{\n  \"batchItemFailures\": []\n}\n"]);
        assert_eq!(o, returned("{\n  \"batchItemFailures\": []\n}"));
        assert!(l.is_empty());

        let (o, l) = collect(&[b"processing 3 records\nall ", b"good\n{\"ok\":true}\n\n"]);
        assert_eq!(o, returned("{\"ok\":true}"));
        assert_eq!(l, vec!["s|processing 3 records", "s|all good"]);

        let (o, l) = collect(&[b"just logs\n\nno json here\n"]);
        assert_eq!(o, Outcome::Returned(Vec::new()));
        assert_eq!(l, vec!["s|just logs", "s|", "s|no json here"]);

        let (o, l) = collect(&[b""]);
        assert_eq!(o, Outcome::Returned(Vec::new()));
        assert!(l.is_empty());

        let (o, _) = collect(&[b"null\n"]);
        assert_eq!(o, returned("null"));

        // Structured JSON logs, then the return value on the last line.
        let (o, l) = collect(&[b"{\"level\":\"info\"}\n{\"level\":\"warn\"}\n{\"ok\":1}\n"]);
        assert_eq!(o, returned("{\"ok\":1}"));
        assert_eq!(l, vec!["s|{\"level\":\"info\"}", "s|{\"level\":\"warn\"}"]);

        // Blank lines between a JSON-looking line and a later log are logs too.
        let (o, l) = collect(&[b"{\"a\":1}\n\nlast words\n"]);
        assert_eq!(o, Outcome::Returned(Vec::new()));
        assert_eq!(l, vec!["s|{\"a\":1}", "s|", "s|last words"]);
    }

    #[test]
    fn log_lines_are_passed_on_before_the_end() {
        let sink = Arc::new(Lines::default());
        let mut c = StdoutCollector::new(FunctionLog::new(sink.clone(), "s", 2));
        c.push(b"first\nsecond\nthird");
        let seen = sink.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(seen, vec!["s/2|first"]);
    }

    #[test]
    fn a_return_value_over_6_mb_is_a_function_error() {
        let big = format!("{{\"k\":\"{}\"}}", "x".repeat(MAX_RESPONSE_BYTES));
        let (o, _) = collect(&[big.as_bytes()]);
        assert_eq!(o, Outcome::response_too_large());
        let (o, l) = collect(&[b"log line\n", big.as_bytes(), b"\n"]);
        assert_eq!(o, Outcome::response_too_large());
        assert_eq!(l, vec!["s|log line"]);
        // Just under the limit is fine.
        let fits = format!("{{\"k\":\"{}\"}}", "x".repeat(MAX_RESPONSE_BYTES - 10));
        let (o, _) = collect(&[fits.as_bytes()]);
        assert_eq!(o, Outcome::Returned(fits.into_bytes()));
    }

    #[test]
    fn long_log_lines_are_cut() {
        let long = "y".repeat(MAX_LOG_LINE + 10);
        let (o, l) = collect(&[b"start\n", long.as_bytes(), b"\nend\n"]);
        assert_eq!(o, Outcome::Returned(Vec::new()));
        assert_eq!(l.len(), 3);
        assert!(
            l[1].ends_with("[10 more bytes cut]"),
            "{}",
            &l[1][l[1].len() - 40..]
        );
        assert_eq!(l[2], "s|end");
    }

    #[test]
    fn line_assembler_caps_and_strips_crlf() {
        let mut a = LineAssembler::new(4);
        let mut got = Vec::new();
        a.push(b"ab\r\nabcdefg\nx", |l, cut| got.push((l.to_vec(), cut)));
        a.finish(|l, cut| got.push((l.to_vec(), cut)));
        assert_eq!(
            got,
            vec![(b"ab".to_vec(), 0), (b"abcd".to_vec(), 3), (b"x".to_vec(), 0)]
        );
    }
}
