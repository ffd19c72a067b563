//! Sending one GraphQL request to one subgraph over a keep-alive pool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use serde::Deserialize;
use serde_json::Value;
use tracing::Instrument;

use super::dedupe::{self, Answer, InFlight, SharedAnswer};
use super::pool::{Pool, PoolError};
use crate::error::GatewayError;
use crate::response::error::{ErrorCode, GraphQLError};

const TRACEPARENT: HeaderName =
    HeaderName::from_static(quickmart_shared::telemetry::TRACEPARENT_HEADER);

/// A subgraph's HTTP endpoint with its own connection pool, and the queries in flight to it.
#[derive(Debug)]
pub(crate) struct SubgraphClient {
    endpoint: Arc<Endpoint>,
    /// `None` when deduplication is off (`GATEWAY_DEDUPE=false`).
    in_flight: Option<Arc<InFlight>>,
}

/// Whether a fetch may share an identical one in flight: queries may, mutations never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sharing {
    /// A query: identical ones in flight share one request.
    Query,
    /// A mutation (or anything else that must run once per caller).
    Alone,
}

impl Sharing {
    /// How `fetch` may be sent: a root fetch of a mutation always alone; `_entities` fetches and query roots may
    /// share.
    pub(crate) fn of(fetch: &hive_router_query_planner::planner::plan_nodes::FetchNode) -> Self {
        use hive_router_query_planner::state::supergraph_state::OperationKind;
        let kind_says_query = !matches!(
            fetch.operation_kind,
            Some(OperationKind::Mutation | OperationKind::Subscription)
        );
        if kind_says_query {
            Self::of_operation(&fetch.operation.document_str)
        } else {
            Self::Alone
        }
    }

    /// How an operation text may be sent: an `_entities` fetch (always a query) or a query root may share.
    pub(crate) fn of_operation(operation: &str) -> Self {
        let text = operation.trim_start();
        if text.starts_with("mutation") || text.starts_with("subscription") {
            Self::Alone
        } else {
            Self::Query
        }
    }
}

/// One subgraph's transport, timeout and metrics (shared with the tasks of deduplicated fetches).
#[derive(Debug)]
struct Endpoint {
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
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SubgraphResponse {
    /// `data`, if any.
    #[serde(default)]
    pub data: Option<Value>,
    /// Raw `errors`, re-pathed by the caller.
    #[serde(default)]
    pub errors: Option<Vec<Value>>,
}

/// A fetch's answer: its own, or one shared with identical fetches in flight.
enum Fetched {
    Alone(Answer),
    Shared(Arc<SharedAnswer>),
}

/// A transport failure, before any GraphQL response could be read.
enum Failure {
    Timeout,
    Connect,
    Other,
}

impl SubgraphClient {
    /// A client for one subgraph; `dedupe` shares identical queries in flight.
    pub(crate) fn new(
        name: &str,
        url: &str,
        timeout: Duration,
        idle_per_host: usize,
        dedupe: bool,
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
        let endpoint = Endpoint {
            name: name.to_owned(),
            transport,
            timeout,
            fetch_duration: metrics::histogram!(
                "gateway_subgraph_fetch_duration_seconds",
                &[label()]
            ),
            timeouts: errors(ErrorCode::SubrequestTimeout),
            failures: errors(ErrorCode::SubrequestFailed),
        };
        Ok(Self {
            endpoint: Arc::new(endpoint),
            in_flight: dedupe.then(|| InFlight::new(name)),
        })
    }

    /// Posts a request body; any transport or decoding failure becomes one client error
    /// (`SUBREQUEST_TIMEOUT` or `SUBREQUEST_FAILED`) so the caller can null what it affected.
    pub(crate) async fn send(
        &self,
        body: Vec<u8>,
        headers: &HeaderMap,
        sharing: Sharing,
    ) -> Result<SubgraphResponse, GraphQLError> {
        let parse = |answer: &Answer| {
            let (status, bytes) = answer.as_ref().map_err(Clone::clone)?;
            self.parse(*status, bytes)
        };
        match self.share_or_send(body, headers, sharing).await {
            Fetched::Alone(answer) => parse(&answer),
            Fetched::Shared(shared) => shared.parsed(parse),
        }
    }

