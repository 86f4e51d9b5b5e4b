//! Connection guards: a request must arrive within a bound, a connection with no traffic is
//! closed, and the number of open connections stays below the file-descriptor limit, so that
//! clients that never finish cannot lock everyone else out.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::http::Body;

/// The bounds every connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// A request's headers, and then its body, must each arrive within this.
    pub request_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
            max_connections: 1024,
        }
    }
}

/// When a connection last moved a byte, shared between its I/O and its watchdog.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// When the connection becomes idle for `idle` if nothing moves meanwhile.
    pub(crate) fn idle_deadline(&self, idle: Duration) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }
}

/// A socket that records its traffic in an [`Activity`].
#[derive(Debug)]
pub(crate) struct Tracked<T> {
    inner: T,
    activity: Activity,
}

impl<T> Tracked<T> {
    pub(crate) fn new(inner: T, activity: Activity) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The answer to a request whose body did not arrive in time; the connection is closed after.
pub(crate) fn request_timeout_response() -> Response<Body> {
    let body = serde_json::json!({
        "__type": "RequestTimeoutException",
        "message": "The request body was not received in time",
    });
    let mut resp = Response::new(Either::Left(Full::new(Bytes::from(body.to_string()))));
    *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Raises the soft limit on open files to the hard limit, as servers do, and returns the
/// resulting soft limit (`None` when it cannot be read).
#[allow(unsafe_code)]
pub(crate) fn raise_nofile_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    Some(lim.rlim_cur)
}

/// Connections to serve at once given a file-descriptor limit: the limit minus a reserve for
/// journals, the runtime and the process's own files, within sane bounds.
pub(crate) fn max_connections_for(nofile: Option<u64>) -> usize {
    match nofile {
        Some(n) => n.saturating_sub(64).clamp(16, 65_536) as usize,
        None => ConnLimits::default().max_connections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_cap_stays_below_the_fd_limit() {
        assert_eq!(max_connections_for(Some(1024)), 960);
        assert_eq!(max_connections_for(Some(20)), 16);
        assert_eq!(max_connections_for(Some(1 << 40)), 65_536);
        assert_eq!(max_connections_for(None), 1024);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_deadline_moves_with_traffic() {
        let a = Activity::new();
        let idle = Duration::from_secs(10);
        let first = a.idle_deadline(idle);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(a.idle_deadline(idle), first);
        a.touch();
        assert_eq!(a.idle_deadline(idle), first + Duration::from_secs(3));
    }
}
