//! Helpers shared by the integration tests: start an engine, build SDK clients, run the binary.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use kinlocal::engine::{self, Engine, EngineConfig};

/// An embedded engine running on its own runtime thread, stopped on drop.
pub struct TestEngine {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestEngine {
    /// An in-memory engine with default settings.
    pub fn start() -> Self {
        Self::start_with(EngineConfig::default())
    }

    /// An engine with the given configuration.
    pub fn start_with(config: EngineConfig) -> Self {
        let (tx_addr, rx_addr) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let engine: Arc<Engine> = Engine::open(config).expect("engine opens");
                let (listener, addr) = engine::bind("127.0.0.1", 0).await.expect("bind");
                tx_addr.send(addr).expect("send addr");
                engine::run(listener, engine, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
            });
        });
        let addr = rx_addr
            .recv_timeout(Duration::from_secs(10))
            .expect("engine started");
        Self {
            endpoint: format!("http://{addr}"),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// A Kinesis client pointed at this engine with dummy credentials.
    pub async fn kinesis(&self) -> aws_sdk_kinesis::Client {
        kinesis_client(&self.endpoint).await
    }

    /// A DynamoDB client pointed at this engine with dummy credentials.
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        dynamodb_client(&self.endpoint).await
    }
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

/// A Kinesis client for any endpoint.
pub async fn kinesis_client(endpoint: &str) -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::new(&sdk_config(endpoint).await)
}

/// A Kinesis client that reports throttling instead of retrying it (the SDK's standard retry
/// mode would hide `ProvisionedThroughputExceededException` from a test).
pub async fn kinesis_client_no_retry(endpoint: &str) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::config::Builder::from(&sdk_config(endpoint).await)
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

/// A DynamoDB client for any endpoint.
pub async fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(endpoint).await)
}

/// The error code of an SDK error (`ResourceNotFoundException`, ...).
pub fn error_code<E, R>(err: &aws_sdk_kinesis::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .map(str::to_string)
        .unwrap_or_else(|| format!("not a service error: {err:?}"))
}

/// The `kinlocal` binary under test.
pub fn kinlocal() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("kinlocal").expect("binary built")
}

/// Creates a provisioned stream and waits until it is ACTIVE.
pub async fn create_stream(k: &aws_sdk_kinesis::Client, name: &str, shards: i32) {
    k.create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .expect("create stream");
    for _ in 0..200 {
        let d = k
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .expect("describe");
        let status = d.stream_description_summary().map(|s| s.stream_status().clone());
        if status == Some(aws_sdk_kinesis::types::StreamStatus::Active) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("stream {name} never became ACTIVE");
}

/// Reads every record of a shard from TRIM_HORIZON until caught up (or the shard's end).
pub async fn read_shard(
    k: &aws_sdk_kinesis::Client,
    stream: &str,
    shard: &str,
) -> Vec<aws_sdk_kinesis::types::Record> {
    let mut it = k
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("iterator")
        .shard_iterator
        .expect("iterator present");
    let mut out = Vec::new();
    loop {
        let r = k
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .expect("get records");
        let n = r.records().len();
        out.extend(r.records().iter().cloned());
        match r.next_shard_iterator() {
            Some(next) if n > 0 || r.millis_behind_latest() != Some(0) => it = next.to_string(),
            _ => break,
        }
    }
    out
}

/// A raw HTTP POST to the engine (for protocol-level tests): returns status, headers, body.
pub fn raw_post(endpoint: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    raw_post_to(endpoint, "/", headers, body)
}

/// [`raw_post`] to another request target (e.g. a presigned `/?X-Amz-…` query).
pub fn raw_post_to(
    endpoint: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read");
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = resp[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line_end]).unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[line_end + 2..line_end + 2 + size]);
        b = &b[line_end + 2 + size + 2..];
    }
    out
}

/// The headers a signed Kinesis JSON request carries.
pub fn kinesis_headers(op: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "application/x-amz-json-1.1".to_string()),
        ("X-Amz-Target", format!("Kinesis_20131202.{op}")),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc".to_string(),
        ),
        ("X-Amz-Date", "20260101T000000Z".to_string()),
    ]
}

/// A cleartext HTTP/2 connection with prior knowledge (what the Node.js SDK v3 opens to an
/// `http://` endpoint): many requests multiplexed on one TCP connection.
#[derive(Clone)]
pub struct H2Client {
    sender: hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
    authority: String,
}

impl H2Client {
    /// Connects and performs the HTTP/2 handshake (preface, SETTINGS).
    pub async fn connect(endpoint: &str) -> Self {
        let authority = endpoint.trim_start_matches("http://").to_string();
        let tcp = tokio::net::TcpStream::connect(&authority).await.expect("connect");
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tcp),
        )
        .await
        .expect("HTTP/2 handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Self { sender, authority }
    }

    /// Sends one request; returns the response head and its body as a stream of frames.
    pub async fn send(
        &mut self,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> hyper::Response<hyper::body::Incoming> {
        let mut req = hyper::Request::builder()
            .method("POST")
            .uri(format!("http://{}/", self.authority));
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let req = req
            .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(body)))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        self.sender.send_request(req).await.expect("HTTP/2 response")
    }

    /// Sends one request and collects the whole response: status, version, JSON body.
    pub async fn call(
        &mut self,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> (u16, hyper::Version, serde_json::Value) {
        use http_body_util::BodyExt;
        let resp = self.send(headers, body).await;
        let status = resp.status().as_u16();
        let version = resp.version();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, version, json)
    }
}

/// The Python of the peers' venv (`scripts/peers.sh install`; `.ci/run` puts boto3 in it), when
/// it can import boto3.
pub fn peers_python() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("KINLOCAL_PEERS_DIR").map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kinlocal-peers")
        },
        std::path::PathBuf::from,
    );
    let python = dir.join("venv/bin/python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(python)
}
