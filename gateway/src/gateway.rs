//! The gateway: one loaded supergraph, its planner, plan cache and subgraph clients, and the
//! request pipeline from a GraphQL request to a response body.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use graphql_tools::static_graphql::schema::DirectiveDefinition;
use graphql_tools::validation::validate::ValidationPlan;
use hive_router_query_planner::state::supergraph_state::OperationKind;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::execute::{self, ExecutionOutput, Executor, SubgraphClient};
use crate::introspection::{self, Introspection};
use crate::plan::{self, PlanCache, PlanCacheLimits, PreparedOperation, Supergraph};
use crate::response::error::{GraphQLError, codes};
use crate::response::{self, projection::Projector};
use crate::variables;

/// A GraphQL request as clients send it (JSON body or GET query string).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    /// The document.
    #[serde(default)]
    pub query: Option<String>,
    /// Which operation of the document to run.
    #[serde(default)]
    pub operation_name: Option<String>,
    /// Variable values (an object, or null).
    #[serde(default)]
    pub variables: Option<Value>,
    /// Protocol extensions (accepted, unused).
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// How the request arrived: mutations are refused over GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /graphql`.
    Post,
    /// `GET /graphql?query=…`.
    Get,
}

/// A finished response: HTTP status and JSON body.
#[derive(Debug)]
pub struct GatewayResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl GatewayResponse {
    /// A response with errors only (a request error: no `data`).
    pub fn request_error(status: StatusCode, errors: &[GraphQLError]) -> Self {
        Self {
            status,
            body: response::body(None, errors),
        }
    }
}

/// A running gateway over one supergraph; cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: GatewayConfig,
    supergraph: Supergraph,
    executor: Executor,
    plans: PlanCache,
    validation: ValidationPlan,
    builtin_directives: Vec<DirectiveDefinition>,
    metrics: RequestMetrics,
}

