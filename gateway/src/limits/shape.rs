//! The size and shape of an operation as it would be once every fragment is expanded, measured in
//! time linear in the document.
//!
//! A fragment's shape does not depend on where it is spread, so each fragment is measured once, in an
//! order where every fragment comes after the fragments it spreads, and a spread then costs one lookup.
//! Counts are per expanded occurrence (a fragment spread three times counts its fields and aliases three
//! times) and saturate rather than overflow: nine fragments each spreading the next six times measure
//! 6⁹ selections in a few microseconds, and are refused.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, Selection, SelectionSet,
};

use super::{LimitExceeded, OperationLimits};

/// What an operation, or one fragment, expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Shape {
    /// Selections (fields, inline fragments, spreads) in the expansion.
    pub selections: usize,
    /// Aliased fields in the expansion.
    pub aliases: usize,
    /// Deepest field nesting outside introspection.
    pub depth: usize,
    /// Deepest field nesting of a path through `__schema` or `__type` (0 when there is none).
    pub introspection_depth: usize,
    /// Deepest selection-set nesting, inline fragments and spread fragments included.
    pub nesting: usize,
    /// Longest chain of spreads.
    pub spread_depth: usize,
    /// Fields at the top level (of the operation: its root fields).
    pub root_fields: usize,
}

/// Why an operation could not be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MeasureError {
    /// A limit is exceeded.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    /// A fragment spreads itself, directly or through others (invalid GraphQL; its expansion is infinite).
    #[error("Cannot spread fragment \"{0}\" within itself.")]
    Cycle(String),
}

/// Measures the operation whose top-level selection set is `operation`, following the fragments
/// of `document`; refuses too many fragments, spread chains that are too deep, and cycles on the way.
pub(crate) fn measure(
    document: &Document,
    operation: &SelectionSet,
    limits: &OperationLimits,
) -> Result<Shape, MeasureError> {
    let fragments: Vec<&FragmentDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some(f),
            Definition::Operation(_) => None,
        })
        .collect();
    LimitExceeded::check("fragments", fragments.len(), limits.max_fragments)?;
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(fragments.len());
    for (i, fragment) in fragments.iter().enumerate() {
        // A duplicate name is a validation error reported later; the first definition is measured.
        index.entry(fragment.name.as_str()).or_insert(i);
    }
    let spreads: Vec<Vec<usize>> = fragments
        .iter()
        .map(|f| spread_targets(&f.selection_set, &index))
        .collect();

    let mut measurer = Measurer {
        index: &index,
        measured: vec![None; fragments.len()],
        limits,
    };
    for fragment in dependency_order(&fragments, &spreads)? {
        let shape = measurer.selection_set(&fragments[fragment].selection_set, 1)?;
        LimitExceeded::check("spreadDepth", shape.spread_depth, limits.max_spread_depth)?;
        measurer.measured[fragment] = Some(shape);
    }
    let shape = measurer.selection_set(operation, 1)?;
    LimitExceeded::check("spreadDepth", shape.spread_depth, limits.max_spread_depth)?;
    Ok(shape)
}

/// The fragments a selection set spreads anywhere inside it, found without recursion.
fn spread_targets(selection_set: &SelectionSet, index: &HashMap<&str, usize>) -> Vec<usize> {
    let mut targets = Vec::new();
    let mut pending = vec![selection_set];
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match item {
                Selection::Field(field) => pending.push(&field.selection_set),
                Selection::InlineFragment(inline) => pending.push(&inline.selection_set),
                Selection::FragmentSpread(spread) => {
                    if let Some(&target) = index.get(spread.fragment_name.as_str()) {
                        targets.push(target);
                    }
                }
            }
        }
    }
    targets
}

/// Every fragment after the fragments it spreads (an iterative depth-first search); a cycle is refused.
fn dependency_order(
    fragments: &[&FragmentDefinition],
    spreads: &[Vec<usize>],
) -> Result<Vec<usize>, MeasureError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnPath,
        Done,
    }
    let mut state = vec![State::New; fragments.len()];
    let mut order = Vec::with_capacity(fragments.len());
    for start in 0..fragments.len() {
        if state[start] != State::New {
            continue;
        }
        // (fragment, how many of its spreads have been followed)
        let mut path = vec![(start, 0usize)];
        state[start] = State::OnPath;
        while let Some((fragment, next)) = path.last_mut() {
            let fragment = *fragment;
            if let Some(&target) = spreads[fragment].get(*next) {
                *next += 1;
                match state[target] {
                    State::New => {
                        state[target] = State::OnPath;
                        path.push((target, 0));
                    }
                    State::OnPath => {
                        return Err(MeasureError::Cycle(fragments[target].name.clone()));
                    }
                    State::Done => {}
                }
            } else {
                state[fragment] = State::Done;
                order.push(fragment);
                path.pop();
            }
        }
    }
    Ok(order)
}

struct Measurer<'d, 'l> {
    index: &'d HashMap<&'d str, usize>,
    /// Shapes of the fragments measured so far (all a fragment spreads, by the dependency order).
    measured: Vec<Option<Shape>>,
    limits: &'l OperationLimits,
}

