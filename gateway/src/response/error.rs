//! GraphQL errors as the client receives them.

use serde::Serialize;
use serde_json::{Map, Value};

/// One segment of a response path: a field's response key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A field, by response key (alias or name).
    Key(String),
    /// A list element.
    Index(usize),
}

/// A GraphQL error in the response's `errors` list.
#[derive(Debug, Clone, Serialize)]
pub struct GraphQLError {
    /// A message for the client; never an internal cause chain.
    pub message: String,
    /// Where in the query the error points, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Value>>,
    /// Where in the response the error happened, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    /// `code` and any details.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl GraphQLError {
    /// An error with a stable `extensions.code`.
    pub fn with_code(message: impl Into<String>, code: ErrorCode) -> Self {
        let mut extensions = Map::new();
        extensions.insert("code".to_owned(), Value::String(code.as_str().to_owned()));
        Self {
            message: message.into(),
            locations: None,
            path: None,
            extensions,
        }
    }

    /// Sets the response path.
    #[must_use]
    pub fn at(mut self, path: Vec<PathSegment>) -> Self {
        self.path = Some(path);
        self
    }

    /// Adds an extension entry.
    #[must_use]
    pub fn extension(mut self, key: &str, value: Value) -> Self {
        self.extensions.insert(key.to_owned(), value);
        self
    }

    /// Reads an error a subgraph returned, keeping what the spec defines and dropping
    /// anything malformed rather than failing the request. Its `locations` are dropped too: they point
    /// into the operation the gateway sent the subgraph (its own text, literals lifted into variables),
    /// not into the client's document.
    pub fn from_subgraph(raw: &Value) -> Self {
        let message = raw
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Subgraph error")
            .to_owned();
        let extensions = raw
            .get("extensions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let path = raw.get("path").and_then(Value::as_array).map(|segments| {
            segments
                .iter()
                .filter_map(|s| match s {
                    Value::String(key) => Some(PathSegment::Key(key.clone())),
                    Value::Number(n) => n
                        .as_u64()
                        .and_then(|i| usize::try_from(i).ok())
                        .map(PathSegment::Index),
                    _ => None,
                })
                .collect()
        });
        Self {
            message,
            locations: None,
            path,
            extensions,
        }
    }
}

/// The client error codes: one table for every service (REST problem documents, subgraph and gateway errors).
pub(crate) use quickmart_shared::ErrorCode;
