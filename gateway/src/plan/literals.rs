//! Lifting an operation's literal arguments into variables, so that operations which differ only in their
//! argument values (`products(first: 7)`, `products(first: 12)`) share one normalized operation and one plan.
//!
//! A storefront that spells its arguments inline sends a new text for every page, product and filter; keyed by
//! text, each would be normalized and planned anew (40 % of the gateway's instructions on such a page, see
//! docs/ARCHITECTURE.md, "Performance targets"). The lifted document is the operation's *shape*: every field
//! argument whose value holds no variable becomes `$_literalN`, declared with the argument's own type, and the
//! values join the request's variables inside the gateway (coercion, cost). Lifting runs only on a document that
//! already passed validation, so a value is always valid for the type it is declared with and clients see the
//! errors they always saw.
//!
//! Subgraphs are sent what a plan of the text itself would send: [`inline`] writes a text's literals back into
//! each subgraph operation of its shape's plan. A subgraph skips validating a text it validated before only
//! when the text comes without variables, so sending lifted variables would make it validate every request.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use graphql_tools::static_graphql::query::{
    Definition, Document, OperationDefinition, Query, Selection, SelectionSet, TypeCondition,
    Value as Literal, VariableDefinition,
};
use hive_router_query_planner::ast::operation::SubgraphFetchOperation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet as PlannedSelectionSet;
use hive_router_query_planner::ast::value::Value as PlannedValue;
use hive_router_query_planner::planner::plan_nodes::{PlanNode, QueryPlan};
use serde_json::{Map, Number, Value};

use crate::schema::{SchemaIndex, named_type};

/// What every lifted variable's name starts with; a document declaring such a variable is not lifted.
pub(crate) const PREFIX: &str = "_literal";

/// An operation with its literal arguments lifted out.
#[derive(Debug)]
pub(crate) struct Lifted {
    /// The selected operation, declaring one variable per lifted literal, and the document's fragments.
    pub document: Document,
    /// The printed shape: the same for every text that differs only in lifted values.
    pub text: String,
    /// The lifted values by variable name, as JSON variables.
    pub values: Map<String, Value>,
    /// The same values as the planner writes them into an operation.
    pub literals: BTreeMap<String, PlannedValue>,
}

/// Lifts the literal field arguments of the selected operation (`operation` indexes `document.definitions`)
/// and of every fragment; `None` when there is nothing to lift or the document already uses the prefix.
pub(crate) fn lift(
    schema: &SchemaIndex,
    document: &Document,
    operation: usize,
    root_type: &str,
) -> Option<Lifted> {
    let Some(Definition::Operation(selected)) = document.definitions.get(operation) else {
        return None;
    };
    if variable_definitions(selected)
        .iter()
        .any(|v| v.name.starts_with(PREFIX))
    {
        return None;
    }
    let mut lifter = Lifter {
        schema,
        definitions: Vec::new(),
        values: Map::new(),
        literals: BTreeMap::new(),
        names: HashMap::new(),
    };
    let mut selected = selected.clone();
    lifter.selection_set(operation_selection_set_mut(&mut selected), root_type);
    let mut fragments = Vec::new();
    for definition in &document.definitions {
        if let Definition::Fragment(fragment) = definition {
            let mut fragment = fragment.clone();
            let TypeCondition::On(on) = &fragment.type_condition;
            let on = on.clone();
            lifter.selection_set(&mut fragment.selection_set, &on);
            fragments.push(Definition::Fragment(fragment));
        }
    }
    if lifter.values.is_empty() {
        return None;
    }
    let selected = declare(selected, lifter.definitions);
    let mut definitions = Vec::with_capacity(fragments.len() + 1);
    definitions.push(Definition::Operation(selected));
    definitions.extend(fragments);
    let document = Document { definitions };
    Some(Lifted {
        text: document.to_string(),
        document,
        values: lifter.values,
        literals: lifter.literals,
    })
}

struct Lifter<'s> {
    schema: &'s SchemaIndex,
    definitions: Vec<VariableDefinition>,
    values: Map<String, Value>,
    literals: BTreeMap<String, PlannedValue>,
    /// The variable already lifted for a type and value. Equal literals must stay equal: two selections of
    /// one response key merge only when their arguments are the same.
    names: HashMap<(String, String), String>,
}

