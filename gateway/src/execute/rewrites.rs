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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    const SDL: &str = "
        type Query { media: [Media!]! }
        interface Media { id: ID! }
        type Book implements Media { id: ID! title: String }
        type Movie implements Media { id: ID! title: String }
    ";

    fn schema() -> SchemaIndex {
        SchemaIndex::new(
            graphql_tools::parser::parse_schema::<String>(SDL)
                .expect("the test SDL parses")
                .into_static(),
        )
    }

    fn typename_is(names: &[&str]) -> FetchNodePathSegment {
        FetchNodePathSegment::TypenameEquals(
            names
                .iter()
                .map(|n| (*n).to_owned())
                .collect::<BTreeSet<_>>(),
        )
    }

    fn key(k: &str) -> FetchNodePathSegment {
        FetchNodePathSegment::Key(k.to_owned())
    }

    fn setter(path: Vec<FetchNodePathSegment>, to: &str) -> FetchRewrite {
        FetchRewrite::ValueSetter(ValueSetter {
            path,
            set_value_to: to.to_owned(),
        })
    }

    fn renamer(path: Vec<FetchNodePathSegment>, to: &str) -> FetchRewrite {
        FetchRewrite::KeyRenamer(KeyRenamer {
            path,
            rename_key_to: to.to_owned(),
        })
    }

    #[test]
    fn a_value_setter_rewrites_the_typename_of_every_matching_representation() {
        let rewrites = vec![setter(
            vec![typename_is(&["Book"]), key("__typename")],
            "Media",
        )];
        let mut value = json!([
            { "__typename": "Book", "id": "b1" },
            { "__typename": "Movie", "id": "m1" },
            { "__typename": "Book", "id": "b2" }
        ]);
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(
            value,
            json!([
                { "__typename": "Media", "id": "b1" },
                { "__typename": "Movie", "id": "m1" },
                { "__typename": "Media", "id": "b2" }
            ])
        );
    }

    #[test]
    fn a_typename_condition_on_an_interface_matches_its_implementations() {
        let rewrites = vec![setter(vec![typename_is(&["Media"]), key("id")], "hidden")];
        let mut value = json!({ "__typename": "Movie", "id": "m1" });
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(value, json!({ "__typename": "Movie", "id": "hidden" }));
    }

    #[test]
    fn an_object_without_typename_satisfies_any_condition() {
        let rewrites = vec![setter(vec![typename_is(&["Book"]), key("id")], "x")];
        let mut value = json!({ "id": "b1" });
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(value, json!({ "id": "x" }));
    }

    #[test]
    fn a_value_setter_never_creates_a_missing_key() {
        let rewrites = vec![setter(vec![key("__typename")], "Media")];
        let mut value = json!({ "id": "b1" });
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(value, json!({ "id": "b1" }));
    }

    #[test]
    fn a_key_renamer_moves_a_planner_alias_back_to_the_client_key() {
        let rewrites = vec![renamer(
            vec![typename_is(&["Book"]), key("media"), key("_internal_title")],
            "title",
        )];
        let mut value = json!({
            "__typename": "Book",
            "media": [{ "_internal_title": "Dune" }, { "other": 1 }]
        });
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(
            value,
            json!({ "__typename": "Book", "media": [{ "title": "Dune" }, { "other": 1 }] })
        );
    }

    #[test]
    fn a_key_renamer_skips_objects_of_another_type_and_same_name_renames() {
        let rewrites = vec![
            renamer(vec![typename_is(&["Book"]), key("t")], "title"),
            renamer(vec![key("id")], "id"),
        ];
        let mut value = json!([
            { "__typename": "Movie", "t": "Alien", "id": "m1" },
            { "__typename": "Book", "t": "Dune", "id": "b1" }
        ]);
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(
            value,
            json!([
                { "__typename": "Movie", "t": "Alien", "id": "m1" },
                { "__typename": "Book", "title": "Dune", "id": "b1" }
            ])
        );
    }

    #[test]
    fn rewrites_apply_in_order_and_none_changes_nothing() {
        let mut value = json!({ "__typename": "Book", "a": "1" });
        apply_all(None, &schema(), &mut value);
        assert_eq!(value, json!({ "__typename": "Book", "a": "1" }));

        // Renamed first, so the setter finds the key under its new name.
        let rewrites = vec![renamer(vec![key("a")], "b"), setter(vec![key("b")], "2")];
        apply_all(Some(&rewrites), &schema(), &mut value);
        assert_eq!(value, json!({ "__typename": "Book", "b": "2" }));
    }
}
