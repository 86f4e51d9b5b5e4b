//! The sweeps: against a local endpoint that answers at once (kinesalite, kinesis-mock, the
//! containers of `up --docker`), every shard's held read is made again on the same tick, by
//! one thread of its own, until it finds records or its reader's wait runs out.
//!
//! Why: an idle consumer reads each shard every tick to keep a new record's latency low, and
//! what a read costs there is mostly waking up, not the request. Per tick this thread wakes
//! once for the tick and once to read every answer: it sends all the requests (one kept-alive
//! HTTP/1.1 connection per shard, so a slow endpoint answers them side by side), sleeps about
//! as long as the answers took last time, then reads them. Its sockets are plain blocking
//! ones, in no event loop, so an answer arriving wakes nobody. kinlocal's engine, which holds
//! reads open itself, is read by [`super::read_pump`]'s held reads instead.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::StatusCode;
use tokio::time::Instant;

use super::local_read::{page, LocalEndpoint, ReadError, ANSWER_TIMEOUT, CONNECT_TIMEOUT};
use super::local_request::RequestWriter;
use super::poll::{PollPolicy, ReadOutcome};
use super::read_pump::Job;

/// How close to its tick a held read is made with reads that came in first.
const DUE_SOON: Duration = Duration::from_millis(2);
/// How much is read at a time.
const READ_SIZE: usize = 64 * 1024;
/// The longest pause between sending a sweep's requests and reading their answers.
const MAX_SETTLE: Duration = Duration::from_millis(2);

/// A reader's read, held until it finds something or its wait runs out.
struct Held {
    job: Job,
    /// When the reader wants its answer at the latest.
    deadline: Instant,
    /// When it is read next.
    next: Instant,
}

/// Reads every held read of a consumer on the policy's ticks, on a thread of its own.
pub(super) struct Sweeper {
    endpoint: LocalEndpoint,
    writer: RequestWriter,
    policy: PollPolicy,
    /// The connection, kept alive between sweeps.
    conn: Option<Conn>,
    held: Vec<Held>,
    /// How long after sending a sweep its answers have all arrived, about: the sweep sleeps
    /// that long before reading them, so that it wakes once for all of them.
    settle: Duration,
}

impl Sweeper {
    pub(super) fn new(endpoint: LocalEndpoint, policy: PollPolicy) -> Self {
        Self {
            writer: endpoint.request_writer(),
            endpoint,
            policy,
            conn: None,
            held: Vec::new(),
            settle: Duration::from_micros(200),
        }
    }

    /// Takes reads from `jobs` until every sender is gone: a new read is made at once (with
    /// any others that came with it), a held one on the next tick.
    pub(super) fn run(mut self, jobs: Receiver<Job>) {
        loop {
            let tick = self.held.iter().map(|h| h.next).min();
            let job = match tick {
                None => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(t) => jobs.recv_timeout(t.saturating_duration_since(Instant::now())),
            };
            let mut reads: Vec<Held> = match job {
                Ok(job) => std::iter::once(job).chain(jobs.try_iter()).map(held).collect(),
                Err(RecvTimeoutError::Timeout) => Vec::new(),
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // Held reads due now, or about to be, go with them (one sweep rather than two).
            let soon = Instant::now() + DUE_SOON;
            let (due, later) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|h| h.next <= soon);
            self.held = later;
            reads.extend::<Vec<Held>>(due);
            self.sweep(reads);
        }
    }

    /// Reads `reads` together; answers those worth answering, holds the others.
    fn sweep(&mut self, reads: Vec<Held>) {
        let started = Instant::now();
        let mut sent = Vec::with_capacity(reads.len());
        let mut requests = Vec::with_capacity(reads.len());
        for h in reads {
            // A reader that stopped waiting (a stop, a lost lease) drops its read.
            if h.job.reply.is_closed() {
                continue;
            }
            let now = std::time::SystemTime::now();
            requests.push(self.writer.get_records(&h.job.iterator, h.job.limit, None, now));
            sent.push(h);
        }
        if sent.is_empty() {
            return;
        }
        let (answers, reads) = self.exchange(&requests);
        // Settle for longer if the answers took more than one read, a little shorter otherwise.
        self.settle = if reads > 1 {
            started.elapsed().min(MAX_SETTLE)
        } else {
            self.settle * 31 / 32
        };
        let next = self.policy.next_read(started, ReadOutcome::Empty);
        let now = Instant::now();
        for (mut h, answer) in sent.into_iter().zip(answers) {
            let p = match answer.and_then(|(status, body)| page(status, &body)) {
                Ok(p) => p,
                Err(e) => {
                    let _ = h.job.reply.send(Err(e));
                    continue;
                }
            };
            // Records, a backlog, the shard's end, or no time for another read: answer now.
            let answer_now = !p.records.is_empty()
                || p.millis_behind_latest.unwrap_or(0) > 0
                || next >= h.deadline
                || now + self.policy.interval() >= h.deadline;
            match p.next_shard_iterator {
                Some(ref it) if !answer_now => {
                    h.job.iterator = it.clone();
                    h.next = next;
                    self.held.push(h);
                }
                _ => {
                    let _ = h.job.reply.send(Ok(p));
                }
            }
        }
    }

