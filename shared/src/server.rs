//! Binding, serving and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is taken or not ours.
    #[error("cannot listen on {addr} (is another process using the port? set {hint} to change it)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The environment variable that changes it.
        hint: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Binds `addr`, naming the variable that changes it when the port is taken.
pub async fn bind(addr: SocketAddr, hint: &str) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr,
            hint: hint.to_owned(),
            source,
        })
}

/// What every QuickMart server bounds, so that no client can hold a connection or a worker for free
/// (`docs/ARCHITECTURE.md`, "Every server").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers, from the moment the server waits for them (on a
    /// keep-alive connection, from the end of the previous response) (`HTTP_HEADER_READ_TIMEOUT_MS`).
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in (`HTTP_BODY_READ_TIMEOUT_MS`).
    pub body_read_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed (`HTTP_IDLE_TIMEOUT_MS`).
    pub idle_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog (`HTTP_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Largest request body, declared or streamed (`HTTP_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl ServerLimits {
    /// The limits from `HTTP_*` variables, defaults for the rest.
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        let defaults = Self::default();
        let millis =
            |name: &str, default: Duration| -> Result<Duration, crate::config::ConfigError> {
                let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
                Ok(Duration::from_millis(env.parse_or(name, default)?))
            };
        Ok(Self {
            header_read_timeout: millis(
                "HTTP_HEADER_READ_TIMEOUT_MS",
                defaults.header_read_timeout,
            )?,
            body_read_timeout: millis("HTTP_BODY_READ_TIMEOUT_MS", defaults.body_read_timeout)?,
            idle_timeout: millis("HTTP_IDLE_TIMEOUT_MS", defaults.idle_timeout)?,
            max_connections: env
                .parse_or("HTTP_MAX_CONNECTIONS", defaults.max_connections)?
                .max(1),
            max_body_bytes: env.parse_or("HTTP_MAX_BODY_BYTES", defaults.max_body_bytes)?,
        })
    }
}

/// The body limit's own refusal (a declared length over the limit) is a bare 413; every other error of ours is a
/// problem document, so this one becomes one too.
async fn problem_for_bare_413(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    let answered_by_a_handler = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/"));
    let bare = response.status() == http::StatusCode::PAYLOAD_TOO_LARGE && !answered_by_a_handler;
    if bare {
        crate::AppError::body_too_large().into_response()
    } else {
        response
    }
}

/// Serves `router` under `limits` until `shutdown` completes, then drains in-flight requests.
///
/// Hand-written over hyper-util rather than `axum::serve`, which has no header, body or idle timeout and no
/// connection cap. Each connection holds a permit of a semaphore sized to `max_connections`; shutdown asks
/// every connection to finish its request and close, and returns once every permit is back.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            limits.max_body_bytes,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_read_timeout,
        ))
        .layer(axum::middleware::map_response(problem_for_bare_413));
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(256);
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.map_err(|_| ServeError::Io(std::io::Error::other("connection limit closed")))?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before accept: wait, never exit.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let activity = Activity::new();
            let io = hyper_util::rt::TokioIo::new(Tracked {
                inner: stream,
                activity: activity.clone(),
            });
            let service = hyper::service::service_fn(
                move |mut request: http::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    tower::ServiceExt::oneshot(app.clone(), request.map(axum::body::Body::new))
                },
            );
            let connection = builder.serve_connection_with_upgrades(io, service);
            tokio::pin!(connection);
            let idle = activity.idle_for(limits.idle_timeout);
            tokio::pin!(idle);
            tokio::select! {
                _ = connection.as_mut() => return,
                () = &mut idle => tracing::debug!(%peer, "closing an idle connection"),
                _ = stopping.wait_for(|stop| *stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    let _ = stop.send(true);
    // Every connection gives its permit back when it has finished.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
    Ok(())
}

/// When a connection last moved a byte, in milliseconds since it opened.
#[derive(Clone)]
struct Activity {
    opened: std::time::Instant,
    last: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: std::time::Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let quiet = self.opened.elapsed().saturating_sub(last);
            if quiet >= timeout {
                return;
            }
            tokio::time::sleep(timeout - quiet).await;
        }
    }
}

/// A socket that records its activity for the idle timeout.
struct Tracked {
    inner: tokio::net::TcpStream,
    activity: Activity,
}

