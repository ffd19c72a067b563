//! Introspection (`__schema`, `__type`) answered from the API schema, so federation
//! internals (`join__*`, `_entities`, `_Service`) and `@inaccessible` members never show.
//!
//! Resolves the normalized selection directly into JSON, in selection order.

use graphql_tools::static_graphql::schema::{
    Directive, DirectiveDefinition, EnumValue, Field, InputValue, Type, TypeDefinition,
};
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::FieldSelection;
use hive_router_query_planner::ast::value::Value as AstValue;
use serde_json::{Map, Value};

use crate::schema::{SchemaIndex, type_definition_name};

/// Built-in scalars, listed in `__schema.types` even when the SDL does not declare them.
const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// Built-in directives, listed when the SDL does not declare them.
const BUILTIN_DIRECTIVES: &str = r#"
"Directs the executor to include this field or fragment only when the `if` argument is true."
directive @include("Included when true." if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
"Directs the executor to skip this field or fragment when the `if` argument is true."
directive @skip("Skipped when true." if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
"Marks an element of a GraphQL schema as no longer supported."
directive @deprecated(reason: String = "No longer supported") on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE
"Exposes a URL that specifies the behavior of this scalar."
directive @specifiedBy(url: String!) on SCALAR
"#;

/// The introspection node being resolved.
#[derive(Clone, Copy)]
enum Node<'s> {
    Schema,
    Named(&'s str),
    Wrapped(&'s Type),
    Field(&'s Field),
    InputValue(&'s InputValue),
    EnumValue(&'s EnumValue),
    Directive(&'s DirectiveDefinition),
}

/// Resolves introspection for one schema.
pub(crate) struct Introspection<'s> {
    schema: &'s SchemaIndex,
    variables: &'s Map<String, Value>,
    builtin_directives: &'s [DirectiveDefinition],
}

/// Parsed built-in directive definitions (kept for the gateway's lifetime).
pub(crate) fn builtin_directives() -> Vec<DirectiveDefinition> {
    graphql_tools::parser::parse_schema::<String>(BUILTIN_DIRECTIVES)
        .map(|doc| {
            doc.into_static()
                .definitions
                .into_iter()
                .filter_map(|d| match d {
                    graphql_tools::static_graphql::schema::Definition::DirectiveDefinition(d) => {
                        Some(d)
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

impl<'s> Introspection<'s> {
    /// An introspection resolver over `schema`, reading arguments from `variables`.
    pub(crate) fn new(
        schema: &'s SchemaIndex,
        variables: &'s Map<String, Value>,
        builtin_directives: &'s [DirectiveDefinition],
    ) -> Self {
        Self {
            schema,
            variables,
            builtin_directives,
        }
    }

    /// Writes the value of a root `__schema` or `__type` field.
    pub(crate) fn write_root_field(&self, field: &'s FieldSelection, out: &mut Vec<u8>) {
        match field.name.as_str() {
            "__schema" => self.write_object(Node::Schema, &field.selections.items, out),
            "__type" => match self.string_argument(field, "name") {
                Some(name) if self.type_exists(&name) => {
                    // The name must outlive this call: look it up to borrow from the schema.
                    let name = self.stored_type_name(&name);
                    self.write_object(Node::Named(name), &field.selections.items, out);
                }
                _ => out.extend_from_slice(b"null"),
            },
            _ => out.extend_from_slice(b"null"),
        }
    }

    fn type_exists(&self, name: &str) -> bool {
        self.schema.types.contains_key(name)
    }

    fn stored_type_name(&self, name: &str) -> &'s str {
        self.schema
            .types
            .get_key_value(name)
            .map_or("", |(k, _)| k.as_str())
    }

    fn string_argument(&self, field: &FieldSelection, name: &str) -> Option<String> {
        match field.arguments.as_ref()?.get_argument(name)? {
            AstValue::String(s) => Some(s.clone()),
            AstValue::Variable(v) => self.variables.get(v)?.as_str().map(str::to_owned),
            _ => None,
        }
    }

    fn bool_argument(&self, field: &FieldSelection, name: &str) -> bool {
        match field.arguments.as_ref().and_then(|a| a.get_argument(name)) {
            Some(AstValue::Boolean(b)) => *b,
            Some(AstValue::Variable(v)) => self
                .variables
                .get(v)
                .and_then(Value::as_bool)
                .unwrap_or(false),
            _ => false,
        }
    }

    fn included(&self, skip_if: Option<&String>, include_if: Option<&String>) -> bool {
        let var = |name: &String| {
            self.variables
                .get(name)
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        !skip_if.is_some_and(var) && include_if.is_none_or(var)
    }

    fn meta_type(node: Node<'_>) -> &'static str {
        match node {
            Node::Schema => "__Schema",
            Node::Named(_) | Node::Wrapped(_) => "__Type",
            Node::Field(_) => "__Field",
            Node::InputValue(_) => "__InputValue",
            Node::EnumValue(_) => "__EnumValue",
            Node::Directive(_) => "__Directive",
        }
    }

    fn write_object(&self, node: Node<'s>, selections: &'s [SelectionItem], out: &mut Vec<u8>) {
        out.push(b'{');
        let mut written: Vec<&str> = Vec::new();
        self.write_fields(node, selections, out, &mut written);
        out.push(b'}');
    }

    fn write_fields(
        &self,
        node: Node<'s>,
        selections: &'s [SelectionItem],
        out: &mut Vec<u8>,
        written: &mut Vec<&'s str>,
    ) {
        for selection in selections {
            match selection {
                SelectionItem::Field(field) => {
                    if !self.included(field.skip_if.as_ref(), field.include_if.as_ref()) {
                        continue;
                    }
                    let key = field.selection_identifier();
                    if written.contains(&key) {
                        continue;
                    }
                    if !written.is_empty() {
                        out.push(b',');
                    }
                    written.push(key);
                    write_json(out, key);
                    out.push(b':');
                    self.write_field(node, field, out);
                }
                SelectionItem::InlineFragment(fragment) => {
                    if self.included(fragment.skip_if.as_ref(), fragment.include_if.as_ref())
                        && fragment.type_condition == Self::meta_type(node)
                    {
                        self.write_fields(node, &fragment.selections.items, out, written);
                    }
                }
                SelectionItem::FragmentSpread(_) => {}
            }
        }
    }

    fn write_list(
        &self,
        nodes: impl Iterator<Item = Node<'s>>,
        field: &'s FieldSelection,
        out: &mut Vec<u8>,
    ) {
        out.push(b'[');
        for (index, node) in nodes.enumerate() {
            if index > 0 {
                out.push(b',');
            }
            self.write_object(node, &field.selections.items, out);
        }
        out.push(b']');
    }

    fn write_field(&self, node: Node<'s>, field: &'s FieldSelection, out: &mut Vec<u8>) {
        let name = field.name.as_str();
        if name == "__typename" {
            write_json(out, Self::meta_type(node));
            return;
        }
        match node {
            Node::Schema => self.write_schema_field(name, field, out),
            Node::Named(type_name) => self.write_named_type_field(type_name, name, field, out),
            Node::Wrapped(wrapped) => match (name, wrapped) {
                ("kind", Type::ListType(_)) => write_json(out, "LIST"),
                ("kind", Type::NonNullType(_)) => write_json(out, "NON_NULL"),
                ("ofType", Type::ListType(inner) | Type::NonNullType(inner)) => {
                    self.write_object(type_node(inner), &field.selections.items, out);
                }
                ("kind", Type::NamedType(n)) | ("name", Type::NamedType(n)) => {
                    // type_node() never wraps a named type; answer sensibly anyway.
                    self.write_named_type_field(n, name, field, out);
                }
                _ => out.extend_from_slice(b"null"),
            },
            Node::Field(f) => match name {
                "name" => write_json(out, &f.name),
                "description" => write_opt(out, f.description.as_deref()),
                "args" => {
                    let include = self.bool_argument(field, "includeDeprecated");
                    self.write_list(
                        f.arguments
                            .iter()
                            .filter(|a| include || deprecation(&a.directives).is_none())
                            .map(Node::InputValue),
                        field,
                        out,
                    );
                }
                "type" => self.write_object(type_node(&f.field_type), &field.selections.items, out),
                "isDeprecated" => write_json(out, &deprecation(&f.directives).is_some()),
                "deprecationReason" => write_opt(out, deprecation(&f.directives).flatten()),
                _ => out.extend_from_slice(b"null"),
            },
            Node::InputValue(v) => match name {
                "name" => write_json(out, &v.name),
                "description" => write_opt(out, v.description.as_deref()),
                "type" => self.write_object(type_node(&v.value_type), &field.selections.items, out),
                "defaultValue" => match &v.default_value {
                    Some(default) => write_json(out, &default.to_string()),
                    None => out.extend_from_slice(b"null"),
                },
                "isDeprecated" => write_json(out, &deprecation(&v.directives).is_some()),
                "deprecationReason" => write_opt(out, deprecation(&v.directives).flatten()),
                _ => out.extend_from_slice(b"null"),
            },
            Node::EnumValue(v) => match name {
                "name" => write_json(out, &v.name),
                "description" => write_opt(out, v.description.as_deref()),
                "isDeprecated" => write_json(out, &deprecation(&v.directives).is_some()),
                "deprecationReason" => write_opt(out, deprecation(&v.directives).flatten()),
                _ => out.extend_from_slice(b"null"),
            },
            Node::Directive(d) => match name {
                "name" => write_json(out, &d.name),
                "description" => write_opt(out, d.description.as_deref()),
                "isRepeatable" => write_json(out, &d.repeatable),
                "locations" => {
                    let locations: Vec<&str> = d.locations.iter().map(|l| l.as_str()).collect();
                    write_json(out, &locations);
                }
                "args" => {
                    let include = self.bool_argument(field, "includeDeprecated");
                    self.write_list(
                        d.arguments
                            .iter()
                            .filter(|a| include || deprecation(&a.directives).is_none())
                            .map(Node::InputValue),
                        field,
                        out,
                    );
                }
                _ => out.extend_from_slice(b"null"),
            },
        }
    }

    fn write_schema_field(&self, name: &str, field: &'s FieldSelection, out: &mut Vec<u8>) {
        let schema = self.schema;
        match name {
            "description" => out.extend_from_slice(b"null"),
            "types" => {
                let declared = schema.type_definitions().map(type_definition_name);
                let builtins = BUILTIN_SCALARS
                    .into_iter()
                    .filter(|s| schema.definition(s).is_none());
                self.write_list(declared.chain(builtins).map(Node::Named), field, out);
            }
            "queryType" => self.write_object(
                Node::Named(&schema.query_type),
                &field.selections.items,
                out,
            ),
            "mutationType" => match &schema.mutation_type {
                Some(t) => self.write_object(Node::Named(t), &field.selections.items, out),
                None => out.extend_from_slice(b"null"),
            },
            "subscriptionType" => match &schema.subscription_type {
                Some(t) => self.write_object(Node::Named(t), &field.selections.items, out),
                None => out.extend_from_slice(b"null"),
            },
            "directives" => {
                let declared: Vec<&DirectiveDefinition> = schema.directive_definitions().collect();
                let builtins = self
                    .builtin_directives
                    .iter()
                    .filter(|b| !declared.iter().any(|d| d.name == b.name));
                self.write_list(
                    declared
                        .iter()
                        .copied()
                        .chain(builtins)
                        .map(Node::Directive),
                    field,
                    out,
                );
            }
            _ => out.extend_from_slice(b"null"),
        }
    }

    fn write_named_type_field(
        &self,
        type_name: &'s str,
        name: &str,
        field: &'s FieldSelection,
        out: &mut Vec<u8>,
    ) {
        let definition = self.schema.definition(type_name);
        let kind = self.schema.kind(type_name);
        match name {
            "kind" => write_opt(out, kind.map(|k| k.as_str())),
            "name" => write_json(out, type_name),
            "description" => write_opt(out, definition.and_then(description)),
            "specifiedByURL" => {
                let url = match definition {
                    Some(TypeDefinition::Scalar(s)) => s
                        .directives
                        .iter()
                        .find(|d| d.name == "specifiedBy")
                        .and_then(|d| string_arg(d, "url")),
                    _ => None,
                };
                write_opt(out, url);
            }
            "isOneOf" => match definition {
                Some(TypeDefinition::InputObject(i)) => {
                    write_json(out, &i.directives.iter().any(|d| d.name == "oneOf"));
                }
                _ => out.extend_from_slice(b"null"),
            },
            "fields" => {
                let fields = match definition {
                    Some(TypeDefinition::Object(o)) => Some(&o.fields),
                    Some(TypeDefinition::Interface(i)) => Some(&i.fields),
                    _ => None,
                };
                match fields {
                    Some(fields) => {
                        let include = self.bool_argument(field, "includeDeprecated");
                        self.write_list(
                            fields
                                .iter()
                                .filter(|f| !f.name.starts_with("__"))
                                .filter(|f| include || deprecation(&f.directives).is_none())
                                .map(Node::Field),
                            field,
                            out,
                        );
                    }
                    None => out.extend_from_slice(b"null"),
                }
            }
            "interfaces" => {
                let interfaces = match definition {
                    Some(TypeDefinition::Object(o)) => Some(&o.implements_interfaces),
                    Some(TypeDefinition::Interface(i)) => Some(&i.implements_interfaces),
                    _ => None,
                };
                match interfaces {
                    Some(names) => {
                        self.write_list(names.iter().map(|n| Node::Named(n.as_str())), field, out);
                    }
                    None => out.extend_from_slice(b"null"),
                }
            }
            "possibleTypes" => match definition {
                Some(TypeDefinition::Union(u)) => {
                    self.write_list(u.types.iter().map(|n| Node::Named(n.as_str())), field, out);
                }
                Some(TypeDefinition::Interface(_)) => {
                    // Document order keeps the answer stable between runs.
                    let possible = self.schema.types.get(type_name).map(|t| &t.possible_types);
                    let implementations = self.schema.type_definitions().filter_map(|t| match t {
                        TypeDefinition::Object(o)
                            if possible.is_some_and(|p| p.contains(&o.name)) =>
                        {
                            Some(Node::Named(o.name.as_str()))
                        }
                        _ => None,
                    });
                    self.write_list(implementations, field, out);
                }
                _ => out.extend_from_slice(b"null"),
            },
            "enumValues" => match definition {
                Some(TypeDefinition::Enum(e)) => {
                    let include = self.bool_argument(field, "includeDeprecated");
                    self.write_list(
                        e.values
                            .iter()
                            .filter(|v| include || deprecation(&v.directives).is_none())
                            .map(Node::EnumValue),
                        field,
                        out,
                    );
                }
                _ => out.extend_from_slice(b"null"),
            },
            "inputFields" => match definition {
                Some(TypeDefinition::InputObject(i)) => {
                    let include = self.bool_argument(field, "includeDeprecated");
                    self.write_list(
                        i.fields
                            .iter()
                            .filter(|f| include || deprecation(&f.directives).is_none())
                            .map(Node::InputValue),
                        field,
                        out,
                    );
                }
                _ => out.extend_from_slice(b"null"),
            },
            _ => out.extend_from_slice(b"null"),
        }
    }
}

fn type_node(t: &Type) -> Node<'_> {
    match t {
        Type::NamedType(name) => Node::Named(name),
        wrapped => Node::Wrapped(wrapped),
    }
}

fn description(definition: &TypeDefinition) -> Option<&str> {
    match definition {
        TypeDefinition::Scalar(t) => t.description.as_deref(),
        TypeDefinition::Object(t) => t.description.as_deref(),
        TypeDefinition::Interface(t) => t.description.as_deref(),
        TypeDefinition::Union(t) => t.description.as_deref(),
        TypeDefinition::Enum(t) => t.description.as_deref(),
        TypeDefinition::InputObject(t) => t.description.as_deref(),
    }
}

/// `None` when not deprecated; `Some(reason)` otherwise.
fn deprecation(directives: &[Directive]) -> Option<Option<&str>> {
    let directive = directives.iter().find(|d| d.name == "deprecated")?;
    Some(string_arg(directive, "reason").or(Some("No longer supported")))
}

fn string_arg<'d>(directive: &'d Directive, name: &str) -> Option<&'d str> {
    directive.arguments.iter().find_map(|(k, v)| match v {
        graphql_tools::static_graphql::schema::Value::String(s) if k == name => Some(s.as_str()),
        _ => None,
    })
}

fn write_opt(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => write_json(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing strings and booleans into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}
