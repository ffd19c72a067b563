//! The gateway: one loaded supergraph, its planner, plan cache and subgraph clients, and the
//! request pipeline from a GraphQL request to a response body.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use graphql_tools::static_graphql::schema::DirectiveDefinition;
use graphql_tools::validation::validate::ValidationPlan;
use hive_router_query_planner::state::supergraph_state::OperationKind;
use http::{HeaderMap, StatusCode};
use quickmart_shared::cache::CacheSettings;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::execute::{self, ExecutionOutput, Executor, SubgraphClient};
use crate::introspection::{self, Introspection};
use crate::persisted::{Document, PersistedDocuments, PersistedError};
use crate::plan::{
    self, KeyKind, PlanCache, PlanCacheLimits, Planned, PreparedOperation, Supergraph,
};
use crate::response::error::{ErrorCode, GraphQLError};
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
    /// A persisted document's id, `sha256:<hex>`, instead of `query`.
    #[serde(default)]
    pub document_id: Option<String>,
    /// Variable values (an object, or null).
    #[serde(default)]
    pub variables: Option<Value>,
    /// Protocol extensions (`persistedQuery` is read; others are accepted and unused).
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// How the request arrived: mutations are refused over GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMethod {
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
    /// The request was well formed but its document or variables failed (parse, validation, limits, variable
    /// coercion): `application/json` answers that 200, `application/graphql-response+json` with `status`.
    pub document_error: bool,
}

impl GatewayResponse {
    /// A response with errors only (a request error: no `data`).
    pub fn request_error(status: StatusCode, errors: &[GraphQLError]) -> Self {
        Self {
            status,
            body: response::body(None, errors),
            document_error: false,
        }
    }

    /// A 400 for a well-formed request whose document or variables failed.
    pub fn document_error(errors: &[GraphQLError]) -> Self {
        Self {
            document_error: true,
            ..Self::request_error(StatusCode::BAD_REQUEST, errors)
        }
    }

