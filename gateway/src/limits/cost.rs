//! Demand control: an estimate of the objects an operation can produce, refused above a budget.
//!
//! Each composite field costs one object per instance. A list field holds as many instances as its `first`,
//! `last` or `limit` argument says; a connection (a field with such an argument that returns an object)
//! passes its size to the list fields directly inside it (`nodes`, `edges`); an unsized list counts as
//! `default_list_size`. Sizes multiply down the tree. Inline fragments on different types are alternatives
//! for one object, so the costliest counts, not their sum. Introspection is exempt: its own depth bounds it.
//! The walk runs on the normalized operation (fragments inlined, repeated fields merged), whose size the shape
//! limits already bound.

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::{FieldSelection, SelectionSet};
use hive_router_query_planner::ast::value::Value as AstValue;
use serde_json::{Map, Value};

use crate::schema::{SIZE_ARGUMENTS, SchemaIndex, TypeKind, named_type};
use graphql_tools::static_graphql::schema::Type;

/// The estimate, and whether a variable changed it (then it is estimated again for each request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Estimate {
    /// Objects the operation can produce, saturating.
    pub cost: usize,
    /// Whether a list size came from a variable.
    pub uses_variables: bool,
}

/// Estimates the operation's cost; `variables` are the request's (empty at preparation time).
pub(crate) fn estimate(
    schema: &SchemaIndex,
    selection_set: &SelectionSet,
    root_type: &str,
    variables: &Map<String, Value>,
    default_list_size: usize,
) -> Estimate {
    let mut estimator = Estimator {
        schema,
        variables,
        default_list_size,
        uses_variables: false,
    };
    let cost = estimator.selection_set(selection_set, root_type, None);
    Estimate {
        cost,
        uses_variables: estimator.uses_variables,
    }
}

struct Estimator<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Value>,
    default_list_size: usize,
    uses_variables: bool,
}

impl Estimator<'_> {
    /// The cost of one instance of `parent_type` selecting `set`; `inherited_size` is the size a connection
    /// passes to the lists directly inside it.
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        parent_type: &str,
        inherited_size: Option<usize>,
    ) -> usize {
        let mut direct = 0usize;
        // (type condition, summed cost of the fragments with it)
        let mut alternatives: Vec<(&str, usize)> = Vec::new();
        for item in &set.items {
            match item {
                SelectionItem::Field(field) => {
                    if field.name.starts_with("__") {
                        continue;
                    }
                    let Some(field_type) = self.schema.field_type(parent_type, &field.name) else {
                        continue;
                    };
                    let named = named_type(field_type);
                    if !matches!(
                        self.schema.kind(named),
                        Some(TypeKind::Object | TypeKind::Interface | TypeKind::Union)
                    ) {
                        continue;
                    }
                    let size = self.size_argument(parent_type, field);
                    let (instances, passed_down) = if is_list(field_type) {
                        (
                            size.or(inherited_size).unwrap_or(self.default_list_size),
                            None,
                        )
                    } else {
                        (1, size)
                    };
                    let per_instance = self
                        .selection_set(&field.selections, named, passed_down)
                        .saturating_add(1);
                    direct = direct.saturating_add(instances.saturating_mul(per_instance));
                }
                SelectionItem::InlineFragment(fragment) => {
                    let cost = self.selection_set(
                        &fragment.selections,
                        &fragment.type_condition,
                        inherited_size,
                    );
                    match alternatives
                        .iter_mut()
                        .find(|(condition, _)| *condition == fragment.type_condition)
                    {
                        Some((_, sum)) => *sum = sum.saturating_add(cost),
                        None => alternatives.push((&fragment.type_condition, cost)),
                    }
                }
                // Normalization inlines every spread.
                SelectionItem::FragmentSpread(_) => {}
            }
        }
        direct.saturating_add(
            alternatives
                .iter()
                .map(|(_, cost)| *cost)
                .max()
                .unwrap_or(0),
        )
    }

    /// The size a `first`/`last`/`limit` argument gives, or its schema default; `None` when unsized.
    fn size_argument(&mut self, parent_type: &str, field: &FieldSelection) -> Option<usize> {
        let default = self
            .schema
            .types
            .get(parent_type)?
            .sized_fields
            .get(&field.name)?;
        let given = field.arguments.as_ref().and_then(|args| {
            SIZE_ARGUMENTS
                .iter()
                .find_map(|name| args.get_argument(name))
        });
        let size = match given {
            Some(AstValue::Int(n)) => Some(*n),
            Some(AstValue::Variable(name)) => {
                self.uses_variables = true;
                self.variables
                    .get(name)
                    .and_then(Value::as_i64)
                    .or(*default)
            }
            _ => *default,
        };
        size.map(|n| usize::try_from(n.max(0)).unwrap_or(usize::MAX))
    }
}

