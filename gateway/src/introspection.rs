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

use crate::response::json::write_json;
use crate::schema::{SchemaIndex, type_definition_name};

/// Built-in scalars, listed in `__schema.types` when the schema refers to them, declared or not.
const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// The built-in scalars the schema refers to. The spec omits an unreferenced one from `__schema.types`; String
/// and Boolean are always referenced, by introspection's own fields.
fn referenced_builtin_scalars(schema: &SchemaIndex) -> Vec<&'static str> {
    let mut referenced: Vec<&'static str> = vec!["String", "Boolean"];
    let mut note = |t: &Type| {
        let name = crate::schema::named_type(t);
        if let Some(builtin) = BUILTIN_SCALARS.into_iter().find(|b| *b == name)
            && !referenced.contains(&builtin)
        {
            referenced.push(builtin);
        }
    };
    for definition in schema.type_definitions() {
        let fields = match definition {
            TypeDefinition::Object(o) => &o.fields,
            TypeDefinition::Interface(i) => &i.fields,
            TypeDefinition::InputObject(i) => {
                i.fields.iter().for_each(|f| note(&f.value_type));
                continue;
            }
            _ => continue,
        };
        for field in fields {
            note(&field.field_type);
            field.arguments.iter().for_each(|a| note(&a.value_type));
        }
    }
    for directive in schema.directive_definitions() {
        directive.arguments.iter().for_each(|a| note(&a.value_type));
    }
    referenced
}

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
            && (!BUILTIN_SCALARS.contains(&name)
                || referenced_builtin_scalars(self.schema).contains(&name))
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
                let referenced = referenced_builtin_scalars(schema);
                let declared = schema
                    .type_definitions()
                    .map(type_definition_name)
                    .filter(|name| !BUILTIN_SCALARS.contains(name) || referenced.contains(name));
                let builtins = BUILTIN_SCALARS
                    .into_iter()
                    .filter(|s| referenced.contains(s) && schema.definition(s).is_none());
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
                // The planner's API schema can carry a directive the supergraph declares a second time (@skip,
                // @include): each name is listed once, the first declaration winning.
                let mut declared: Vec<&DirectiveDefinition> = Vec::new();
                for definition in schema.directive_definitions() {
                    if !declared.iter().any(|d| d.name == definition.name) {
                        declared.push(definition);
                    }
                }
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

#[cfg(test)]
mod tests {
    use hive_router_query_planner::ast::operation::OperationDefinition;
    use serde_json::json;

    use super::*;

    const SDL: &str = r#"
        "The root."
        type Query {
            "One product."
            product(upc: String!, legacy: Boolean @deprecated(reason: "Use upc")): Product
            media: [Media!]!
            search(filter: Filter): [SearchResult]
        }
        type Mutation { noop: Boolean }
        "A thing sold."
        type Product {
            upc: String!
            name: String
            oldName: String @deprecated(reason: "Use name")
            older: String @deprecated
            tags: [String!]!
        }
        interface Media { id: ID! }
        type Book implements Media { id: ID! }
        type Movie implements Media { id: ID! }
        union SearchResult = Movie | Book
        enum Status { OPEN CLOSED @deprecated(reason: "Gone") }
        input Filter { term: String = "chair" limit: Int = 10 status: Status = OPEN }
        input Choice @oneOf { a: String b: Int }
        scalar DateTime @specifiedBy(url: "https://www.rfc-editor.org/rfc/rfc3339")
        directive @cacheControl(maxAge: Int) on FIELD_DEFINITION | OBJECT
    "#;

    fn schema() -> SchemaIndex {
        crate::test_support::schema_index(SDL)
    }

    fn operation(query: &str) -> OperationDefinition {
        crate::test_support::operation(query)
    }

