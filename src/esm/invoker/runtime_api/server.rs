//! The Lambda Runtime API 2018-06-01 served to one execution environment: the route table,
//! the state of the one invocation in flight, and the answers AWS documents (202 on accepted
//! posts, 400 `InvalidRequestID`, 403 `InvalidStateTransition`, 413 over 6 MB, JSON errors).
//!
//! One server per bootstrap process, on its own 127.0.0.1 port: a killed process's connections
//! (a `/next` long poll still parked in hyper) die with its server instead of stealing the
//! next event from the fresh process.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// Largest `/response` or `/error` body accepted (RIE's `MaxPayloadSize`, 6 MB + 100 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024 + 100;

/// The API version prefix every route starts with.
const PREFIX: &str = "/2018-06-01/runtime";

/// One event waiting for the runtime's `GET /next`.
#[derive(Debug)]
pub struct PendingInvocation {
    /// `Lambda-Runtime-Aws-Request-Id`; the path id of the answer.
    pub request_id: String,
    /// The event JSON.
    pub payload: Arc<Vec<u8>>,
    /// When the function times out (`Lambda-Runtime-Deadline-Ms`, epoch milliseconds).
    pub deadline: SystemTime,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// Where the answer goes.
    pub reply: oneshot::Sender<RuntimeReply>,
}

/// What the runtime posted for an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeReply {
    /// `POST …/response`: the function's return value, as posted.
    Response(Vec<u8>),
    /// `POST …/error` (or a streamed response ending in an error trailer).
    Error {
        /// `Lambda-Runtime-Function-Error-Type`, else the body's `errorType`.
        error_type: String,
        /// The body's `errorMessage`.
        message: String,
        /// The posted body.
        body: Vec<u8>,
    },
}

/// Something the runtime did outside an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeSignal {
    /// It asked for its first event: initialization is over.
    Ready,
    /// `POST /runtime/init/error`.
    InitError {
        /// The type header, else the body's `errorType`.
        error_type: String,
        /// The body's `errorMessage`.
        message: String,
    },
}

/// The invocation the runtime has received and not answered yet.
struct Current {
    request_id: String,
    reply: oneshot::Sender<RuntimeReply>,
}

/// What the routes share.
struct State {
    /// Events for `/next`; a tokio mutex because the long poll holds it across an await.
    queue: tokio::sync::Mutex<mpsc::Receiver<PendingInvocation>>,
    /// The invocation in flight.
    current: Mutex<Option<Current>>,
    /// Whether `/next` was called once (after that, `/init/error` is a state error).
    ready: Mutex<bool>,
    /// Ready / init error notifications.
    signals: mpsc::UnboundedSender<RuntimeSignal>,
}

/// A running Runtime API server; stops (with every connection) when dropped.
pub struct RuntimeApiServer {
    addr: SocketAddr,
    events: mpsc::Sender<PendingInvocation>,
    signals: mpsc::UnboundedReceiver<RuntimeSignal>,
    tasks: JoinSet<()>,
}

impl RuntimeApiServer {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (events, queue) = mpsc::channel(1);
        let (signal_tx, signals) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue: tokio::sync::Mutex::new(queue),
            current: Mutex::new(None),
            ready: Mutex::new(false),
            signals: signal_tx,
        });
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, state));
        Ok(Self {
            addr,
            events,
            signals,
            tasks,
        })
    }

    /// `127.0.0.1:PORT`: the value of `AWS_LAMBDA_RUNTIME_API` (no scheme).
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event for the runtime's next `/next`.
    pub async fn submit(&self, invocation: PendingInvocation) -> Result<(), ServerGone> {
        self.events.send(invocation).await.map_err(|_| ServerGone)
    }

    /// A signal already sent, without waiting.
    pub(crate) fn try_signal(&mut self) -> Option<RuntimeSignal> {
        self.signals.try_recv().ok()
    }

    /// The next ready / init-error signal (`None` once the server is gone).
    pub async fn signal(&mut self) -> Option<RuntimeSignal> {
        self.signals.recv().await
    }
}

