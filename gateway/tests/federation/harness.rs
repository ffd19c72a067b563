//! Starts subgraphs and a gateway on random ports; sends requests; counts subgraph hits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;

use quickmart_gateway::{Gateway, GatewayConfig};
use serde_json::Value;

use crate::subgraphs;

/// The checked-in supergraph, composed from the fixture subgraphs.
pub(crate) const SUPERGRAPH: &str = include_str!("../fixtures/supergraph.graphql");

/// A running gateway and its subgraphs.
pub(crate) struct TestGraph {
    /// The gateway's `/graphql` URL.
    pub url: String,
    /// The gateway's base URL.
    pub base: String,
    /// The gateway itself, for what HTTP does not show (its plan cache).
    pub gateway: Gateway,
    hits: HashMap<&'static str, Arc<AtomicUsize>>,
    received: Arc<Mutex<Vec<(&'static str, HeaderMap)>>>,
    client: reqwest::Client,
}

/// How the test subgraphs misbehave.
#[derive(Default)]
pub(crate) struct Faults<'a> {
    /// Subgraphs given a URL where nothing listens.
    pub down: &'a [&'a str],
    /// Subgraphs that wait this long before answering.
    pub slow: &'a [(&'a str, Duration)],
}

async fn spawn(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

impl TestGraph {
    /// All four subgraphs up, default limits.
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}, &[]).await
    }

    /// Subgraphs named in `down` are given a URL where nothing listens.
    pub(crate) async fn start_with(
        configure: impl FnOnce(&mut GatewayConfig),
        down: &[&str],
    ) -> Self {
        Self::start_faulty(
            configure,
            Faults {
                down,
                ..Faults::default()
            },
        )
        .await
    }

    /// Subgraphs fail as `faults` says.
    pub(crate) async fn start_faulty(
        configure: impl FnOnce(&mut GatewayConfig),
        faults: Faults<'_>,
    ) -> Self {
        let Faults { down, slow } = faults;
        let received = Arc::new(Mutex::new(Vec::new()));
        let seq = subgraphs::Sequence::default();
        let mut hits = HashMap::new();
        let mut config = GatewayConfig::default();
        let routers: Vec<(&'static str, axum::Router)> = {
            let mut counted = |name: &'static str| {
                let counter = Arc::new(AtomicUsize::new(0));
                hits.insert(name, counter.clone());
                counter
            };
            vec![
                (
                    "users",
                    subgraphs::router(subgraphs::users(seq.clone()), counted("users")),
                ),
                (
                    "products",
                    subgraphs::router(subgraphs::products(seq), counted("products")),
                ),
                (
                    "inventory",
                    subgraphs::router(subgraphs::inventory(), counted("inventory")),
                ),
                (
                    "orders",
                    subgraphs::router(subgraphs::orders(), counted("orders")),
                ),
            ]
        };
        for (name, router) in routers {
            let delay = slow.iter().find(|(n, _)| *n == name).map(|(_, d)| *d);
            let router = record_headers(router, name, received.clone(), delay);
            let url = if down.contains(&name) {
                // A port that was just free: connection refused.
                let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                let addr = listener.local_addr().expect("addr");
                drop(listener);
                format!("http://{addr}/graphql")
            } else {
                format!("http://{}/graphql", spawn(router).await)
            };
            config.subgraph_urls.insert(name.to_uppercase(), url);
        }
        configure(&mut config);
        let gateway = Gateway::from_supergraph_sdl(SUPERGRAPH, config).expect("gateway");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = gateway.router();
        let served = gateway.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });
        Self {
            url: format!("http://{addr}/graphql"),
            base: format!("http://{addr}"),
            gateway: served,
            hits,
            received,
            client: reqwest::Client::new(),
        }
    }

    /// The headers of every request `subgraph` has received so far, oldest first; cleared.
    pub(crate) fn take_received_headers(&self, subgraph: &str) -> Vec<HeaderMap> {
        let mut received = self.received.lock().expect("lock");
        let (taken, kept) = received.drain(..).partition(|(name, _)| *name == subgraph);
        *received = kept;
        taken.into_iter().map(|(_, headers)| headers).collect()
    }

    /// POSTs a query with variables; returns the status and JSON body.
    pub(crate) async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        let body = serde_json::json!({ "query": query, "variables": variables });
        self.post_raw(body.to_string()).await
    }

    /// POSTs a query, expecting HTTP 200; returns the JSON body.
    pub(crate) async fn query(&self, query: &str) -> Value {
        let (status, body) = self.post(query, Value::Null).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// POSTs a raw body, accepting `application/graphql-response+json`, under which request errors keep their
    /// own status (`http_surface` tests the `application/json` statuses).
    pub(crate) async fn post_raw(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(body)
            .send()
            .await
            .expect("gateway answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The HTTP client, for custom requests.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Requests each subgraph has served so far, reset to zero.
    pub(crate) fn take_hits(&self) -> std::collections::BTreeMap<&'static str, usize> {
        self.hits
            .iter()
            .map(|(name, counter)| (*name, counter.swap(0, Ordering::SeqCst)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// Records each request's headers before the subgraph serves it, after `delay` when given.
fn record_headers(
    router: axum::Router,
    name: &'static str,
    received: Arc<Mutex<Vec<(&'static str, HeaderMap)>>>,
    delay: Option<Duration>,
) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            received
                .lock()
                .expect("lock")
                .push((name, request.headers().clone()));
            async move {
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                next.run(request).await
            }
        },
    ))
}
