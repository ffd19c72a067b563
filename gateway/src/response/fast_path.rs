//! The fast path for a plan that is one root fetch: project the subgraph's response bytes onto
//! the client's operation while parsing them, without building a `serde_json::Value` tree.
//!
//! The client's selection is compiled once per prepared operation into a [`FastPath`]: the
//! response keys each object must have, in order, and what each value must be. Projecting then
//! needs no schema lookups, no CollectFields and no allocation besides the output.
//!
//! It only succeeds when the answer needs nothing but copying: no `errors`, every object's keys
//! exactly the client's response keys in the client's order (so no planner-added field is
//! present), no null in a non-null position, enum values the API schema knows, no abstract
//! types, no `@skip`/`@include`. Anything else takes the general path (merge, then
//! [`Projector`](super::projection::Projector)), which owns re-pathing errors and null
//! propagation. When it succeeds, its output is byte for byte what the general path writes.

use std::fmt;
use std::sync::LazyLock;

use graphql_tools::static_graphql::schema::Type;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::json::{write_json, write_str, write_value};
use super::projection::collect_fields;
use crate::schema::{NameSet, SchemaIndex, TypeKind};

/// The client's selection compiled for [`FastPath::project_response`].
#[derive(Debug)]
pub(crate) struct FastPath {
    root: ObjectShape,
}

#[derive(Debug)]
struct ObjectShape {
    fields: Vec<FieldShape>,
}

#[derive(Debug)]
struct FieldShape {
    key: Box<str>,
    /// `"key":`, with a leading comma after the first field, ready to copy.
    prefix: Box<[u8]>,
    value: FieldValue,
}

#[derive(Debug)]
enum FieldValue {
    /// `__typename`: the object's type name, as JSON.
    Typename(Box<[u8]>),
    Value(Shape),
}

#[derive(Debug)]
struct Shape {
    non_null: bool,
    kind: ShapeKind,
}

#[derive(Debug)]
enum ShapeKind {
    List(Box<Shape>),
    /// A scalar, or a type the schema does not define: written as it came.
    Leaf,
    Enum(NameSet),
    Object(ObjectShape),
}

impl FastPath {
    /// Compiles `selection` on `root_type`; `None` when the operation can never take the fast
    /// path (abstract types, introspection, `@skip`/`@include`).
    pub(crate) fn compile(
        schema: &SchemaIndex,
        selection: &[SelectionItem],
        root_type: &str,
    ) -> Option<Self> {
        Some(Self {
            root: compile_object(schema, root_type, &[selection])?,
        })
    }

    /// The whole client response body (`{"data":…}`) for a subgraph response `body`, or
    /// `None` when the general path is needed.
    pub(crate) fn project_response(&self, body: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(body.len() + 16);
        out.extend_from_slice(b"{\"data\":");
        // UTF-8 checked once here, not string by string while parsing.
        let mut deserializer = serde_json::Deserializer::from_str(std::str::from_utf8(body).ok()?);
        ResponseSeed {
            out: &mut out,
            root: &self.root,
        }
        .deserialize(&mut deserializer)
        .ok()?;
        deserializer.end().ok()?;
        out.push(b'}');
        Some(out)
    }
}

fn unconditional(items: &[SelectionItem]) -> bool {
    items.iter().all(|item| match item {
        SelectionItem::Field(field) => field.skip_if.is_none() && field.include_if.is_none(),
        SelectionItem::InlineFragment(fragment) => {
            fragment.skip_if.is_none()
                && fragment.include_if.is_none()
                && unconditional(&fragment.selections.items)
        }
        SelectionItem::FragmentSpread(_) => false,
    })
}

fn compile_object(
    schema: &SchemaIndex,
    type_name: &str,
    selections: &[&[SelectionItem]],
) -> Option<ObjectShape> {
    static NO_VARIABLES: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    if !selections.iter().all(|items| unconditional(items)) {
        return None;
    }
    let mut collected = Vec::new();
    for items in selections {
        collect_fields(schema, &NO_VARIABLES, type_name, items, &mut collected);
    }
    let mut fields = Vec::with_capacity(collected.len());
    for (index, (key, same_key)) in collected.iter().enumerate() {
        let mut prefix = Vec::with_capacity(key.len() + 4);
        if index > 0 {
            prefix.push(b',');
        }
        write_str(&mut prefix, key);
        prefix.push(b':');
        let name = same_key.first()?.name.as_str();
        let value = match name {
            "__typename" => {
                let mut json = Vec::new();
                write_str(&mut json, type_name);
                FieldValue::Typename(json.into())
            }
            name if name.starts_with("__") => return None,
            name => {
                let sub_selections: Vec<&[SelectionItem]> = same_key
                    .iter()
                    .map(|f| f.selections.items.as_slice())
                    .collect();
                FieldValue::Value(compile_type(
                    schema,
                    schema.field_type(type_name, name)?,
                    &sub_selections,
                )?)
            }
        };
        fields.push(FieldShape {
            key: (*key).into(),
            prefix: prefix.into(),
            value,
        });
    }
    Some(ObjectShape { fields })
}

