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

use crate::schema::{SIZE_ARGUMENTS, SchemaIndex, TypeKind};
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

fn named_type(field_type: &Type) -> &str {
    match field_type {
        Type::NamedType(name) => name,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

fn is_list(field_type: &Type) -> bool {
    match field_type {
        Type::ListType(_) => true,
        Type::NonNullType(inner) => is_list(inner),
        Type::NamedType(_) => false,
    }
}
