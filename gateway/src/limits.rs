//! Operation limits checked before validation and planning: depth, aliases, root fields.
//!
//! They run on the client's document as written (fragments followed), so a costly operation
//! is refused before the validator or planner spends time on it.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
};

/// Limits on the shape of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationLimits {
    /// Deepest field nesting; introspection fields (`__schema`, `__type`) are exempt.
    pub max_depth: usize,
    /// Aliased fields in the operation and the fragments it uses.
    pub max_aliases: usize,
    /// Fields selected on the root type.
    pub max_root_fields: usize,
}

impl Default for OperationLimits {
    fn default() -> Self {
        Self { max_depth: 12, max_aliases: 30, max_root_fields: 20 }
    }
}

/// Checks an operation; `Err` carries the client message.
pub fn check(document: &Document, operation: &OperationDefinition, limits: &OperationLimits) -> Result<(), String> {
    let fragments: HashMap<&str, &FragmentDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect();
    let mut walker = Walker {
        fragments: &fragments,
        depth_memo: HashMap::new(),
        visiting: Vec::new(),
        aliases: 0,
        counted_fragments: Vec::new(),
    };
    let selection_set = operation_selection_set(operation);

    let root_fields = walker.root_field_count(selection_set);
    if root_fields > limits.max_root_fields {
        return Err(format!(
            "Operation has {root_fields} root fields, more than the limit of {}",
            limits.max_root_fields
        ));
    }
    let depth = walker.depth(selection_set);
    if depth > limits.max_depth {
        return Err(format!("Operation is {depth} levels deep, more than the limit of {}", limits.max_depth));
    }
    if walker.aliases > limits.max_aliases {
        return Err(format!(
            "Operation uses {} aliases, more than the limit of {}",
            walker.aliases, limits.max_aliases
        ));
    }
    Ok(())
}

fn operation_selection_set(operation: &OperationDefinition) -> &SelectionSet {
    match operation {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    }
}

struct Walker<'d> {
    fragments: &'d HashMap<&'d str, &'d FragmentDefinition>,
    /// A fragment's depth does not depend on where it is spread: computing it once keeps
    /// a document of nested spreads linear instead of exponential.
    depth_memo: HashMap<&'d str, usize>,
    /// Fragments on the current spread chain; a cycle counts as no extra depth here and is
    /// rejected by validation afterwards.
    visiting: Vec<&'d str>,
    aliases: usize,
    counted_fragments: Vec<&'d str>,
}

impl<'d> Walker<'d> {
    fn root_field_count(&mut self, selection_set: &'d SelectionSet) -> usize {
        let mut seen_fragments = Vec::new();
        self.count_fields(selection_set, &mut seen_fragments)
    }

    fn count_fields(&self, selection_set: &'d SelectionSet, seen_fragments: &mut Vec<&'d str>) -> usize {
        selection_set
            .items
            .iter()
            .map(|item| match item {
                Selection::Field(_) => 1,
                Selection::InlineFragment(f) => self.count_fields(&f.selection_set, seen_fragments),
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    if seen_fragments.contains(&name) {
                        return 0;
                    }
                    seen_fragments.push(name);
                    self.fragments.get(name).map_or(0, |f| self.count_fields(&f.selection_set, seen_fragments))
                }
            })
            .sum()
    }

    /// Depth of a selection set: 1 for a level of fields, plus the deepest child.
    fn depth(&mut self, selection_set: &'d SelectionSet) -> usize {
        let mut deepest = 0;
        for item in &selection_set.items {
            let depth = match item {
                Selection::Field(field) => {
                    if field.alias.is_some() {
                        self.aliases += 1;
                    }
                    if field.name.starts_with("__") {
                        // Introspection is exempt so GraphiQL's schema query passes.
                        0
                    } else {
                        1 + self.depth(&field.selection_set)
                    }
                }
                Selection::InlineFragment(f) => self.depth(&f.selection_set),
                Selection::FragmentSpread(spread) => self.fragment_depth(&spread.fragment_name),
            };
            deepest = deepest.max(depth);
        }
        deepest
    }

    fn fragment_depth(&mut self, name: &'d str) -> usize {
        if let Some(depth) = self.depth_memo.get(name) {
            return *depth;
        }
        if self.visiting.contains(&name) {
            return 0;
        }
        let Some(fragment) = self.fragments.get(name).copied() else {
            return 0;
        };
        // Aliases inside a fragment count once, however often it is spread.
        let counted = self.counted_fragments.contains(&name);
        let aliases_before = self.aliases;
        self.visiting.push(name);
        let depth = self.depth(&fragment.selection_set);
        self.visiting.pop();
        if counted {
            self.aliases = aliases_before;
        } else {
            self.counted_fragments.push(name);
        }
        self.depth_memo.insert(name, depth);
        depth
    }
}