impl Lifter<'_> {
    /// Lifts within a selection set on `parent`. Recursion follows the document's nesting, which the limits
    /// bounded before validation; fragment spreads are not followed (each fragment is lifted once, on its own).
    fn selection_set(&mut self, selection_set: &mut SelectionSet, parent: &str) {
        for item in &mut selection_set.items {
            match item {
                // Introspection is answered by the gateway, never planned: its arguments stay as written.
                Selection::Field(field) if field.name.starts_with("__") => {}
                Selection::Field(field) => {
                    for (argument, value) in &mut field.arguments {
                        let Some(argument_type) =
                            self.schema.argument_type(parent, &field.name, argument)
                        else {
                            continue;
                        };
                        let Some(json) = liftable(value) else {
                            continue;
                        };
                        let name = self
                            .names
                            .entry((argument_type.to_string(), json.to_string()))
                            .or_insert_with(|| {
                                let name = format!("{PREFIX}{}", self.definitions.len());
                                self.definitions.push(VariableDefinition {
                                    position: field.position,
                                    name: name.clone(),
                                    var_type: argument_type.clone(),
                                    default_value: None,
                                });
                                self.values.insert(name.clone(), json);
                                self.literals
                                    .insert(name.clone(), PlannedValue::from(&*value));
                                name
                            });
                        *value = Literal::Variable(name.clone());
                    }
                    if let Some(field_type) = self.schema.field_type(parent, &field.name) {
                        let child = named_type(field_type).to_owned();
                        self.selection_set(&mut field.selection_set, &child);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = match &fragment.type_condition {
                        Some(TypeCondition::On(on)) => on.clone(),
                        None => parent.to_owned(),
                    };
                    self.selection_set(&mut fragment.selection_set, &on);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// The value as a JSON variable, when it can travel as one with the same meaning: it holds no variable, it is
/// not a bare `null` (kept inline, as written), and every float in it is finite.
fn liftable(value: &Literal) -> Option<Value> {
    fn json(value: &Literal) -> Option<Value> {
        Some(match value {
            Literal::Variable(_) => return None,
            Literal::Null => Value::Null,
            Literal::Int(n) => Value::Number(n.as_i64()?.into()),
            Literal::Float(f) => Value::Number(Number::from_f64(*f)?),
            Literal::String(s) | Literal::Enum(s) => Value::String(s.clone()),
            Literal::Boolean(b) => Value::Bool(*b),
            Literal::List(items) => Value::Array(items.iter().map(json).collect::<Option<_>>()?),
            Literal::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Some((k.clone(), json(v)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
    match value {
        Literal::Null => None,
        value => json(value),
    }
}

fn variable_definitions(operation: &OperationDefinition) -> &[VariableDefinition] {
    match operation {
        OperationDefinition::SelectionSet(_) => &[],
        OperationDefinition::Query(q) => &q.variable_definitions,
        OperationDefinition::Mutation(m) => &m.variable_definitions,
        OperationDefinition::Subscription(s) => &s.variable_definitions,
    }
}

fn operation_selection_set_mut(operation: &mut OperationDefinition) -> &mut SelectionSet {
    match operation {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &mut q.selection_set,
        OperationDefinition::Mutation(m) => &mut m.selection_set,
        OperationDefinition::Subscription(s) => &mut s.selection_set,
    }
}

/// The operation with the lifted variables declared after its own (a `{ … }` shorthand becomes a `query`).
fn declare(operation: OperationDefinition, lifted: Vec<VariableDefinition>) -> OperationDefinition {
    match operation {
        OperationDefinition::SelectionSet(selection_set) => OperationDefinition::Query(Query {
            position: selection_set.span.0,
            name: None,
            variable_definitions: lifted,
            directives: Vec::new(),
            selection_set,
        }),
        OperationDefinition::Query(mut q) => {
            q.variable_definitions.extend(lifted);
            OperationDefinition::Query(q)
        }
        OperationDefinition::Mutation(mut m) => {
            m.variable_definitions.extend(lifted);
            OperationDefinition::Mutation(m)
        }
        OperationDefinition::Subscription(mut s) => {
            s.variable_definitions.extend(lifted);
            OperationDefinition::Subscription(s)
        }
    }
}

/// The shape's plan with a text's literals written back into every subgraph operation that uses them, and no
/// longer sent as variables.
pub(crate) fn inline(plan: &QueryPlan, literals: &BTreeMap<String, PlannedValue>) -> QueryPlan {
    let mut plan = plan.clone();
    if let Some(node) = &mut plan.node {
        inline_node(node, literals);
    }
    plan
}

fn inline_node(node: &mut PlanNode, literals: &BTreeMap<String, PlannedValue>) {
    match node {
        PlanNode::Fetch(fetch) => {
            inline_fetch(&mut fetch.operation, &mut fetch.variable_usages, literals);
        }
        PlanNode::BatchFetch(batch) => {
            inline_fetch(&mut batch.operation, &mut batch.variable_usages, literals);
        }
        PlanNode::Subscription(subscription) => {
            let primary = &mut subscription.primary;
            inline_fetch(
                &mut primary.operation,
                &mut primary.variable_usages,
                literals,
            );
        }
        PlanNode::Sequence(sequence) => {
            for node in &mut sequence.nodes {
                inline_node(node, literals);
            }
        }
        PlanNode::Parallel(parallel) => {
            for node in &mut parallel.nodes {
                inline_node(node, literals);
            }
        }
        PlanNode::Flatten(flatten) => inline_node(&mut flatten.node, literals),
        PlanNode::Condition(condition) => {
            for clause in [&mut condition.if_clause, &mut condition.else_clause]
                .into_iter()
                .flatten()
            {
                inline_node(clause, literals);
            }
        }
        PlanNode::Defer(defer) => {
            let deferred = defer.deferred.iter_mut().filter_map(|d| d.node.as_mut());
            for node in defer.primary.node.iter_mut().chain(deferred) {
                inline_node(node, literals);
            }
        }
    }
}

fn inline_fetch(
    operation: &mut SubgraphFetchOperation,
    usages: &mut Option<BTreeSet<String>>,
    literals: &BTreeMap<String, PlannedValue>,
) {
    let Some(used) = usages.as_mut() else {
        return;
    };
    let before = used.len();
    used.retain(|name| !literals.contains_key(name));
    if used.len() == before {
        return;
    }
    let mut document = operation.document.clone();
    if let Some(definitions) = &mut document.operation.variable_definitions {
        definitions.retain(|d| !literals.contains_key(&d.name));
        if definitions.is_empty() {
            document.operation.variable_definitions = None;
        }
    }
    inline_selections(&mut document.operation.selection_set, literals);
    for fragment in &mut document.fragments {
        inline_selections(&mut fragment.selection_set, literals);
    }
    *operation = SubgraphFetchOperation::from_anonymous_operation(document);
}

fn inline_selections(
    selection_set: &mut PlannedSelectionSet,
    literals: &BTreeMap<String, PlannedValue>,
) {
    for item in &mut selection_set.items {
        match item {
            SelectionItem::Field(field) => {
                if let Some(arguments) = &mut field.arguments {
                    let replaced: Vec<(String, PlannedValue)> = arguments
                        .keys()
                        .filter_map(|name| {
                            let value = arguments.get_argument(name)?;
                            let inlined = inline_value(value, literals);
                            (&inlined != value).then(|| (name.clone(), inlined))
                        })
                        .collect();
                    for (name, value) in replaced {
                        arguments.add_argument(name, value);
                    }
                }
                inline_selections(&mut field.selections, literals);
            }
            SelectionItem::InlineFragment(fragment) => {
                inline_selections(&mut fragment.selections, literals);
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn inline_value(value: &PlannedValue, literals: &BTreeMap<String, PlannedValue>) -> PlannedValue {
    match value {
        PlannedValue::Variable(name) => literals.get(name).unwrap_or(value).clone(),
        PlannedValue::List(items) => {
            PlannedValue::List(items.iter().map(|v| inline_value(v, literals)).collect())
        }
        PlannedValue::Object(fields) => PlannedValue::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), inline_value(v, literals)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests_support {
    //! Planning helpers for the tests below.

    use super::*;
    use crate::limits::OperationLimits;
    use crate::plan::{self, Supergraph};

    pub(super) const SUPERGRAPH: &str = include_str!("../../tests/fixtures/supergraph.graphql");

    pub(super) fn supergraph() -> Supergraph {
        Supergraph::parse(SUPERGRAPH, &|_| {
            Some("http://subgraph.invalid/graphql".to_owned())
        })
        .expect("the fixture supergraph loads")
    }

    /// The lifted shape of `query`, and each subgraph operation a plan of the shape sends for this text.
    pub(super) fn lift_and_inline(supergraph: &Supergraph, query: &str) -> (Lifted, Vec<String>) {
        let limits = OperationLimits::default();
        let checked = plan::check(supergraph, &plan::validation_plan(), &limits, query, None)
            .unwrap_or_else(|e| panic!("{query}: {:?}", e.into_graphql_errors()));
        let lifted = checked.lift(supergraph).expect("literals to lift");
        let shape = plan::plan(supergraph, &limits, &lifted.document, None, checked.shape())
            .unwrap_or_else(|e| panic!("{}: {:?}", lifted.text, e.into_graphql_errors()));
        let plan = inline(shape.plan.as_ref().expect("a plan"), &lifted.literals);
        let mut operations = Vec::new();
        collect(plan.node.as_ref().expect("a node"), &mut operations);
        (lifted, operations)
    }

    pub(super) fn collect(node: &PlanNode, out: &mut Vec<String>) {
        match node {
            PlanNode::Fetch(fetch) => {
                let usages = fetch.variable_usages.iter().flatten();
                assert!(
                    usages.into_iter().all(|u| !u.starts_with(PREFIX)),
                    "{fetch:?}"
                );
                out.push(fetch.operation.document_str.clone());
            }
            PlanNode::Sequence(s) => s.nodes.iter().for_each(|n| collect(n, out)),
            PlanNode::Parallel(p) => p.nodes.iter().for_each(|n| collect(n, out)),
            PlanNode::Flatten(f) => collect(&f.node, out),
            other => panic!("unexpected node {other:?}"),
        }
    }

    /// Each subgraph operation a plan of the text itself sends.
    pub(super) fn operations_of_text(supergraph: &Supergraph, query: &str) -> Vec<String> {
        let prepared = plan::prepare(
            supergraph,
            &plan::validation_plan(),
            &OperationLimits::default(),
            query,
            None,
        )
        .unwrap_or_else(|e| panic!("{query}: {:?}", e.into_graphql_errors()));
        let mut operations = Vec::new();
        collect(
            prepared
                .plan
                .as_ref()
                .and_then(|p| p.node.as_ref())
                .expect("a node"),
            &mut operations,
        );
        operations
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;
    use crate::limits::OperationLimits;
    use crate::plan;

    #[test]
    fn texts_that_differ_in_literals_have_one_shape_and_their_own_subgraph_operations() {
        let supergraph = supergraph();
        let (four, four_operations) = lift_and_inline(
            &supergraph,
            "{ topProducts(first: 4) { upc shippingEstimate } product(upc: \"p\\\"1\") { name } }",
        );
        let (five, five_operations) = lift_and_inline(
            &supergraph,
            "{ topProducts(first: 5) { upc shippingEstimate } product(upc: \"p2\") { name } }",
        );
        assert_eq!(four.text, five.text);
        assert!(four.text.contains("$_literal0: Int!"), "{}", four.text);
        assert_eq!(four.values["_literal0"], 4);
        assert_eq!(four.values["_literal1"], "p\"1");
        assert_eq!(five.values["_literal1"], "p2");
        // Each subgraph is sent the text's own values, inline, and never a lifted variable.
        let joined = four_operations.join("\n");
        assert!(joined.contains("topProducts(first: 4)"), "{joined}");
        assert!(joined.contains(r#"product(upc: "p\"1")"#), "{joined}");
        assert!(!joined.contains(PREFIX), "{joined}");
        assert!(five_operations.join("\n").contains("topProducts(first: 5)"));
    }

    #[test]
    fn what_is_not_lifted() {
        let supergraph = supergraph();
        let limits = OperationLimits::default();
        let lift = |query: &str| {
            plan::check(&supergraph, &plan::validation_plan(), &limits, query, None)
                .unwrap_or_else(|e| panic!("{query}: {:?}", e.into_graphql_errors()))
                .lift(&supergraph)
        };
        // Nothing literal; a variable; introspection's own arguments; a directive's argument.
        assert!(lift("{ topProducts { upc } }").is_none());
        assert!(lift("query($n: Int!) { topProducts(first: $n) { upc } }").is_none());
        assert!(lift("{ __type(name: \"Product\") { name } }").is_none());
        assert!(lift("{ topProducts @skip(if: false) { upc } }").is_none());
        // A document that declares a variable with the prefix itself.
        assert!(
            lift("query($_literal9: Int!) { topProducts(first: $_literal9) { upc } product(upc: \"p1\") { upc } }")
                .is_none()
        );
        // Only the selected operation is kept, with the fragments.
        let lifted = plan::check(
            &supergraph,
            &plan::validation_plan(),
            &limits,
            "query A { product(upc: \"p1\") { ...F } } query B { topProducts(first: 1) { upc } } fragment F on Product { upc }",
            Some("A"),
        )
        .expect("valid")
        .lift(&supergraph)
        .expect("a literal");
        assert!(!lifted.text.contains("query B"), "{}", lifted.text);
        assert!(lifted.text.contains("fragment F"), "{}", lifted.text);
    }
}

#[cfg(test)]
mod same_operations {
    //! A text's subgraph operations, planned by shape and inlined, are the ones its own plan would send.

    use super::tests_support::*;

    #[test]
    fn inlined_operations_are_those_of_the_text_itself() {
        let supergraph = supergraph();
        for query in [
            "{ topProducts(first: 4) { upc shippingEstimate } product(upc: \"p1\") { name } }",
            "{ orders(first: 2) { id buyer { name email } items { product { name inStock } } } }",
            "{ user(id: \"u1\") { name orders { id } } }",
            "{ product(upc: \"p\\\"1\") { ... on Product { upc } } a: product(upc: \"p2\") { name } }",
        ] {
            let (_, inlined) = lift_and_inline(&supergraph, query);
            assert_eq!(inlined, operations_of_text(&supergraph, query), "{query}");
        }
    }
}
