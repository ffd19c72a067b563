//! Sending one GraphQL request to one subgraph over a keep-alive pool.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use serde::Deserialize;
use serde_json::Value;

use crate::error::GatewayError;
use crate::response::error::{GraphQLError, codes};

/// A subgraph's HTTP endpoint with its own connection pool.
#[derive(Debug, Clone)]
pub struct SubgraphClient {
    name: String,
    url: String,
    client: reqwest::Client,
    timeout: Duration,
}

/// What a subgraph answered, read leniently: extra members are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct SubgraphResponse {
    /// `data`, if any.
    #[serde(default)]
    pub data: Option<Value>,
    /// Raw `errors`, re-pathed by the caller.
    #[serde(default)]
    pub errors: Option<Vec<Value>>,
}

impl SubgraphClient {
    /// A client for one subgraph.
    pub fn new(name: &str, url: &str, timeout: Duration, idle_per_host: usize) -> Result<Self, GatewayError> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(idle_per_host)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .http1_only()
            .build()
            .map_err(|e| GatewayError::HttpClient(e.to_string()))?;
        Ok(Self { name: name.to_owned(), url: url.to_owned(), client, timeout })
    }

    /// Posts a request body; any transport or decoding failure becomes one client error
    /// (`SUBREQUEST_TIMEOUT` or `SUBREQUEST_FAILED`) so the caller can null what it affected.
    pub async fn send(&self, body: Vec<u8>, forwarded: &HeaderMap) -> Result<SubgraphResponse, GraphQLError> {
        let started = Instant::now();
        let result = self.send_inner(body, forwarded).await;
        let elapsed = started.elapsed().as_secs_f64();
        metrics::histogram!("gateway_subgraph_fetch_duration_seconds", "subgraph" => self.name.clone()).record(elapsed);
        if let Err(error) = &result {
            let code =
                error.extensions.get("code").and_then(Value::as_str).unwrap_or(codes::SUBREQUEST_FAILED).to_owned();
            metrics::counter!("gateway_subgraph_fetch_errors_total", "subgraph" => self.name.clone(), "code" => code)
                .increment(1);
        }
        result
    }

    async fn send_inner(&self, body: Vec<u8>, forwarded: &HeaderMap) -> Result<SubgraphResponse, GraphQLError> {
        let mut headers = forwarded.clone();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let response = self
            .client
            .post(&self.url)
            .headers(headers)
            .timeout(self.timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let bytes: Bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        match serde_json::from_slice::<SubgraphResponse>(&bytes) {
            // A GraphQL-over-HTTP subgraph may answer 4xx/5xx with a well-formed body.
            Ok(parsed) if parsed.data.is_some() || parsed.errors.is_some() => Ok(parsed),
            _ if !status.is_success() => {
                Err(self.failure(&format!("HTTP fetch failed from '{}': {status}", self.name)))
            }
            _ => Err(self.failure(&format!("HTTP fetch failed from '{}': invalid GraphQL response", self.name))),
        }
    }

    fn transport_error(&self, error: &reqwest::Error) -> GraphQLError {
        if error.is_timeout() {
            GraphQLError::with_code(format!("Request to subgraph '{}' timed out", self.name), codes::SUBREQUEST_TIMEOUT)
                .extension("serviceName", Value::String(self.name.clone()))
        } else {
            tracing::warn!(subgraph = %self.name, error = %error, "subgraph request failed");
            let reason = if error.is_connect() { "connection failed" } else { "request failed" };
            self.failure(&format!("HTTP fetch failed from '{}': {reason}", self.name))
        }
    }

    fn failure(&self, message: &str) -> GraphQLError {
        GraphQLError::with_code(message, codes::SUBREQUEST_FAILED)
            .extension("serviceName", Value::String(self.name.clone()))
    }
}