    /// A result (`data`, perhaps with errors).
    fn result(body: Vec<u8>) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            document_error: false,
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
    persisted: PersistedDocuments,
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
                    config.dedupe,
                )
                .map(|client| (s.name.clone(), client))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let executor = Executor::new(clients, supergraph.schema.clone());
        let cache = config
            .cache
            .as_ref()
            .map(CacheSettings::connect)
            .transpose()
            .map_err(|e| GatewayError::Config {
                name: "REDIS_URL",
                reason: e.to_string(),
            })?;
        let persisted = PersistedDocuments::new(
            config.persisted_manifest.as_deref(),
            config.persisted_only,
            cache,
            config.apq_ttl,
        )?;
        let gateway = Self {
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
                persisted,
                metrics: RequestMetrics {
                    ok: metrics::counter!("gateway_graphql_requests_total", "outcome" => "ok"),
                    rejected: metrics::counter!("gateway_graphql_requests_total", "outcome" => "rejected"),
                    duration: metrics::histogram!("gateway_graphql_request_duration_seconds"),
                },
            }),
        };
        gateway.check_manifest()?;
        Ok(gateway)
    }

    /// Every trusted document must prepare (parse, validate, pass the limits): a manifest that cannot run is
    /// refused at start, not on a client's first request.
    fn check_manifest(&self) -> Result<(), GatewayError> {
        let inner = &self.inner;
        for (id, body) in inner.persisted.manifest() {
            if let Err(error) = plan::prepare(
                &inner.supergraph,
                &inner.validation,
                &inner.config.limits,
                body,
                None,
            ) {
                let reason = error
                    .into_graphql_errors()
                    .first()
                    .map_or_else(String::new, |e| e.message.clone());
                return Err(GatewayError::Config {
                    name: "GATEWAY_PERSISTED_MANIFEST",
                    reason: format!("operation {id} cannot run: {reason}"),
                });
            }
        }
        Ok(())
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

    /// The cached preparation of a text, or a new one. A new text is parsed and validated; it is normalized
    /// and planned only when its shape (the text with its literal arguments lifted into variables) is new too.
    async fn prepared(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<Planned>, Vec<GraphQLError>> {
        if let Some(planned) = self.inner.plans.get(KeyKind::Text, query, operation_name) {
            metrics::counter!("gateway_plan_cache_hits_total").increment(1);
            return Ok(planned);
        }
        metrics::counter!("gateway_plan_cache_misses_total").increment(1);
        // Preparation is CPU work bounded by the limits, up to milliseconds for the largest admitted
        // document: it runs on the blocking pool so an async worker never stalls on it.
        let gateway = self.clone();
        let (query, operation_name) = (query.to_owned(), operation_name.map(str::to_owned));
        let prepared = tokio::task::spawn_blocking(move || {
            let planned = gateway
                .prepare_text(&query, operation_name.as_deref())
                .map_err(plan::PrepareError::into_graphql_errors)?;
            let planned = Arc::new(planned);
            gateway.inner.plans.insert(
                KeyKind::Text,
                &query,
                operation_name.as_deref(),
                planned.clone(),
            );
            Ok(planned)
        })
        .await;
        prepared.unwrap_or_else(|_| {
            Err(vec![GraphQLError::with_code(
                "The operation could not be prepared",
                ErrorCode::InternalServerError,
            )])
        })
    }

    /// Checks a text and plans its shape, or finds the shape planned already.
    fn prepare_text(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Planned, plan::PrepareError> {
        let inner = &self.inner;
        let (supergraph, limits) = (&inner.supergraph, &inner.config.limits);
        let checked = plan::check(supergraph, &inner.validation, limits, query, operation_name)?;
        let inline = || {
            plan::plan(
                supergraph,
                limits,
                checked.document(),
                operation_name,
                checked.shape(),
            )
        };
        let Some(lifted) = checked.lift(supergraph) else {
            return Ok(Planned::new(Arc::new(inline()?)));
        };
        let specialize = |operation: Arc<PreparedOperation>| {
            // With no variable of the client's own, the cost depends on the literals alone: checked once, here.
            let cost_settled = operation
                .operation
                .variable_definitions
                .iter()
                .flatten()
                .all(|v| v.name.starts_with(plan::LITERAL_PREFIX));
            if cost_settled {
                operation.check_cost(&supergraph.schema, limits, &lifted.values)?;
            }
            let plan = operation
                .plan
                .as_ref()
                .map(|plan| plan::inline_literals(plan, &lifted.literals));
            Ok::<_, plan::PrepareError>(Planned {
                operation,
                plan,
                literals: lifted.values.clone(),
                cost_settled,
            })
        };
        if let Some(shape) = inner
            .plans
            .get(KeyKind::Shape, &lifted.text, operation_name)
        {
            metrics::counter!("gateway_plan_cache_shape_hits_total").increment(1);
            return specialize(shape.operation.clone());
        }
        match plan::plan(
            supergraph,
            limits,
            &lifted.document,
            operation_name,
            checked.shape(),
        ) {
            Ok(operation) => {
                let operation = Arc::new(operation);
                inner.plans.insert(
                    KeyKind::Shape,
                    &lifted.text,
                    operation_name,
                    Arc::new(Planned::new(operation.clone())),
                );
                specialize(operation)
            }
            // The lifted document means the same as the text: when the text is refused too, that is the answer;
            // when only the lifted document is, the text is planned as written and the planner's gap logged.
            Err(shape_error) => {
                let operation = inline()?;
                tracing::warn!(error = %shape_error, "an operation with its literals lifted could not be planned; it was planned as written");
                Ok(Planned::new(Arc::new(operation)))
            }
        }
    }

    /// Runs one GraphQL request end to end; `forwarded` are the headers subgraphs receive.
    pub async fn execute(
        &self,
        request: GraphQLRequest,
        transport: RequestMethod,
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
        transport: RequestMethod,
        forwarded: &HeaderMap,
    ) -> GatewayResponse {
        let document = match self.inner.persisted.resolve(&request).await {
            Ok(document) => document,
            Err(error) => return persisted_error(&error),
        };
        let Some(query) = document.text().filter(|q| !q.trim().is_empty()) else {
            return GatewayResponse::request_error(
                StatusCode::BAD_REQUEST,
                &[GraphQLError::with_code(
                    "Must provide query string.",
                    ErrorCode::BadRequest,
                )],
            );
        };
        let operation_name = request.operation_name.as_deref().filter(|n| !n.is_empty());
        let planned = match self.prepared(query, operation_name).await {
            Ok(planned) => planned,
            Err(errors) => return GatewayResponse::document_error(&errors),
        };
        let prepared = &planned.operation;
        if let Document::Register { hash, text } = &document {
            self.inner.persisted.register(hash.clone(), text).await;
        }
        // A subgraph verifies the token of every operation it serves; an operation no subgraph serves
        // (`__typename`, introspection) is verified here, so a bad token is refused whatever is asked.
        if planned.plan().is_none()
            && let Some(verifier) = &self.inner.config.jwt_verifier
            && let Err(error) = verifier.authenticate(forwarded)
        {
            return GatewayResponse::request_error(
                StatusCode::OK,
                &[GraphQLError::with_code(
                    error.public_message(),
                    error.code(),
                )],
            );
        }
        if prepared.introspects && !self.inner.config.introspection {
            return GatewayResponse::document_error(&[GraphQLError::with_code(
                "Introspection is disabled on this gateway (`__typename` is still answered)",
                ErrorCode::IntrospectionDisabled,
            )]);
        }
        if transport == RequestMethod::Get && prepared.kind != OperationKind::Query {
            return GatewayResponse::request_error(
                StatusCode::METHOD_NOT_ALLOWED,
                &[GraphQLError::with_code(
                    "Mutations cannot be sent over GET; use POST",
                    ErrorCode::MethodNotAllowed,
                )],
            );
        }
        let mut provided = match request.variables {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return GatewayResponse::request_error(
                    StatusCode::BAD_REQUEST,
                    &[GraphQLError::with_code(
                        "Variables must be an object",
                        ErrorCode::BadRequest,
                    )],
                );
            }
        };
        // A lifted literal is the text's own value: it replaces anything sent under its name.
        provided.extend(
            planned
                .literals
                .iter()
                .map(|(name, value)| (name.clone(), value.clone())),
        );
        let variables = match variables::coerce(&prepared.operation, provided) {
            Ok(variables) => variables,
            Err(errors) => return GatewayResponse::document_error(&errors),
        };
        if !planned.cost_settled
            && let Err(limit) = prepared.check_cost(
                &self.inner.supergraph.schema,
                &self.inner.config.limits,
                &variables,
            )
        {
            return GatewayResponse::document_error(&[limit.into_graphql_error()]);
        }

        let schema = &self.inner.supergraph.schema;
        let executor = &self.inner.executor;
        let ExecutionOutput { data, mut errors } = match planned.plan() {
            Some(plan) => match (execute::single_root_fetch(plan), &prepared.fast_path) {
                (Some(fetch), Some(fast_path)) => {
                    let answer = executor.fetch_root_raw(fetch, &variables, forwarded).await;
                    if let Ok((status, bytes)) = &answer
                        && status.is_success()
                        && let Some(body) = fast_path.project_response(bytes)
                    {
                        return GatewayResponse::result(body);
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
        GatewayResponse::result(response::body(Some(&projected), &errors))
    }
}

/// The client error for a persisted document that cannot be used.
fn persisted_error(error: &PersistedError) -> GatewayResponse {
    let (code, status) = match error {
        // Under `application/json` a 200, as Apollo's clients expect before they send the document.
        PersistedError::NotFound => {
            return GatewayResponse::document_error(&[GraphQLError::with_code(
                error.to_string(),
                ErrorCode::PersistedQueryNotFound,
            )]);
        }
        PersistedError::HashMismatch => (
            ErrorCode::PersistedQueryHashMismatch,
            StatusCode::BAD_REQUEST,
        ),
        PersistedError::Required => (
            ErrorCode::PersistedDocumentRequired,
            StatusCode::BAD_REQUEST,
        ),
        PersistedError::Malformed(_) => (ErrorCode::BadRequest, StatusCode::BAD_REQUEST),
    };
    GatewayResponse::request_error(status, &[GraphQLError::with_code(error.to_string(), code)])
}

#[cfg(test)]
mod differential_tests {
    //! The single-fetch fast path claims to write byte for byte what the general path writes whenever it
    //! succeeds. This runs both on the same subgraph answers, for many generated operations and answers
    //! (well-formed, reordered, with nulls, missing or extra keys, wrong types, errors), and compares.

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use serde_json::{Value, json};

    use super::*;

    const SUPERGRAPH: &str = include_str!("../tests/fixtures/supergraph.graphql");
    /// Product fields of the products subgraph, with a value generator each.
    const FIELDS: [&str; 5] = ["upc", "name", "price", "weight", "__typename"];

    fn value_of(field: &str, rng: &mut StdRng) -> Value {
        match field {
            "upc" | "name" => json!(format!("p{}", rng.random_range(0..100))),
            "price" | "weight" => json!(rng.random_range(0..5000)),
            _ => json!("Product"),
        }
    }

    /// A selection over products: fields, aliases, repeats; returns the document text and the response keys
    /// with the field each names.
    fn selection(rng: &mut StdRng) -> (String, Vec<(String, &'static str)>) {
        let mut text = String::new();
        let mut keys: Vec<(String, &'static str)> = Vec::new();
        for _ in 0..rng.random_range(1..6) {
            let field = FIELDS[rng.random_range(0..FIELDS.len())];
            let key = if rng.random_bool(0.3) && field != "__typename" {
                format!("a{}", rng.random_range(0..3))
            } else {
                field.to_owned()
            };
            // One key always names one field: a clash would be a validation error, not a projection case.
            if keys.iter().any(|(k, f)| *k == key && *f != field) {
                continue;
            }
            text.push_str(&if key == field {
                field.to_owned()
            } else {
                format!("{key}: {field}")
            });
            text.push(' ');
            if !keys.iter().any(|(k, _)| *k == key) {
                keys.push((key, field));
            }
        }
        (text, keys)
    }

    /// An answer for objects with `keys`, sometimes broken.
    fn object(keys: &[(String, &'static str)], rng: &mut StdRng) -> Value {
        let mut entries: Vec<(String, Value)> = keys
            .iter()
            .map(|(key, field)| (key.clone(), value_of(field, rng)))
            .collect();
        match rng.random_range(0..10) {
            0 => entries.reverse(),
            1 if !entries.is_empty() => {
                entries.remove(0);
            }
            2 if !entries.is_empty() => entries[0].1 = Value::Null,
            3 => entries.push(("extra".to_owned(), json!(1))),
            4 if !entries.is_empty() => entries[0].1 = json!({ "nested": true }),
            _ => {}
        }
        Value::Object(entries.into_iter().collect())
    }

    #[tokio::test]
    async fn the_fast_path_writes_what_the_general_path_writes() {
        let gateway =
            Gateway::from_supergraph_sdl(SUPERGRAPH, GatewayConfig::default()).expect("gateway");
        let inner = &gateway.inner;
        let mut rng = StdRng::seed_from_u64(0xfa57_2026);
        let (mut compared, mut fell_back) = (0, 0);
        for _ in 0..600 {
            let (text, keys) = selection(&mut rng);
            let (query, root_key, list) = if rng.random_bool(0.5) {
                (
                    format!("{{ topProducts(first: 3) {{ {text} }} }}"),
                    "topProducts",
                    true,
                )
            } else {
                (
                    format!("{{ product(upc: \"p1\") {{ {text} }} }}"),
                    "product",
                    false,
                )
            };
            let prepared = plan::prepare(
                &inner.supergraph,
                &inner.validation,
                &inner.config.limits,
                &query,
                None,
            )
            .unwrap_or_else(|e| panic!("{query}: {:?}", e.into_graphql_errors()));
            let (Some(plan), Some(fast_path)) = (&prepared.plan, &prepared.fast_path) else {
                continue;
            };
            let Some(fetch) = execute::single_root_fetch(plan) else {
                continue;
            };
            let data = if list {
                Value::Array(
                    (0..rng.random_range(0..4))
                        .map(|_| object(&keys, &mut rng))
                        .collect(),
                )
            } else if rng.random_bool(0.2) {
                Value::Null
            } else {
                object(&keys, &mut rng)
            };
            let mut answer = json!({ "data": { root_key: data } });
            if rng.random_bool(0.1) {
                answer["errors"] = json!([{ "message": "boom", "path": [root_key] }]);
            }
            let bytes = bytes::Bytes::from(serde_json::to_vec(&answer).expect("json"));

            let general = {
                let variables = Map::new();
                let ExecutionOutput { data, mut errors } = inner
                    .executor
                    .root_output(fetch, Ok((StatusCode::OK, bytes.clone())));
                let introspection = Introspection::new(
                    &inner.supergraph.schema,
                    &variables,
                    &inner.builtin_directives,
                );
                let projected = Projector::new(
                    &inner.supergraph.schema,
                    &variables,
                    &introspection,
                    &mut errors,
                )
                .project(&prepared.operation, &prepared.root_type, &data);
                response::body(Some(&projected), &errors)
            };
            match fast_path.project_response(&bytes) {
                Some(fast) => {
                    compared += 1;
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&general),
                        "{query} answered {answer}"
                    );
                }
                None => fell_back += 1,
            }
        }
        // Both outcomes must have been exercised for the comparison to mean anything.
        assert!(
            compared > 100 && fell_back > 50,
            "compared {compared}, fell back {fell_back}"
        );
    }
}
