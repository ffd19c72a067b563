//! Plan execution: walks Sequence/Parallel/Flatten/Fetch/Condition nodes, sends one request
//! per fetch node, and merges the answers into one response tree.

mod dedupe;
mod entities;
mod fetch;
mod merge;
mod pool;
mod rewrites;

pub(crate) use fetch::SubgraphClient;
use fetch::{Sharing, SubgraphResponse};

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::{BoxFuture, join_all};
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{
    BatchFetchNode, FetchNode, FetchRewrite, FlattenNode, FlattenNodePath, PlanNode, QueryPlan,
};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use crate::response::error::{ErrorCode, GraphQLError, PathSegment};
use crate::response::json::{write_str, write_value};
use crate::schema::SchemaIndex;

/// Runs plans against the subgraphs.
#[derive(Debug)]
pub(crate) struct Executor {
    clients: HashMap<String, SubgraphClient>,
    schema: Arc<SchemaIndex>,
}

/// The merged data of all fetches and the errors met on the way.
#[derive(Debug, Default)]
pub(crate) struct ExecutionOutput {
    /// The root object, keyed by the client's response keys.
    pub data: Value,
    /// Subgraph errors (re-pathed) and fetch failures.
    pub errors: Vec<GraphQLError>,
}

/// One `_entities` selection of an entity fetch: where its entities are, how to represent
/// them, and under which key and variable the subgraph sees them.
struct EntityGroup<'p> {
    response_key: &'p str,
    variable: &'p str,
    paths: Vec<&'p FlattenNodePath>,
    requires: &'p SelectionSet,
    input_rewrites: Option<&'p Vec<FetchRewrite>>,
    output_rewrites: Option<&'p Vec<FetchRewrite>>,
}

/// The entities of one group: their serialized, deduplicated representations, and for each
/// response location the representation it maps to.
struct CollectedGroup {
    representations: Vec<u8>,
    count: usize,
    locations: Vec<(Vec<PathSegment>, usize)>,
}

struct Run<'a> {
    executor: &'a Executor,
    variables: &'a Map<String, Value>,
    headers: &'a HeaderMap,
    // Never held across an await: fetches of a Parallel node run concurrently and only
    // take the lock to read representations and to merge their answers.
    state: Mutex<ExecutionOutput>,
}

impl Executor {
    /// An executor over these subgraph clients.
    pub(crate) fn new(clients: HashMap<String, SubgraphClient>, schema: Arc<SchemaIndex>) -> Self {
        Self { clients, schema }
    }

