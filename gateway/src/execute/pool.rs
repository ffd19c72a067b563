//! A keep-alive pool of plain HTTP/1.1 connections to one subgraph.
//!
//! Written against `hyper::client::conn::http1` rather than a general-purpose client because
//! the gateway's hot path is one POST per fetch to a handful of fixed origins: no URL parsing,
//! redirect handling, proxy lookup or per-request `Host` formatting is needed, and each of
//! those showed up in profiles as a measurable share of a single-fetch request.

use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, Uri, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

/// Why a request could not be exchanged.
#[derive(Debug)]
pub(super) enum PoolError {
    /// No connection could be opened.
    Connect(std::io::Error),
    /// The connection failed while sending the request or reading the response.
    Http(hyper::Error),
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(error) => write!(f, "connect: {error}"),
            Self::Http(error) => write!(f, "http: {error}"),
        }
    }
}

/// Idle connections to one origin, reused last-in first-out (the warmest socket first).
pub(super) struct Pool {
    /// `host:port`, for connecting.
    authority: String,
    /// The `Host` header every request carries (HTTP/1.1 requires it).
    host: HeaderValue,
    /// The request target in origin form (`/graphql`).
    path: Uri,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    max_idle: usize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("authority", &self.authority)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool for an `http://` URL; `None` when the URL is not plain HTTP with a host.
    pub(super) fn new(uri: &Uri, max_idle: usize) -> Option<Self> {
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let authority = uri.authority()?;
        let port = authority.port_u16().unwrap_or(80);
        let path = uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str);
        Some(Self {
            authority: format!("{}:{port}", authority.host()),
            host: HeaderValue::from_str(authority.as_str()).ok()?,
            path: Uri::try_from(path).ok()?,
            idle: Mutex::new(Vec::new()),
            max_idle,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SendRequest<Full<Bytes>>>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, PoolError> {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(PoolError::Connect)?;
        stream.set_nodelay(true).map_err(PoolError::Connect)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(PoolError::Http)?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "subgraph connection closed with an error");
            }
        });
        Ok(sender)
    }

    /// An idle connection that is still open, if any.
    async fn checkout_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        loop {
            let mut sender = self.idle().pop()?;
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    /// POSTs a JSON `body` with the forwarded `headers`, returning the response with its body fully read.
    ///
    /// A request that a reused connection could not even start (the subgraph closed it while
    /// idle) is retried once on a new connection; a request that may have reached the
    /// subgraph is never retried, since a mutation must not run twice.
    pub(super) async fn post(
        &self,
        headers: &http::HeaderMap,
        body: Bytes,
    ) -> Result<Response<Bytes>, PoolError> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.path.clone();
        let request_headers = request.headers_mut();
        request_headers.reserve(headers.len() + 3);
        for (name, value) in headers {
            request_headers.append(name, value.clone());
        }
        request_headers.insert(header::HOST, self.host.clone());
        request_headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request_headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));

        let request = match self.checkout_idle().await {
            Some(mut sender) => match sender.try_send_request(request).await {
                Ok(response) => return self.finish(sender, response).await,
                Err(mut error) => match error.take_message() {
                    Some(unsent) => unsent,
                    None => return Err(PoolError::Http(error.into_error())),
                },
            },
            None => request,
        };
        let mut sender = self.connect().await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(PoolError::Http)?;
        self.finish(sender, response).await
    }

    /// Reads the whole body, then gives the connection back for the next request.
    async fn finish(
        &self,
        sender: SendRequest<Full<Bytes>>,
        response: Response<Incoming>,
    ) -> Result<Response<Bytes>, PoolError> {
        use http_body_util::BodyExt;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(PoolError::Http)?.to_bytes();
        let mut idle = self.idle();
        if idle.len() < self.max_idle && !sender.is_closed() {
            idle.push(sender);
        }
        drop(idle);
        Ok(Response::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::{HeaderMap, StatusCode};

    use super::*;
    use crate::test_support::{TEST_ANSWER, TestSubgraph};

    fn pool(server: &TestSubgraph, max_idle: usize) -> Pool {
        Pool::new(&server.uri(), max_idle).expect("a plain HTTP pool")
    }

    async fn post(pool: &Pool) -> Response<Bytes> {
        pool.post(
            &HeaderMap::new(),
            Bytes::from_static(b"{\"query\":\"{a}\"}"),
        )
        .await
        .expect("the exchange succeeds")
    }

    #[test]
    fn a_plain_http_url_makes_a_pool_with_the_default_port() {
        let uri: Uri = "http://inventory.internal/graphql".parse().expect("a URL");
        let pool = Pool::new(&uri, 4).expect("a pool");
        assert_eq!(pool.authority, "inventory.internal:80");
        assert_eq!(pool.host, "inventory.internal");
        assert_eq!(pool.path, "/graphql");

        let uri: Uri = "http://10.0.0.7:4001/graphql?v=2".parse().expect("a URL");
        let pool = Pool::new(&uri, 4).expect("a pool");
        assert_eq!(pool.authority, "10.0.0.7:4001");
        assert_eq!(pool.host, "10.0.0.7:4001");
        assert_eq!(pool.path, "/graphql?v=2");

        let uri: Uri = "http://users:4002".parse().expect("a URL");
        assert_eq!(Pool::new(&uri, 4).expect("a pool").path, "/");
    }

    #[test]
    fn only_plain_http_urls_with_a_host_get_a_pool() {
        for url in [
            "https://users.example/graphql",
            "/graphql",
            "ftp://users/graphql",
        ] {
            let uri: Uri = url.parse().expect("a URI");
            assert!(Pool::new(&uri, 4).is_none(), "{url}");
        }
    }

    #[tokio::test]
    async fn sequential_requests_reuse_one_connection() {
        let server = TestSubgraph::start(Duration::ZERO, false);
        let pool = pool(&server, 4);
        for _ in 0..3 {
            let response = post(&pool).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.body().as_ref(), TEST_ANSWER.as_bytes());
        }
        assert_eq!(server.connections(), 1);
        assert_eq!(server.requests().len(), 3);
        assert_eq!(pool.idle().len(), 1);
    }

    #[tokio::test]
    async fn with_no_idle_slots_every_request_opens_a_connection() {
        let server = TestSubgraph::start(Duration::ZERO, false);
        let pool = pool(&server, 0);
        for _ in 0..3 {
            post(&pool).await;
        }
        assert_eq!(server.connections(), 3);
        assert!(pool.idle().is_empty());
    }

    #[tokio::test]
    async fn concurrent_requests_open_connections_but_only_max_idle_are_kept() {
        let server = TestSubgraph::start(Duration::from_millis(150), false);
        let pool = pool(&server, 2);
        futures::future::join_all((0..4).map(|_| post(&pool))).await;
        assert_eq!(server.connections(), 4);
        assert_eq!(pool.idle().len(), 2);

        // The kept connections serve the next requests.
        futures::future::join_all((0..2).map(|_| post(&pool))).await;
        assert_eq!(server.connections(), 4);
    }

    #[tokio::test]
    async fn a_connection_the_subgraph_closed_while_idle_is_replaced() {
        let server = TestSubgraph::start(Duration::ZERO, true);
        let pool = pool(&server, 4);
        post(&pool).await;
        // Let the connection task see the subgraph's close.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let response = post(&pool).await;
        assert_eq!(response.body().as_ref(), TEST_ANSWER.as_bytes());
        assert_eq!(server.connections(), 2);
    }

    #[tokio::test]
    async fn requests_carry_the_pools_host_json_headers_and_the_forwarded_ones() {
        let server = TestSubgraph::start(Duration::ZERO, false);
        let pool = pool(&server, 4);
        let mut forwarded = HeaderMap::new();
        forwarded.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        forwarded.insert(header::HOST, HeaderValue::from_static("client.example"));
        forwarded.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        pool.post(&forwarded, Bytes::from_static(b"{\"query\":\"{a}\"}"))
            .await
            .expect("the exchange succeeds");

        let requests = server.requests();
        let request = requests.first().expect("one request").to_ascii_lowercase();
        assert!(
            request.starts_with("post /graphql http/1.1\r\n"),
            "{request}"
        );
        let header_values = |name: &str| -> Vec<String> {
            request
                .lines()
                .filter_map(|line| line.strip_prefix(&format!("{name}: ")))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(
            header_values("host"),
            vec![server.uri().authority().expect("an authority").to_string()]
        );
        assert_eq!(header_values("content-type"), vec!["application/json"]);
        assert_eq!(header_values("accept"), vec!["application/json"]);
        assert_eq!(header_values("authorization"), vec!["bearer t"]);
        assert!(
            request.ends_with("\r\n\r\n{\"query\":\"{a}\"}"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error() {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr")
        };
        let uri: Uri = format!("http://{addr}/graphql").parse().expect("a URL");
        let pool = Pool::new(&uri, 4).expect("a pool");
        let error = pool
            .post(&HeaderMap::new(), Bytes::new())
            .await
            .expect_err("nothing listens");
        assert!(matches!(error, PoolError::Connect(_)), "{error:?}");
        assert!(error.to_string().starts_with("connect: "), "{error}");
    }
}
