//! The HTTP front of the engine: one POST per API call, routed by `X-Amz-Target`.
//!
//! Checks what AWS checks before an operation runs, in AWS's order (for Kinesis: a body, a
//! content type, a decodable body, a known operation, members of the right types, then a
//! SigV4 signature in the header or the query string) and turns every outcome, error or not,
//! into the response AWS would give: status, `x-amzn-RequestId`, content type, body.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::channel::Channel;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request as HttpRequest, Response, StatusCode};

use super::codec::{Format, Request};
use super::error::ApiError;
use super::kinesis::call::Call;
use super::kinesis::shapes;
use super::sigv4;
use super::Engine;

/// A response body: a whole reply, or an event stream fed as events happen (SubscribeToShard).
pub(crate) type Body = Either<Full<Bytes>, Channel<Bytes>>;

/// Largest body accepted; past it the answer is 413, as kinesalite and AWS do.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// kinlocal's long poll, a request header no AWS SDK sends: a GetRecords whose iterator is at
/// the tip of an open shard is held open for up to this many milliseconds (at most
/// [`MAX_WAIT`]) until a record arrives, then answered as usual. `consume` sends it to local
/// endpoints only; without it GetRecords answers at once, as on AWS. The answer to a read
/// the engine was ready to hold carries the same header (the wait it allowed), so a reader
/// knows whether its endpoint long-polls.
pub const WAIT_HEADER: &str = "x-kinlocal-wait-ms";

/// The longest a GetRecords is held open.
pub(crate) const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The service an `X-Amz-Target` prefix names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// `Kinesis_20131202.*`
    Kinesis,
    /// `DynamoDB_20120810.*`
    DynamoDb,
}

impl Service {
    fn error_type(self, code: &str) -> String {
        match self {
            Service::Kinesis => code.to_string(),
            Service::DynamoDb => {
                // DynamoDB qualifies its error types with a namespace; SDKs strip it.
                if code.starts_with("com.amazon") {
                    code.to_string()
                } else if matches!(
                    code,
                    "ValidationException"
                        | "SerializationException"
                        | "UnknownOperationException"
                        | "MissingAuthenticationTokenException"
                        | "IncompleteSignatureException"
                ) {
                    format!("com.amazon.coral.validate#{code}")
                } else {
                    format!("com.amazonaws.dynamodb.v20120810#{code}")
                }
            }
        }
    }
}

/// Answers one HTTP request: a CORS preflight, or an API call; every answer carries AWS's
/// `x-amz-id-2` and, for a request from a browser page (`Origin`), the CORS headers.
pub(crate) async fn handle(
    engine: Arc<Engine>,
    req: HttpRequest<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let origin = req.headers().contains_key("origin");
    let mut resp = if req.method() == Method::OPTIONS && origin {
        preflight(req.headers())
    } else {
        answer(engine, req).await?
    };
    let headers = resp.headers_mut();
    headers.insert("x-amz-id-2", id2());
    if origin {
        headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    Ok(resp)
}

/// What a browser page may read from an answer (AWS's list).
const EXPOSED_HEADERS: &str =
    "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date";

/// AWS's answer to a CORS preflight: any origin, the asked-for method and headers, two days.
fn preflight(headers: &HeaderMap) -> Response<Body> {
    let mut resp = Response::new(Either::Left(Full::new(Bytes::new())));
    let h = resp.headers_mut();
    h.insert("x-amzn-requestid", request_id_value());
    h.insert("access-control-max-age", HeaderValue::from_static("172800"));
    for (asked, allowed) in [
        ("access-control-request-headers", "access-control-allow-headers"),
        ("access-control-request-method", "access-control-allow-methods"),
    ] {
        if let Some(v) = headers.get(asked) {
            h.insert(allowed, v.clone());
        }
    }
    resp
}

fn request_id_value() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap_or(HeaderValue::from_static("0"))
}

/// An `x-amz-id-2` value: 64 random bytes in base64, the shape AWS sends.
fn id2() -> HeaderValue {
    use base64::Engine as _;
    let bytes: [u8; 48] = rand::random();
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("0"))
}

/// AWS's answer to anything but a POST: 403 with an XML `AccessDeniedException`.
fn access_denied(request_id: &str) -> Response<Body> {
    xml_error(
        request_id,
        "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n",
        StatusCode::FORBIDDEN,
    )
}