impl tokio::io::AsyncRead for Tracked {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Tracked {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}

/// Why a service could not start; each variant names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration is missing or malformed.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be prepared.
    #[error(transparent)]
    #[cfg(feature = "db")]
    Database(#[from] crate::db::DbError),
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] crate::auth::KeyError),
    /// Anything else that stops start-up, described.
    #[error("{0}")]
    Other(String),
    /// The server could not bind or failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Binds `addr` and serves `router` under `limits` until Ctrl-C or SIGTERM.
pub async fn run(
    service: &str,
    addr: SocketAddr,
    listen_variable: &str,
    router: Router,
    limits: ServerLimits,
) -> Result<(), StartError> {
    let listener = bind(addr, listen_variable).await?;
    tracing::info!(service, %addr, "listening");
    serve(listener, router, limits, shutdown_signal()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Serves `router` under `limits` on a random port.
    async fn spawn(router: Router, limits: ServerLimits) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener, router, limits, std::future::pending()));
        addr
    }

    fn short() -> ServerLimits {
        ServerLimits {
            header_read_timeout: Duration::from_millis(300),
            body_read_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(600),
            max_connections: 64,
            max_body_bytes: 1024,
        }
    }

    fn echo() -> Router {
        Router::new().route("/", get(|| async { "ok" })).route(
            "/echo",
            post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        )
    }

    /// Reads until the server closes the connection; the guard only keeps a broken server from hanging the test.
    async fn read_until_closed(stream: &mut TcpStream) -> String {
        let mut received = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
        assert!(read.is_ok(), "the server never closed the connection");
        String::from_utf8_lossy(&received).into_owned()
    }

    #[tokio::test]
    async fn a_client_that_sends_half_its_headers_is_disconnected() {
        // Row 7 of the hardening issue: such a connection used to be held open indefinitely.
        let addr = spawn(echo(), short()).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: quickmart\r\nX-Slow: ")
            .await
            .expect("write");
        read_until_closed(&mut stream).await;
    }

    #[tokio::test]
    async fn a_slow_body_is_refused_and_an_idle_connection_closed() {
        let addr = spawn(echo(), short()).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: q\r\nContent-Length: 100\r\n\r\n0123456789")
            .await
            .expect("write");
        // The extractor reports the timed-out body as its own 4xx.
        let answer = read_until_closed(&mut stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 4") && answer.contains("timeout"),
            "{answer}"
        );

        // A keep-alive connection that has been served and then says nothing is closed.
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: q\r\n\r\n")
            .await
            .expect("write");
        let answer = read_until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413_declared_or_streamed() {
        let addr = spawn(echo(), short()).await;
        let client = reqwest::Client::new();
        let ok = client
            .post(format!("http://{addr}/echo"))
            .body(vec![b'x'; 1024])
            .send()
            .await
            .expect("send");
        assert_eq!(ok.text().await.expect("body"), "1024");
        let declared = client
            .post(format!("http://{addr}/echo"))
            .body(vec![b'x'; 24 << 20])
            .send()
            .await;
        if let Ok(refused) = declared {
            assert_eq!(refused.status(), 413);
            assert_eq!(
                refused.headers()[http::header::CONTENT_TYPE],
                crate::error::PROBLEM_JSON,
                "the limit's refusal is a problem document like every other error"
            );
        }
        // Chunked, with no length declared: the limit holds as the body streams in.
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut request =
            b"POST /echo HTTP/1.1\r\nHost: q\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for _ in 0..4 {
            request.extend_from_slice(b"200\r\n");
            request.extend_from_slice(&[b'x'; 512]);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        stream.write_all(&request).await.expect("write");
        let answer = read_until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }

    #[tokio::test]
    async fn no_more_connections_than_the_cap_are_served_at_once() {
        // 2 connections at most, 16 (8×) clients at once: each is served, never more than 2 together.
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counting, peak) = (now.clone(), most.clone());
        let router = Router::new().route(
            "/",
            get(move || {
                let (now, most) = (counting.clone(), peak.clone());
                async move {
                    let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(current, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        );
        let limits = ServerLimits {
            max_connections: 2,
            idle_timeout: Duration::from_millis(100),
            ..short()
        };
        let addr = spawn(router, limits).await;
        let clients = (0..16).map(|_| async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: q\r\nConnection: close\r\n\r\n")
                .await
                .expect("write");
            read_until_closed(&mut stream).await
        });
        let answers = futures::future::join_all(clients).await;
        assert!(
            answers.iter().all(|a| a.starts_with("HTTP/1.1 200")),
            "{answers:?}"
        );
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