impl Measurer<'_, '_> {
    /// Measures one selection set. Recursion follows the literal nesting only (spreads are lookups),
    /// and stops at the nesting limit, so no document can overflow the stack here.
    fn selection_set(&self, set: &SelectionSet, level: usize) -> Result<Shape, MeasureError> {
        LimitExceeded::check("nesting", level, self.limits.max_nesting)?;
        let mut total = Shape {
            nesting: 1,
            ..Shape::default()
        };
        for item in &set.items {
            let shape = match item {
                Selection::Field(field) => {
                    let child = if field.selection_set.items.is_empty() {
                        None
                    } else {
                        Some(self.selection_set(&field.selection_set, level + 1)?)
                    };
                    let child_shape = child.unwrap_or_default();
                    let introspection_root = field.name == "__schema" || field.name == "__type";
                    Shape {
                        selections: child_shape.selections.saturating_add(1),
                        aliases: child_shape
                            .aliases
                            .saturating_add(usize::from(field.alias.is_some())),
                        depth: if introspection_root {
                            0
                        } else {
                            child_shape.depth + 1
                        },
                        introspection_depth: if introspection_root {
                            child_shape.depth.max(child_shape.introspection_depth) + 1
                        } else if child_shape.introspection_depth > 0 {
                            child_shape.introspection_depth + 1
                        } else {
                            0
                        },
                        nesting: child.map_or(0, |c| c.nesting),
                        spread_depth: child_shape.spread_depth,
                        root_fields: 1,
                    }
                }
                Selection::InlineFragment(inline) => {
                    let child = self.selection_set(&inline.selection_set, level + 1)?;
                    Shape {
                        selections: child.selections.saturating_add(1),
                        ..child
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = self
                        .index
                        .get(spread.fragment_name.as_str())
                        .and_then(|&i| self.measured[i]);
                    // An unknown fragment expands to nothing here; validation reports it.
                    let fragment = fragment.unwrap_or_default();
                    let nesting = fragment.nesting.saturating_add(level);
                    LimitExceeded::check("nesting", nesting, self.limits.max_nesting)?;
                    Shape {
                        selections: fragment.selections.saturating_add(1),
                        spread_depth: fragment.spread_depth + 1,
                        nesting: fragment.nesting,
                        ..fragment
                    }
                }
            };
            total.selections = total.selections.saturating_add(shape.selections);
            total.aliases = total.aliases.saturating_add(shape.aliases);
            total.root_fields = total.root_fields.saturating_add(shape.root_fields);
            total.depth = total.depth.max(shape.depth);
            total.introspection_depth = total.introspection_depth.max(shape.introspection_depth);
            total.nesting = total.nesting.max(shape.nesting + 1);
            total.spread_depth = total.spread_depth.max(shape.spread_depth);
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(document: &str, limits: &OperationLimits) -> Result<Shape, MeasureError> {
        let parsed = graphql_tools::parser::parse_query::<String>(document)
            .expect("parses")
            .into_static();
        let operation = parsed
            .definitions
            .iter()
            .find_map(|d| match d {
                Definition::Operation(
                    graphql_tools::static_graphql::query::OperationDefinition::SelectionSet(s),
                ) => Some(s.clone()),
                _ => None,
            })
            .expect("an anonymous operation");
        measure(&parsed, &operation, limits)
    }

    #[test]
    fn counts_are_per_expanded_occurrence_and_saturate() {
        let limits = OperationLimits {
            max_spread_depth: 100,
            max_nesting: 200,
            ..OperationLimits::default()
        };
        // Each fragment spreads the next twice: 2^k selections at level k, measured without expanding.
        let mut document = String::from("{ ...F0 }\n");
        for i in 0..70 {
            let next = i + 1;
            document.push_str(&format!(
                "fragment F{i} on Query {{ ...F{next} ...F{next} }}\n"
            ));
        }
        document.push_str("fragment F70 on Query { x: __typename }\n");
        let shape = shape_of(&document, &limits).expect("measured");
        assert_eq!(shape.selections, usize::MAX, "2^70 selections saturate");
        assert_eq!(shape.aliases, usize::MAX);
        assert_eq!(shape.spread_depth, 71);
    }

    #[test]
    fn depth_nesting_and_introspection_depth_are_measured_apart() {
        let limits = OperationLimits::default();
        let shape = shape_of(
            "{ me { id } __schema { types { name } } ... on Query { x: __typename } }",
            &limits,
        )
        .expect("measured");
        assert_eq!(
            (
                shape.depth,
                shape.introspection_depth,
                shape.root_fields,
                shape.aliases
            ),
            (2, 3, 3, 1)
        );
        assert_eq!(shape.nesting, 3);
    }

    #[test]
    fn a_spread_cycle_is_refused_by_name() {
        let error = shape_of(
            "{ ...A }\nfragment A on Query { ...B }\nfragment B on Query { ...A }",
            &OperationLimits::default(),
        )
        .expect_err("a cycle");
        assert!(
            matches!(error, MeasureError::Cycle(ref name) if name == "A" || name == "B"),
            "{error:?}"
        );
    }
}