    /// Executes a plan; never fails as a whole: failures become errors beside partial data.
    pub(crate) async fn execute(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
    ) -> ExecutionOutput {
        let run = Run {
            executor: self,
            variables,
            headers,
            state: Mutex::new(ExecutionOutput {
                data: Value::Object(Map::new()),
                errors: Vec::new(),
            }),
        };
        if let Some(node) = &plan.node {
            run_node(&run, node).await;
        }
        run.state.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// The plan's only node when it is one root fetch whose answer needs no rewriting: then the
/// subgraph's response can be projected straight from its bytes.
pub(crate) fn single_root_fetch(plan: &QueryPlan) -> Option<&FetchNode> {
    match plan.node.as_ref()? {
        PlanNode::Fetch(fetch) if fetch.output_rewrites.as_ref().is_none_or(Vec::is_empty) => {
            Some(fetch)
        }
        _ => None,
    }
}

impl Executor {
    /// Sends a root fetch and returns the subgraph's unparsed answer.
    pub(crate) async fn fetch_root_raw(
        &self,
        fetch: &FetchNode,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
    ) -> Result<(StatusCode, Bytes), GraphQLError> {
        let Some(client) = self.clients.get(&fetch.service_name) else {
            return Err(GraphQLError::with_code(
                format!(
                    "The plan refers to unknown subgraph '{}'",
                    fetch.service_name
                ),
                ErrorCode::InternalServerError,
            ));
        };
        client
            .send_raw(
                root_fetch_body(fetch, variables),
                headers,
                Sharing::of(fetch),
            )
            .await
    }

    /// What [`Executor::execute`] would have produced for a plan that is only `fetch`, from the
    /// answer [`Executor::fetch_root_raw`] got.
    pub(crate) fn root_output(
        &self,
        fetch: &FetchNode,
        answer: Result<(StatusCode, Bytes), GraphQLError>,
    ) -> ExecutionOutput {
        let mut output = ExecutionOutput {
            data: Value::Object(Map::new()),
            errors: Vec::new(),
        };
        let response =
            answer.and_then(
                |(status, bytes)| match self.clients.get(&fetch.service_name) {
                    Some(client) => client.parse(status, &bytes),
                    None => Err(GraphQLError::with_code(
                        "unknown subgraph",
                        ErrorCode::InternalServerError,
                    )),
                },
            );
        merge_root_response(&self.schema, fetch, response, &mut output);
        output
    }
}

fn run_node<'a>(run: &'a Run<'a>, node: &'a PlanNode) -> BoxFuture<'a, ()> {
    Box::pin(async move {
        match node {
            PlanNode::Fetch(fetch) => run.root_fetch(fetch).await,
            PlanNode::Flatten(flatten) => run.flatten(flatten).await,
            PlanNode::BatchFetch(batch) => run.batch_fetch(batch).await,
            PlanNode::Sequence(sequence) => {
                for node in &sequence.nodes {
                    run_node(run, node).await;
                }
            }
            PlanNode::Parallel(parallel) => {
                join_all(parallel.nodes.iter().map(|node| run_node(run, node))).await;
            }
            PlanNode::Condition(condition) => {
                let branch = if run.bool_variable(&condition.condition) {
                    condition.if_clause.as_deref()
                } else {
                    condition.else_clause.as_deref()
                };
                if let Some(branch) = branch {
                    run_node(run, branch).await;
                }
            }
            PlanNode::Subscription(_) | PlanNode::Defer(_) => {
                run.push_error(GraphQLError::with_code(
                    "Subscriptions and @defer are not supported",
                    ErrorCode::InternalServerError,
                ));
            }
        }
    })
}

