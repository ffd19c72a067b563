//! Finding the entities a `Flatten` path points at and building their representations.

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::planner::plan_nodes::FlattenNodePathSegment;
use serde_json::{Map, Value};

use crate::response::error::PathSegment;
use crate::schema::SchemaIndex;

/// Collects the response paths of every object the flatten path reaches.
pub(super) fn collect_entity_paths(
    schema: &SchemaIndex,
    value: &Value,
    segments: &[FlattenNodePathSegment],
    current: &mut Vec<PathSegment>,
    out: &mut Vec<Vec<PathSegment>>,
) {
    if let Value::Array(items) = value {
        // A list level: `@` consumes it; a list the path does not mark is walked through.
        let rest = match segments.first() {
            Some(FlattenNodePathSegment::List) => &segments[1..],
            _ => segments,
        };
        for (index, item) in items.iter().enumerate() {
            current.push(PathSegment::Index(index));
            collect_entity_paths(schema, item, rest, current, out);
            current.pop();
        }
        return;
    }
    let Value::Object(object) = value else {
        return;
    };
    match segments.split_first() {
        None => out.push(current.clone()),
        Some((FlattenNodePathSegment::Field(key), rest)) => {
            if let Some(child) = object.get(key) {
                current.push(PathSegment::Key(key.clone()));
                collect_entity_paths(schema, child, rest, current, out);
                current.pop();
            }
        }
        Some((FlattenNodePathSegment::TypeCondition(conditions), rest)) => {
            let matches = match object.get("__typename").and_then(Value::as_str) {
                None => true,
                Some(type_name) => conditions.iter().any(|c| schema.satisfies(type_name, c)),
            };
            if matches {
                collect_entity_paths(schema, value, rest, current, out);
            }
        }
        // `@` on an object: nothing to iterate.
        Some((FlattenNodePathSegment::List, rest)) => {
            collect_entity_paths(schema, value, rest, current, out);
        }
    }
}

/// Projects an entity through the fetch's `requires` selection: the representation sent to
/// `_entities`. `None` when the entity is null or yields nothing (it is then not fetched).
pub(super) fn representation(
    schema: &SchemaIndex,
    requires: &[SelectionItem],
    entity: &Value,
) -> Option<Value> {
    match entity {
        Value::Null => None,
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|item| representation(schema, requires, item))
                .collect(),
        )),
        Value::Object(object) if !requires.is_empty() => {
            let mut out = Map::new();
            project_object(schema, requires, object, &mut out);
            if out.is_empty() {
                return None;
            }
            if let Some(type_name) = object.get("__typename") {
                out.insert("__typename".to_owned(), type_name.clone());
            }
            Some(Value::Object(out))
        }
        // Scalars, and custom scalars whose value is an object, go as they are.
        other => Some(other.clone()),
    }
}

fn project_object(
    schema: &SchemaIndex,
    selections: &[SelectionItem],
    object: &Map<String, Value>,
    out: &mut Map<String, Value>,
) {
    for selection in selections {
        match selection {
            SelectionItem::Field(field) => {
                let key = field.selection_identifier();
                if key == "__typename" {
                    continue;
                }
                let Some(original) = object.get(&field.name).or_else(|| object.get(key)) else {
                    continue;
                };
                if original.is_null() {
                    out.insert(key.to_owned(), Value::Null);
                } else if let Some(projected) =
                    representation(schema, &field.selections.items, original)
                {
                    out.insert(key.to_owned(), projected);
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = fragment.type_condition.as_str();
                let type_name = object
                    .get("__typename")
                    .and_then(Value::as_str)
                    .unwrap_or(condition);
                if schema.satisfies(type_name, condition) || schema.satisfies(condition, type_name)
                {
                    project_object(schema, &fragment.selections.items, object, out);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}
