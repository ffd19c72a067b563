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
