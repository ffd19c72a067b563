//! Writing the client's response: exactly the client's selection, in its order, from the
//! merged subgraph data, with GraphQL null propagation for non-null violations.
//!
//! Planner-added fields (keys, `__typename`, requirements) are in the merged data but not in
//! the client's selection, so they never reach the client.

use std::rc::Rc;

use graphql_tools::static_graphql::schema::Type;
use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::FieldSelection;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::introspection::Introspection;
use crate::response::error::{ErrorCode, GraphQLError, PathSegment};
use crate::response::json::{write_str, write_value};
use crate::schema::{SchemaIndex, TypeKind};

/// A non-null field was null: its parent must become null (or the parent's parent…).
struct Bubble;

#[derive(Clone, Copy)]
enum PathRef<'a> {
    Key(&'a str),
    Index(usize),
}

/// Projects merged data onto the client operation.
pub(crate) struct Projector<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Value>,
    introspection: &'a Introspection<'a>,
    errors: &'a mut Vec<GraphQLError>,
    /// Whether errors already explain missing data (then a null adds no new error).
    explained: bool,
    out: Vec<u8>,
    path: Vec<PathRef<'a>>,
    /// The fields of each (type, selections) met so far, by the addresses [`Projector::fields_of`] keys on.
    memo: FxHashMap<Box<[usize]>, Rc<[ProjectedField<'a>]>>,
    memo_key: Vec<usize>,
}

/// One response key of an object: its first selection (the rest only add sub-selections) and the field's type.
struct ProjectedField<'a> {
    key: &'a str,
    /// `"key":`, ready to copy.
    prefix: Box<[u8]>,
    name: &'a str,
    selection: &'a FieldSelection,
    /// `None` for a field the schema does not define on the type (written as `null`).
    field_type: Option<&'a Type>,
    sub_selections: Vec<&'a [SelectionItem]>,
}

impl<'a> Projector<'a> {
    /// A projector appending any new errors to `errors`.
    pub(crate) fn new(
        schema: &'a SchemaIndex,
        variables: &'a Map<String, Value>,
        introspection: &'a Introspection<'a>,
        errors: &'a mut Vec<GraphQLError>,
    ) -> Self {
        let explained = !errors.is_empty();
        Self {
            schema,
            variables,
            introspection,
            errors,
            explained,
            out: Vec::with_capacity(1024),
            path: Vec::new(),
            memo: FxHashMap::default(),
            memo_key: Vec::new(),
        }
    }