fn is_list(field_type: &Type) -> bool {
    match field_type {
        Type::ListType(_) => true,
        Type::NonNullType(inner) => is_list(inner),
        Type::NamedType(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SDL: &str = "
        type Query {
            product(id: ID!): Product
            products(first: Int): [Product!]!
            catalog(limit: Int = 5): [Product]
            categories: [Category!]!
            connection(first: Int): ProductConnection
            media: [Media!]!
            count: Int
        }
        type ProductConnection { nodes: [Product!]! edges: [Edge!]! total: Int }
        type Edge { node: Product cursor: String }
        type Product {
            id: ID!
            name: String
            reviews(first: Int = 2): [Review!]!
            related: [Product!]!
            category: Category
        }
        type Review { id: ID! author: User }
        type User { id: ID! }
        type Category { id: ID! }
        interface Media { id: ID! }
        type Book implements Media { id: ID! author: User reviews(first: Int = 2): [Review!]! }
        type Movie implements Media { id: ID! cast(first: Int): [User!]! }
    ";

    fn schema() -> SchemaIndex {
        crate::test_support::schema_index(SDL)
    }

    fn selection_set(query: &str) -> SelectionSet {
        crate::test_support::operation(query).selection_set
    }

    fn estimate_with(query: &str, variables: &Value, default_list_size: usize) -> Estimate {
        let variables = variables.as_object().cloned().unwrap_or_default();
        estimate(
            &schema(),
            &selection_set(query),
            "Query",
            &variables,
            default_list_size,
        )
    }

    fn cost(query: &str) -> usize {
        let estimate = estimate_with(query, &json!({}), 10);
        assert!(!estimate.uses_variables);
        estimate.cost
    }

    #[test]
    fn each_object_costs_one_and_leaves_introspection_and_unknown_fields_cost_nothing() {
        assert_eq!(cost("{ count }"), 0);
        assert_eq!(cost("{ __typename count }"), 0);
        assert_eq!(
            cost("{ __schema { types { fields { type { name } } } } nope { id } }"),
            0
        );
        assert_eq!(cost(r#"{ product(id: "1") { id name } }"#), 1);
        assert_eq!(cost(r#"{ product(id: "1") { category { id } } }"#), 2);
        assert_eq!(
            cost(r#"{ a: product(id: "1") { id } b: product(id: "2") { id } }"#),
            2
        );
    }

    #[test]
    fn a_size_argument_multiplies_the_cost_of_everything_below_it() {
        assert_eq!(cost("{ products(first: 3) { id } }"), 3);
        // 3 products × (1 + 4 reviews × (1 + 1 author))
        assert_eq!(
            cost("{ products(first: 3) { reviews(first: 4) { author { id } } } }"),
            3 * (1 + 4 * 2)
        );
    }

    #[test]
    fn a_size_arguments_schema_default_applies_when_it_is_omitted() {
        assert_eq!(cost("{ catalog { id } }"), 5);
        assert_eq!(cost("{ catalog(limit: 1) { reviews { id } } }"), 1 + 2);
    }

    #[test]
    fn an_unsized_list_counts_as_the_default_list_size() {
        assert_eq!(
            estimate_with("{ categories { id } }", &json!({}), 10).cost,
            10
        );
        assert_eq!(
            estimate_with("{ categories { id } }", &json!({}), 3).cost,
            3
        );
        // A sized field without a size or a default is unsized too.
        assert_eq!(
            estimate_with("{ products { related { id } } }", &json!({}), 4).cost,
            4 * (1 + 4)
        );
    }

    #[test]
    fn a_connections_size_passes_to_the_lists_directly_inside_it() {
        // 1 connection + 7 nodes + 7 edges × (1 + 1 node)
        assert_eq!(
            cost("{ connection(first: 7) { total nodes { id } edges { cursor node { id } } } }"),
            1 + 7 + 7 * 2
        );
        // Only to the lists directly inside: a list below a node is sized on its own.
        assert_eq!(
            cost("{ connection(first: 7) { nodes { related { id } } } }"),
            1 + 7 * (1 + 10)
        );
    }

    #[test]
    fn a_size_from_a_variable_is_read_and_flagged() {
        let query = "query ($n: Int) { products(first: $n) { id } }";
        let estimate = estimate_with(query, &json!({ "n": 40 }), 10);
        assert_eq!(
            estimate,
            Estimate {
                cost: 40,
                uses_variables: true
            }
        );
        // Without a value (preparation time) the default, then the default list size, apply.
        assert_eq!(estimate_with(query, &json!({}), 10).cost, 10);
        assert_eq!(
            estimate_with(
                "query ($n: Int) { catalog(limit: $n) { id } }",
                &json!({}),
                10
            )
            .cost,
            5
        );
    }

    #[test]
    fn a_negative_size_counts_as_zero() {
        assert_eq!(cost("{ products(first: -5) { reviews { id } } }"), 0);
        let estimate = estimate_with(
            "query ($n: Int) { products(first: $n) { id } }",
            &json!({ "n": -1 }),
            10,
        );
        assert_eq!(estimate.cost, 0);
    }

    #[test]
    fn fragments_on_different_types_count_the_costliest_not_their_sum() {
        // Book: 1 author + 2 reviews = 3; Movie: 6 cast. One media item costs 1 + max(3, 6).
        assert_eq!(
            cost(
                "{ media { ... on Book { author { id } reviews { id } } ... on Movie { cast(first: 6) { id } } } }"
            ),
            10 * (1 + 6)
        );
        // Fragments on the same type add up.
        assert_eq!(
            cost(
                "{ media { ... on Book { author { id } } ... on Book { reviews { id } } ... on Movie { cast(first: 1) { id } } } }"
            ),
            10 * (1 + 3)
        );
    }

    #[test]
    fn a_huge_estimate_saturates_instead_of_overflowing() {
        let estimate = estimate_with(
            "{ products(first: 2147483647) { related { related { related { id } } } } }",
            &json!({}),
            usize::MAX,
        );
        assert_eq!(estimate.cost, usize::MAX);
    }
}
