//! Plan rewrites: adjusting representations before an entity fetch and entities after it
//! (`@interfaceObject` typenames, planner-aliased keys).

use hive_router_query_planner::planner::plan_nodes::{
    FetchNodePathSegment, FetchRewrite, KeyRenamer, ValueSetter,
};
use serde_json::Value;

use crate::schema::SchemaIndex;

/// Applies every rewrite to a value, in order.
pub(super) fn apply_all(
    rewrites: Option<&Vec<FetchRewrite>>,
    schema: &SchemaIndex,
    value: &mut Value,
) {
    for rewrite in rewrites.into_iter().flatten() {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => set_value(setter, &setter.path, schema, value),
            FetchRewrite::KeyRenamer(renamer) => rename_key(renamer, &renamer.path, schema, value),
        }
    }
}

fn typename_matches(
    schema: &SchemaIndex,
    object: &serde_json::Map<String, Value>,
    conditions: &std::collections::BTreeSet<String>,
) -> bool {
    match object.get("__typename").and_then(Value::as_str) {
        None => true,
        Some(type_name) => conditions.iter().any(|c| schema.satisfies(type_name, c)),
    }
}

fn set_value(
    setter: &ValueSetter,
    path: &[FetchNodePathSegment],
    schema: &SchemaIndex,
    value: &mut Value,
) {
    let Some((segment, rest)) = path.split_first() else {
        *value = Value::String(setter.set_value_to.clone());
        return;
    };
    match value {
        Value::Array(items) => {
            for item in items {
                set_value(setter, path, schema, item);
            }
        }
        Value::Object(object) => match segment {
            FetchNodePathSegment::TypenameEquals(conditions) => {
                if typename_matches(schema, object, conditions) {
                    set_value(setter, rest, schema, value);
                }
            }
            FetchNodePathSegment::Key(key) => {
                if let Some(child) = object.get_mut(key) {
                    set_value(setter, rest, schema, child);
                }
            }
        },
        _ => {}
    }
}

fn rename_key(
    renamer: &KeyRenamer,
    path: &[FetchNodePathSegment],
    schema: &SchemaIndex,
    value: &mut Value,
) {
    let Some((segment, rest)) = path.split_first() else {
        return;
    };
    match value {
        Value::Array(items) => {
            for item in items {
                rename_key(renamer, path, schema, item);
            }
        }
        Value::Object(object) => match segment {
            FetchNodePathSegment::TypenameEquals(conditions) => {
                if typename_matches(schema, object, conditions) {
                    rename_key(renamer, rest, schema, value);
                }
            }
            FetchNodePathSegment::Key(key) if rest.is_empty() => {
                if *key != renamer.rename_key_to
                    && let Some(moved) = object.remove(key)
                {
                    object.insert(renamer.rename_key_to.clone(), moved);
                }
            }
            FetchNodePathSegment::Key(key) => {
                if let Some(child) = object.get_mut(key) {
                    rename_key(renamer, rest, schema, child);
                }
            }
        },
        _ => {}
    }
}
