//! One way to turn an AWS SDK error into a line for people: `Service Operation: ErrorCode:
//! message` for an answer from the service, `Service Operation: cannot reach the endpoint
//! (reason)` plus a hint for a transport failure. Never the SDK's `Debug` output.

// The SDK crates re-export the same smithy types: one helper serves Kinesis and DynamoDB.
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};

/// What went wrong, in a form that also tells the exit code apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// `Kinesis ListShards: ResourceNotFoundException: Stream x not found` (one line, without
    /// the hint that `Display` adds to a transport failure).
    pub text: String,
    /// The service's error code (`ResourceNotFoundException`, ...), when the service answered.
    pub code: Option<String>,
    /// The request never got an answer (connection refused, timeout, bad response).
    pub unreachable: bool,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)?;
        if self.unreachable {
            write!(f, "; {UNREACHABLE_HINT}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// The hint printed after a transport failure.
pub(crate) const UNREACHABLE_HINT: &str = "is the endpoint running? If `kinlocal up` started it, run \
     `kinlocal up` again (`kinlocal status` shows where it should be)";

/// Describes `err` from `service` (`Kinesis`, `DynamoDB`) calling `operation` (`ListShards`).
pub fn describe<E, R>(service: &str, operation: &str, err: &SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(service_err) = err.as_service_error() {
        let code = service_err.code().map(str::to_string);
        let text = match (service_err.code(), service_err.message()) {
            (Some(c), Some(m)) => format!("{service} {operation}: {c}: {m}"),
            (Some(c), None) => format!("{service} {operation}: {c}"),
            (None, Some(m)) => format!("{service} {operation}: {m}"),
            (None, None) => format!("{service} {operation}: {}", root_cause(err)),
        };
        return AwsError {
            text: one_line(&text),
            code,
            unreachable: false,
        };
    }
    let unreachable = is_unreachable(err);
    let text = if unreachable {
        format!(
            "{service} {operation}: cannot reach the endpoint ({})",
            root_cause(err)
        )
    } else {
        format!("{service} {operation}: {}", root_cause(err))
    };
    AwsError {
        text: one_line(&text),
        code: None,
        unreachable,
    }
}

/// The request never got an answer (connection refused, timeout): the endpoint is not there,
/// as opposed to an endpoint that answered with an error.
pub(crate) fn is_unreachable<E, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))
}

/// The error as one line without naming the operation (for messages that already say what
/// was being done): the service's `Code: message`, or the transport's innermost reason.
pub(crate) fn detail<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    one_line(&root_cause(err))
}

/// The service's error code, when the service answered.
pub fn code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}

/// The innermost cause's message (`Connection refused (os error 111)`), which is the useful
/// part of a transport failure; the outer layers only say "dispatch failure".
fn root_cause<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut last = err.to_string();
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        let text = s.to_string();
        if !text.is_empty() {
            last = text;
        }
        src = s.source();
    }
    last
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connection_is_one_line_with_a_hint_and_no_debug() {
        // A port nobody listens on: bind one, learn its number, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let conf = aws_sdk_kinesis::Config::builder()
            .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
            .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
                "a", "b", None, None, "t",
            ))
            .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
            .build();
        let err = aws_sdk_kinesis::Client::from_conf(conf)
            .list_streams()
            .send()
            .await
            .expect_err("nobody listens");
        let d = describe("Kinesis", "ListStreams", &err);
        assert!(d.unreachable);
        assert!(
            d.text
                .starts_with("Kinesis ListStreams: cannot reach the endpoint ("),
            "{}",
            d.text
        );
        let shown = d.to_string();
        assert!(shown.contains("kinlocal up"), "{shown}");
        assert!(!shown.contains("{ ") && !shown.contains('\n'), "{shown}");
    }
}
