//! From a client document to an executable plan: parse, limits, validation, normalization,
//! query planning, and the bounded cache that lets repeated operations skip all of it.

mod cache;
mod field_merge;
mod literals;
mod supergraph;

pub(crate) use cache::{KeyKind, PlanCache, PlanCacheLimits, Planned};
pub(crate) use literals::{Lifted, PREFIX as LITERAL_PREFIX, inline as inline_literals};
pub(crate) use supergraph::Supergraph;

use graphql_tools::parser::query::{Definition, OperationDefinition as ClientOperation};
use graphql_tools::static_graphql::query::Document as ClientDocument;
use graphql_tools::validation::{rules::default_rules_validation_plan, validate::ValidationPlan};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::plan_nodes::QueryPlan;
use hive_router_query_planner::state::supergraph_state::OperationKind;
use hive_router_query_planner::utils::cancellation::CancellationToken;

use crate::limits::{self, LimitExceeded, OperationLimits, Shape};
use crate::response::error::{ErrorCode, GraphQLError};
use crate::response::fast_path::FastPath;

/// An operation ready to execute: the normalized client operation (what to project) and its
/// plan (what to fetch). Shared by every request with the same document and operation name.
#[derive(Debug)]
pub(crate) struct PreparedOperation {
    /// Query, mutation or subscription.
    pub kind: OperationKind,
    /// The normalized client operation: fragments inlined, `@skip`/`@include` as variable names.
    pub operation: OperationDefinition,
    /// The plan; `None` when nothing needs a subgraph (only `__typename` or introspection).
    pub plan: Option<QueryPlan>,
    /// The root type of the operation in the API schema.
    pub root_type: String,
    /// Set when the plan is one root fetch whose answer can be projected while it is parsed.
    pub fast_path: Option<FastPath>,
    /// What the client operation expands to (its size bounds what this entry holds).
    pub shape: Shape,
    /// The estimated cost; when a variable sizes a list it is estimated again per request.
    pub cost: limits::cost::Estimate,
    /// Whether it asks `__schema` or `__type` (refused while introspection is off).
    pub introspects: bool,
}

impl PreparedOperation {
    /// Refuses the operation when its estimated cost with these variables is over the budget. Without
    /// variables that size a list the estimate never changes, and preparation already checked it.
    pub(crate) fn check_cost(
        &self,
        schema: &crate::schema::SchemaIndex,
        limits: &OperationLimits,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), LimitExceeded> {
        if !self.cost.uses_variables {
            return Ok(());
        }
        let cost = limits::cost::estimate(
            schema,
            &self.operation.selection_set,
            &self.root_type,
            variables,
            limits.default_list_size,
        );
        LimitExceeded::check("cost", cost.cost, limits.max_cost)
    }
}

/// Why an operation could not be prepared; each maps to one client error code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PrepareError {
    /// The document does not parse.
    #[error("{0}")]
    Parse(String),
    /// A limit is exceeded.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    /// The document is invalid against the API schema.
    #[error("validation failed")]
    Validation(Vec<GraphQLError>),
    /// The planner could not plan a valid operation (a gateway bug or unsupported feature); the cause is
    /// logged, never sent.
    #[error("the query planner failed: {0}")]
    Plan(String),
}

impl PrepareError {
    /// The errors to send to the client.
    pub(crate) fn into_graphql_errors(self) -> Vec<GraphQLError> {
        match self {
            Self::Parse(message) => vec![GraphQLError::with_code(
                message,
                ErrorCode::GraphqlParseFailed,
            )],
            Self::Limit(limit) => vec![limit.into_graphql_error()],
            Self::Validation(errors) => errors,
            Self::Plan(cause) => {
                tracing::error!(%cause, "the query planner could not plan a valid operation");
                vec![GraphQLError::with_code(
                    "The operation could not be planned",
                    ErrorCode::InternalServerError,
                )]
            }
        }
    }
}

/// A document that passed the limits and validation, ready to plan.
pub(crate) struct Checked {
    /// The parsed document.
    document: ClientDocument,
    /// Which definition is the operation to run.
    operation: usize,
    /// The root type of that operation, when the schema has one.
    root_type: Option<String>,
    /// What the operation expands to.
    shape: Shape,
}

impl Checked {
    /// The parsed document.
    pub(crate) fn document(&self) -> &ClientDocument {
        &self.document
    }

    /// What the operation expands to.
    pub(crate) fn shape(&self) -> Shape {
        self.shape
    }

    /// The same operation with its literal arguments lifted into variables (see [`literals`]); `None` when
    /// it has none.
    pub(crate) fn lift(&self, supergraph: &Supergraph) -> Option<Lifted> {
        literals::lift(
            &supergraph.schema,
            &self.document,
            self.operation,
            self.root_type.as_deref()?,
        )
    }
}