fn compile_type(
    schema: &SchemaIndex,
    field_type: &Type,
    selections: &[&[SelectionItem]],
) -> Option<Shape> {
    let (non_null, field_type) = match field_type {
        Type::NonNullType(inner) => (true, inner.as_ref()),
        other => (false, other),
    };
    let kind = match field_type {
        Type::NonNullType(_) => return None,
        Type::ListType(inner) => {
            ShapeKind::List(Box::new(compile_type(schema, inner, selections)?))
        }
        Type::NamedType(name) => match schema.types.get(name) {
            None => ShapeKind::Leaf,
            Some(named) => match named.kind {
                TypeKind::Scalar => ShapeKind::Leaf,
                TypeKind::Enum => ShapeKind::Enum(named.enum_values.clone()),
                TypeKind::Object => ShapeKind::Object(compile_object(schema, name, selections)?),
                TypeKind::Interface | TypeKind::Union | TypeKind::InputObject => return None,
            },
        },
    };
    Some(Shape { non_null, kind })
}

/// Why the fast path gave up; never shown to anyone, it only selects the general path.
#[derive(Debug)]
struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a pass-through response")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Self
    }
}

fn give_up<E: de::Error>() -> E {
    E::custom(GiveUp)
}

/// The top-level `{"data": …, "errors": …, "extensions": …}` object.
struct ResponseSeed<'a> {
    out: &'a mut Vec<u8>,
    root: &'a ObjectShape,
}

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GraphQL response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_data = false;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key.as_str() {
                "data" if !seen_data => {
                    seen_data = true;
                    map.next_value_seed(ObjectSeed {
                        out: &mut *self.out,
                        shape: self.root,
                    })?;
                }
                // Errors need re-pathing and may explain nulls: the general path handles them.
                "errors" => {
                    if map.next_value::<Option<IgnoredAny>>()?.is_some() {
                        return Err(give_up());
                    }
                }
                "data" => return Err(give_up()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if seen_data { Ok(()) } else { Err(give_up()) }
    }
}

/// An object key, borrowed from the input unless it contains escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(key) => key,
            Self::Owned(key) => key,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(key.to_owned()))
    }
}

/// An object of a concrete type, whose keys must be exactly the compiled response keys.
struct ObjectSeed<'a> {
    out: &'a mut Vec<u8>,
    shape: &'a ObjectShape,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // A null `data` is not for this path: see the module documentation.
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let out = self.out;
        out.push(b'{');
        for field in &self.shape.fields {
            match map.next_key_seed(KeySeed)? {
                Some(found) if found.as_str() == &*field.key => {}
                _ => return Err(give_up()),
            }
            out.extend_from_slice(&field.prefix);
            match &field.value {
                FieldValue::Typename(json) => {
                    map.next_value::<IgnoredAny>()?;
                    out.extend_from_slice(json);
                }
                FieldValue::Value(shape) => map.next_value_seed(ValueSeed {
                    out: &mut *out,
                    shape,
                })?,
            }
        }
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(give_up());
        }
        out.push(b'}');
        Ok(())
    }
}

/// One value of a compiled shape.
struct ValueSeed<'a> {
    out: &'a mut Vec<u8>,
    shape: &'a Shape,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ValueSeed<'_> {
    /// A leaf value is only valid for scalars (and unknown types, written as they came).
    fn leaf<E: de::Error>(self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), E> {
        if !matches!(self.shape.kind, ShapeKind::Leaf) {
            return Err(give_up());
        }
        write(self.out);
        Ok(())
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.shape.non_null {
            return Err(give_up());
        }
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.leaf(|out| write_json(out, &v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.leaf(|out| write_json(out, &v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.leaf(|out| write_json(out, &v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // Through a `Value`, exactly as the general path writes a number it parsed.
        self.leaf(|out| write_json(out, &Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if let ShapeKind::Enum(values) = &self.shape.kind {
            // A value the API schema hides (@inaccessible) needs an error: general path.
            if !values.contains(v) {
                return Err(give_up());
            }
            write_str(self.out, v);
            return Ok(());
        }
        self.leaf(|out| write_str(out, v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ShapeKind::List(item) = &self.shape.kind else {
            // A custom scalar may be any JSON value; keep it as it came.
            let value = array_value(seq)?;
            return self.leaf(|out| write_value(out, &value));
        };
        let out = self.out;
        out.push(b'[');
        let mut first = true;
        loop {
            let start = out.len();
            if !first {
                out.push(b',');
            }
            if seq
                .next_element_seed(ValueSeed {
                    out: &mut *out,
                    shape: item,
                })?
                .is_none()
            {
                out.truncate(start);
                break;
            }
            first = false;
        }
        out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        if let ShapeKind::Object(shape) = &self.shape.kind {
            return ObjectSeed {
                out: self.out,
                shape,
            }
            .visit_map(map);
        }
        let value = object_value(map)?;
        self.leaf(|out| write_value(out, &value))
    }
}

/// A custom scalar's array value, read whole.
fn array_value<'de, A: SeqAccess<'de>>(seq: A) -> Result<Value, A::Error> {
    serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))
}

/// A custom scalar's object value, read whole.
fn object_value<'de, A: MapAccess<'de>>(map: A) -> Result<Value, A::Error> {
    serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))
}
