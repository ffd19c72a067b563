//! "Fields sharing a response key can merge" (the spec's `OverlappingFieldsCanBeMerged`), in time linear in
//! the expanded operation.
//!
//! The textbook rule compares every pair of fields with the same response key, at every level: one field
//! repeated 8 000 times is 32 million comparisons, and one conflict per pair is as many errors. This check
//! follows the merged-set formulation (used by apollo-compiler, after Simon Adameit's "Xing" algorithm):
//! fields sharing a key are compared with one representative, and their sub-selections are merged and
//! checked once as one set. It runs after the limits, so the expansion it walks is bounded.

use std::collections::HashMap;

use graphql_tools::parser::Pos;
use graphql_tools::static_graphql::query::{
    Definition, Document, Field, FragmentDefinition, Selection, SelectionSet, TypeCondition, Value,
};
use graphql_tools::static_graphql::schema::Type;

use crate::limits::LimitExceeded;
use crate::response::error::{ErrorCode, GraphQLError};
use crate::schema::{SchemaIndex, TypeKind, named_type};

/// One field occurrence and the type it is selected on (`None` when the type is unknown to the index).
#[derive(Clone, Copy)]
struct Occurrence<'d> {
    parent: Option<&'d str>,
    field: &'d Field,
}

/// Why two fields cannot merge: the response key they share and the reason, with the nested keys that lead
/// to it.
struct Conflict {
    key: String,
    reason: String,
    locations: Vec<Pos>,
}

/// Checks the operation whose top-level selection set is `selection_set` on `root_type`.
/// `max_work` bounds the field visits (abstract-type fields are revisited once per concrete parent).
pub(super) fn check(
    schema: &SchemaIndex,
    document: &Document,
    selection_set: &SelectionSet,
    root_type: &str,
    max_work: usize,
) -> Result<Vec<GraphQLError>, LimitExceeded> {
    let fragments: HashMap<&str, &FragmentDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect();
    let mut checker = Checker {
        schema,
        fragments,
        work: 0,
        max_work,
    };
    let mut root = Vec::new();
    checker.collect(selection_set, Some(root_type), &mut root)?;
    let mut errors = Vec::new();
    for (key, group) in by_response_key(root) {
        let conflict = match checker.same_for_common_parents(key, &group)? {
            Some(conflict) => Some(conflict),
            None => checker.same_response_shape(key, &group)?,
        };
        if let Some(Conflict {
            key,
            reason,
            locations,
        }) = conflict
        {
            let mut error = GraphQLError::with_code(
                format!(
                    "Fields \"{key}\" conflict because {reason}. Use different aliases on the fields to fetch both if this was intentional."
                ),
                ErrorCode::GraphqlValidationFailed,
            );
            error.locations = Some(
                locations
                    .iter()
                    .map(|p| serde_json::json!({ "line": p.line, "column": p.column }))
                    .collect(),
            );
            errors.push(error);
        }
    }
    Ok(errors)
}

/// Groups occurrences by response key (alias or name), keeping first-seen order.
fn by_response_key(occurrences: Vec<Occurrence<'_>>) -> Vec<(&str, Vec<Occurrence<'_>>)> {
    let mut groups: Vec<(&str, Vec<Occurrence<'_>>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for occurrence in occurrences {
        let key = occurrence
            .field
            .alias
            .as_deref()
            .unwrap_or(&occurrence.field.name);
        match index.get(key) {
            Some(&i) => groups[i].1.push(occurrence),
            None => {
                index.insert(key, groups.len());
                groups.push((key, vec![occurrence]));
            }
        }
    }
    groups
}

struct Checker<'d> {
    schema: &'d SchemaIndex,
    fragments: HashMap<&'d str, &'d FragmentDefinition>,
    work: usize,
    max_work: usize,
}