impl Run<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, ExecutionOutput> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_error(&self, error: GraphQLError) {
        self.lock().errors.push(error);
    }

    fn bool_variable(&self, name: &str) -> bool {
        self.variables
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn client(&self, service: &str) -> Option<&SubgraphClient> {
        let client = self.executor.clients.get(service);
        if client.is_none() {
            self.push_error(GraphQLError::with_code(
                format!("The plan refers to unknown subgraph '{service}'"),
                ErrorCode::InternalServerError,
            ));
        }
        client
    }

    async fn root_fetch(&self, fetch: &FetchNode) {
        let Some(client) = self.client(&fetch.service_name) else {
            return;
        };
        let response = client
            .send(
                root_fetch_body(fetch, self.variables),
                self.headers,
                Sharing::of(fetch),
            )
            .await;
        let mut state = self.lock();
        merge_root_response(&self.executor.schema, fetch, response, &mut state);
    }

    async fn flatten(&self, flatten: &FlattenNode) {
        let PlanNode::Fetch(fetch) = flatten.node.as_ref() else {
            self.push_error(GraphQLError::with_code(
                "Unsupported plan: Flatten around a non-fetch node",
                ErrorCode::InternalServerError,
            ));
            return;
        };
        let Some(requires) = &fetch.requires else {
            self.push_error(GraphQLError::with_code(
                "Unsupported plan: entity fetch without requires",
                ErrorCode::InternalServerError,
            ));
            return;
        };
        let group = EntityGroup {
            response_key: "_entities",
            variable: "representations",
            paths: vec![&flatten.path],
            requires,
            input_rewrites: fetch.input_rewrites.as_ref(),
            output_rewrites: fetch.output_rewrites.as_ref(),
        };
        self.entity_fetch(
            &fetch.service_name,
            &fetch.operation.document_str,
            fetch.variable_usages.as_ref(),
            &[group],
        )
        .await;
    }

    async fn batch_fetch(&self, batch: &BatchFetchNode) {
        let groups: Vec<EntityGroup<'_>> = batch
            .entity_batch
            .aliases
            .iter()
            .map(|alias| EntityGroup {
                response_key: &alias.alias,
                variable: &alias.representations_variable_name,
                paths: alias.merge_paths.iter().collect(),
                requires: &alias.requires,
                input_rewrites: alias.input_rewrites.as_ref(),
                output_rewrites: alias.output_rewrites.as_ref(),
            })
            .collect();
        self.entity_fetch(
            &batch.service_name,
            &batch.operation.document_str,
            batch.variable_usages.as_ref(),
            &groups,
        )
        .await;
    }

    fn collect(&self, group: &EntityGroup<'_>) -> CollectedGroup {
        let schema = &self.executor.schema;
        let state = self.lock();
        let mut paths = Vec::new();
        let mut current = Vec::new();
        for path in &group.paths {
            entities::collect_entity_paths(
                schema,
                &state.data,
                path.as_slice(),
                &mut current,
                &mut paths,
            );
        }
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::with_capacity(paths.len());
        let mut collected = CollectedGroup {
            representations: Vec::with_capacity(paths.len() * 48),
            count: 0,
            locations: Vec::with_capacity(paths.len()),
        };
        collected.representations.push(b'[');
        for path in paths {
            let Some(entity) = merge::value_at(&state.data, &path) else {
                continue;
            };
            let Some(mut representation) =
                entities::representation(schema, &group.requires.items, entity)
            else {
                continue;
            };
            rewrites::apply_all(group.input_rewrites, schema, &mut representation);
            let mut serialized = Vec::with_capacity(64);
            write_value(&mut serialized, &representation);
            let index = match seen.get(&serialized) {
                Some(index) => *index,
                None => {
                    let index = collected.count;
                    if index > 0 {
                        collected.representations.push(b',');
                    }
                    collected.representations.extend_from_slice(&serialized);
                    seen.insert(serialized, index);
                    collected.count += 1;
                    index
                }
            };
            collected.locations.push((path, index));
        }
        collected.representations.push(b']');
        collected
    }

    async fn entity_fetch(
        &self,
        service: &str,
        operation: &str,
        usages: Option<&BTreeSet<String>>,
        groups: &[EntityGroup<'_>],
    ) {
        let collected: Vec<CollectedGroup> = groups.iter().map(|g| self.collect(g)).collect();
        if collected.iter().all(|c| c.count == 0) {
            return;
        }
        let Some(client) = self.client(service) else {
            return;
        };
        let mut body = Vec::with_capacity(
            operation.len()
                + collected
                    .iter()
                    .map(|c| c.representations.len())
                    .sum::<usize>()
                + 64,
        );
        body.extend_from_slice(b"{\"query\":");
        write_str(&mut body, operation);
        body.extend_from_slice(b",\"variables\":{");
        for (index, (group, collected)) in groups.iter().zip(&collected).enumerate() {
            if index > 0 {
                body.push(b',');
            }
            write_str(&mut body, group.variable);
            body.push(b':');
            body.extend_from_slice(&collected.representations);
        }
        write_used_variables(self.variables, usages, &mut body, groups.is_empty());
        body.extend_from_slice(b"}}");

        let response = client
            .send(body, self.headers, Sharing::of_operation(operation))
            .await;
        let schema = &self.executor.schema;
        let mut state = self.lock();
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                state.errors.push(error);
                return;
            }
        };
        let mut data = response.data.unwrap_or(Value::Null);
        for (group, collected) in groups.iter().zip(&collected) {
            let mut entities = match data.get_mut(group.response_key).map(Value::take) {
                Some(Value::Array(entities)) => entities,
                _ => Vec::new(),
            };
            for entity in &mut entities {
                rewrites::apply_all(group.output_rewrites, schema, entity);
            }
            // Each representation may stand for several locations; the last one takes
            // ownership, the others a copy.
            let mut remaining = vec![0usize; entities.len()];
            for (_, index) in &collected.locations {
                if let Some(count) = remaining.get_mut(*index) {
                    *count += 1;
                }
            }
            for (path, index) in &collected.locations {
                let Some(entity) = entities.get_mut(*index) else {
                    continue;
                };
                if entity.is_null() {
                    continue;
                }
                remaining[*index] -= 1;
                let entity = if remaining[*index] == 0 {
                    entity.take()
                } else {
                    entity.clone()
                };
                if let Some(target) = merge::value_at_mut(&mut state.data, path) {
                    merge::deep_merge(target, entity);
                }
            }
        }
        for raw in response.errors.unwrap_or_default() {
            let mut error = GraphQLError::from_subgraph(&raw);
            error.path = error
                .path
                .take()
                .and_then(|path| repath(&path, groups, &collected));
            state.errors.push(error);
        }
    }
}