    /// Writes the `data` value (an object, or `null` when a root non-null field was null).
    pub(crate) fn project(
        mut self,
        operation: &'a OperationDefinition,
        root_type: &'a str,
        data: &'a Value,
    ) -> Vec<u8> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        let root = data.as_object().unwrap_or(&EMPTY);
        self.out.push(b'{');
        match self.selection_set(
            root_type,
            root,
            &[operation.selection_set.items.as_slice()],
            true,
        ) {
            Ok(()) => self.out.push(b'}'),
            Err(Bubble) => {
                self.out.clear();
                self.out.extend_from_slice(b"null");
            }
        }
        self.out
    }

    fn selection_set(
        &mut self,
        type_name: &'a str,
        object: &'a Map<String, Value>,
        selection_sets: &[&'a [SelectionItem]],
        is_root: bool,
    ) -> Result<(), Bubble> {
        let fields = self.fields_of(type_name, selection_sets);
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&field.prefix);
            match field.name {
                "__typename" => write_str(&mut self.out, type_name),
                "__schema" | "__type" if is_root => {
                    self.introspection
                        .write_root_field(field.selection, &mut self.out);
                }
                _ => {
                    let Some(field_type) = field.field_type else {
                        self.out.extend_from_slice(b"null");
                        continue;
                    };
                    self.path.push(PathRef::Key(field.key));
                    let result =
                        self.complete(field_type, object.get(field.key), &field.sub_selections);
                    self.path.pop();
                    result?;
                }
            }
        }
        Ok(())
    }

    /// The fields `selection_sets` select on an object of type `type_name`, collected once per projection: a
    /// list of twenty orders collects its items' fields once, not twenty times.
    fn fields_of(
        &mut self,
        type_name: &'a str,
        selection_sets: &[&'a [SelectionItem]],
    ) -> Rc<[ProjectedField<'a>]> {
        // The same type and selections are the same borrowed slices for the whole projection, so their
        // addresses are a key; a type name spelled elsewhere only misses the memo.
        self.memo_key.clear();
        self.memo_key.push(type_name.as_ptr() as usize);
        for items in selection_sets {
            self.memo_key.push(items.as_ptr() as usize);
            self.memo_key.push(items.len());
        }
        if let Some(fields) = self.memo.get(self.memo_key.as_slice()) {
            return Rc::clone(fields);
        }
        let mut collected = Vec::new();
        for items in selection_sets {
            collect_fields(
                self.schema,
                self.variables,
                type_name,
                items,
                &mut collected,
            );
        }
        let fields: Rc<[ProjectedField<'a>]> = collected
            .into_iter()
            .map(|(key, selections)| {
                let selection = selections[0];
                let mut prefix = Vec::with_capacity(key.len() + 3);
                write_str(&mut prefix, key);
                prefix.push(b':');
                ProjectedField {
                    key,
                    prefix: prefix.into(),
                    name: selection.name.as_str(),
                    selection,
                    field_type: self.schema.field_type(type_name, &selection.name),
                    sub_selections: selections
                        .iter()
                        .map(|f| f.selections.items.as_slice())
                        .collect(),
                }
            })
            .collect();
        self.memo
            .insert(self.memo_key.as_slice().into(), Rc::clone(&fields));
        fields
    }

    /// Writes one value of type `field_type`; `Ok(true)` when it wrote `null`.
    fn complete(
        &mut self,
        field_type: &'a Type,
        value: Option<&'a Value>,
        selections: &[&'a [SelectionItem]],
    ) -> Result<bool, Bubble> {
        match field_type {
            Type::NonNullType(inner) => {
                if self.complete(inner, value, selections)? {
                    self.non_null_violation();
                    return Err(Bubble);
                }
                Ok(false)
            }
            Type::ListType(inner) => {
                let Some(Value::Array(items)) = value else {
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                };
                let start = self.out.len();
                self.out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(PathRef::Index(index));
                    let result = self.complete(inner, Some(item), selections);
                    self.path.pop();
                    if result.is_err() {
                        // A non-null item was null: the nearest nullable parent is this list.
                        self.out.truncate(start);
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    }
                }
                self.out.push(b']');
                Ok(false)
            }
            Type::NamedType(type_name) => self.complete_named(type_name, value, selections),
        }
    }

    fn complete_named(
        &mut self,
        type_name: &'a str,
        value: Option<&'a Value>,
        selections: &[&'a [SelectionItem]],
    ) -> Result<bool, Bubble> {
        let value = match value {
            None | Some(Value::Null) => {
                self.out.extend_from_slice(b"null");
                return Ok(true);
            }
            Some(value) => value,
        };
        let Some(named) = self.schema.types.get(type_name) else {
            write_value(&mut self.out, value);
            return Ok(false);
        };
        match named.kind {
            TypeKind::Scalar => {
                write_value(&mut self.out, value);
                Ok(false)
            }
            TypeKind::Enum => match value.as_str() {
                Some(v) if named.enum_values.contains(v) => {
                    write_str(&mut self.out, v);
                    Ok(false)
                }
                // A value the API schema hides (@inaccessible) or does not know.
                _ => {
                    self.errors.push(
                        GraphQLError::with_code(
                            format!("Enum \"{type_name}\" cannot represent value: {value}"),
                            ErrorCode::InternalServerError,
                        )
                        .at(self.current_path()),
                    );
                    self.explained = true;
                    self.out.extend_from_slice(b"null");
                    Ok(true)
                }
            },
            TypeKind::Object | TypeKind::Interface | TypeKind::Union => {
                let Value::Object(object) = value else {
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                };
                // An abstract value whose __typename is not one of its possible object types
                // (say, the interface's own name) has no valid runtime type: it is null.
                let Some(concrete) = self.concrete_type(type_name, named.kind, object) else {
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                };
                let start = self.out.len();
                self.out.push(b'{');
                match self.selection_set(concrete, object, selections, false) {
                    Ok(()) => {
                        self.out.push(b'}');
                        Ok(false)
                    }
                    Err(Bubble) => {
                        self.out.truncate(start);
                        self.out.extend_from_slice(b"null");
                        Ok(true)
                    }
                }
            }
            TypeKind::InputObject => {
                self.out.extend_from_slice(b"null");
                Ok(true)
            }
        }
    }

    fn concrete_type(
        &self,
        declared: &'a str,
        kind: TypeKind,
        object: &'a Map<String, Value>,
    ) -> Option<&'a str> {
        if kind == TypeKind::Object {
            return Some(declared);
        }
        match object.get("__typename").and_then(Value::as_str) {
            // The schema's own spelling of the name, not the one in the data: `fields_of` keys on the address,
            // and each object's `__typename` is a string of its own.
            Some(name)
                if self.schema.kind(name) == Some(TypeKind::Object)
                    && self.schema.satisfies(name, declared) =>
            {
                self.schema
                    .types
                    .get_key_value(name)
                    .map(|(name, _)| name.as_str())
            }
            Some(name) if self.schema.interface_objects.contains(name) => Some(declared),
            Some(_) => None,
            None => Some(declared),
        }
    }

    fn non_null_violation(&mut self) {
        // Data missing because a fetch failed or a subgraph errored is already explained;
        // otherwise the client must learn why a non-null field is gone.
        if self.explained {
            return;
        }
        self.explained = true;
        let field = self
            .path
            .iter()
            .rev()
            .find_map(|p| match p {
                PathRef::Key(k) => Some(*k),
                PathRef::Index(_) => None,
            })
            .unwrap_or("?");
        self.errors.push(
            GraphQLError::with_code(
                format!("Cannot return null for non-nullable field {field}"),
                ErrorCode::InternalServerError,
            )
            .at(self.current_path()),
        );
    }

    fn current_path(&self) -> Vec<PathSegment> {
        self.path
            .iter()
            .map(|p| match p {
                PathRef::Key(k) => PathSegment::Key((*k).to_owned()),
                PathRef::Index(i) => PathSegment::Index(*i),
            })
            .collect()
    }
}

fn included(
    variables: &Map<String, Value>,
    skip_if: Option<&String>,
    include_if: Option<&String>,
) -> bool {
    let var = |name: &String| {
        variables
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    !skip_if.is_some_and(var) && include_if.is_none_or(var)
}

/// Groups the fields that apply to an object of type `type_name` by response key, in
/// first-seen order, merging the sub-selections of repeated keys (the spec's CollectFields):
/// `{ a { x } ... on T { a { y } } }` yields one `a` with `x` and `y`.
pub(crate) fn collect_fields<'a>(
    schema: &SchemaIndex,
    variables: &Map<String, Value>,
    type_name: &str,
    items: &'a [SelectionItem],
    out: &mut Vec<(&'a str, Vec<&'a FieldSelection>)>,
) {
    for item in items {
        match item {
            SelectionItem::Field(field) => {
                if field.omit_from_response
                    || !included(variables, field.skip_if.as_ref(), field.include_if.as_ref())
                {
                    continue;
                }
                let key = field.selection_identifier();
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, fields)) => fields.push(field),
                    None => out.push((key, vec![field])),
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                if included(
                    variables,
                    fragment.skip_if.as_ref(),
                    fragment.include_if.as_ref(),
                ) && schema.satisfies(type_name, &fragment.type_condition)
                {
                    collect_fields(
                        schema,
                        variables,
                        type_name,
                        &fragment.selections.items,
                        out,
                    );
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use hive_router_query_planner::ast::operation::OperationDefinition;
    use serde_json::json;

    use super::*;

    const SDL: &str = "
        type Query {
            product(upc: String): Product
            topProducts: [Product!]!
            maybeProducts: [Product!]
            tags: [String]
            media: [Media!]!
            search: [SearchResult]
            status: Status
            strictName: String!
        }
        enum Status { OPEN CLOSED }
        type Product { upc: String! name: String! price: Int owner: User }
        type User { id: ID! name: String }
        interface Media { id: ID! title: String }
        type Book implements Media { id: ID! title: String pages: Int }
        type Movie implements Media { id: ID! title: String minutes: Int }
        union SearchResult = Book | Movie
    ";

    fn schema() -> SchemaIndex {
        crate::test_support::schema_index(SDL)
    }

    fn operation(query: &str) -> OperationDefinition {
        crate::test_support::operation(query)
    }

    /// The projected `data` as text, and the errors after projection.
    fn project_with(
        schema: &SchemaIndex,
        query: &str,
        data: &Value,
        variables: &Value,
        mut errors: Vec<GraphQLError>,
    ) -> (String, Vec<GraphQLError>) {
        let operation = operation(query);
        let variables = variables.as_object().cloned().unwrap_or_default();
        let directives = crate::introspection::builtin_directives();
        let introspection = Introspection::new(schema, &variables, &directives);
        let out = Projector::new(schema, &variables, &introspection, &mut errors)
            .project(&operation, "Query", data);
        (String::from_utf8(out).expect("UTF-8 JSON"), errors)
    }

    fn project(query: &str, data: &Value) -> (String, Vec<GraphQLError>) {
        project_with(&schema(), query, data, &json!({}), Vec::new())
    }

    fn errors_json(errors: &[GraphQLError]) -> Value {
        serde_json::to_value(errors).expect("errors serialize")
    }

    #[test]
    fn only_the_client_selection_is_written_in_its_order() {
        let data = json!({
            "product": { "__typename": "Product", "price": 10, "upc": "p1", "name": "Chair" }
        });
        let (out, errors) = project("{ product { name price } }", &data);
        assert_eq!(out, r#"{"product":{"name":"Chair","price":10}}"#);
        assert!(errors.is_empty());
    }

    #[test]
    fn aliases_are_read_and_written_by_response_key() {
        let data = json!({ "a": { "n": "A" }, "b": { "name": "B" } });
        let (out, _) = project(
            r#"{ a: product(upc: "1") { n: name } b: product(upc: "2") { name } }"#,
            &data,
        );
        assert_eq!(out, r#"{"a":{"n":"A"},"b":{"name":"B"}}"#);
    }

    #[test]
    fn typename_is_the_runtime_object_type() {
        let data = json!({
            "product": {},
            "media": [
                { "__typename": "Book", "pages": 300 },
                { "__typename": "Movie", "minutes": 120 }
            ]
        });
        let (out, _) = project(
            "{ __typename product { __typename } media { kind: __typename ... on Book { pages } ... on Movie { minutes } } }",
            &data,
        );
        assert_eq!(
            out,
            r#"{"__typename":"Query","product":{"__typename":"Product"},"media":[{"kind":"Book","pages":300},{"kind":"Movie","minutes":120}]}"#
        );
    }

    #[test]
    fn a_null_in_a_non_null_field_nulls_the_nearest_nullable_parent() {
        let data = json!({ "product": { "upc": "p1", "name": null }, "tags": ["a"] });
        let (out, errors) = project("{ product { upc name } tags }", &data);
        assert_eq!(out, r#"{"product":null,"tags":["a"]}"#);
        assert_eq!(
            errors_json(&errors),
            json!([{
                "message": "Cannot return null for non-nullable field name",
                "path": ["product", "name"],
                "extensions": { "code": "INTERNAL_SERVER_ERROR" }
            }])
        );
    }

    #[test]
    fn a_null_bubbles_through_non_null_parents_up_to_data() {
        let data = json!({ "topProducts": [{ "name": "A" }, { "name": null }] });
        let (out, errors) = project("{ topProducts { name } }", &data);
        assert_eq!(out, "null");
        assert_eq!(
            errors_json(&errors)[0]["path"],
            json!(["topProducts", 1, "name"])
        );
    }

    #[test]
    fn a_null_non_null_item_nulls_a_nullable_list() {
        let data = json!({ "maybeProducts": [{ "name": "A" }, { "name": null }] });
        let (out, errors) = project("{ maybeProducts { name } }", &data);
        assert_eq!(out, r#"{"maybeProducts":null}"#);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn missing_nullable_fields_are_null_without_an_error() {
        let data = json!({ "product": { "name": "Chair" } });
        let (out, errors) = project("{ product { name price owner { id } } status }", &data);
        assert_eq!(
            out,
            r#"{"product":{"name":"Chair","price":null,"owner":null},"status":null}"#
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn a_missing_non_null_root_field_nulls_the_whole_data() {
        let (out, errors) = project("{ strictName tags }", &Value::Null);
        assert_eq!(out, "null");
        assert_eq!(errors_json(&errors)[0]["path"], json!(["strictName"]));
    }

    #[test]
    fn errors_already_reported_explain_missing_non_null_data() {
        let reported = GraphQLError::with_code("products is down", ErrorCode::SubrequestFailed);
        let (out, errors) = project_with(
            &schema(),
            "{ product { name } }",
            &json!({ "product": {} }),
            &json!({}),
            vec![reported],
        );
        assert_eq!(out, r#"{"product":null}"#);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "products is down");
    }

    #[test]
    fn only_the_first_non_null_violation_adds_an_error() {
        let data = json!({ "a": { "name": null }, "b": { "name": null } });
        let (out, errors) = project("{ a: product { name } b: product { name } }", &data);
        assert_eq!(out, r#"{"a":null,"b":null}"#);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors_json(&errors)[0]["path"], json!(["a", "name"]));
    }

    #[test]
    fn an_enum_value_the_api_schema_does_not_know_is_null_with_an_error() {
        let (out, errors) = project("{ status }", &json!({ "status": "OPEN" }));
        assert_eq!(out, r#"{"status":"OPEN"}"#);
        assert!(errors.is_empty());

        let (out, errors) = project("{ status }", &json!({ "status": "ARCHIVED" }));
        assert_eq!(out, r#"{"status":null}"#);
        assert_eq!(
            errors_json(&errors),
            json!([{
                "message": "Enum \"Status\" cannot represent value: \"ARCHIVED\"",
                "path": ["status"],
                "extensions": { "code": "INTERNAL_SERVER_ERROR" }
            }])
        );
    }

    #[test]
    fn an_abstract_value_whose_typename_is_not_a_possible_type_is_null() {
        let data = json!({
            "search": [
                { "__typename": "Podcast", "id": "x" },
                { "__typename": "SearchResult", "id": "y" },
                { "__typename": "Book", "id": "b1" },
                { "__typename": "Movie", "id": "m1" }
            ]
        });
        let (out, errors) = project("{ search { ... on Book { id } } }", &data);
        assert_eq!(out, r#"{"search":[null,null,{"id":"b1"},{}]}"#);
        assert!(errors.is_empty());
    }

    #[test]
    fn an_interface_objects_typename_stands_for_the_interface() {
        let data = json!({ "media": [{ "__typename": "Media", "id": "x", "title": "T" }] });
        let query = "{ media { __typename id title } }";
        let (out, _) = project(query, &data);
        assert_eq!(
            out, "null",
            "without @interfaceObject the typename is invalid"
        );

        let mut schema = schema();
        schema.interface_objects.insert("Media".to_owned());
        let (out, errors) = project_with(&schema, query, &data, &json!({}), Vec::new());
        assert_eq!(
            out,
            r#"{"media":[{"__typename":"Media","id":"x","title":"T"}]}"#
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn skip_and_include_follow_their_variables() {
        let query = "query ($s: Boolean!, $i: Boolean!) { product { upc @skip(if: $s) name @include(if: $i) price } }";
        let data = json!({ "product": { "upc": "p1", "name": "Chair", "price": 3 } });
        let cases = [
            (
                json!({ "s": false, "i": true }),
                r#"{"product":{"upc":"p1","name":"Chair","price":3}}"#,
            ),
            (
                json!({ "s": true, "i": false }),
                r#"{"product":{"price":3}}"#,
            ),
            // An absent variable is false: not skipped, not included.
            (json!({}), r#"{"product":{"upc":"p1","price":3}}"#),
        ];
        for (variables, expected) in cases {
            let (out, _) = project_with(&schema(), query, &data, &variables, Vec::new());
            assert_eq!(out, expected, "{variables}");
        }
    }

    #[test]
    fn repeated_fields_and_matching_fragments_merge_their_selections() {
        let data = json!({ "product": { "owner": { "id": "u1", "name": "Ann" }, "price": 1 } });
        let (out, _) = project(
            "{ product { owner { id } ... on Product { owner { name } price } ... on User { id } } }",
            &data,
        );
        assert_eq!(
            out,
            r#"{"product":{"owner":{"id":"u1","name":"Ann"},"price":1}}"#
        );
    }

    #[test]
    fn values_of_the_wrong_shape_and_unknown_fields_are_null() {
        let data = json!({ "tags": "not a list", "product": "not an object", "nope": 1 });
        let (out, errors) = project("{ tags product { name } nope }", &data);
        assert_eq!(out, r#"{"tags":null,"product":null,"nope":null}"#);
        assert!(errors.is_empty());
    }

    #[test]
    fn root_introspection_fields_are_answered_by_introspection() {
        let (out, _) = project(
            r#"{ __type(name: "Status") { kind enumValues { name } } __typename }"#,
            &json!({}),
        );
        assert_eq!(
            out,
            r#"{"__type":{"kind":"ENUM","enumValues":[{"name":"OPEN"},{"name":"CLOSED"}]},"__typename":"Query"}"#
        );
    }
}