    /// The root fields of `query`, each answered by introspection, as written.
    fn introspect_text(schema: &SchemaIndex, query: &str, variables: &Value) -> String {
        let operation = operation(query);
        let variables = variables.as_object().cloned().unwrap_or_default();
        let directives = builtin_directives();
        let introspection = Introspection::new(schema, &variables, &directives);
        let mut out = vec![b'{'];
        for (index, item) in operation.selection_set.items.iter().enumerate() {
            let SelectionItem::Field(field) = item else {
                continue;
            };
            if index > 0 {
                out.push(b',');
            }
            write_json(&mut out, field.selection_identifier());
            out.push(b':');
            introspection.write_root_field(field, &mut out);
        }
        out.push(b'}');
        String::from_utf8(out).expect("UTF-8")
    }

    fn introspect(query: &str) -> Value {
        introspect_with(query, &json!({}))
    }

    fn introspect_with(query: &str, variables: &Value) -> Value {
        let text = introspect_text(&schema(), query, variables);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|item| item["name"].as_str().expect("a name"))
            .collect()
    }

    #[test]
    fn an_objects_fields_unwrap_their_types_level_by_level() {
        let answer = introspect(
            r#"{ __type(name: "Product") {
                kind name description
                fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
            } }"#,
        );
        let product = &answer["__type"];
        assert_eq!(product["kind"], "OBJECT");
        assert_eq!(product["description"], "A thing sold.");
        assert_eq!(names(&product["fields"]), ["upc", "name", "tags"]);
        assert_eq!(
            product["fields"][2]["type"],
            json!({
                "kind": "NON_NULL", "name": null,
                "ofType": { "kind": "LIST", "name": null,
                    "ofType": { "kind": "NON_NULL", "name": null,
                        "ofType": { "kind": "SCALAR", "name": "String" } } }
            })
        );
        assert_eq!(
            product["fields"][1]["type"],
            json!({ "kind": "SCALAR", "name": "String", "ofType": null })
        );
    }

    #[test]
    fn deprecated_members_show_only_when_asked_for() {
        let answer = introspect(
            r#"{
                product: __type(name: "Product") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } }
                status: __type(name: "Status") { enumValues { name } all: enumValues(includeDeprecated: true) { name deprecationReason } }
                query: __type(name: "Query") { fields { name args { name } all: args(includeDeprecated: true) { name isDeprecated } } }
            }"#,
        );
        assert_eq!(
            answer["product"]["fields"],
            json!([
                { "name": "upc", "isDeprecated": false, "deprecationReason": null },
                { "name": "name", "isDeprecated": false, "deprecationReason": null },
                { "name": "oldName", "isDeprecated": true, "deprecationReason": "Use name" },
                { "name": "older", "isDeprecated": true, "deprecationReason": "No longer supported" },
                { "name": "tags", "isDeprecated": false, "deprecationReason": null }
            ])
        );
        assert_eq!(names(&answer["status"]["enumValues"]), ["OPEN"]);
        assert_eq!(
            answer["status"]["all"],
            json!([{ "name": "OPEN", "deprecationReason": null }, { "name": "CLOSED", "deprecationReason": "Gone" }])
        );
        let product_field = &answer["query"]["fields"][0];
        assert_eq!(names(&product_field["args"]), ["upc"]);
        assert_eq!(
            product_field["all"],
            json!([{ "name": "upc", "isDeprecated": false }, { "name": "legacy", "isDeprecated": true }])
        );
    }

    #[test]
    fn type_by_name_reads_literals_and_variables_and_is_null_when_unknown() {
        let query = "query ($n: String!) { byVariable: __type(name: $n) { name kind } unknown: __type(name: \"Nope\") { name } }";
        assert_eq!(
            introspect_with(query, &json!({ "n": "Book" })),
            json!({ "byVariable": { "name": "Book", "kind": "OBJECT" }, "unknown": null })
        );
        assert_eq!(
            introspect_with(query, &json!({ "n": 3 })),
            json!({ "byVariable": null, "unknown": null })
        );
        // Built-in scalars are types too, even though the SDL does not declare them.
        assert_eq!(
            introspect(r#"{ __type(name: "Boolean") { kind name } }"#),
            json!({ "__type": { "kind": "SCALAR", "name": "Boolean" } })
        );
    }

    #[test]
    fn abstract_types_list_their_possible_types_and_objects_their_interfaces() {
        let answer = introspect(
            r#"{
                media: __type(name: "Media") { kind possibleTypes { name } interfaces { name } }
                search: __type(name: "SearchResult") { kind possibleTypes { name } fields { name } }
                book: __type(name: "Book") { interfaces { name } possibleTypes { name } }
                product: __type(name: "Product") { interfaces { name } }
            }"#,
        );
        assert_eq!(
            answer,
            json!({
                "media": { "kind": "INTERFACE", "possibleTypes": [{ "name": "Book" }, { "name": "Movie" }], "interfaces": [] },
                "search": { "kind": "UNION", "possibleTypes": [{ "name": "Movie" }, { "name": "Book" }], "fields": null },
                "book": { "interfaces": [{ "name": "Media" }], "possibleTypes": null },
                "product": { "interfaces": [] }
            })
        );
    }

    #[test]
    fn input_objects_show_fields_defaults_and_one_of_and_scalars_their_url() {
        let answer = introspect(
            r#"{
                filter: __type(name: "Filter") { kind isOneOf inputFields { name defaultValue type { name } } }
                choice: __type(name: "Choice") { isOneOf }
                product: __type(name: "Product") { isOneOf inputFields { name } specifiedByURL }
                date: __type(name: "DateTime") { kind specifiedByURL description }
            }"#,
        );
        assert_eq!(
            answer,
            json!({
                "filter": { "kind": "INPUT_OBJECT", "isOneOf": false, "inputFields": [
                    { "name": "term", "defaultValue": "\"chair\"", "type": { "name": "String" } },
                    { "name": "limit", "defaultValue": "10", "type": { "name": "Int" } },
                    { "name": "status", "defaultValue": "OPEN", "type": { "name": "Status" } }
                ] },
                "choice": { "isOneOf": true },
                "product": { "isOneOf": null, "inputFields": null, "specifiedByURL": null },
                "date": { "kind": "SCALAR", "specifiedByURL": "https://www.rfc-editor.org/rfc/rfc3339", "description": null }
            })
        );
    }

    #[test]
    fn the_schema_lists_root_types_every_type_and_every_directive() {
        let answer = introspect(
            "{ __schema {
                description
                queryType { name description }
                mutationType { name }
                subscriptionType { name }
                types { name }
                directives { name isRepeatable locations args { name type { kind ofType { name } } } }
            } }",
        );
        let schema = &answer["__schema"];
        assert_eq!(schema["description"], Value::Null);
        assert_eq!(
            schema["queryType"],
            json!({ "name": "Query", "description": "The root." })
        );
        assert_eq!(schema["mutationType"], json!({ "name": "Mutation" }));
        assert_eq!(schema["subscriptionType"], Value::Null);
        assert_eq!(
            names(&schema["types"]),
            [
                "Query",
                "Mutation",
                "Product",
                "Media",
                "Book",
                "Movie",
                "SearchResult",
                "Status",
                "Filter",
                "Choice",
                "DateTime",
                "String",
                "Int",
                "Boolean",
                "ID"
            ]
        );
        // Float is built in but nothing refers to it: the spec leaves it out, and `__type` does not find it.
        assert_eq!(
            introspect(r#"{ __type(name: "Float") { name } }"#)["__type"],
            Value::Null
        );
        assert_eq!(
            names(&schema["directives"]),
            [
                "cacheControl",
                "include",
                "skip",
                "deprecated",
                "specifiedBy"
            ]
        );
        assert_eq!(
            schema["directives"][0],
            json!({
                "name": "cacheControl", "isRepeatable": false,
                "locations": ["FIELD_DEFINITION", "OBJECT"],
                "args": [{ "name": "maxAge", "type": { "kind": "SCALAR", "ofType": null } }]
            })
        );
        assert_eq!(
            schema["directives"][1]["args"],
            json!([{ "name": "if", "type": { "kind": "NON_NULL", "ofType": { "name": "Boolean" } } }])
        );
    }

    #[test]
    fn typename_names_the_introspection_meta_type() {
        let answer = introspect(
            r#"{
                __schema { __typename queryType { __typename } directives { __typename args { __typename } } }
                __type(name: "Product") { fields { __typename type { __typename } } }
                status: __type(name: "Status") { enumValues { __typename } }
            }"#,
        );
        assert_eq!(answer["__schema"]["__typename"], "__Schema");
        assert_eq!(answer["__schema"]["queryType"]["__typename"], "__Type");
        assert_eq!(
            answer["__schema"]["directives"][0]["__typename"],
            "__Directive"
        );
        assert_eq!(
            answer["__schema"]["directives"][0]["args"][0]["__typename"],
            "__InputValue"
        );
        assert_eq!(answer["__type"]["fields"][0]["__typename"], "__Field");
        assert_eq!(
            answer["__type"]["fields"][0]["type"]["__typename"],
            "__Type"
        );
        assert_eq!(
            answer["status"]["enumValues"][0]["__typename"],
            "__EnumValue"
        );
    }

    #[test]
    fn fragments_apply_by_meta_type_and_repeated_keys_are_written_once() {
        let text = introspect_text(
            &schema(),
            r#"{ __type(name: "Book") { name ... on __Type { kind name } ... on __Field { description } n: name } }"#,
            &json!({}),
        );
        assert_eq!(
            text,
            r#"{"__type":{"name":"Book","kind":"OBJECT","n":"Book"}}"#
        );
    }

    #[test]
    fn skip_and_include_follow_their_variables_inside_introspection() {
        let query = "query ($s: Boolean!) { __type(name: \"Book\") { name @skip(if: $s) kind @include(if: $s) } }";
        assert_eq!(
            introspect_with(query, &json!({ "s": true })),
            json!({ "__type": { "kind": "OBJECT" } })
        );
        assert_eq!(
            introspect_with(query, &json!({ "s": false })),
            json!({ "__type": { "name": "Book" } })
        );
    }

    #[test]
    fn the_api_schema_of_the_supergraph_hides_federation_internals() {
        let supergraph = crate::plan::Supergraph::parse(
            include_str!("../tests/fixtures/supergraph.graphql"),
            &|_| None,
        )
        .expect("the fixture supergraph loads");
        let text = introspect_text(
            &supergraph.schema,
            r#"{ __schema { types { name } directives { name } } __type(name: "Product") { fields { name } } query: __type(name: "Query") { fields { name } } }"#,
            &json!({}),
        );
        let answer: Value = serde_json::from_str(&text).expect("JSON");
        let types = names(&answer["__schema"]["types"]);
        assert!(
            types.contains(&"Product") && types.contains(&"Media"),
            "{types:?}"
        );
        // `__Schema` and the other introspection types belong; `_Service`, `_Any`, `join__*` do not.
        let internal = |name: &str| {
            name.starts_with("join__")
                || name.starts_with("link__")
                || (name.starts_with('_') && !name.starts_with("__"))
        };
        for name in types
            .iter()
            .chain(&names(&answer["__schema"]["directives"]))
        {
            assert!(!internal(name), "{name} is a federation internal");
        }
        let product_fields = names(&answer["__type"]["fields"]);
        assert!(
            !product_fields.contains(&"internalCode"),
            "{product_fields:?}"
        );
        let query_fields = names(&answer["query"]["fields"]);
        assert!(
            !query_fields.iter().any(|f| f.starts_with('_')),
            "{query_fields:?}"
        );
    }

    #[test]
    fn each_directive_of_the_supergraph_is_listed_once() {
        let supergraph = crate::plan::Supergraph::parse(
            include_str!("../tests/fixtures/supergraph.graphql"),
            &|_| None,
        )
        .expect("the fixture supergraph loads");
        let text = introspect_text(
            &supergraph.schema,
            "{ __schema { directives { name } } }",
            &json!({}),
        );
        let answer: Value = serde_json::from_str(&text).expect("JSON");
        let directives = names(&answer["__schema"]["directives"]);
        let mut unique = directives.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(directives.len(), unique.len(), "{directives:?}");
    }
}