impl Drop for RuntimeApiServer {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// The server stopped before the event could be queued.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the Runtime API server stopped")]
pub struct ServerGone;

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    // Owning the connections here means aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Ok((stream, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let service = service_fn(move |req| route(Arc::clone(&state), req));
        let conn = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        connections.spawn(async move {
            let _ = conn.await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(not_found(&path));
    };
    let reply = match (rest, &method) {
        ("/invocation/next", &Method::GET) => next(&state).await,
        ("/init/error", &Method::POST) => init_error(&state, req).await,
        ("/invocation/next" | "/init/error", _) => method_not_allowed(&method, &path),
        _ => match rest.strip_prefix("/invocation/").and_then(|r| r.rsplit_once('/')) {
            Some((id, kind @ ("response" | "error"))) if !id.is_empty() && !id.contains('/') => {
                if method == Method::POST {
                    let id = id.to_string();
                    answer(&state, &id, kind == "error", req).await
                } else {
                    method_not_allowed(&method, &path)
                }
            }
            _ => not_found(&path),
        },
    };
    Ok(reply)
}

/// `GET /invocation/next`: waits for an event, makes it the current invocation.
async fn next(state: &State) -> Reply {
    {
        let mut ready = state
            .ready
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*ready {
            *ready = true;
            let _ = state.signals.send(RuntimeSignal::Ready);
        }
    }
    let pending = {
        let mut queue = state.queue.lock().await;
        queue.recv().await
    };
    let Some(inv) = pending else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the execution environment is shutting down",
        );
    };
    let deadline_ms = inv
        .deadline
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut resp = Response::new(Full::new(Bytes::from(inv.payload.to_vec())));
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    set(headers, "lambda-runtime-aws-request-id", &inv.request_id);
    set(headers, "lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set(headers, "lambda-runtime-invoked-function-arn", &inv.function_arn);
    set(headers, "lambda-runtime-trace-id", &inv.trace_id);
    // A runtime that asked again without answering abandons the previous invocation: dropping
    // its reply sender tells the invoker.
    *state
        .current
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Current {
        request_id: inv.request_id,
        reply: inv.reply,
    });
    resp
}

/// `POST /invocation/{id}/response` and `/error`.
async fn answer(state: &State, id: &str, is_error: bool, req: Request<Incoming>) -> Reply {
    let is_current = |s: &State| {
        s.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .is_some_and(|c| c.request_id == id)
    };
    if !is_current(state) {
        return invalid_request_id(id);
    }
    let header_type = header(req.headers(), "lambda-runtime-function-error-type");
    let (body, trailers) = match read_body(req).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            // The invocation fails the way Lambda reports an oversized result.
            complete(
                state,
                id,
                RuntimeReply::Error {
                    error_type: "Function.ResponseSizeTooLarge".into(),
                    message: format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
                    ),
                    body: Vec::new(),
                },
            );
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
            );
        }
        Err(BodyError::Read(e)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestBody",
                &format!("could not read the body: {e}"),
            )
        }
    };
    let reply = if is_error {
        let (error_type, message) = describe_error(header_type, &body);
        RuntimeReply::Error {
            error_type,
            message,
            body,
        }
    } else if let Some(error_type) = trailers
        .as_ref()
        .and_then(|t| header(t, "lambda-runtime-function-error-type"))
    {
        // A streamed response that failed midway reports its error in trailers.
        let body = trailers
            .as_ref()
            .and_then(|t| header(t, "lambda-runtime-function-error-body"))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default();
        let (_, message) = describe_error(None, &body);
        RuntimeReply::Error {
            error_type,
            message,
            body,
        }
    } else {
        RuntimeReply::Response(body)
    };
    if complete(state, id, reply) {
        accepted()
    } else {
        invalid_request_id(id)
    }
}

/// Hands `reply` to the invoker if `id` is still the current invocation.
fn complete(state: &State, id: &str, reply: RuntimeReply) -> bool {
    let mut current = state
        .current
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match current.take() {
        Some(c) if c.request_id == id => {
            let _ = c.reply.send(reply);
            true
        }
        other => {
            *current = other;
            false
        }
    }
}

