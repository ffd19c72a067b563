//! The internal REST client subgraphs and cores use to call cores: timeouts, bounded retries for idempotent
//! calls only, the internal token, request id and trace context propagation, and problem documents mapped back
//! to [`AppError`].

use std::time::Duration;

use axum::body::Bytes;
use http::{HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::auth::Actor;
use crate::error::{AppError, PROBLEM_JSON, Problem};
use crate::internal::{ACTOR_HEADER, ActorHeaders, INTERNAL_TOKEN_HEADER};
use crate::telemetry::{REQUEST_ID_HEADER, RequestMeta, TRACEPARENT_HEADER};

/// Retries after the first attempt of an idempotent call.
const MAX_RETRIES: u32 = 2;
/// A retry is only started with at least this much of the call's budget left.
const MIN_ATTEMPT: Duration = Duration::from_millis(200);

/// Who a call is made for: the acting user (sent as `x-actor`) and the request it serves.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The signed-in user, if any.
    pub actor: Option<Actor>,
    /// The request being served (falls back to the task's current request).
    pub meta: Option<RequestMeta>,
}

impl CallContext {
    /// A call on behalf of `actor` within the current request.
    pub fn for_actor(actor: Option<Actor>) -> Self {
        Self {
            actor,
            meta: crate::telemetry::current_request(),
        }
    }
}

/// A client of one core service.
#[derive(Clone)]
pub struct InternalClient {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
    service: &'static str,
    /// What callers are told is unavailable: the module, never the internal service.
    unavailable: String,
    /// The whole call's budget, retries and their pauses included.
    budget: Duration,
}

impl std::fmt::Debug for InternalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalClient")
            .field("service", &self.service)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl InternalClient {
    /// A client of `service` at `base_url` (e.g. `http://127.0.0.1:8082`). `timeout` bounds the whole call,
    /// retries included, so that it ends before the caller's own deadline (docs/ARCHITECTURE.md, "Faults").
    pub fn new(
        service: &'static str,
        base_url: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, AppError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .map_err(AppError::internal)?;
        let module = service.strip_suffix("-core").unwrap_or(service);
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
            service,
            unavailable: format!("the {module} service is unavailable; try again shortly"),
            budget: timeout,
        })
    }

    /// Starts a GET (idempotent, retried).
    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path).idempotent()
    }

    /// Starts a POST (not retried unless marked idempotent).
    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    /// Starts a PATCH (not retried).
    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call(Method::PATCH, path)
    }

    /// Starts a call with any method.
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            client: self,
            method,
            path: path.to_owned(),
            body: None,
            headers: Vec::new(),
            idempotent: false,
        }
    }
}

/// One call being built.
pub struct Call<'a> {
    client: &'a InternalClient,
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    idempotent: bool,
}

