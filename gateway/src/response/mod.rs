//! The client response: projection of merged data, and the errors list.

pub(crate) mod error;
pub(crate) mod fast_path;
pub(crate) mod json;
pub(crate) mod projection;

use error::GraphQLError;

/// Assembles `{"data": …, "errors": […]}`; `data` is already-serialized JSON.
pub(crate) fn body(data: Option<&[u8]>, errors: &[GraphQLError]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.map_or(0, <[u8]>::len) + 32);
    out.push(b'{');
    if let Some(data) = data {
        out.extend_from_slice(b"\"data\":");
        out.extend_from_slice(data);
    }
    if !errors.is_empty() {
        if data.is_some() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"errors\":");
        // Serializing plain structs of strings and JSON values into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, errors);
    }
    out.push(b'}');
    out
}