/// Answers one API call.
async fn answer(engine: Arc<Engine>, req: HttpRequest<Incoming>) -> Result<Response<Body>, Infallible> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let headers = req.headers().clone();
    let query = req.uri().query().map(str::to_string);
    let format = Format::from_content_type(header(&headers, "content-type"));
    let target = header(&headers, "x-amz-target").unwrap_or("").to_string();
    let service = if target.starts_with("DynamoDB_20120810.") {
        Service::DynamoDb
    } else {
        Service::Kinesis
    };

    if req.method() != Method::POST {
        return Ok(match service {
            Service::Kinesis => access_denied(&request_id),
            Service::DynamoDb => error_response(
                service,
                format,
                &request_id,
                &ApiError::new("UnknownOperationException", "Only POST / is served"),
            ),
        });
    }
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let too_large = e.downcast_ref::<http_body_util::LengthLimitError>().is_some();
            let err = if too_large {
                ApiError::serialization(format!("Request body over {MAX_BODY_BYTES} bytes")).with_status(413)
            } else {
                ApiError::serialization(format!("Could not read the request body: {e}"))
            };
            return Ok(error_response(service, format, &request_id, &err));
        }
    };
    if service == Service::Kinesis {
        let call = KinesisCall {
            headers: &headers,
            query: query.as_deref(),
            target: &target,
            body,
            request_id: &request_id,
        };
        return Ok(call.answer(engine).await);
    }

    if let Err(err) = sigv4::check(&headers, query.as_deref()) {
        return Ok(error_response(service, format, &request_id, &err));
    }
    let request = Request { format, body: &body };
    let outcome = guarded(service, || match target.split_once('.') {
        Some(("DynamoDB_20120810", op)) => engine.dynamodb.handle(op, &request),
        _ => Err(ApiError::new("UnknownOperationException", "")),
    });
    Ok(reply_or_error(service, format, &request_id, outcome))
}

fn reply_or_error(
    service: Service,
    format: Format,
    request_id: &str,
    outcome: Result<super::codec::Reply, ApiError>,
) -> Response<Body> {
    match outcome {
        Ok(reply) => {
            let mut resp = Response::new(Either::Left(Full::new(Bytes::from(reply.0))));
            set_common_headers(resp.headers_mut(), format, request_id);
            resp
        }
        Err(err) => error_response(service, format, request_id, &err),
    }
}

/// The media types Kinesis reads.
const AMZ_JSON: &str = "application/x-amz-json-1.1";
const AMZ_CBOR: &str = "application/x-amz-cbor-1.1";
/// A media type AWS still recognises for Kinesis, only to answer in its deprecated envelope.
const PLAIN_JSON: &str = "application/json";

/// One POST to Kinesis, checked in AWS's order: body present, content type, body decoded,
/// operation known, member types converted; only then the signature, then the operation.
struct KinesisCall<'a> {
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    target: &'a str,
    body: Bytes,
    request_id: &'a str,
}

impl KinesisCall<'_> {
    async fn answer(self, engine: Arc<Engine>) -> Response<Body> {
        let media = header(self.headers, "content-type")
            .and_then(|ct| ct.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let mut target = self.target.splitn(2, '.');
        let (prefix, op) = (target.next().unwrap_or(""), target.next());
        let known = prefix == "Kinesis_20131202" && op.is_some_and(|op| shapes::input(op).is_some());
        let op = op.unwrap_or("");
        let fail =
            |format: Format, err: &ApiError| error_response(Service::Kinesis, format, self.request_id, err);

        // An empty body is refused before anything else, in CBOR unless JSON 1.1 was named.
        if self.body.is_empty() {
            let format = if media == AMZ_JSON {
                Format::Json11
            } else {
                Format::Cbor
            };
            let code = if known {
                "SerializationException"
            } else {
                "UnknownOperationException"
            };
            return fail(format, &ApiError::new(code, ""));
        }
        let format = match media.as_str() {
            AMZ_JSON => Format::Json11,
            AMZ_CBOR => Format::Cbor,
            PLAIN_JSON => return self.plain_json(),
            _ if prefix.is_empty() || op.is_empty() => return access_denied(self.request_id),
            _ => {
                return xml_error(
                    self.request_id,
                    "<UnknownOperationException/>\n",
                    StatusCode::NOT_FOUND,
                )
            }
        };
        // An operation Kinesis lacks (or another service's) is refused before member types.
        let call = match Call::decode(if known { op } else { "" }, format, self.body) {
            Ok(call) => call,
            Err(err) => return fail(format, &err),
        };
        let call = match sigv4::check(self.headers, self.query) {
            Ok(signed) => call.signed_for(signed.region),
            // A body error AWS finds before the signature wins over the signature's.
            Err(err) => return fail(format, &call.verify().err().unwrap_or(err)),
        };
        if op == "SubscribeToShard" {
            return subscribe(engine, &call, self.request_id);
        }
        let mut held = None;
        if op == "GetRecords" {
            held = long_poll(self.headers).filter(|_| engine.long_polls);
            if let Some(wait) = held {
                // Subscribed under the state lock before looking: a put in between still wakes us.
                if let Some(mut changes) = engine.kinesis.tip_watch(&call) {
                    let _ = tokio::time::timeout(wait, changes.changed()).await;
                }
            }
        }
        let outcome = guarded(Service::Kinesis, || engine.kinesis.call(op, &call));
        let mut resp = reply_or_error(Service::Kinesis, format, self.request_id, outcome);
        if let Some(wait) = held {
            // Tells the reader this endpoint holds reads (see WAIT_HEADER).
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            resp.headers_mut().insert(WAIT_HEADER, HeaderValue::from(ms));
        }
        resp
    }

    /// `application/json`: AWS decodes the body, then answers in the old Coral envelope.
    fn plain_json(&self) -> Response<Body> {
        let decodes = matches!(
            serde_json::from_slice::<serde_json::Value>(&self.body),
            Ok(serde_json::Value::Object(_))
        );
        let (status, kind) = if decodes {
            (StatusCode::NOT_FOUND, "UnknownOperationException")
        } else {
            (StatusCode::BAD_REQUEST, "SerializationException")
        };
        let body = serde_json::json!({
            "Output": { "__type": format!("com.amazon.coral.service#{kind}") },
            "Version": "1.0",
        });
        let mut resp = Response::new(Either::Left(Full::new(Bytes::from(body.to_string()))));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(PLAIN_JSON));
        if let Ok(v) = HeaderValue::from_str(self.request_id) {
            h.insert("x-amzn-requestid", v);
        }
        resp
    }
}

