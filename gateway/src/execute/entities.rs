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

/// A required field's value inside a representation: unlike a whole entity, a null (or an item that projects to
/// nothing) keeps its place, so a list keeps its length and order.
fn field_value(schema: &SchemaIndex, selections: &[SelectionItem], value: &Value) -> Option<Value> {
    match value {
        Value::Null => Some(Value::Null),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|item| field_value(schema, selections, item).unwrap_or(Value::Null))
                .collect(),
        )),
        other => representation(schema, selections, other),
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
                if let Some(projected) = field_value(schema, &field.selections.items, original) {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use hive_router_query_planner::ast::selection_set::SelectionSet;
    use serde_json::json;

    use super::*;

    const SDL: &str = "
        type Query { orders: [Order!]! media: [Media!]! }
        type Order { id: ID! items: [OrderItem!]! }
        type OrderItem { product: Product! }
        type Product { upc: String! name: String price: Int dimensions: Dimensions tags: [String] }
        type Dimensions { size: Int unit: String }
        interface Media { id: ID! }
        type Book implements Media { id: ID! title: String }
        type Movie implements Media { id: ID! title: String director: String }
    ";

    fn schema() -> SchemaIndex {
        crate::test_support::schema_index(SDL)
    }

    /// A `requires` selection set, written as a query.
    fn requires(selection: &str) -> SelectionSet {
        crate::test_support::operation(selection).selection_set
    }

    fn field(name: &str) -> FlattenNodePathSegment {
        FlattenNodePathSegment::Field(name.to_owned())
    }

    fn on(types: &[&str]) -> FlattenNodePathSegment {
        FlattenNodePathSegment::TypeCondition(
            types
                .iter()
                .map(|t| (*t).to_owned())
                .collect::<BTreeSet<_>>(),
        )
    }

    fn paths(data: &Value, segments: &[FlattenNodePathSegment]) -> Vec<Value> {
        let mut out = Vec::new();
        collect_entity_paths(&schema(), data, segments, &mut Vec::new(), &mut out);
        out.into_iter()
            .map(|path| serde_json::to_value(path).expect("a path serializes"))
            .collect()
    }

    fn orders() -> Value {
        json!({
            "orders": [
                { "items": [{ "product": { "upc": "p1" } }, { "product": { "upc": "p2" } }] },
                { "items": [{ "product": { "upc": "p1" } }] }
            ]
        })
    }

    #[test]
    fn a_flatten_path_reaches_every_entity_through_nested_lists() {
        let segments = [
            field("orders"),
            FlattenNodePathSegment::List,
            field("items"),
            FlattenNodePathSegment::List,
            field("product"),
        ];
        assert_eq!(
            paths(&orders(), &segments),
            vec![
                json!(["orders", 0, "items", 0, "product"]),
                json!(["orders", 0, "items", 1, "product"]),
                json!(["orders", 1, "items", 0, "product"]),
            ]
        );
    }

    #[test]
    fn a_list_the_path_does_not_mark_is_walked_through() {
        let segments = [field("orders"), field("items"), field("product")];
        assert_eq!(paths(&orders(), &segments).len(), 3);
    }

    #[test]
    fn a_path_ending_on_a_list_collects_each_object_in_it() {
        let data = json!({ "orders": [{ "id": "o1" }, { "id": "o2" }] });
        assert_eq!(
            paths(&data, &[field("orders")]),
            vec![json!(["orders", 0]), json!(["orders", 1])]
        );
    }

    #[test]
    fn null_and_missing_entities_are_not_collected() {
        let data = json!({
            "orders": [
                { "items": [{ "product": null }, { "product": { "upc": "p2" } }, {}] },
                { "items": null },
                null
            ]
        });
        let segments = [
            field("orders"),
            FlattenNodePathSegment::List,
            field("items"),
            FlattenNodePathSegment::List,
            field("product"),
        ];
        assert_eq!(
            paths(&data, &segments),
            vec![json!(["orders", 0, "items", 1, "product"])]
        );
        assert!(paths(&json!({ "orders": null }), &segments).is_empty());
    }

    #[test]
    fn a_type_condition_keeps_matching_objects_and_objects_without_typename() {
        let data = json!({
            "media": [
                { "__typename": "Book", "id": "b1" },
                { "__typename": "Movie", "id": "m1" },
                { "id": "x1" }
            ]
        });
        let books = [field("media"), FlattenNodePathSegment::List, on(&["Book"])];
        assert_eq!(
            paths(&data, &books),
            vec![json!(["media", 0]), json!(["media", 2])]
        );
        // A condition on the interface matches every implementation.
        let media = [field("media"), FlattenNodePathSegment::List, on(&["Media"])];
        assert_eq!(paths(&data, &media).len(), 3);
    }

    #[test]
    fn a_representation_keeps_only_the_required_fields_and_the_typename() {
        let requires = requires("{ ... on Product { __typename upc } }");
        let entity = json!({ "__typename": "Product", "upc": "p1", "name": "Chair", "price": 10 });
        assert_eq!(
            representation(&schema(), &requires.items, &entity),
            Some(json!({ "__typename": "Product", "upc": "p1" }))
        );
    }

    #[test]
    fn required_nested_objects_are_projected_through_their_selection() {
        let requires = requires("{ ... on Product { upc dimensions { size } } }");
        let entity = json!({
            "__typename": "Product",
            "upc": "p1",
            "dimensions": { "size": 3, "unit": "cm" }
        });
        assert_eq!(
            representation(&schema(), &requires.items, &entity),
            Some(json!({ "__typename": "Product", "upc": "p1", "dimensions": { "size": 3 } }))
        );
    }

    #[test]
    fn a_null_required_field_is_sent_as_null_and_a_missing_one_is_left_out() {
        let requires = requires("{ ... on Product { upc price name } }");
        let entity = json!({ "__typename": "Product", "upc": "p1", "price": null });
        assert_eq!(
            representation(&schema(), &requires.items, &entity),
            Some(json!({ "__typename": "Product", "upc": "p1", "price": null }))
        );
    }

    #[test]
    fn a_null_entity_or_one_without_any_required_field_has_no_representation() {
        let requires = requires("{ ... on Product { upc } }");
        assert_eq!(
            representation(&schema(), &requires.items, &Value::Null),
            None
        );
        let entity = json!({ "__typename": "Product", "name": "Chair" });
        assert_eq!(representation(&schema(), &requires.items, &entity), None);
    }

    #[test]
    fn only_the_fragment_for_the_entitys_own_type_is_projected() {
        let requires = requires("{ ... on Book { id } ... on Movie { id director } }");
        let movie =
            json!({ "__typename": "Movie", "id": "m1", "title": "Alien", "director": "Scott" });
        let book = json!({ "__typename": "Book", "id": "b1", "title": "Dune", "director": "?" });
        assert_eq!(
            representation(&schema(), &requires.items, &movie),
            Some(json!({ "__typename": "Movie", "id": "m1", "director": "Scott" }))
        );
        assert_eq!(
            representation(&schema(), &requires.items, &book),
            Some(json!({ "__typename": "Book", "id": "b1" }))
        );
    }

    #[test]
    fn null_items_of_a_required_list_are_kept() {
        let requires = requires("{ ... on Product { upc tags } }");
        let entity = json!({ "__typename": "Product", "upc": "p1", "tags": ["a", null, "b"] });
        assert_eq!(
            representation(&schema(), &requires.items, &entity),
            Some(json!({ "__typename": "Product", "upc": "p1", "tags": ["a", null, "b"] }))
        );
    }
}
