//! Readiness: an endpoint is up when it answers real API calls (ListStreams, ListTables), not
//! when its port merely accepts connections — a container's published port accepts long before
//! the JVM inside answers.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;

use crate::endpoint::{self, Clients, Endpoint, Source};

/// The two services behind an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Kinesis (ListStreams).
    Kinesis,
    /// DynamoDB (ListTables).
    Dynamodb,
}

impl Service {
    /// The call used to probe it.
    pub fn call(self) -> &'static str {
        match self {
            Service::Kinesis => "ListStreams",
            Service::Dynamodb => "ListTables",
        }
    }
}

/// Which service did not answer, and the last thing it said.
#[derive(Debug, Clone)]
pub struct NotAnswering {
    /// The service.
    pub service: Service,
    /// The last error.
    pub last_error: String,
}

/// How long one probe may take: a port that accepts but never answers must not hang us.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// SDK clients for a local endpoint, without SDK retries so a probe fails (and is retried by
/// our loop) quickly.
pub(crate) async fn local_clients(kinesis_url: &str, dynamodb_url: &str, region: &str) -> Clients {
    let endpoint = Endpoint {
        kinesis_url: Some(kinesis_url.to_string()),
        dynamodb_url: Some(dynamodb_url.to_string()),
        region: region.to_string(),
        source: Source::State,
    };
    without_retries(&endpoint::clients(&endpoint, None).await)
}

/// The same clients without SDK retries: a probe must say "refused" at once, not after the
/// SDK's back-off.
pub(crate) fn without_retries(c: &Clients) -> Clients {
    Clients {
        kinesis: aws_sdk_kinesis::Client::from_conf(
            c.kinesis
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        ),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            c.dynamodb
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        ),
        endpoint: c.endpoint.clone(),
    }
}

/// One round of probes: Kinesis, then DynamoDB.
pub(crate) async fn probe(clients: &Clients) -> Result<(), NotAnswering> {
    let k = tokio::time::timeout(PROBE_TIMEOUT, clients.kinesis.list_streams().limit(1).send()).await;
    match k {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Err(NotAnswering {
                service: Service::Kinesis,
                last_error: crate::aws_error::describe("Kinesis", "ListStreams", &e).text,
            })
        }
        Err(_) => {
            return Err(NotAnswering {
                service: Service::Kinesis,
                last_error: format!(
                    "Kinesis ListStreams: no answer within {}",
                    humantime::format_duration(PROBE_TIMEOUT)
                ),
            })
        }
    }
    let d = tokio::time::timeout(PROBE_TIMEOUT, clients.dynamodb.list_tables().limit(1).send()).await;
    match d {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(NotAnswering {
            service: Service::Dynamodb,
            last_error: crate::aws_error::describe("DynamoDB", "ListTables", &e).text,
        }),
        Err(_) => Err(NotAnswering {
            service: Service::Dynamodb,
            last_error: format!(
                "DynamoDB ListTables: no answer within {}",
                humantime::format_duration(PROBE_TIMEOUT)
            ),
        }),
    }
}

/// Probes until both services answer or `timeout` passes.
pub async fn wait(clients: &Clients, timeout: Duration) -> Result<(), NotAnswering> {
    let deadline = Instant::now() + timeout;
    loop {
        match probe(clients).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
