//! Starts subgraphs and a gateway on random ports; sends requests; counts subgraph hits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use quickmart_gateway::{Gateway, GatewayConfig};
use serde_json::Value;

use crate::subgraphs;

/// The checked-in supergraph, composed from the fixture subgraphs.
pub const SUPERGRAPH: &str = include_str!("../fixtures/supergraph.graphql");

/// A running gateway and its subgraphs.
pub struct TestGraph {
    /// The gateway's `/graphql` URL.
    pub url: String,
    /// The gateway's base URL.
    pub base: String,
    hits: HashMap<&'static str, Arc<AtomicUsize>>,
    client: reqwest::Client,
}

async fn spawn(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

impl TestGraph {
    /// All four subgraphs up, default limits.
    pub async fn start() -> Self {
        Self::start_with(|_| {}, &[]).await
    }

    /// Subgraphs named in `down` are given a URL where nothing listens.
    pub async fn start_with(configure: impl FnOnce(&mut GatewayConfig), down: &[&str]) -> Self {
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
                ("users", subgraphs::router(subgraphs::users(seq.clone()), counted("users"))),
                ("products", subgraphs::router(subgraphs::products(seq), counted("products"))),
                ("inventory", subgraphs::router(subgraphs::inventory(), counted("inventory"))),
                ("orders", subgraphs::router(subgraphs::orders(), counted("orders"))),
            ]
        };
        for (name, router) in routers {
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = gateway.router();
        tokio::spawn(
            async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await },
        );
        Self {
            url: format!("http://{addr}/graphql"),
            base: format!("http://{addr}"),
            hits,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs a query with variables; returns the status and JSON body.
    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        let body = serde_json::json!({ "query": query, "variables": variables });
        self.post_raw(body.to_string()).await
    }

    /// POSTs a query, expecting HTTP 200; returns the JSON body.
    pub async fn query(&self, query: &str) -> Value {
        let (status, body) = self.post(query, Value::Null).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// POSTs a raw body.
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("gateway answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The HTTP client, for custom requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Requests each subgraph has served so far, reset to zero.
    pub fn take_hits(&self) -> std::collections::BTreeMap<&'static str, usize> {
        self.hits
            .iter()
            .map(|(name, counter)| (*name, counter.swap(0, Ordering::SeqCst)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}
