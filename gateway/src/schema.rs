//! A lookup index over the API (consumer) schema: the shape the client sees.
//!
//! Projection, introspection and the limits all ask "what type does this field have" and
//! "is this object a `T`"; answering from hash maps keeps that off the AST on the hot path.

use graphql_tools::static_graphql::schema::{
    Definition, DirectiveDefinition, Document, Field, Type, TypeDefinition,
};

/// A map keyed by names of the schema. The schema is ours and nobody outside chooses what goes in, so a fast
/// unkeyed hasher is safe here (a request's names are only looked up); SipHash over these names was a seventh of
/// the gateway's CPU on the heavy query (docs/ARCHITECTURE.md, "Performance targets").
pub(crate) type NameMap<V> = rustc_hash::FxHashMap<String, V>;
/// A set of names of the schema (see [`NameMap`]).
pub(crate) type NameSet = rustc_hash::FxHashSet<String>;

/// The kind of a named type, as introspection reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    /// A leaf with a custom or built-in serialization.
    Scalar,
    /// A concrete object type.
    Object,
    /// An interface: abstract, resolved to one of its implementations.
    Interface,
    /// A union: abstract, resolved to one of its members.
    Union,
    /// An enum: a leaf restricted to named values.
    Enum,
    /// An input object (arguments and variables only).
    InputObject,
}

impl TypeKind {
    /// The `__TypeKind` name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Scalar => "SCALAR",
            Self::Object => "OBJECT",
            Self::Interface => "INTERFACE",
            Self::Union => "UNION",
            Self::Enum => "ENUM",
            Self::InputObject => "INPUT_OBJECT",
        }
    }
}

/// One named type of the API schema.
#[derive(Debug)]
pub(crate) struct NamedType {
    /// The type's kind.
    pub kind: TypeKind,
    /// Output fields by name (objects and interfaces).
    pub fields: NameMap<Type>,
    /// The declared type of each argument, by field and argument name (objects and interfaces).
    pub arguments: NameMap<NameMap<Type>>,
    /// Concrete object types this type stands for (itself for an object).
    pub possible_types: NameSet,
    /// Enum values visible in the API schema.
    pub enum_values: NameSet,
    /// Fields sized by a `first`, `last` or `limit` argument, with that argument's default when it has one
    /// (the cost estimate reads them).
    pub sized_fields: NameMap<Option<i64>>,
}

/// The API schema, indexed.
#[derive(Debug)]
pub(crate) struct SchemaIndex {
    /// The API schema document (no federation internals, `@inaccessible` removed).
    pub document: Document,
    /// Named types by name.
    pub types: NameMap<NamedType>,
    /// The query root type name.
    pub query_type: String,
    /// The mutation root type name, when the schema has one.
    pub mutation_type: Option<String>,
    /// The subscription root type name, when the schema has one.
    pub subscription_type: Option<String>,
    /// Interfaces some subgraph serves as `@interfaceObject`: that subgraph answers with the
    /// interface's own name as `__typename`, which is then a valid runtime type.
    pub interface_objects: NameSet,
}

const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// Arguments that bound how many items a list field (or the connection it returns) holds.
pub(crate) const SIZE_ARGUMENTS: [&str; 3] = ["first", "last", "limit"];

impl SchemaIndex {
    /// Indexes an API schema document.
    pub(crate) fn new(document: Document) -> Self {
        let mut types: NameMap<NamedType> = NameMap::default();
        let mut implementations: Vec<(String, String)> = Vec::new();
        for scalar in BUILTIN_SCALARS {
            types.insert(scalar.to_owned(), NamedType::leaf(TypeKind::Scalar));
        }
        for definition in &document.definitions {
            let Definition::TypeDefinition(type_def) = definition else {
                continue;
            };
            let (name, named) = match type_def {
                TypeDefinition::Scalar(s) => (&s.name, NamedType::leaf(TypeKind::Scalar)),
                TypeDefinition::Object(o) => {
                    for interface in &o.implements_interfaces {
                        implementations.push((interface.clone(), o.name.clone()));
                    }
                    let mut named = NamedType::composite(TypeKind::Object, &o.fields);
                    named.possible_types.insert(o.name.clone());
                    (&o.name, named)
                }
                TypeDefinition::Interface(i) => (
                    &i.name,
                    NamedType::composite(TypeKind::Interface, &i.fields),
                ),
                TypeDefinition::Union(u) => {
                    let mut named = NamedType::leaf(TypeKind::Union);
                    named.possible_types.extend(u.types.iter().cloned());
                    (&u.name, named)
                }
                TypeDefinition::Enum(e) => {
                    let mut named = NamedType::leaf(TypeKind::Enum);
                    named
                        .enum_values
                        .extend(e.values.iter().map(|v| v.name.clone()));
                    (&e.name, named)
                }
                TypeDefinition::InputObject(i) => (&i.name, NamedType::leaf(TypeKind::InputObject)),
            };
            types.insert(name.clone(), named);
        }
        for (interface, object) in implementations {
            if let Some(named) = types.get_mut(&interface) {
                named.possible_types.insert(object);
            }
        }
        let query_type = document
            .query_type_name()
            .cloned()
            .unwrap_or_else(|| "Query".to_owned());
        let mutation_type = document.mutation_type_name().cloned().or_else(|| {
            types
                .contains_key("Mutation")
                .then(|| "Mutation".to_owned())
        });
        let subscription_type = document.subscription_type_name().cloned().or_else(|| {
            types
                .contains_key("Subscription")
                .then(|| "Subscription".to_owned())
        });
        Self {
            document,
            types,
            query_type,
            mutation_type,
            subscription_type,
            interface_objects: NameSet::default(),
        }
    }