impl Call<'_> {
    /// Appends a query string built from `query`.
    pub fn query<Q: Serialize>(mut self, query: &Q) -> Result<Self, AppError> {
        let encoded = serde_urlencoded::to_string(query).map_err(AppError::internal)?;
        if !encoded.is_empty() {
            self.path
                .push(if self.path.contains('?') { '&' } else { '?' });
            self.path.push_str(&encoded);
        }
        Ok(self)
    }

    /// Sends `body` as JSON.
    pub fn json<B: Serialize>(mut self, body: &B) -> Result<Self, AppError> {
        self.body = Some(serde_json::to_vec(body).map_err(AppError::internal)?);
        Ok(self)
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self, AppError> {
        let value = HeaderValue::from_str(value).map_err(AppError::internal)?;
        self.headers.push((HeaderName::from_static(name), value));
        Ok(self)
    }

    /// Marks the call safe to retry (the server makes repeating it harmless).
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sends the call and decodes a JSON answer.
    pub async fn send<T: DeserializeOwned>(self, ctx: &CallContext) -> Result<T, AppError> {
        let service = self.client.service;
        let bytes = self.send_raw(ctx).await?;
        // One UTF-8 check of the whole answer instead of one per string, which is what reading from bytes costs.
        std::str::from_utf8(&bytes)
            .map_err(|e| AppError::internal(format!("{service} answered with non-UTF-8 JSON: {e}")))
            .and_then(|text| {
                serde_json::from_str(text).map_err(|e| {
                    AppError::internal(format!("{service} answered with unexpected JSON: {e}"))
                })
            })
    }

    /// Sends the call and ignores the body of a successful answer.
    pub async fn send_empty(self, ctx: &CallContext) -> Result<(), AppError> {
        self.send_raw(ctx).await.map(drop)
    }

    async fn send_raw(self, ctx: &CallContext) -> Result<Bytes, AppError> {
        let meta = ctx.meta.clone().or_else(crate::telemetry::current_request);
        // A span per call (exported only; docs/ARCHITECTURE.md, "Operations"), a child of the request it serves
        // even when the call is made from a task of its own (a batch loader's).
        let current = tracing::Span::current();
        let parent = match &meta {
            Some(meta) if current.is_none() => meta.span.clone(),
            _ => current,
        };
        let span = tracing::debug_span!(
            target: crate::traces::SPAN_TARGET,
            parent: &parent,
            "call",
            otel.name = format!("{} {} {}", self.method, self.client.service, self.route()),
            otel.kind = "client",
            quickmart.service = meta.as_ref().map_or_else(crate::telemetry::current_service, |m| m.service),
            peer.service = self.client.service,
            http.request.method = %self.method,
            // Without the query, which may hold ids and filters: a trace store is not the place for them.
            url.path = %self.route(),
        );
        let traceparent = match &meta {
            Some(meta) => crate::traces::outbound_traceparent(&span, &meta.trace),
            None => crate::traces::span_context(&span)
                .and_then(|context| crate::traces::traceparent(&context))
                .and_then(|value| HeaderValue::from_str(&value).ok()),
        };
        self.attempts(ctx.actor, meta, traceparent)
            .instrument(span)
            .await
    }

    /// The path without its query, for a span (an id in the path stays: the routes are few and known).
    fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    async fn attempts(
        self,
        actor: Option<Actor>,
        meta: Option<RequestMeta>,
        traceparent: Option<HeaderValue>,
    ) -> Result<Bytes, AppError> {
        let client = self.client;
        let url = format!("{}{}", client.base_url, self.path);
        let attempts = if self.idempotent { MAX_RETRIES + 1 } else { 1 };
        let deadline = tokio::time::Instant::now() + client.budget;
        let mut last_error = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                let pause = Duration::from_millis(50 * 3_u64.pow(attempt - 1));
                // A retry that could not finish within the budget only holds the caller longer.
                if tokio::time::Instant::now() + pause + MIN_ATTEMPT >= deadline {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut request = client
                .http
                .request(self.method.clone(), &url)
                .timeout(remaining)
                .header(INTERNAL_TOKEN_HEADER, client.token.expose_secret())
                .header(http::header::ACCEPT, "application/json");
            if let Some(meta) = &meta {
                request = request.header(REQUEST_ID_HEADER, &meta.request_id);
            }
            if let Some(traceparent) = &traceparent {
                request = request.header(TRACEPARENT_HEADER, traceparent.clone());
            }
            if let Some(actor) = actor {
                request = request.header(ACTOR_HEADER, ActorHeaders::value(&actor));
            }
            for (name, value) in &self.headers {
                request = request.header(name.clone(), value.clone());
            }
            if let Some(body) = &self.body {
                request = request
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let started = std::time::Instant::now();
            let outcome = request.send().await;
            metrics::histogram!("internal_client_duration_seconds", "service" => client.service)
                .record(started.elapsed().as_secs_f64());
            match outcome {
                Err(error) => {
                    tracing::warn!(service = client.service, %url, attempt, error = %error, "internal call failed");
                    last_error = Some(AppError::ServiceUnavailable(client.unavailable.clone()));
                }
                Ok(response) => {
                    let status = response.status();
                    let is_problem = response
                        .headers()
                        .get(http::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
                    let body = match response.bytes().await {
                        Ok(body) => body,
                        Err(error) => {
                            tracing::warn!(service = client.service, %url, error = %error, "reading an internal answer failed");
                            last_error =
                                Some(AppError::ServiceUnavailable(client.unavailable.clone()));
                            continue;
                        }
                    };
                    if status.is_success() {
                        return Ok(body);
                    }
                    // A core's own 503 says its dependency is down: retrying only adds load while it recovers,
                    // and its wording (which dependency) is internal.
                    if status == http::StatusCode::SERVICE_UNAVAILABLE && is_problem {
                        tracing::warn!(service = client.service, %url, "dependency of the core unavailable");
                        return Err(AppError::ServiceUnavailable(client.unavailable.clone()));
                    }
                    let error = if is_problem {
                        serde_json::from_slice::<Problem>(&body)
                            .map(AppError::from_problem)
                            .unwrap_or_else(|e| {
                                AppError::internal(format!(
                                    "{} answered {status} with a broken problem: {e}",
                                    client.service
                                ))
                            })
                    } else {
                        AppError::internal(format!(
                            "{} answered {status} without a problem document",
                            client.service
                        ))
                    };
                    let retryable = matches!(status.as_u16(), 502..=504);
                    if !retryable {
                        return Err(error);
                    }
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| AppError::ServiceUnavailable(client.unavailable.clone())))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;

    use super::*;

    /// Serves `router` on a random port.
    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}")
    }

    fn client(url: &str, budget: Duration) -> InternalClient {
        InternalClient::new("product-core", url, SecretString::from("t"), budget).expect("client")
    }

    /// A core whose database is down answers 503: the call fails at once, once, naming the module.
    #[tokio::test]
    async fn a_cores_503_is_not_retried_and_names_the_module() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let url = serve(Router::new().route(
            "/v1/products",
            get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async {
                    AppError::ServiceUnavailable("the database is unavailable".into())
                        .into_response()
                }
            }),
        ))
        .await;
        let error = client(&url, Duration::from_secs(5))
            .get("/v1/products")
            .send::<serde_json::Value>(&CallContext::default())
            .await
            .expect_err("503");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "not retried");
        let message = error.public_message();
        assert!(message.contains("product service"), "{message}");
        assert!(
            !message.contains("database") && !message.contains("product-core"),
            "{message}"
        );
    }

    /// A 502 from a proxy in front of the core is retried (the core may not have seen it).
    #[tokio::test]
    async fn a_502_is_retried_within_the_budget() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let url = serve(Router::new().route(
            "/v1/products",
            get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::BAD_GATEWAY }
            }),
        ))
        .await;
        let error = client(&url, Duration::from_secs(5))
            .get("/v1/products")
            .send::<serde_json::Value>(&CallContext::default())
            .await
            .expect_err("502");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "one call and two retries");
        assert_eq!(error.code(), crate::ErrorCode::InternalServerError);
    }

    /// A core that hangs uses up the call's whole budget in one attempt: no retry can start after it, so the call
    /// ends within its budget instead of attempts × timeout.
    #[tokio::test]
    async fn a_hanging_core_is_tried_once_within_the_budget() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let url = serve(Router::new().route(
            "/v1/products",
            get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<String>()
            }),
        ))
        .await;
        let error = client(&url, Duration::from_millis(400))
            .get("/v1/products")
            .send::<serde_json::Value>(&CallContext::default())
            .await
            .expect_err("timeout");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(error.code(), crate::ErrorCode::ServiceUnavailable);
    }
}