    /// Posts a request body and returns the subgraph's status and unparsed body; a query joins an identical one
    /// in flight when deduplication is on.
    pub(crate) async fn send_raw(
        &self,
        body: Vec<u8>,
        headers: &HeaderMap,
        sharing: Sharing,
    ) -> Answer {
        match self.share_or_send(body, headers, sharing).await {
            Fetched::Alone(answer) => answer,
            Fetched::Shared(shared) => shared.answer.clone(),
        }
    }

    async fn share_or_send(&self, body: Vec<u8>, headers: &HeaderMap, sharing: Sharing) -> Fetched {
        // The fetch's span is a child of the request even when a shared fetch runs in a task of its own.
        let parent = tracing::Span::current();
        match (&self.in_flight, sharing) {
            (Some(in_flight), Sharing::Query) => {
                let key = dedupe::key(headers, &body);
                let (endpoint, headers) = (Arc::clone(&self.endpoint), headers.clone());
                Fetched::Shared(
                    in_flight
                        .share(key, move || {
                            async move { endpoint.send_raw(body, &headers, &parent).await }.boxed()
                        })
                        .await,
                )
            }
            _ => Fetched::Alone(self.endpoint.send_raw(body, headers, &parent).await),
        }
    }

    /// Reads a subgraph's answer; a body that is not a GraphQL response is a fetch failure.
    pub(crate) fn parse(
        &self,
        status: StatusCode,
        bytes: &[u8],
    ) -> Result<SubgraphResponse, GraphQLError> {
        self.endpoint.parse(status, bytes)
    }

    /// The table of shared fetches, when deduplication is on.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> Option<&Arc<InFlight>> {
        self.in_flight.as_ref()
    }
}

impl Endpoint {
    async fn send_raw(
        &self,
        body: Vec<u8>,
        headers: &HeaderMap,
        parent: &tracing::Span,
    ) -> Result<(StatusCode, Bytes), GraphQLError> {
        let span = tracing::debug_span!(
            target: quickmart_shared::traces::SPAN_TARGET,
            parent: parent,
            "fetch",
            otel.name = format!("fetch {}", self.name),
            otel.kind = "client",
            quickmart.service = "gateway",
            peer.service = %self.name,
            otel.status_code = tracing::field::Empty,
        );
        // The subgraph's request is a child of this fetch when spans are exported; otherwise the request's
        // traceparent, already among the forwarded headers, goes as it is.
        let traced;
        let headers = match quickmart_shared::traces::span_context(&span)
            .and_then(|context| quickmart_shared::traces::traceparent(&context))
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            Some(traceparent) => {
                let mut with_trace = headers.clone();
                with_trace.insert(TRACEPARENT, traceparent);
                traced = with_trace;
                &traced
            }
            None => headers,
        };
        let started = Instant::now();
        let result = tokio::time::timeout(self.timeout, self.exchange(body, headers))
            .instrument(span.clone())
            .await;
        self.fetch_duration.record(started.elapsed().as_secs_f64());
        if !matches!(result, Ok(Ok(_))) {
            span.record("otel.status_code", "ERROR");
        }
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