/// Runs the whole preparation pipeline for one document, literals kept inline.
pub(crate) fn prepare(
    supergraph: &Supergraph,
    validation: &ValidationPlan,
    limits: &OperationLimits,
    query: &str,
    operation_name: Option<&str>,
) -> Result<PreparedOperation, PrepareError> {
    let checked = check(supergraph, validation, limits, query, operation_name)?;
    plan(
        supergraph,
        limits,
        &checked.document,
        operation_name,
        checked.shape,
    )
}

/// Parses a document and checks it against the limits and the API schema. Every pass after the token scan
/// and the shape measurement sees a document those have bounded, so its cost is bounded by the limits, not
/// the input.
pub(crate) fn check(
    supergraph: &Supergraph,
    validation: &ValidationPlan,
    limits: &OperationLimits,
    query: &str,
    operation_name: Option<&str>,
) -> Result<Checked, PrepareError> {
    let tokens = limits::scan(query);
    LimitExceeded::check("tokens", tokens.tokens, limits.max_tokens)?;
    LimitExceeded::check("nesting", tokens.nesting, limits.max_nesting)?;
    let document: ClientDocument = graphql_tools::parser::parse_query::<String>(query)
        .map_err(|e| PrepareError::Parse(e.to_string().trim().to_owned()))?
        .into_static();
    let (operation_index, operation) = select_operation(&document, operation_name)?;
    let selection_set = operation_selection_set(operation);
    let shape = limits::measure(&document, selection_set, limits).map_err(|e| match e {
        limits::MeasureError::Limit(limit) => PrepareError::Limit(limit),
        cycle @ limits::MeasureError::Cycle(_) => {
            PrepareError::Validation(vec![GraphQLError::with_code(
                cycle.to_string(),
                ErrorCode::GraphqlValidationFailed,
            )])
        }
    })?;
    shape.check(limits)?;

    let validation_errors = graphql_tools::validation::validate::validate(
        &supergraph.schema.document,
        &document,
        validation,
    );
    if !validation_errors.is_empty() {
        return Err(PrepareError::Validation(
            validation_errors
                .into_iter()
                .map(|e| {
                    let mut error =
                        GraphQLError::with_code(e.message, ErrorCode::GraphqlValidationFailed);
                    error.locations = Some(
                        e.locations
                            .iter()
                            .map(|l| serde_json::json!({"line": l.line, "column": l.column}))
                            .collect(),
                    );
                    error
                })
                .collect(),
        ));
    }
    let root_type = match operation {
        ClientOperation::Mutation(_) => supergraph.schema.mutation_type.as_deref(),
        ClientOperation::Subscription(_) => supergraph.schema.subscription_type.as_deref(),
        ClientOperation::Query(_) | ClientOperation::SelectionSet(_) => {
            Some(supergraph.schema.query_type.as_str())
        }
    };
    if let Some(root_type) = root_type {
        // Abstract-type fields are revisited once per concrete parent; a few times the expansion is plenty.
        let max_work = limits.max_selections.saturating_mul(8);
        let conflicts = field_merge::check(
            &supergraph.schema,
            &document,
            selection_set,
            root_type,
            max_work,
        )?;
        if !conflicts.is_empty() {
            return Err(PrepareError::Validation(conflicts));
        }
    }
    let root_type = root_type.map(str::to_owned);
    Ok(Checked {
        document,
        operation: operation_index,
        root_type,
        shape,
    })
}