/// An XML error body without a content type, as AWS's front answers a request it cannot route.
fn xml_error(request_id: &str, body: &'static str, status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Either::Left(Full::new(Bytes::from_static(body.as_bytes()))));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

/// Runs one operation so that a bug panicking inside it answers this request with a 500
/// (`InternalFailure` / `InternalServerError`, as AWS does) instead of dropping the connection.
/// The stores' locks recover from poisoning: an operation journals, then applies its change in
/// one step, so a panic cannot leave a change half-recorded.
fn guarded(
    service: Service,
    op: impl FnOnce() -> Result<super::codec::Reply, ApiError>,
) -> Result<super::codec::Reply, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)).unwrap_or_else(|_| {
        let code = match service {
            Service::Kinesis => "InternalFailure",
            Service::DynamoDb => "InternalServerError",
        };
        Err(ApiError::internal(code, "Internal server error"))
    })
}

/// SubscribeToShard: an error answers at once; a subscription answers 200 with an event
/// stream body that a task feeds until the subscription ends.
fn subscribe(engine: Arc<Engine>, request: &Call, request_id: &str) -> Response<Body> {
    let format = request.format;
    let accepted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.kinesis.subscribe_to_shard(request)
    }))
    .unwrap_or_else(|_| Err(ApiError::internal("InternalFailure", "Internal server error")));
    let subscription = match accepted {
        Ok(s) => s,
        Err(err) => return error_response(Service::Kinesis, format, request_id, &err),
    };
    // A small buffer: a subscriber that stops reading holds back the producer of its events
    // rather than the engine's memory.
    let (tx, body) = Channel::new(4);
    tokio::spawn(async move {
        let mut sink = BodySink(tx);
        subscription.run(&engine.kinesis, &mut sink).await;
    });
    let mut resp = Response::new(Either::Right(body));
    set_common_headers(resp.headers_mut(), format, request_id);
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(super::eventstream::CONTENT_TYPE),
    );
    resp
}

/// The response body of a subscription, as the subscription's sink.
struct BodySink(http_body_util::channel::Sender<Bytes>);

impl super::kinesis::subscribe::EventSink for BodySink {
    async fn send(&mut self, frame: Bytes) -> bool {
        self.0.send_data(frame).await.is_ok()
    }
}

/// The long poll asked for with [`WAIT_HEADER`], if any (bounded by [`MAX_WAIT`]).
fn long_poll(headers: &HeaderMap) -> Option<std::time::Duration> {
    let ms: u64 = header(headers, WAIT_HEADER)?.trim().parse().ok()?;
    Some(std::time::Duration::from_millis(ms).min(MAX_WAIT)).filter(|d| !d.is_zero())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn set_common_headers(headers: &mut HeaderMap, format: Format, request_id: &str) {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
}

fn error_response(service: Service, format: Format, request_id: &str, err: &ApiError) -> Response<Body> {
    let mut body = serde_json::json!({ "__type": service.error_type(err.code) });
    // AWS sends no `message` member where it has nothing to say (UnknownOperationException).
    if !err.message.is_empty() {
        body["message"] = serde_json::json!(err.message);
    }
    if let (Some(extra), Some(obj)) = (&err.extra, body.as_object_mut()) {
        obj.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let bytes = super::codec::encode(format, &body).unwrap_or_default();
    let mut resp = Response::new(Either::Left(Full::new(Bytes::from(bytes))));
    *resp.status_mut() = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    set_common_headers(resp.headers_mut(), format, request_id);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_operation_is_answered_with_a_500() {
        for (service, code) in [
            (Service::Kinesis, "InternalFailure"),
            (Service::DynamoDb, "InternalServerError"),
        ] {
            let Err(err) = guarded(service, || panic!("a bug")) else {
                panic!("a panicking operation must answer an error");
            };
            assert_eq!((err.code, err.status), (code, 500));
        }
        let ok = guarded(Service::Kinesis, || {
            Ok(super::super::codec::Reply(b"{}".to_vec()))
        });
        assert!(ok.is_ok());
    }
}
