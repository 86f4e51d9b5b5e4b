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
