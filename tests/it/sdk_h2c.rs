//! An HTTP client for the Rust SDK that speaks cleartext HTTP/2 with prior knowledge.
//!
//! The SDK's own client (aws-smithy-http-client) reaches HTTP/2 only through TLS ALPN, and the
//! setting that would force it on a plain `http://` endpoint is private to that crate: against
//! the engine it always speaks HTTP/1.1. This client lets a test drive the real SDK — its
//! serializers and its event-stream reader — over HTTP/2, and records the protocol version of
//! every answer so the test can prove which one was spoken.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;

/// One HTTP/2 connection per call, opened with the HTTP/2 preface (no upgrade, no TLS).
#[derive(Debug, Clone, Default)]
pub struct H2cConnector {
    /// The version of every response received.
    pub versions: Arc<Mutex<Vec<hyper::Version>>>,
}

impl H2cConnector {
    /// The SDK client built on this connector.
    pub fn http_client(&self) -> SharedHttpClient {
        let connector = SharedHttpConnector::new(self.clone());
        http_client_fn(move |_, _| connector.clone())
    }
}

fn connector_error(e: impl std::error::Error + Send + Sync + 'static) -> ConnectorError {
    ConnectorError::other(Box::new(e), None)
}

impl HttpConnector for H2cConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let versions = self.versions.clone();
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(connector_error)?;
            let authority = request
                .uri()
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let tcp = tokio::net::TcpStream::connect(&authority)
                .await
                .map_err(|e| ConnectorError::io(Box::new(e)))?;
            let (mut sender, conn) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(tcp),
            )
            .await
            .map_err(connector_error)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            let response = sender.send_request(request).await.map_err(connector_error)?;
            versions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(response.version());
            let (parts, body) = response.into_parts();
            let response = hyper::Response::from_parts(parts, SdkBody::from_body_1_x(body));
            HttpResponse::try_from(response).map_err(connector_error)
        })
    }
}