    /// The declared type of argument `argument` of `type_name.field_name`, if all three exist.
    pub(crate) fn argument_type(
        &self,
        type_name: &str,
        field_name: &str,
        argument: &str,
    ) -> Option<&Type> {
        self.types
            .get(type_name)?
            .arguments
            .get(field_name)?
            .get(argument)
    }

    /// The type of `type_name.field_name`, if both exist.
    pub(crate) fn field_type(&self, type_name: &str, field_name: &str) -> Option<&Type> {
        self.types.get(type_name)?.fields.get(field_name)
    }

    /// The kind of a named type.
    pub(crate) fn kind(&self, type_name: &str) -> Option<TypeKind> {
        self.types.get(type_name).map(|t| t.kind)
    }

    /// Whether an object of concrete type `object_type` satisfies a `... on condition`.
    pub(crate) fn satisfies(&self, object_type: &str, condition: &str) -> bool {
        object_type == condition
            || self
                .types
                .get(condition)
                .is_some_and(|t| t.possible_types.contains(object_type))
    }

    /// The type definition AST node for a name (introspection).
    pub(crate) fn definition(&self, type_name: &str) -> Option<&TypeDefinition> {
        self.document.definitions.iter().find_map(|d| match d {
            Definition::TypeDefinition(t) if type_definition_name(t) == type_name => Some(t),
            _ => None,
        })
    }

    /// All type definitions, in document order (introspection).
    pub(crate) fn type_definitions(&self) -> impl Iterator<Item = &TypeDefinition> {
        self.document.definitions.iter().filter_map(|d| match d {
            Definition::TypeDefinition(t) => Some(t),
            _ => None,
        })
    }

    /// All directive definitions (introspection).
    pub(crate) fn directive_definitions(&self) -> impl Iterator<Item = &DirectiveDefinition> {
        self.document.definitions.iter().filter_map(|d| match d {
            Definition::DirectiveDefinition(t) => Some(t),
            _ => None,
        })
    }
}

impl NamedType {
    fn leaf(kind: TypeKind) -> Self {
        Self {
            kind,
            fields: NameMap::default(),
            arguments: NameMap::default(),
            possible_types: NameSet::default(),
            enum_values: NameSet::default(),
            sized_fields: NameMap::default(),
        }
    }

    fn composite(kind: TypeKind, fields: &[Field]) -> Self {
        let mut named = Self::leaf(kind);
        named.fields = fields
            .iter()
            .map(|f| (f.name.clone(), f.field_type.clone()))
            .collect();
        named.arguments = fields
            .iter()
            .filter(|f| !f.arguments.is_empty())
            .map(|f| {
                let arguments = f
                    .arguments
                    .iter()
                    .map(|a| (a.name.clone(), a.value_type.clone()))
                    .collect();
                (f.name.clone(), arguments)
            })
            .collect();
        for field in fields {
            if let Some(size) = field
                .arguments
                .iter()
                .find(|a| SIZE_ARGUMENTS.contains(&a.name.as_str()))
            {
                let default = match size.default_value {
                    Some(graphql_tools::static_graphql::query::Value::Int(ref n)) => n.as_i64(),
                    _ => None,
                };
                named.sized_fields.insert(field.name.clone(), default);
            }
        }
        named
    }
}

/// The named type inside a type's list and non-null wrappers.
pub(crate) fn named_type(t: &Type) -> &str {
    match t {
        Type::NamedType(name) => name,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

/// The name of a type definition.
pub(crate) fn type_definition_name(t: &TypeDefinition) -> &str {
    match t {
        TypeDefinition::Scalar(s) => &s.name,
        TypeDefinition::Object(o) => &o.name,
        TypeDefinition::Interface(i) => &i.name,
        TypeDefinition::Union(u) => &u.name,
        TypeDefinition::Enum(e) => &e.name,
        TypeDefinition::InputObject(i) => &i.name,
    }
}
