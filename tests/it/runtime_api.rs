//! The Runtime API server over raw HTTP/1.1: routes, headers and status codes as AWS documents
//! them (2018-06-01), with a real socket and no client library in between.

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kinlocal::esm::invoker::runtime_api::server::{
    PendingInvocation, RuntimeApiServer, RuntimeReply, RuntimeSignal, MAX_PAYLOAD_BYTES,
};
use tokio::sync::oneshot;

/// One request on its own connection: status, lower-cased head, body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write head");
    // A peer may answer (413) and close before reading everything.
    let _ = s.write_all(body);
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head, resp[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

fn error_type(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("JSON error body");
    v["errorType"].as_str().unwrap_or_default().to_string()
}

/// A server with one invocation queued; returns the reply receiver.
async fn with_invocation(
    server: &RuntimeApiServer,
    request_id: &str,
    deadline: SystemTime,
) -> oneshot::Receiver<RuntimeReply> {
    let (tx, rx) = oneshot::channel();
    server
        .submit(PendingInvocation {
            request_id: request_id.into(),
            payload: Arc::new(br#"{"Records":[]}"#.to_vec()),
            deadline,
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            trace_id: "Root=1-5f000000-000000000000000000000001;Parent=0000000000000001;Sampled=0".into(),
            reply: tx,
        })
        .await
        .expect("queued");
    rx
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_delivers_the_event_with_the_documented_headers_and_response_is_accepted() {
    let mut server = RuntimeApiServer::start().await.expect("server");
    let addr = server.host_port();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(1_900_000_000_123);
    let reply = with_invocation(&server, "req-1", deadline).await;
    let a = addr.clone();
    let (status, head, body) =
        blocking(move || http(&a, "GET", "/2018-06-01/runtime/invocation/next", &[], b"")).await;
    assert_eq!(status, 200);
    assert_eq!(body, br#"{"Records":[]}"#);
    assert_eq!(header(&head, "lambda-runtime-aws-request-id"), Some("req-1"));
    assert_eq!(header(&head, "lambda-runtime-deadline-ms"), Some("1900000000123"));
    assert_eq!(
        header(&head, "lambda-runtime-invoked-function-arn"),
        Some("arn:aws:lambda:us-east-1:000000000000:function:f")
    );
    assert!(header(&head, "lambda-runtime-trace-id").is_some_and(|t| t.starts_with("root=1-")));
    assert_eq!(header(&head, "content-type"), Some("application/json"));
    assert_eq!(server.signal().await, Some(RuntimeSignal::Ready));

    // A response for another id is refused; the right one is accepted once.
    let a = addr.clone();
    let (status, _, body) = blocking(move || {
        http(
            &a,
            "POST",
            "/2018-06-01/runtime/invocation/other/response",
            &[],
            b"{}",
        )
    })
    .await;
    assert_eq!((status, error_type(&body).as_str()), (400, "InvalidRequestID"));
    let a = addr.clone();
    let (status, _, body) = blocking(move || {
        http(
            &a,
            "POST",
            "/2018-06-01/runtime/invocation/req-1/response",
            &[],
            br#"{"ok":true}"#,
        )
    })
    .await;
    assert_eq!(status, 202);
    assert_eq!(body, br#"{"status":"OK"}"#);
    assert_eq!(
        reply.await.expect("answered"),
        RuntimeReply::Response(br#"{"ok":true}"#.to_vec())
    );
    let a = addr.clone();
    let (status, _, body) = blocking(move || {
        http(
            &a,
            "POST",
            "/2018-06-01/runtime/invocation/req-1/response",
            &[],
            b"{}",
        )
    })
    .await;
    assert_eq!((status, error_type(&body).as_str()), (400, "InvalidRequestID"));

    // Once running, init/error is a state error.
    let a = addr.clone();
    let (status, _, body) =
        blocking(move || http(&a, "POST", "/2018-06-01/runtime/init/error", &[], b"{}")).await;
    assert_eq!(
        (status, error_type(&body).as_str()),
        (403, "InvalidStateTransition")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_posts_take_the_type_from_the_header_else_the_body() {
    let server = RuntimeApiServer::start().await.expect("server");
    let addr = server.host_port();
    for (id, headers, expected) in [
        (
            "a",
            vec![("Lambda-Runtime-Function-Error-Type", "unhandled")],
            "unhandled",
        ),
        ("b", vec![], "ValueError"),
    ] {
        let reply = with_invocation(&server, id, SystemTime::now() + Duration::from_secs(3)).await;
        let a = addr.clone();
        let (status, _, _) =
            blocking(move || http(&a, "GET", "/2018-06-01/runtime/invocation/next", &[], b"")).await;
        assert_eq!(status, 200);
        let a = addr.clone();
        let path = format!("/2018-06-01/runtime/invocation/{id}/error");
        let (status, _, _) = blocking(move || {
            http(
                &a,
                "POST",
                &path,
                &headers,
                br#"{"errorType":"ValueError","errorMessage":"bad value","stackTrace":[]}"#,
            )
        })
        .await;
        assert_eq!(status, 202);
        match reply.await.expect("answered") {
            RuntimeReply::Error {
                error_type, message, ..
            } => {
                assert_eq!(error_type, expected);
                assert_eq!(message, "bad value");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_responses_are_413_and_fail_the_invocation() {
    let server = RuntimeApiServer::start().await.expect("server");
    let addr = server.host_port();
    let reply = with_invocation(&server, "big", SystemTime::now() + Duration::from_secs(3)).await;
    let a = addr.clone();
    blocking(move || http(&a, "GET", "/2018-06-01/runtime/invocation/next", &[], b"")).await;
    let a = addr.clone();
    let (status, _, body) = blocking(move || {
        http(
            &a,
            "POST",
            "/2018-06-01/runtime/invocation/big/response",
            &[],
            &vec![b'x'; MAX_PAYLOAD_BYTES + 1],
        )
    })
    .await;
    assert_eq!(
        (status, error_type(&body).as_str()),
        (413, "RequestEntityTooLarge")
    );
    match reply.await.expect("answered") {
        RuntimeReply::Error { error_type, .. } => assert_eq!(error_type, "Function.ResponseSizeTooLarge"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_errors_are_signalled_and_unknown_routes_are_json_errors() {
    let mut server = RuntimeApiServer::start().await.expect("server");
    let addr = server.host_port();
    let a = addr.clone();
    let (status, _, body) = blocking(move || {
        http(
            &a,
            "POST",
            "/2018-06-01/runtime/init/error",
            &[("Lambda-Runtime-Function-Error-Type", "Runtime.ImportModuleError")],
            br#"{"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError"}"#,
        )
    })
    .await;
    assert_eq!((status, body.as_slice()), (202, br#"{"status":"OK"}"#.as_slice()));
    assert_eq!(
        server.signal().await,
        Some(RuntimeSignal::InitError {
            error_type: "Runtime.ImportModuleError".into(),
            message: "Unable to import module 'app'".into()
        })
    );
    for (method, path, status, kind) in [
        ("GET", "/2018-06-01/runtime/unknown", 404, "NotFound"),
        ("GET", "/ping2", 404, "NotFound"),
        (
            "POST",
            "/2018-06-01/runtime/invocation/next",
            405,
            "MethodNotAllowed",
        ),
        (
            "GET",
            "/2018-06-01/runtime/invocation/x/response",
            405,
            "MethodNotAllowed",
        ),
        ("POST", "/2018-06-01/runtime/invocation/x/other", 404, "NotFound"),
    ] {
        let a = addr.clone();
        let (got, head, body) = blocking(move || http(&a, method, path, &[], b"")).await;
        assert_eq!(
            (got, error_type(&body).as_str()),
            (status, kind),
            "{method} {path}"
        );
        assert_eq!(header(&head, "content-type"), Some("application/json"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_response_is_read_to_the_end_and_an_error_trailer_fails_it() {
    let server = RuntimeApiServer::start().await.expect("server");
    let addr = server.host_port();
    for (id, trailer) in [("plain", false), ("trailer", true)] {
        let reply = with_invocation(&server, id, SystemTime::now() + Duration::from_secs(3)).await;
        let a = addr.clone();
        blocking(move || http(&a, "GET", "/2018-06-01/runtime/invocation/next", &[], b"")).await;
        let a = addr.clone();
        let id2 = id.to_string();
        let status = blocking(move || {
            let mut s = std::net::TcpStream::connect(&a).expect("connect");
            let mut req = format!(
                "POST /2018-06-01/runtime/invocation/{id2}/response HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
            );
            if trailer {
                req.push_str("Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n");
            }
            req.push_str("\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n");
            if trailer {
                // base64 of {"errorMessage":"midway"}
                req.push_str("Lambda-Runtime-Function-Error-Type: Runtime.StreamError\r\nLambda-Runtime-Function-Error-Body: eyJlcnJvck1lc3NhZ2UiOiJtaWR3YXkifQ==\r\n");
            }
            req.push_str("\r\n");
            s.write_all(req.as_bytes()).expect("write");
            let mut resp = String::new();
            let _ = s.read_to_string(&mut resp);
            resp.split_whitespace().nth(1).unwrap_or_default().to_string()
        })
        .await;
        assert_eq!(status, "202");
        let got = reply.await.expect("answered");
        if trailer {
            assert_eq!(
                got,
                RuntimeReply::Error {
                    error_type: "Runtime.StreamError".into(),
                    message: "midway".into(),
                    body: br#"{"errorMessage":"midway"}"#.to_vec()
                }
            );
        } else {
            assert_eq!(got, RuntimeReply::Response(b"hello world".to_vec()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_long_polls_until_an_event_arrives() {
    let server = RuntimeApiServer::start().await.expect("server");
    let addr = server.host_port();
    let poll = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let r = http(&addr, "GET", "/2018-06-01/runtime/invocation/next", &[], b"");
        (started.elapsed(), r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "/next answered before any event");
    let _reply = with_invocation(&server, "late", SystemTime::now() + Duration::from_secs(3)).await;
    let (waited, (status, head, _)) = poll.await.expect("joined");
    assert_eq!(status, 200);
    assert!(waited >= Duration::from_millis(300));
    assert_eq!(header(&head, "lambda-runtime-aws-request-id"), Some("late"));
}