    /// Sends `requests` in one write and reads their answers, in order (and how many reads
    /// that took). The connection is kept between sweeps; when the endpoint closes it
    /// after an answer the requests not yet answered are sent again on a new one, and a kept
    /// connection that fails before any answer (closed while idle) is replaced once.
    fn exchange(&mut self, requests: &[Vec<u8>]) -> (Vec<Answered>, u32) {
        let mut answers: Vec<Answered> = Vec::with_capacity(requests.len());
        let mut reads = 0;
        let mut replaced = false;
        let mut first_send = true;
        while answers.len() < requests.len() {
            let mut conn = match self.conn.take() {
                Some(c) => c,
                None => match Conn::connect(self.endpoint.authority()) {
                    Ok(c) => c,
                    Err(e) => return (fill(answers, requests.len(), &e), reads),
                },
            };
            let before = answers.len();
            let kept = conn.reused;
            let mut failure = conn.send(&requests[before..].concat()).err();
            if failure.is_none() && first_send {
                // Wait for the answers asleep, then read them: one wake-up for all of them.
                first_send = false;
                std::thread::sleep(self.settle);
            }
            let mut open = true;
            while failure.is_none() && open && answers.len() < requests.len() {
                match conn.receive(&mut reads) {
                    Ok((answer, stays_open)) => {
                        answers.push(Ok(answer));
                        conn.reused = true;
                        open = stays_open;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            match failure {
                None if open => self.conn = Some(conn),
                // Closed after an answer: the rest goes on a new connection.
                None if answers.len() > before => {}
                None => {
                    return (
                        fill(answers, requests.len(), "the endpoint closed the connection"),
                        reads,
                    )
                }
                Some(_) if kept && !replaced && answers.len() == before => replaced = true,
                Some(e) => return (fill(answers, requests.len(), &e), reads),
            }
        }
        (answers, reads)
    }
}

/// An answer's status and body, or why there is none.
type Answered = Result<(StatusCode, Bytes), ReadError>;

/// `answers`, with the reads not answered failed for `why`.
fn fill(mut answers: Vec<Answered>, all: usize, why: &str) -> Vec<Answered> {
    while answers.len() < all {
        answers.push(Err(ReadError::Transport(why.to_string())));
    }
    answers
}

fn held(job: Job) -> Held {
    let now = Instant::now();
    Held {
        deadline: now + job.wait.unwrap_or_default(),
        next: now,
        job,
    }
}

/// One kept-alive connection carrying a sweep's requests together (HTTP/1.1 pipelining);
/// plain blocking I/O, so that an answer arriving wakes nobody until the sweep reads it.
struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet taken as an answer.
    buf: BytesMut,
    /// What each read fills.
    scratch: Vec<u8>,
    /// Whether a request has been answered on it.
    reused: bool,
}

impl Conn {
    fn connect(authority: &str) -> Result<Self, String> {
        let failed = |e: &dyn std::fmt::Display| format!("cannot connect to {authority}: {e}");
        let mut last = None;
        for addr in authority.to_socket_addrs().map_err(|e| failed(&e))? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    // Requests are small and answered at once: no Nagle delay.
                    let _ = stream.set_nodelay(true);
                    stream
                        .set_read_timeout(Some(ANSWER_TIMEOUT))
                        .and_then(|()| stream.set_write_timeout(Some(ANSWER_TIMEOUT)))
                        .map_err(|e| failed(&e))?;
                    return Ok(Self {
                        stream,
                        buf: BytesMut::new(),
                        scratch: vec![0; READ_SIZE],
                        reused: false,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => failed(&e),
            None => failed(&"no address"),
        })
    }

    fn send(&mut self, requests: &[u8]) -> Result<(), String> {
        self.buf.clear();
        self.stream
            .write_all(requests)
            .map_err(|e| format!("sending GetRecords: {e}"))
    }

    /// The answer, and whether the connection stays open after it; `reads` counts the reads.
    fn receive(&mut self, reads: &mut u32) -> Result<((StatusCode, Bytes), bool), String> {
        loop {
            while let Some(answer) = take_answer(&mut self.buf)? {
                if !answer.informational {
                    return Ok(((answer.status, answer.body), !answer.close));
                }
            }
            *reads += 1;
            let n = self.stream.read(&mut self.scratch).map_err(|e| match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    format!("no answer within {}", humantime::format_duration(ANSWER_TIMEOUT))
                }
                _ => format!("reading GetRecords' answer: {e}"),
            })?;
            if n == 0 {
                return Err("the endpoint closed the connection".into());
            }
            self.buf.extend_from_slice(&self.scratch[..n]);
        }
    }
}