/// Maps `[_entities, i, rest…]` to the client path of the entity behind representation `i`.
fn repath(
    path: &[PathSegment],
    groups: &[EntityGroup<'_>],
    collected: &[CollectedGroup],
) -> Option<Vec<PathSegment>> {
    let (PathSegment::Key(key), PathSegment::Index(index)) = (path.first()?, path.get(1)?) else {
        return None;
    };
    let (_, group) = groups
        .iter()
        .zip(collected)
        .find(|(g, _)| g.response_key == key)?;
    let (location, _) = group.locations.iter().find(|(_, i)| i == index)?;
    let mut repathed = location.clone();
    repathed.extend_from_slice(&path[2..]);
    Some(repathed)
}

/// The body of a root fetch: its operation and the variables it uses.
fn root_fetch_body(fetch: &FetchNode, variables: &Map<String, Value>) -> Vec<u8> {
    let mut body = Vec::with_capacity(fetch.operation.document_str.len() + 64);
    body.extend_from_slice(b"{\"query\":");
    write_str(&mut body, &fetch.operation.document_str);
    body.extend_from_slice(b",\"variables\":{");
    write_used_variables(variables, fetch.variable_usages.as_ref(), &mut body, true);
    body.extend_from_slice(b"}}");
    body
}

/// Merges a root fetch's answer (or its failure) into the response under construction.
fn merge_root_response(
    schema: &SchemaIndex,
    fetch: &FetchNode,
    response: Result<SubgraphResponse, GraphQLError>,
    state: &mut ExecutionOutput,
) {
    match response {
        Err(error) => state.errors.push(error),
        Ok(response) => {
            if let Some(mut data) = response.data {
                rewrites::apply_all(fetch.output_rewrites.as_ref(), schema, &mut data);
                merge::deep_merge(&mut state.data, data);
            }
            for raw in response.errors.unwrap_or_default() {
                state.errors.push(GraphQLError::from_subgraph(&raw));
            }
        }
    }
}

/// Writes `"name":value` for each variable the fetch uses.
fn write_used_variables(
    variables: &Map<String, Value>,
    usages: Option<&BTreeSet<String>>,
    body: &mut Vec<u8>,
    mut first: bool,
) {
    for name in usages.into_iter().flatten() {
        if let Some(value) = variables.get(name) {
            if !first {
                body.push(b',');
            }
            first = false;
            write_str(body, name);
            body.push(b':');
            write_value(body, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hive_router_query_planner::planner::plan_nodes::{
        ConditionNode, FetchNodePathSegment, SubscriptionNode, ValueSetter,
    };
    use serde_json::json;

    use super::*;
    use crate::limits::OperationLimits;
    use crate::plan::{self, PreparedOperation, Supergraph};

    const SUPERGRAPH: &str = include_str!("../../tests/fixtures/supergraph.graphql");

    type Answer = Box<dyn Fn(&Value) -> Value + Send + Sync>;

    /// A subgraph on a random local port answering with `answer`, recording what it received.
    struct FakeSubgraph {
        url: String,
        received: Arc<Mutex<Vec<Value>>>,
    }

    impl FakeSubgraph {
        async fn start(answer: Answer) -> Self {
            let received = Arc::new(Mutex::new(Vec::new()));
            let recorded = received.clone();
            let answer = Arc::new(answer);
            let router = axum::Router::new().route(
                "/graphql",
                axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                    let reply = answer(&body);
                    recorded.lock().expect("recorder lock").push(body);
                    async move { axum::Json(reply) }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a local port");
            let addr = listener.local_addr().expect("local address");
            tokio::spawn(async move { axum::serve(listener, router).await });
            Self {
                url: format!("http://{addr}/graphql"),
                received,
            }
        }

        fn received(&self) -> Vec<Value> {
            self.received.lock().expect("recorder lock").clone()
        }
    }

    /// The fixture supergraph with some subgraphs sent to local fakes, and an executor over it.
    struct Graph {
        supergraph: Supergraph,
        executor: Executor,
    }

    impl Graph {
        fn new(urls: &[(&str, &str)]) -> Self {
            let urls: HashMap<String, String> = urls
                .iter()
                .map(|(graph, url)| ((*graph).to_owned(), (*url).to_owned()))
                .collect();
            let supergraph = Supergraph::parse(SUPERGRAPH, &|graph| urls.get(graph).cloned())
                .expect("the fixture supergraph loads");
            let clients = supergraph
                .subgraphs
                .values()
                .map(|s| {
                    let client =
                        SubgraphClient::new(&s.name, &s.url, Duration::from_secs(5), 4, false)
                            .expect("a subgraph client");
                    (s.name.clone(), client)
                })
                .collect();
            let executor = Executor::new(clients, supergraph.schema.clone());
            Self {
                supergraph,
                executor,
            }
        }

        fn prepare(&self, query: &str) -> PreparedOperation {
            plan::prepare(
                &self.supergraph,
                &plan::validation_plan(),
                &OperationLimits::default(),
                query,
                None,
            )
            .unwrap_or_else(|e| panic!("{query}: {:?}", e.into_graphql_errors()))
        }

        fn plan(&self, query: &str) -> QueryPlan {
            self.prepare(query)
                .plan
                .expect("the operation needs a subgraph")
        }

        async fn run(&self, query: &str, variables: &Value) -> ExecutionOutput {
            let plan = self.plan(query);
            let variables = variables.as_object().cloned().unwrap_or_default();
            self.executor
                .execute(&plan, &variables, &HeaderMap::new())
                .await
        }
    }

    fn the_fetch(plan: &QueryPlan) -> FetchNode {
        match &plan.node {
            Some(PlanNode::Fetch(fetch)) => fetch.clone(),
            other => panic!("expected one fetch, got {other:?}"),
        }
    }

    fn errors_json(errors: &[GraphQLError]) -> Value {
        serde_json::to_value(errors).expect("errors serialize")
    }

    /// The products subgraph answering `topProducts` with these UPCs.
    fn top_products(upcs: &'static [&'static str]) -> Answer {
        Box::new(move |_| {
            let products: Vec<Value> = upcs
                .iter()
                .map(|upc| json!({ "__typename": "Product", "upc": upc }))
                .collect();
            json!({ "data": { "topProducts": products } })
        })
    }

    /// The inventory subgraph: `inStock` is whether the UPC is not `p2`, and `p2` also errors.
    fn inventory() -> Answer {
        Box::new(|body| {
            let representations = body["variables"]["representations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let entities: Vec<Value> = representations
                .iter()
                .map(|r| json!({ "inStock": r["upc"] != "p2" }))
                .collect();
            let errors: Vec<Value> = representations
                .iter()
                .enumerate()
                .filter(|(_, r)| r["upc"] == "p2")
                .map(
                    |(i, _)| json!({ "message": "p2 is odd", "path": ["_entities", i, "inStock"] }),
                )
                .collect();
            json!({ "data": { "_entities": entities }, "errors": errors })
        })
    }

    #[test]
    fn a_plan_of_one_plain_fetch_is_a_single_root_fetch() {
        let graph = Graph::new(&[]);
        let plan = graph.plan(r#"{ product(upc: "p1") { name } }"#);
        assert!(single_root_fetch(&plan).is_some());

        let joined = graph.plan("{ topProducts { inStock } }");
        assert!(matches!(joined.node, Some(PlanNode::Sequence(_))));
        assert!(single_root_fetch(&joined).is_none());

        let empty = QueryPlan {
            kind: "QueryPlan",
            node: None,
        };
        assert!(single_root_fetch(&empty).is_none());
    }

    #[test]
    fn a_root_fetch_with_output_rewrites_is_not_a_single_root_fetch() {
        let graph = Graph::new(&[]);
        let mut fetch = the_fetch(&graph.plan(r#"{ product(upc: "p1") { name } }"#));
        fetch.output_rewrites = Some(vec![FetchRewrite::ValueSetter(ValueSetter {
            path: vec![FetchNodePathSegment::Key("__typename".to_owned())],
            set_value_to: "Product".to_owned(),
        })]);
        let plan = QueryPlan {
            kind: "QueryPlan",
            node: Some(PlanNode::Fetch(fetch.clone())),
        };
        assert!(single_root_fetch(&plan).is_none());

        fetch.output_rewrites = Some(Vec::new());
        let plan = QueryPlan {
            kind: "QueryPlan",
            node: Some(PlanNode::Fetch(fetch)),
        };
        assert!(single_root_fetch(&plan).is_some());
    }

    #[test]
    fn a_root_fetch_body_sends_only_the_variables_the_fetch_uses() {
        let graph = Graph::new(&[]);
        let fetch =
            the_fetch(&graph.plan("query Q($upc: String!) { product(upc: $upc) { name } }"));
        let variables = json!({ "upc": "p1", "unused": 3, "extra": true });
        let body = root_fetch_body(&fetch, variables.as_object().expect("an object"));
        let body: Value = serde_json::from_slice(&body).expect("the body is JSON");
        assert_eq!(body["query"], json!(fetch.operation.document_str));
        assert_eq!(body["variables"], json!({ "upc": "p1" }));
    }

    #[test]
    fn used_variables_that_were_not_provided_are_left_out() {
        let usages: BTreeSet<String> = ["a", "b", "c"].into_iter().map(str::to_owned).collect();
        let variables = json!({ "a": 1, "c": [true] });
        let mut body = b"\"representations\":[]".to_vec();
        write_used_variables(
            variables.as_object().expect("an object"),
            Some(&usages),
            &mut body,
            false,
        );
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#""representations":[],"a":1,"c":[true]"#
        );

        let mut body = Vec::new();
        write_used_variables(
            variables.as_object().expect("an object"),
            None,
            &mut body,
            true,
        );
        assert!(body.is_empty());
    }

    #[test]
    fn root_output_merges_the_data_and_keeps_the_subgraphs_errors() {
        let graph = Graph::new(&[]);
        let fetch = the_fetch(&graph.plan(r#"{ product(upc: "p1") { name } }"#));
        let answer = json!({
            "data": { "product": { "name": "Chair" } },
            "errors": [{ "message": "boom", "path": ["product", "price"], "extensions": { "code": "X" } }]
        });
        let bytes = Bytes::from(serde_json::to_vec(&answer).expect("json"));
        let output = graph
            .executor
            .root_output(&fetch, Ok((StatusCode::OK, bytes)));
        assert_eq!(output.data, json!({ "product": { "name": "Chair" } }));
        assert_eq!(
            errors_json(&output.errors),
            json!([{ "message": "boom", "path": ["product", "price"], "extensions": { "code": "X" } }])
        );
    }

    #[test]
    fn root_output_of_a_failed_fetch_is_the_failure_beside_empty_data() {
        let graph = Graph::new(&[]);
        let fetch = the_fetch(&graph.plan(r#"{ product(upc: "p1") { name } }"#));
        let failure = GraphQLError::with_code("timed out", ErrorCode::SubrequestTimeout);
        let output = graph.executor.root_output(&fetch, Err(failure));
        assert_eq!(output.data, json!({}));
        assert_eq!(
            errors_json(&output.errors),
            json!([{ "message": "timed out", "extensions": { "code": "SUBREQUEST_TIMEOUT" } }])
        );
    }

    #[test]
    fn root_output_refuses_an_answer_that_is_not_a_graphql_response() {
        let graph = Graph::new(&[]);
        let fetch = the_fetch(&graph.plan(r#"{ product(upc: "p1") { name } }"#));
        let output = graph.executor.root_output(
            &fetch,
            Ok((
                StatusCode::BAD_GATEWAY,
                Bytes::from_static(b"<html>down</html>"),
            )),
        );
        assert_eq!(output.data, json!({}));
        assert_eq!(
            errors_json(&output.errors),
            json!([{
                "message": "HTTP fetch failed from 'products': 502 Bad Gateway",
                "extensions": { "code": "SUBREQUEST_FAILED", "serviceName": "products" }
            }])
        );

        // A well-formed GraphQL body is read whatever the status.
        let output = graph.executor.root_output(
            &fetch,
            Ok((
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(br#"{"data":null,"errors":[{"message":"db down"}]}"#),
            )),
        );
        assert_eq!(output.data, json!({}));
        assert_eq!(
            errors_json(&output.errors),
            json!([{ "message": "db down" }])
        );
    }

    #[test]
    fn an_entity_error_is_repathed_to_the_location_of_its_representation() {
        let requires = SelectionSet::default();
        let path: FlattenNodePath = serde_json::from_value(json!([])).expect("an empty path");
        let groups = [EntityGroup {
            response_key: "_entities",
            variable: "representations",
            paths: vec![&path],
            requires: &requires,
            input_rewrites: None,
            output_rewrites: None,
        }];
        let location = |segments: Value| -> Vec<PathSegment> {
            segments
                .as_array()
                .expect("a path")
                .iter()
                .map(|s| match s {
                    Value::String(k) => PathSegment::Key(k.clone()),
                    other => PathSegment::Index(
                        usize::try_from(other.as_u64().expect("an index")).expect("small"),
                    ),
                })
                .collect()
        };
        let collected = [CollectedGroup {
            representations: Vec::new(),
            count: 2,
            locations: vec![
                (location(json!(["topProducts", 0])), 0),
                (location(json!(["topProducts", 1])), 1),
                (location(json!(["topProducts", 2])), 0),
            ],
        }];
        let repathed = repath(
            &location(json!(["_entities", 1, "inStock"])),
            &groups,
            &collected,
        );
        assert_eq!(
            repathed,
            Some(location(json!(["topProducts", 1, "inStock"])))
        );
        // A shared representation points at its first location.
        let repathed = repath(&location(json!(["_entities", 0])), &groups, &collected);
        assert_eq!(repathed, Some(location(json!(["topProducts", 0]))));

        for unmapped in [
            json!(["_entities", 5, "inStock"]),
            json!(["other", 0]),
            json!(["_entities"]),
            json!([0, "_entities"]),
        ] {
            assert_eq!(
                repath(&location(unmapped.clone()), &groups, &collected),
                None,
                "{unmapped}"
            );
        }
    }

    #[tokio::test]
    async fn entities_are_fetched_once_per_distinct_representation_and_merged_everywhere() {
        let products = FakeSubgraph::start(top_products(&["p1", "p3", "p1"])).await;
        let inventory = FakeSubgraph::start(inventory()).await;
        let graph = Graph::new(&[("PRODUCTS", &products.url), ("INVENTORY", &inventory.url)]);

        let output = graph
            .run("{ topProducts { upc inStock } }", &json!({}))
            .await;

        assert_eq!(output.errors.len(), 0, "{:?}", output.errors);
        assert_eq!(
            output.data,
            json!({ "topProducts": [
                { "__typename": "Product", "upc": "p1", "inStock": true },
                { "__typename": "Product", "upc": "p3", "inStock": true },
                { "__typename": "Product", "upc": "p1", "inStock": true }
            ] })
        );
        let sent = inventory.received();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0]["variables"]["representations"],
            json!([
                { "__typename": "Product", "upc": "p1" },
                { "__typename": "Product", "upc": "p3" }
            ])
        );
    }

    #[tokio::test]
    async fn entity_errors_reach_the_client_at_the_entitys_response_path() {
        let products = FakeSubgraph::start(top_products(&["p1", "p2"])).await;
        let inventory = FakeSubgraph::start(inventory()).await;
        let graph = Graph::new(&[("PRODUCTS", &products.url), ("INVENTORY", &inventory.url)]);

        let output = graph.run("{ topProducts { inStock } }", &json!({})).await;

        assert_eq!(
            errors_json(&output.errors),
            json!([{ "message": "p2 is odd", "path": ["topProducts", 1, "inStock"] }])
        );
    }

    #[tokio::test]
    async fn no_entity_fetch_is_sent_when_the_path_reaches_no_entity() {
        let products = FakeSubgraph::start(top_products(&[])).await;
        let inventory = FakeSubgraph::start(inventory()).await;
        let graph = Graph::new(&[("PRODUCTS", &products.url), ("INVENTORY", &inventory.url)]);

        let output = graph.run("{ topProducts { inStock } }", &json!({})).await;

        assert_eq!(output.data, json!({ "topProducts": [] }));
        assert!(output.errors.is_empty());
        assert_eq!(products.received().len(), 1);
        assert!(inventory.received().is_empty());
    }

    #[tokio::test]
    async fn a_null_or_missing_entity_in_the_answer_leaves_its_location_as_it_was() {
        let products = FakeSubgraph::start(top_products(&["p1", "p3"])).await;
        let inventory =
            FakeSubgraph::start(Box::new(|_| json!({ "data": { "_entities": [null] } }))).await;
        let graph = Graph::new(&[("PRODUCTS", &products.url), ("INVENTORY", &inventory.url)]);

        let output = graph
            .run("{ topProducts { upc inStock } }", &json!({}))
            .await;

        assert_eq!(
            output.data,
            json!({ "topProducts": [
                { "__typename": "Product", "upc": "p1" },
                { "__typename": "Product", "upc": "p3" }
            ] })
        );
    }

    #[tokio::test]
    async fn a_failed_entity_fetch_keeps_the_root_data_and_reports_the_failure() {
        let products = FakeSubgraph::start(top_products(&["p1"])).await;
        // Nothing listens on a port that was just free.
        let down = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            format!("http://{}/graphql", listener.local_addr().expect("addr"))
        };
        let graph = Graph::new(&[("PRODUCTS", &products.url), ("INVENTORY", &down)]);

        let output = graph
            .run("{ topProducts { upc inStock } }", &json!({}))
            .await;

        assert_eq!(
            output.data,
            json!({ "topProducts": [{ "__typename": "Product", "upc": "p1" }] })
        );
        assert_eq!(
            errors_json(&output.errors),
            json!([{
                "message": "HTTP fetch failed from 'inventory': connection failed",
                "extensions": { "code": "SUBREQUEST_FAILED", "serviceName": "inventory" }
            }])
        );
    }

    #[tokio::test]
    async fn a_plan_naming_an_unknown_subgraph_fails_with_an_internal_error() {
        let graph = Graph::new(&[]);
        let plan = graph.plan(r#"{ product(upc: "p1") { name } }"#);
        let executor = Executor::new(HashMap::new(), graph.supergraph.schema.clone());
        let output = executor
            .execute(&plan, &Map::new(), &HeaderMap::new())
            .await;
        assert_eq!(output.data, json!({}));
        assert_eq!(
            errors_json(&output.errors),
            json!([{
                "message": "The plan refers to unknown subgraph 'products'",
                "extensions": { "code": "INTERNAL_SERVER_ERROR" }
            }])
        );
    }

    #[tokio::test]
    async fn a_condition_node_runs_the_branch_its_variable_selects() {
        let products = FakeSubgraph::start(Box::new(
            |_| json!({ "data": { "product": { "name": "Chair" } } }),
        ))
        .await;
        let graph = Graph::new(&[("PRODUCTS", &products.url)]);
        let fetch = the_fetch(&graph.plan(r#"{ product(upc: "p1") { name } }"#));
        let plan = QueryPlan {
            kind: "QueryPlan",
            node: Some(PlanNode::Condition(ConditionNode {
                condition: "withProduct".to_owned(),
                if_clause: Some(Box::new(PlanNode::Fetch(fetch))),
                else_clause: None,
            })),
        };
        let headers = HeaderMap::new();

        for (variables, expected) in [
            (
                json!({ "withProduct": true }),
                json!({ "product": { "name": "Chair" } }),
            ),
            (json!({ "withProduct": false }), json!({})),
            // A missing or non-boolean condition counts as false.
            (json!({ "withProduct": "yes" }), json!({})),
            (json!({}), json!({})),
        ] {
            let variables = variables.as_object().cloned().unwrap_or_default();
            let output = graph.executor.execute(&plan, &variables, &headers).await;
            assert_eq!(output.data, expected, "{variables:?}");
        }
        assert_eq!(products.received().len(), 1);
    }

    #[tokio::test]
    async fn subscription_nodes_are_refused_without_a_fetch() {
        let products = FakeSubgraph::start(top_products(&[])).await;
        let graph = Graph::new(&[("PRODUCTS", &products.url)]);
        let fetch = the_fetch(&graph.plan(r#"{ product(upc: "p1") { name } }"#));
        let plan = QueryPlan {
            kind: "QueryPlan",
            node: Some(PlanNode::Subscription(SubscriptionNode { primary: fetch })),
        };
        let output = graph
            .executor
            .execute(&plan, &Map::new(), &HeaderMap::new())
            .await;
        assert_eq!(output.errors.len(), 1);
        assert_eq!(
            output.errors[0].message,
            "Subscriptions and @defer are not supported"
        );
        assert!(products.received().is_empty());
    }
}