/// Normalizes and plans a checked document (or its lifted shape): `shape` is what the checked document
/// expands to.
pub(crate) fn plan(
    supergraph: &Supergraph,
    limits: &OperationLimits,
    document: &ClientDocument,
    operation_name: Option<&str>,
    shape: Shape,
) -> Result<PreparedOperation, PrepareError> {
    let normalized = normalize_operation(&supergraph.planner.supergraph, document, operation_name)
        .map_err(|e| {
            PrepareError::Validation(vec![GraphQLError::with_code(
                e.to_string(),
                ErrorCode::GraphqlValidationFailed,
            )])
        })?;
    let operation = normalized.operation;
    let kind = operation
        .operation_kind
        .clone()
        .unwrap_or(OperationKind::Query);
    let root_type = match kind {
        OperationKind::Query => Some(supergraph.schema.query_type.clone()),
        OperationKind::Mutation => supergraph.schema.mutation_type.clone(),
        OperationKind::Subscription => supergraph.schema.subscription_type.clone(),
    }
    .ok_or_else(|| {
        PrepareError::Validation(vec![GraphQLError::with_code(
            "The schema has no root type for this operation",
            ErrorCode::GraphqlValidationFailed,
        )])
    })?;
    if kind == OperationKind::Subscription {
        return Err(PrepareError::Validation(vec![GraphQLError::with_code(
            "Subscriptions are not supported by this gateway",
            ErrorCode::GraphqlValidationFailed,
        )]));
    }

    let cost = limits::cost::estimate(
        &supergraph.schema,
        &operation.selection_set,
        &root_type,
        &serde_json::Map::new(),
        limits.default_list_size,
    );
    if !cost.uses_variables {
        LimitExceeded::check("cost", cost.cost, limits.max_cost)?;
    }

    // `__schema` and `__type` exist only on the query root, and normalization inlines fragments, so the root's
    // own fields tell.
    let introspects = operation.selection_set.items.iter().any(
        |item| matches!(item, SelectionItem::Field(f) if f.name == "__schema" || f.name == "__type"),
    );
    // Introspection is answered locally; the planner only sees fields a subgraph serves.
    let mut plannable = operation.clone();
    plannable
        .selection_set
        .items
        .retain(|item| !matches!(item, SelectionItem::Field(f) if f.name.starts_with("__")));
    let plan = if plannable.selection_set.items.is_empty() {
        None
    } else {
        let plan = supergraph
            .planner
            .plan_from_normalized_operation(
                &plannable,
                PlannerOverrideContext::default(),
                &CancellationToken::new(),
            )
            .map_err(|e| PrepareError::Plan(format!("Failed to plan the operation: {e}")))?;
        Some(plan)
    };
    let fast_path = plan
        .as_ref()
        .and_then(crate::execute::single_root_fetch)
        .and_then(|_| {
            FastPath::compile(
                &supergraph.schema,
                &operation.selection_set.items,
                &root_type,
            )
        });
    Ok(PreparedOperation {
        kind,
        operation,
        plan,
        root_type,
        fast_path,
        shape,
        cost,
        introspects,
    })
}

/// The validation rules every operation is checked against: the spec's rules as graphql-tools implements
/// them, except `OverlappingFieldsCanBeMerged`, whose pairwise comparison is quadratic in repeated fields
/// (and reports one error per pair); [`field_merge`] checks the same rule in linear time instead.
pub(crate) fn validation_plan() -> ValidationPlan {
    let mut plan = default_rules_validation_plan();
    plan.rules
        .retain(|rule| rule.error_code() != "OverlappingFieldsCanBeMerged");
    plan
}

fn operation_selection_set(
    operation: &graphql_tools::static_graphql::query::OperationDefinition,
) -> &graphql_tools::static_graphql::query::SelectionSet {
    match operation {
        ClientOperation::SelectionSet(s) => s,
        ClientOperation::Query(q) => &q.selection_set,
        ClientOperation::Mutation(m) => &m.selection_set,
        ClientOperation::Subscription(s) => &s.selection_set,
    }
}

/// The operation to run and its index in `document.definitions`.
fn select_operation<'d>(
    document: &'d ClientDocument,
    operation_name: Option<&str>,
) -> Result<
    (
        usize,
        &'d graphql_tools::static_graphql::query::OperationDefinition,
    ),
    PrepareError,
> {
    let mut operations = document
        .definitions
        .iter()
        .enumerate()
        .filter_map(|(index, d)| match d {
            Definition::Operation(op) => Some((index, op)),
            Definition::Fragment(_) => None,
        });
    let found = match operation_name {
        Some(name) => operations.find(|(_, op)| operation_definition_name(op) == Some(name)),
        None => {
            let first = operations.next();
            if operations.next().is_some() {
                return Err(PrepareError::Validation(vec![GraphQLError::with_code(
                    "Must provide operation name if query contains multiple operations.",
                    ErrorCode::GraphqlValidationFailed,
                )]));
            }
            first
        }
    };
    found.ok_or_else(|| {
        let message = match operation_name {
            Some(name) => format!("Unknown operation named \"{name}\"."),
            None => "The document contains no operation.".to_owned(),
        };
        PrepareError::Validation(vec![GraphQLError::with_code(
            message,
            ErrorCode::GraphqlValidationFailed,
        )])
    })
}

fn operation_definition_name(
    op: &graphql_tools::static_graphql::query::OperationDefinition,
) -> Option<&str> {
    match op {
        ClientOperation::Query(q) => q.name.as_deref(),
        ClientOperation::Mutation(m) => m.name.as_deref(),
        ClientOperation::Subscription(s) => s.name.as_deref(),
        ClientOperation::SelectionSet(_) => None,
    }
}