/// One answer taken off the front of the bytes read.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    /// `1xx`: to be skipped.
    informational: bool,
    /// The endpoint closes the connection after it.
    close: bool,
    body: Bytes,
}

/// The first whole answer in `buf`, removed from it; `None` until all of it has been read.
fn take_answer(buf: &mut BytesMut) -> Result<Option<Answer>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("GetRecords answered with something else than HTTP: {e}")),
    };
    let code = response.code.unwrap_or(0);
    let status = StatusCode::from_u16(code).map_err(|e| format!("HTTP status {code}: {e}"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = response.version == Some(0);
    for h in response.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("a Content-Length that is not a number: {value:?}"))?,
            );
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().ends_with("chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                close = true;
            } else if value.contains("keep-alive") {
                close = false;
            }
        }
    }
    let informational = status.is_informational();
    let (used, body) = if informational || status == StatusCode::NO_CONTENT {
        (head, Bytes::new())
    } else if chunked {
        match dechunk(&buf[head..])? {
            Some((used, body)) => (head + used, Bytes::from(body)),
            None => return Ok(None),
        }
    } else if let Some(len) = length {
        if buf.len() < head + len {
            return Ok(None);
        }
        (head + len, Bytes::copy_from_slice(&buf[head..head + len]))
    } else {
        return Err("GetRecords answered without a Content-Length".into());
    };
    let _ = buf.split_to(used);
    Ok(Some(Answer {
        status,
        informational,
        close,
        body,
    }))
}

/// A chunked body at the start of `bytes`: how many bytes it takes and its content, or `None`
/// until all of it has been read (nothing is copied until then: a large answer is looked at
/// again after every read).
fn dechunk(bytes: &[u8]) -> Result<Option<(usize, Vec<u8>)>, String> {
    let mut pos = 0;
    let mut chunks = Vec::new();
    let body = |chunks: Vec<std::ops::Range<usize>>| {
        let mut body = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
        for c in chunks {
            body.extend_from_slice(&bytes[c]);
        }
        body
    };
    loop {
        let (used, size) = match httparse::parse_chunk_size(&bytes[pos..]) {
            Ok(httparse::Status::Complete(c)) => c,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err("a chunked answer with a bad chunk size".into()),
        };
        pos += used;
        if size == 0 {
            // Trailers (ignored), then an empty line.
            let rest = &bytes[pos..];
            if rest.starts_with(b"\r\n") {
                return Ok(Some((pos + 2, body(chunks))));
            }
            return Ok(rest
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| (pos + i + 4, body(chunks))));
        }
        let size = usize::try_from(size).map_err(|_| "a chunk too large".to_string())?;
        let end = pos.checked_add(size).ok_or("a chunk too large")?;
        if bytes.len() < end + 2 {
            return Ok(None);
        }
        if &bytes[end..end + 2] != b"\r\n" {
            return Err("a chunked answer with a chunk of the wrong size".into());
        }
        chunks.push(pos..end);
        pos = end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(wire: &[u8]) -> Vec<Answer> {
        let mut buf = BytesMut::from(wire);
        let mut out = Vec::new();
        while let Some(a) = take_answer(&mut buf).expect("parses") {
            out.push(a);
        }
        assert!(buf.is_empty(), "left over: {:?}", String::from_utf8_lossy(&buf));
        out
    }

    #[test]
    fn pipelined_answers_are_taken_in_order_whatever_their_framing() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}\
HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nx-trailer: 1\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnull";
        let a = answers(wire);
        assert_eq!(a.len(), 4);
        assert!(a[0].informational);
        assert_eq!(
            (a[1].status, &a[1].body[..], a[1].close),
            (StatusCode::OK, &b"{}"[..], false)
        );
        assert_eq!(
            (a[2].status, &a[2].body[..]),
            (StatusCode::BAD_REQUEST, &b"{\"a\":1}"[..])
        );
        assert_eq!((&a[3].body[..], a[3].close), (&b"null"[..], true));
        // HTTP/1.0 closes unless it says otherwise.
        let old = answers(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(old[0].close);
    }

    #[test]
    fn an_answer_is_taken_only_once_all_of_it_has_arrived() {
        let wire: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz";
        let mut buf = BytesMut::new();
        let mut bodies = Vec::new();
        for byte in wire {
            buf.extend_from_slice(&[*byte]);
            if let Some(a) = take_answer(&mut buf).expect("parses") {
                bodies.push(a.body);
            }
        }
        assert_eq!(
            bodies,
            vec![Bytes::from_static(b"ab"), Bytes::from_static(b"xyz")]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn answers_that_cannot_be_framed_are_errors() {
        for wire in [
            &b"HTTP/1.1 200 OK\r\n\r\n{}"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n",
        ] {
            let mut buf = BytesMut::from(wire);
            assert!(
                take_answer(&mut buf).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }
}