    fn parse(&self, status: StatusCode, bytes: &[u8]) -> Result<SubgraphResponse, GraphQLError> {
        // UTF-8 checked once for the whole answer, not string by string while parsing.
        let parsed = std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| serde_json::from_str::<SubgraphResponse>(text).ok());
        match parsed {
            // A GraphQL-over-HTTP subgraph may answer 4xx/5xx with a well-formed body.
            Some(parsed) if parsed.data.is_some() || parsed.errors.is_some() => Ok(parsed),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::response::error::ErrorCode;
    use crate::test_support::{TEST_ANSWER, TestSubgraph};

    const BODY: &[u8] = br#"{"query":"{ topProducts { upc } }","variables":{}}"#;

    fn client(server: &TestSubgraph, dedupe: bool) -> Arc<SubgraphClient> {
        Arc::new(
            SubgraphClient::new(
                "products",
                &server.uri().to_string(),
                Duration::from_secs(5),
                64,
                dedupe,
            )
            .expect("a client"),
        )
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    /// Sends `BODY` from `callers` tasks at once, caller `n` with `headers_of(n)`.
    async fn at_once(
        client: &Arc<SubgraphClient>,
        callers: usize,
        sharing: Sharing,
        headers_of: impl Fn(usize) -> HeaderMap,
    ) -> Vec<Result<(StatusCode, Bytes), GraphQLError>> {
        let tasks: Vec<_> = (0..callers)
            .map(|n| {
                let (client, headers) = (Arc::clone(client), headers_of(n));
                tokio::spawn(async move { client.send_raw(BODY.to_vec(), &headers, sharing).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("a caller"));
        }
        answers
    }

    fn authorization_of(request: &str) -> Option<String> {
        request
            .lines()
            .find_map(|line| line.strip_prefix("authorization: "))
            .map(str::to_owned)
    }

    #[tokio::test]
    async fn identical_concurrent_queries_make_one_subgraph_request() {
        let server = TestSubgraph::start(Duration::from_millis(300), false);
        let client = client(&server, true);
        // Each caller has its own request id and trace: those name a request, they do not change its answer.
        let answers = at_once(&client, 16, Sharing::Query, |n| {
            headers(&[
                ("authorization", "Bearer same"),
                ("x-request-id", &format!("r{n}")),
            ])
        })
        .await;
        assert_eq!(server.requests().len(), 1);
        for answer in answers {
            let (status, body) = answer.expect("an answer");
            assert_eq!(
                (status, body.as_ref()),
                (StatusCode::OK, TEST_ANSWER.as_bytes())
            );
        }
        assert_eq!(
            client.in_flight().expect("on").len(),
            0,
            "nothing is kept once answered"
        );
        // Later requests go to the subgraph again: this shares what is in flight, it caches nothing.
        at_once(&client, 1, Sharing::Query, |_| HeaderMap::new()).await;
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn callers_with_different_tokens_or_addresses_never_share() {
        let server = TestSubgraph::start(Duration::from_millis(300), false);
        let client = client(&server, true);
        // 16 callers, four identities: two tokens, each from two client addresses.
        at_once(&client, 16, Sharing::Query, |n| {
            headers(&[
                (
                    "authorization",
                    if n % 2 == 0 {
                        "Bearer alice"
                    } else {
                        "Bearer bob"
                    },
                ),
                (
                    "x-quickmart-client-ip",
                    if n % 4 < 2 { "10.0.0.1" } else { "10.0.0.2" },
                ),
            ])
        })
        .await;
        let requests = server.requests();
        assert_eq!(requests.len(), 4, "one request per identity");
        let mut tokens: Vec<_> = requests
            .iter()
            .filter_map(|r| authorization_of(r))
            .collect();
        tokens.sort();
        assert_eq!(
            tokens,
            ["Bearer alice", "Bearer alice", "Bearer bob", "Bearer bob"]
        );
    }

    #[tokio::test]
    async fn a_failed_shared_fetch_fails_every_caller_alike() {
        let server = TestSubgraph::failing(Duration::from_millis(300));
        let client = client(&server, true);
        let answers = at_once(&client, 16, Sharing::Query, |_| HeaderMap::new()).await;
        assert_eq!(server.requests().len(), 1);
        for answer in answers {
            let (status, body) = answer.expect("the subgraph's answer");
            assert_eq!(
                (status, body.as_ref()),
                (StatusCode::INTERNAL_SERVER_ERROR, b"oops".as_ref())
            );
            let error = client
                .parse(status, &body)
                .expect_err("not a GraphQL response");
            assert_eq!(
                error.extensions["code"],
                ErrorCode::SubrequestFailed.as_str(),
                "{error:?}"
            );
        }
    }

    /// The executor's path: callers who share a fetch each get the whole parsed answer, or the same failure.
    #[tokio::test]
    async fn callers_sharing_a_fetch_each_get_it_parsed() {
        for (server, failing) in [
            (
                TestSubgraph::start(Duration::from_millis(300), false),
                false,
            ),
            (TestSubgraph::failing(Duration::from_millis(300)), true),
        ] {
            let client = client(&server, true);
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let client = Arc::clone(&client);
                    tokio::spawn(async move {
                        client
                            .send(BODY.to_vec(), &HeaderMap::new(), Sharing::Query)
                            .await
                    })
                })
                .collect();
            for task in tasks {
                match task.await.expect("a caller") {
                    Ok(response) if !failing => {
                        assert_eq!(response.data, Some(serde_json::json!({})));
                        assert!(response.errors.is_none());
                    }
                    Err(error) if failing => {
                        assert_eq!(
                            error.extensions["code"],
                            ErrorCode::SubrequestFailed.as_str()
                        );
                    }
                    other => panic!("failing: {failing}, answer: {other:?}"),
                }
            }
            assert_eq!(server.requests().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_caller_that_hangs_up_does_not_cancel_the_fetch_for_the_others() {
        let server = TestSubgraph::start(Duration::from_millis(400), false);
        let client = client(&server, true);
        let first = {
            let client = Arc::clone(&client);
            tokio::spawn(async move {
                client
                    .send_raw(BODY.to_vec(), &HeaderMap::new(), Sharing::Query)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = {
            let client = Arc::clone(&client);
            tokio::spawn(async move {
                client
                    .send_raw(BODY.to_vec(), &HeaderMap::new(), Sharing::Query)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.abort();
        let (_, body) = second.await.expect("the second caller").expect("an answer");
        assert_eq!(body.as_ref(), TEST_ANSWER.as_bytes());
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn mutations_and_a_gateway_with_dedupe_off_never_share() {
        let server = TestSubgraph::start(Duration::from_millis(200), false);
        at_once(&client(&server, true), 8, Sharing::Alone, |_| {
            HeaderMap::new()
        })
        .await;
        assert_eq!(server.requests().len(), 8, "every mutation runs");
        let server = TestSubgraph::start(Duration::from_millis(200), false);
        at_once(&client(&server, false), 8, Sharing::Query, |_| {
            HeaderMap::new()
        })
        .await;
        assert_eq!(server.requests().len(), 8, "GATEWAY_DEDUPE=false");
    }

    #[test]
    fn only_queries_may_share() {
        assert_eq!(
            Sharing::of_operation("query($r:[_Any!]!){_entities(representations:$r){__typename}}"),
            Sharing::Query
        );
        assert_eq!(Sharing::of_operation("{topProducts{upc}}"), Sharing::Query);
        assert_eq!(
            Sharing::of_operation(" mutation{placeOrder{id}}"),
            Sharing::Alone
        );
        assert_eq!(Sharing::of_operation("subscription{ticks}"), Sharing::Alone);
    }

    #[test]
    fn the_key_holds_every_header_that_can_change_the_answer() {
        let a = headers(&[
            ("authorization", "Bearer a"),
            ("x-quickmart-client-ip", "10.0.0.1"),
        ]);
        let reordered = headers(&[
            ("x-quickmart-client-ip", "10.0.0.1"),
            ("authorization", "Bearer a"),
        ]);
        let traced = headers(&[
            ("authorization", "Bearer a"),
            ("x-quickmart-client-ip", "10.0.0.1"),
            ("x-request-id", "r1"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ]);
        assert_eq!(dedupe::key(&a, BODY), dedupe::key(&reordered, BODY));
        assert_eq!(dedupe::key(&a, BODY), dedupe::key(&traced, BODY));
        let other_token = headers(&[
            ("authorization", "Bearer b"),
            ("x-quickmart-client-ip", "10.0.0.1"),
        ]);
        assert_ne!(dedupe::key(&a, BODY), dedupe::key(&other_token, BODY));
        assert_ne!(
            dedupe::key(&a, BODY),
            dedupe::key(&a, br#"{"query":"{ other }"}"#)
        );
        // A value cannot be crafted to look like another header: lengths are part of the key.
        let one = headers(&[("x-a", "1x-b:1")]);
        let two = headers(&[("x-a", "1"), ("x-b", "1")]);
        assert_ne!(dedupe::key(&one, BODY), dedupe::key(&two, BODY));
    }
}