impl<'d> Checker<'d> {
    /// The fields a selection set contributes at its own level, through inline fragments and spreads.
    /// Recursion is bounded by the nesting limit the operation already passed.
    fn collect(
        &mut self,
        set: &'d SelectionSet,
        parent: Option<&'d str>,
        out: &mut Vec<Occurrence<'d>>,
    ) -> Result<(), LimitExceeded> {
        for item in &set.items {
            match item {
                Selection::Field(field) => {
                    self.work += 1;
                    if self.work > self.max_work {
                        return Err(LimitExceeded::new("selections", self.work, self.max_work));
                    }
                    out.push(Occurrence { parent, field });
                }
                Selection::InlineFragment(inline) => {
                    let parent = match &inline.type_condition {
                        Some(TypeCondition::On(name)) => Some(name.as_str()),
                        None => parent,
                    };
                    self.collect(&inline.selection_set, parent, out)?;
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.fragments.get(spread.fragment_name.as_str()).copied()
                    {
                        let TypeCondition::On(name) = &fragment.type_condition;
                        self.collect(&fragment.selection_set, Some(name.as_str()), out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn field_type(&self, occurrence: &Occurrence<'d>) -> Option<&'d Type> {
        self.schema
            .field_type(occurrence.parent?, &occurrence.field.name)
    }

    /// The merged sub-selections of a group of fields, each on its own field's type.
    fn merged_children(
        &mut self,
        group: &[Occurrence<'d>],
    ) -> Result<Vec<Occurrence<'d>>, LimitExceeded> {
        let mut children = Vec::new();
        for occurrence in group {
            if !occurrence.field.selection_set.items.is_empty() {
                let parent = self.field_type(occurrence).map(named_type);
                self.collect(&occurrence.field.selection_set, parent, &mut children)?;
            }
        }
        Ok(children)
    }

    /// Every field of the group produces the same response shape (list/non-null structure and leaf types),
    /// whatever its parent: the spec's `SameResponseShape`.
    fn same_response_shape(
        &mut self,
        key: &str,
        group: &[Occurrence<'d>],
    ) -> Result<Option<Conflict>, LimitExceeded> {
        let first = &group[0];
        if let Some(first_type) = self.field_type(first) {
            for other in &group[1..] {
                if let Some(other_type) = self.field_type(other)
                    && self.types_conflict(first_type, other_type)
                {
                    return Ok(Some(Conflict {
                        key: key.to_owned(),
                        reason: format!(
                            "they return conflicting types \"{first_type}\" and \"{other_type}\""
                        ),
                        locations: vec![first.field.position, other.field.position],
                    }));
                }
            }
        }
        let children = self.merged_children(group)?;
        for (child_key, child_group) in by_response_key(children) {
            if let Some(conflict) = self.same_response_shape(child_key, &child_group)? {
                return Ok(Some(nested(key, conflict, group)));
            }
        }
        Ok(None)
    }

    /// Fields that can apply to the same object agree on name and arguments, recursively: the spec's
    /// `FieldsInSetCanMerge` for parents that are not mutually exclusive.
    fn same_for_common_parents(
        &mut self,
        key: &str,
        group: &[Occurrence<'d>],
    ) -> Result<Option<Conflict>, LimitExceeded> {
        for common in self.common_parent_groups(group) {
            let first = &common[0];
            for other in &common[1..] {
                let reason = if other.field.name != first.field.name {
                    Some(format!(
                        "\"{}\" and \"{}\" are different fields",
                        first.field.name, other.field.name
                    ))
                } else if !same_arguments(&first.field.arguments, &other.field.arguments) {
                    Some("they have differing arguments".to_owned())
                } else {
                    None
                };
                if let Some(reason) = reason {
                    let locations = vec![first.field.position, other.field.position];
                    return Ok(Some(Conflict {
                        key: key.to_owned(),
                        reason,
                        locations,
                    }));
                }
            }
            let children = self.merged_children(&common)?;
            for (child_key, child_group) in by_response_key(children) {
                if let Some(conflict) = self.same_for_common_parents(child_key, &child_group)? {
                    return Ok(Some(nested(key, conflict, &common)));
                }
            }
        }
        Ok(None)
    }

    /// Partitions a group into sets of fields that can apply to one object at once: fields on one object
    /// type, each set joined by every field on an abstract (or unknown) parent.
    fn common_parent_groups(&self, group: &[Occurrence<'d>]) -> Vec<Vec<Occurrence<'d>>> {
        let mut abstract_parents = Vec::new();
        let mut by_object: Vec<(&str, Vec<Occurrence<'d>>)> = Vec::new();
        for occurrence in group {
            match occurrence
                .parent
                .filter(|p| self.schema.kind(p) == Some(TypeKind::Object))
            {
                Some(object) => match by_object.iter_mut().find(|(name, _)| *name == object) {
                    Some((_, members)) => members.push(*occurrence),
                    None => by_object.push((object, vec![*occurrence])),
                },
                None => abstract_parents.push(*occurrence),
            }
        }
        if by_object.is_empty() {
            return vec![abstract_parents];
        }
        by_object
            .into_iter()
            .map(|(_, mut members)| {
                members.extend(abstract_parents.iter().copied());
                members
            })
            .collect()
    }

    /// Whether two output types could produce differently shaped values.
    fn types_conflict(&self, a: &Type, b: &Type) -> bool {
        match (a, b) {
            (Type::ListType(a), Type::ListType(b))
            | (Type::NonNullType(a), Type::NonNullType(b)) => self.types_conflict(a, b),
            (Type::ListType(_) | Type::NonNullType(_), _)
            | (_, Type::ListType(_) | Type::NonNullType(_)) => true,
            (Type::NamedType(a), Type::NamedType(b)) => {
                (self.is_leaf(a) || self.is_leaf(b)) && a != b
            }
        }
    }

    fn is_leaf(&self, name: &str) -> bool {
        matches!(
            self.schema.kind(name),
            Some(TypeKind::Scalar | TypeKind::Enum)
        )
    }
}

/// A conflict found in the merged sub-selections of the fields `group` sharing `key`. Under one field it is
/// that field's own selection set's conflict, reported on its key as the spec's rule does; under several
/// it is theirs ("subfields … conflict").
fn nested(key: &str, inner: Conflict, group: &[Occurrence<'_>]) -> Conflict {
    if group.len() == 1 {
        return inner;
    }
    let mut locations = vec![group[0].field.position];
    locations.extend(inner.locations);
    Conflict {
        key: key.to_owned(),
        reason: format!(
            "subfields \"{}\" conflict because {}",
            inner.key, inner.reason
        ),
        locations,
    }
}

/// Same arguments, in any order.
fn same_arguments(a: &[(String, Value)], b: &[(String, Value)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(name, value)| b.iter().any(|(n, v)| n == name && v == value))
}
