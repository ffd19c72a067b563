//! Writing the client's response: exactly the client's selection, in its order, from the
//! merged subgraph data, with GraphQL null propagation for non-null violations.
//!
//! Planner-added fields (keys, `__typename`, requirements) are in the merged data but not in
//! the client's selection, so they never reach the client.

use graphql_tools::static_graphql::schema::Type;
use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::FieldSelection;
use serde_json::{Map, Value};

use crate::introspection::Introspection;
use crate::response::error::{ErrorCode, GraphQLError, PathSegment};
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
        let mut fields = Vec::new();
        for items in selection_sets {
            collect_fields(self.schema, self.variables, type_name, items, &mut fields);
        }
        for (index, (key, selections)) in fields.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            write_json(&mut self.out, key);
            self.out.push(b':');
            let field = selections[0];
            match field.name.as_str() {
                "__typename" => write_json(&mut self.out, type_name),
                "__schema" | "__type" if is_root => {
                    self.introspection.write_root_field(field, &mut self.out);
                }
                name => {
                    let Some(field_type) = self.schema.field_type(type_name, name) else {
                        self.out.extend_from_slice(b"null");
                        continue;
                    };
                    let sub_selections: Vec<&'a [SelectionItem]> = selections
                        .iter()
                        .map(|f| f.selections.items.as_slice())
                        .collect();
                    self.path.push(PathRef::Key(key));
                    let result = self.complete(field_type, object.get(*key), &sub_selections);
                    self.path.pop();
                    result?;
                }
            }
        }
        Ok(())
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
            write_json(&mut self.out, value);
            return Ok(false);
        };
        match named.kind {
            TypeKind::Scalar => {
                write_json(&mut self.out, value);
                Ok(false)
            }
            TypeKind::Enum => match value.as_str() {
                Some(v) if named.enum_values.contains(v) => {
                    write_json(&mut self.out, v);
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
            Some(name)
                if self.schema.kind(name) == Some(TypeKind::Object)
                    && self.schema.satisfies(name, declared) =>
            {
                Some(name)
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

pub(crate) fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing a string or serde_json::Value into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}