/// Handles registered once: a labelled lookup on every request hashed the name and labels.
struct RequestMetrics {
    ok: metrics::Counter,
    rejected: metrics::Counter,
    duration: metrics::Histogram,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("supergraph", &self.inner.supergraph)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Loads a supergraph SDL: parses it, builds the planner and one client per subgraph.
    pub fn from_supergraph_sdl(sdl: &str, config: GatewayConfig) -> Result<Self, GatewayError> {
        // Metrics recorded before the recorder exists would be lost.
        quickmart_shared::telemetry::metrics_handle();
        let supergraph = Supergraph::parse(sdl, &|graph_id| config.subgraph_url(graph_id))?;
        let clients = supergraph
            .subgraphs
            .values()
            .map(|s| {
                SubgraphClient::new(
                    &s.name,
                    &s.url,
                    config.subgraph_timeout,
                    config.pool_idle_per_host,
                )
                .map(|client| (s.name.clone(), client))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let executor = Executor::new(clients, supergraph.schema.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                plans: PlanCache::new(PlanCacheLimits {
                    entries: config.plan_cache_size,
                    bytes: config.plan_cache_bytes,
                    max_document_bytes: config.plan_cache_max_document_bytes,
                }),
                config,
                executor,
                supergraph,
                validation: plan::validation_plan(),
                builtin_directives: introspection::builtin_directives(),
                metrics: RequestMetrics {
                    ok: metrics::counter!("gateway_graphql_requests_total", "outcome" => "ok"),
                    rejected: metrics::counter!("gateway_graphql_requests_total", "outcome" => "rejected"),
                    duration: metrics::histogram!("gateway_graphql_request_duration_seconds"),
                },
            }),
        })
    }

    /// Loads a supergraph from a file.
    pub fn from_supergraph_file(
        path: &std::path::Path,
        config: GatewayConfig,
    ) -> Result<Self, GatewayError> {
        let sdl = std::fs::read_to_string(path).map_err(|source| GatewayError::Io {
            context: format!("reading the supergraph {}", path.display()),
            source,
        })?;
        Self::from_supergraph_sdl(&sdl, config)
    }

    /// The configuration the gateway runs with.
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// Subgraph names and the URLs fetches go to.
    pub fn subgraph_urls(&self) -> HashMap<String, String> {
        self.inner
            .supergraph
            .subgraphs
            .values()
            .map(|s| (s.name.clone(), s.url.clone()))
            .collect()
    }

    /// Entries in the plan cache and the bytes they are estimated to hold.
    pub fn plan_cache_usage(&self) -> (usize, usize) {
        self.inner.plans.usage()
    }

    /// Prepares a document as a request would (limits, validation, planning) without caching or running it;
    /// `Err` holds the errors a client would receive.
    pub fn check_document(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<(), Vec<GraphQLError>> {
        let inner = &self.inner;
        plan::prepare(
            &inner.supergraph,
            &inner.validation,
            &inner.config.limits,
            query,
            operation_name,
        )
        .map(drop)
        .map_err(plan::PrepareError::into_graphql_errors)
    }

    async fn prepared(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<PreparedOperation>, Vec<GraphQLError>> {
        if let Some(prepared) = self.inner.plans.get(query, operation_name) {
            metrics::counter!("gateway_plan_cache_hits_total").increment(1);
            return Ok(prepared);
        }
        metrics::counter!("gateway_plan_cache_misses_total").increment(1);
        // Preparation is CPU work bounded by the limits, up to milliseconds for the largest admitted
        // document: it runs on the blocking pool so an async worker never stalls on it.
        let gateway = self.clone();
        let (query, operation_name) = (query.to_owned(), operation_name.map(str::to_owned));
        let prepared = tokio::task::spawn_blocking(move || {
            let inner = &gateway.inner;
            let prepared = plan::prepare(
                &inner.supergraph,
                &inner.validation,
                &inner.config.limits,
                &query,
                operation_name.as_deref(),
            )
            .map_err(plan::PrepareError::into_graphql_errors)?;
            let prepared = Arc::new(prepared);
            inner
                .plans
                .insert(&query, operation_name.as_deref(), prepared.clone());
            Ok(prepared)
        })
        .await;
        prepared.unwrap_or_else(|_| {
            Err(vec![GraphQLError::with_code(
                "The operation could not be prepared",
                codes::INTERNAL,
            )])
        })
    }

    /// Runs one GraphQL request end to end; `forwarded` are the headers subgraphs receive.
    pub async fn execute(
        &self,
        request: GraphQLRequest,
        transport: Transport,
        forwarded: &HeaderMap,
    ) -> GatewayResponse {
        let started = Instant::now();
        let response = self.execute_inner(request, transport, forwarded).await;
        let metrics = &self.inner.metrics;
        if response.status.is_success() {
            &metrics.ok
        } else {
            &metrics.rejected
        }
        .increment(1);
        metrics.duration.record(started.elapsed().as_secs_f64());
        response
    }

    async fn execute_inner(
        &self,
        request: GraphQLRequest,
        transport: Transport,
        forwarded: &HeaderMap,
    ) -> GatewayResponse {
        let Some(query) = request.query.as_deref().filter(|q| !q.trim().is_empty()) else {
            return GatewayResponse::request_error(
                StatusCode::BAD_REQUEST,
                &[GraphQLError::with_code(
                    "Must provide query string.",
                    codes::BAD_REQUEST,
                )],
            );
        };
        let operation_name = request.operation_name.as_deref().filter(|n| !n.is_empty());
        let prepared = match self.prepared(query, operation_name).await {
            Ok(prepared) => prepared,
            Err(errors) => return GatewayResponse::request_error(StatusCode::BAD_REQUEST, &errors),
        };
        // A subgraph verifies the token of every operation it serves; an operation no subgraph serves
        // (`__typename`, introspection) is verified here, so a bad token is refused whatever is asked.
        if prepared.plan.is_none()
            && let Some(verifier) = &self.inner.config.jwt_verifier
            && let Err(error) = verifier.authenticate(forwarded)
        {
            return GatewayResponse::request_error(
                StatusCode::OK,
                &[GraphQLError::with_code(
                    error.public_message(),
                    error.code().as_str(),
                )],
            );
        }
        if transport == Transport::Get && prepared.kind != OperationKind::Query {
            return GatewayResponse::request_error(
                StatusCode::METHOD_NOT_ALLOWED,
                &[GraphQLError::with_code(
                    "Mutations cannot be sent over GET; use POST",
                    codes::METHOD_NOT_ALLOWED,
                )],
            );
        }
        let provided = match request.variables {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return GatewayResponse::request_error(
                    StatusCode::BAD_REQUEST,
                    &[GraphQLError::with_code(
                        "Variables must be an object",
                        codes::BAD_REQUEST,
                    )],
                );
            }
        };
        let variables = match variables::coerce(&prepared.operation, provided) {
            Ok(variables) => variables,
            Err(errors) => return GatewayResponse::request_error(StatusCode::BAD_REQUEST, &errors),
        };
        let limits = &self.inner.config.limits;
        if prepared.cost.uses_variables {
            let cost = crate::limits::cost::estimate(
                &self.inner.supergraph.schema,
                &prepared.operation.selection_set,
                &prepared.root_type,
                &variables,
                limits.default_list_size,
            );
            if let Err(limit) =
                crate::limits::LimitExceeded::check("cost", cost.cost, limits.max_cost)
            {
                return GatewayResponse::request_error(
                    StatusCode::BAD_REQUEST,
                    &[limit.into_graphql_error()],
                );
            }
        }

        let schema = &self.inner.supergraph.schema;
        let executor = &self.inner.executor;
        let ExecutionOutput { data, mut errors } = match &prepared.plan {
            Some(plan) => match (execute::single_root_fetch(plan), &prepared.fast_path) {
                (Some(fetch), Some(fast_path)) => {
                    let answer = executor.fetch_root_raw(fetch, &variables, forwarded).await;
                    if let Ok((status, bytes)) = &answer
                        && status.is_success()
                        && let Some(body) = fast_path.project_response(bytes)
                    {
                        return GatewayResponse {
                            status: StatusCode::OK,
                            body,
                        };
                    }
                    executor.root_output(fetch, answer)
                }
                _ => executor.execute(plan, &variables, forwarded).await,
            },
            None => ExecutionOutput {
                data: Value::Object(Map::new()),
                errors: Vec::new(),
            },
        };
        let introspection = Introspection::new(schema, &variables, &self.inner.builtin_directives);
        let projected = Projector::new(schema, &variables, &introspection, &mut errors).project(
            &prepared.operation,
            &prepared.root_type,
            &data,
        );
        GatewayResponse {
            status: StatusCode::OK,
            body: response::body(Some(&projected), &errors),
        }
    }
}