/// `POST /init/error`.
async fn init_error(state: &State, req: Request<Incoming>) -> Reply {
    if *state
        .ready
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "init/error is only accepted before the first invocation/next",
        );
    }
    let header_type = header(req.headers(), "lambda-runtime-function-error-type");
    let body = match read_body(req).await {
        Ok((b, _)) => b,
        Err(BodyError::TooLarge) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
            )
        }
        Err(BodyError::Read(e)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestBody",
                &format!("could not read the body: {e}"),
            )
        }
    };
    let (error_type, message) = describe_error(header_type, &body);
    let _ = state
        .signals
        .send(RuntimeSignal::InitError { error_type, message });
    accepted()
}

enum BodyError {
    TooLarge,
    Read(String),
}

/// Reads a body (chunked or not) to the end, with its trailers.
async fn read_body(req: Request<Incoming>) -> Result<(Vec<u8>, Option<HeaderMap>), BodyError> {
    match Limited::new(req.into_body(), MAX_PAYLOAD_BYTES).collect().await {
        Ok(collected) => {
            let trailers = collected.trailers().cloned();
            Ok((collected.to_bytes().to_vec(), trailers))
        }
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// The error type (header first, then the body's `errorType`) and message of an error post.
///
/// Any error post is a function error whatever it carries (spec §1.3): a missing type is
/// reported as `Unhandled`, the type Lambda uses for an error without one.
pub(crate) fn describe_error(header_type: Option<String>, body: &[u8]) -> (String, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let error_type = header_type
        .filter(|t| !t.is_empty())
        .or_else(|| field("errorType"))
        .unwrap_or_else(|| "Unhandled".into());
    let message = field("errorMessage").unwrap_or_else(|| {
        if parsed.is_some() {
            String::new()
        } else {
            String::from_utf8_lossy(body).chars().take(1000).collect()
        }
    });
    (error_type, message)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

fn json(status: StatusCode, body: &serde_json::Value) -> Reply {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn accepted() -> Reply {
    json(StatusCode::ACCEPTED, &serde_json::json!({"status": "OK"}))
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Reply {
    json(
        status,
        &serde_json::json!({"errorType": error_type, "errorMessage": message}),
    )
}

fn invalid_request_id(id: &str) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("Invalid request ID: {id} is not the invocation in progress"),
    )
}

fn not_found(path: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{path} is not a Runtime API 2018-06-01 route"),
    )
}

fn method_not_allowed(method: &Method, path: &str) -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        &format!("{method} is not allowed on {path}"),
    )
}

/// An X-Ray trace header like Lambda's: `Root=1-<epoch hex>-<96-bit id>;Parent=<64-bit>;Sampled=0`.
pub fn trace_id(now: SystemTime) -> String {
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let root = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &root[..24],
        &parent[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_comes_from_the_header_then_the_body() {
        let body = br#"{"errorType":"ValueError","errorMessage":"bad"}"#;
        assert_eq!(
            describe_error(Some("Runtime.Custom".into()), body),
            ("Runtime.Custom".into(), "bad".into())
        );
        assert_eq!(describe_error(None, body), ("ValueError".into(), "bad".into()));
        assert_eq!(
            describe_error(Some(String::new()), b"not json"),
            ("Unhandled".into(), "not json".into())
        );
        assert_eq!(
            describe_error(None, br#"{"errorMessage":"m"}"#),
            ("Unhandled".into(), "m".into())
        );
    }

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let t = trace_id(SystemTime::UNIX_EPOCH + Duration::from_secs(0x5f00_0000));
        let (root, rest) = t.split_once(';').expect("two parts");
        assert!(root.starts_with("Root=1-5f000000-"), "{t}");
        assert_eq!(root.len(), "Root=1-5f000000-".len() + 24);
        assert!(rest.starts_with("Parent=") && rest.ends_with(";Sampled=0"));
        assert_eq!(rest.len(), "Parent=".len() + 16 + ";Sampled=0".len());
    }
}
