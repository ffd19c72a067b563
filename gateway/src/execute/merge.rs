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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(k: &str) -> PathSegment {
        PathSegment::Key(k.to_owned())
    }

    #[test]
    fn objects_merge_key_by_key_keeping_both_sides() {
        let mut target = json!({ "product": { "upc": "p1", "name": "Chair" } });
        deep_merge(
            &mut target,
            json!({ "product": { "inStock": true, "restockDate": null }, "me": { "id": "u1" } }),
        );
        assert_eq!(
            target,
            json!({
                "product": { "upc": "p1", "name": "Chair", "inStock": true, "restockDate": null },
                "me": { "id": "u1" }
            })
        );
    }

    #[test]
    fn a_null_never_erases_data_another_fetch_supplied() {
        let mut target = json!({ "product": { "name": "Chair" } });
        deep_merge(&mut target, json!({ "product": null }));
        deep_merge(&mut target, json!({ "product": { "name": null } }));
        assert_eq!(target, json!({ "product": { "name": "Chair" } }));
    }

    #[test]
    fn equal_length_lists_merge_element_by_element() {
        let mut target = json!([{ "upc": "p1" }, { "upc": "p2" }]);
        deep_merge(&mut target, json!([{ "price": 10 }, null]));
        assert_eq!(
            target,
            json!([{ "upc": "p1", "price": 10 }, { "upc": "p2" }])
        );
    }

    #[test]
    fn a_list_of_another_length_replaces_the_list() {
        let mut target = json!({ "ids": [1, 2, 3] });
        deep_merge(&mut target, json!({ "ids": [4] }));
        assert_eq!(target, json!({ "ids": [4] }));
    }

    #[test]
    fn a_non_null_value_replaces_a_null_or_a_scalar() {
        let mut target = json!({ "order": null, "total": 1 });
        deep_merge(&mut target, json!({ "order": { "id": "o1" }, "total": 2 }));
        assert_eq!(target, json!({ "order": { "id": "o1" }, "total": 2 }));
    }

    #[test]
    fn value_at_follows_keys_and_indexes() {
        let data = json!({ "orders": [{ "id": "o1" }, { "id": "o2", "items": [{ "q": 7 }] }] });
        let path = [
            key("orders"),
            PathSegment::Index(1),
            key("items"),
            PathSegment::Index(0),
            key("q"),
        ];
        assert_eq!(value_at(&data, &path), Some(&json!(7)));
        assert_eq!(value_at(&data, &[]), Some(&data));
    }

    #[test]
    fn value_at_is_none_for_missing_keys_out_of_range_indexes_and_kind_mismatches() {
        let data = json!({ "orders": [{ "id": "o1" }] });
        assert_eq!(value_at(&data, &[key("order")]), None);
        assert_eq!(
            value_at(&data, &[key("orders"), PathSegment::Index(1)]),
            None
        );
        assert_eq!(value_at(&data, &[key("orders"), key("id")]), None);
        assert_eq!(value_at(&data, &[PathSegment::Index(0)]), None);
    }

    #[test]
    fn value_at_mut_reaches_the_same_value_for_writing() {
        let mut data = json!({ "orders": [{ "id": "o1" }] });
        let path = [key("orders"), PathSegment::Index(0)];
        let target = value_at_mut(&mut data, &path).expect("the order exists");
        deep_merge(target, json!({ "total": 3 }));
        assert_eq!(data, json!({ "orders": [{ "id": "o1", "total": 3 }] }));
        assert!(value_at_mut(&mut data, &[key("orders"), PathSegment::Index(5)]).is_none());
    }
}
