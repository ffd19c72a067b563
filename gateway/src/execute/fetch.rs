//! Sending one GraphQL request to one subgraph over a keep-alive pool.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri, header};
use serde::Deserialize;
use serde_json::Value;

use super::pool::{Pool, PoolError};
use crate::error::GatewayError;
use crate::response::error::{ErrorCode, GraphQLError};

/// A subgraph's HTTP endpoint with its own connection pool.
#[derive(Debug)]
pub(crate) struct SubgraphClient {
    name: String,
    transport: Connection,
    timeout: Duration,
    fetch_duration: metrics::Histogram,
    timeouts: metrics::Counter,
    failures: metrics::Counter,
}

/// Plain HTTP (every in-cluster subgraph) goes through the lean pool; `https://` subgraphs
/// keep a TLS-capable general client.
#[derive(Debug)]
enum Connection {
    Plain(Pool),
    Tls {
        url: String,
        client: reqwest::Client,
    },
}

/// What a subgraph answered, read leniently: extra members are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SubgraphResponse {
    /// `data`, if any.
    #[serde(default)]
    pub data: Option<Value>,
    /// Raw `errors`, re-pathed by the caller.
    #[serde(default)]
    pub errors: Option<Vec<Value>>,
}

/// A transport failure, before any GraphQL response could be read.
enum Failure {
    Timeout,
    Connect,
    Other,
}

impl SubgraphClient {
    /// A client for one subgraph.
    pub(crate) fn new(
        name: &str,
        url: &str,
        timeout: Duration,
        idle_per_host: usize,
    ) -> Result<Self, GatewayError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| GatewayError::HttpClient(format!("subgraph {name} URL {url}: {e}")))?;
        let transport = match Pool::new(&uri, idle_per_host) {
            Some(pool) => Connection::Plain(pool),
            None => Connection::Tls {
                url: url.to_owned(),
                client: reqwest::Client::builder()
                    .pool_max_idle_per_host(idle_per_host)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .tcp_nodelay(true)
                    .http1_only()
                    .build()
                    .map_err(|e| GatewayError::HttpClient(e.to_string()))?,
            },
        };
        // Handles registered once: looking a labelled metric up on every fetch costs a hash
        // of its name and labels plus a String for the label value.
        let label = || ("subgraph", name.to_owned());
        let errors = |code: ErrorCode| {
            metrics::counter!(
                "gateway_subgraph_fetch_errors_total",
                &[label(), ("code", code.as_str().to_owned())]
            )
        };
        Ok(Self {
            name: name.to_owned(),
            transport,
            timeout,
            fetch_duration: metrics::histogram!(
                "gateway_subgraph_fetch_duration_seconds",
                &[label()]
            ),
            timeouts: errors(ErrorCode::SubrequestTimeout),
            failures: errors(ErrorCode::SubrequestFailed),
        })
    }

    /// Posts a request body; any transport or decoding failure becomes one client error
    /// (`SUBREQUEST_TIMEOUT` or `SUBREQUEST_FAILED`) so the caller can null what it affected.
    pub(crate) async fn send(
        &self,
        body: Vec<u8>,
        headers: &HeaderMap,
    ) -> Result<SubgraphResponse, GraphQLError> {
        let (status, bytes) = self.send_raw(body, headers).await?;
        self.parse(status, &bytes)
    }

    /// Posts a request body and returns the subgraph's status and unparsed body.
    pub(crate) async fn send_raw(
        &self,
        body: Vec<u8>,
        headers: &HeaderMap,
    ) -> Result<(StatusCode, Bytes), GraphQLError> {
        let started = Instant::now();
        let result = tokio::time::timeout(self.timeout, self.exchange(body, headers)).await;
        self.fetch_duration.record(started.elapsed().as_secs_f64());
        let failure = match result {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(failure)) => failure,
            Err(_elapsed) => Failure::Timeout,
        };
        Err(match failure {
            Failure::Timeout => {
                self.timeouts.increment(1);
                GraphQLError::with_code(
                    format!("Request to subgraph '{}' timed out", self.name),
                    ErrorCode::SubrequestTimeout,
                )
                .extension("serviceName", Value::String(self.name.clone()))
            }
            Failure::Connect => self.failure("connection failed"),
            Failure::Other => self.failure("request failed"),
        })
    }

    async fn exchange(
        &self,
        body: Vec<u8>,
        headers: &HeaderMap,
    ) -> Result<(StatusCode, Bytes), Failure> {
        match &self.transport {
            Connection::Plain(pool) => match pool.post(headers, Bytes::from(body)).await {
                Ok(response) => Ok((response.status(), response.into_body())),
                Err(error) => {
                    tracing::warn!(subgraph = %self.name, %error, "subgraph request failed");
                    Err(if matches!(error, PoolError::Connect(_)) {
                        Failure::Connect
                    } else {
                        Failure::Other
                    })
                }
            },
            Connection::Tls { url, client } => {
                let sent = client
                    .post(url)
                    .headers(headers.clone())
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::ACCEPT, "application/json")
                    .body(body)
                    .send()
                    .await;
                let response = sent.map_err(|e| self.reqwest_failure(&e))?;
                let status = response.status();
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| self.reqwest_failure(&e))?;
                Ok((status, bytes))
            }
        }
    }

    /// Reads a subgraph's answer; a body that is not a GraphQL response is a fetch failure.
    pub(crate) fn parse(
        &self,
        status: StatusCode,
        bytes: &[u8],
    ) -> Result<SubgraphResponse, GraphQLError> {
        match serde_json::from_slice::<SubgraphResponse>(bytes) {
            // A GraphQL-over-HTTP subgraph may answer 4xx/5xx with a well-formed body.
            Ok(parsed) if parsed.data.is_some() || parsed.errors.is_some() => Ok(parsed),
            _ if !status.is_success() => Err(self.failure(&status.to_string())),
            _ => Err(self.failure("invalid GraphQL response")),
        }
    }

    fn reqwest_failure(&self, error: &reqwest::Error) -> Failure {
        if error.is_timeout() {
            return Failure::Timeout;
        }
        tracing::warn!(subgraph = %self.name, %error, "subgraph request failed");
        if error.is_connect() {
            Failure::Connect
        } else {
            Failure::Other
        }
    }

    fn failure(&self, reason: &str) -> GraphQLError {
        self.failures.increment(1);
        GraphQLError::with_code(
            format!("HTTP fetch failed from '{}': {reason}", self.name),
            ErrorCode::SubrequestFailed,
        )
        .extension("serviceName", Value::String(self.name.clone()))
    }
}
