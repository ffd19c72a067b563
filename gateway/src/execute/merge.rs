//! Merging subgraph data into the response under construction.

use serde_json::Value;

use crate::response::error::PathSegment;

/// Deep-merges `source` into `target`: objects key by key, equal-length lists element by
/// element. A `null` never erases data another fetch already supplied.
pub(super) fn deep_merge(target: &mut Value, source: Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge(existing, value);
            }
        }
        (_, Value::Null) => {}
        (target, source) => *target = source,
    }
}

/// The value at a response path, for merging an entity back where it came from.
pub(super) fn value_at_mut<'v>(root: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    path.iter()
        .try_fold(root, |value, segment| match (segment, value) {
            (PathSegment::Key(key), Value::Object(map)) => map.get_mut(key),
            (PathSegment::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        })
}

/// The value at a response path.
pub(super) fn value_at<'v>(root: &'v Value, path: &[PathSegment]) -> Option<&'v Value> {
    path.iter()
        .try_fold(root, |value, segment| match (segment, value) {
            (PathSegment::Key(key), Value::Object(map)) => map.get(key),
            (PathSegment::Index(index), Value::Array(items)) => items.get(*index),
            _ => None,
        })
}
