//! Writing JSON into a byte buffer, byte for byte as serde_json writes it, with strings copied whole when they
//! need no escaping.
//!
//! serde_json looks every byte of a string up in its escape table and branches on it, about five instructions
//! a byte; the strings of a response are mostly ids, timestamps, names and response keys, none of which needs
//! escaping. The check here is one pass without branches, which the compiler turns into vector compares, and
//! only a string that does need escaping goes to serde_json. On the storefront's heavy query, string writing
//! was the largest single cost of the gateway's projection (docs/ARCHITECTURE.md, "Performance targets").

use serde_json::Value;

/// Appends `value` serialized by serde_json. Serializing strings, numbers, `Value`s and plain structs of them
/// into a `Vec` cannot fail.
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(out, value);
}

/// Appends `text` as a JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escaping(text.as_bytes()) {
        write_json(out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Appends `value` as JSON, exactly as `serde_json::to_writer` would.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            out.push(b'{');
            for (index, (key, member)) in members.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, member);
            }
            out.push(b'}');
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => write_json(out, value),
    }
}

/// Whether JSON needs any of these bytes escaped: a control character, a quote or a backslash (serde_json
/// escapes exactly these). No early exit, so the loop vectorizes.
fn needs_escaping(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &byte| {
        found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn written(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, value);
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every byte serde_json escapes, and every one it does not, at each place in a string long enough to take
    /// the vector loop and its tail.
    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for byte in 0_u8..=0x7f {
            for at in [0, 7, 16, 31, 39] {
                let mut text = "x".repeat(40);
                text.replace_range(at..=at, &char::from(byte).to_string());
                let mut out = Vec::new();
                write_str(&mut out, &text);
                assert_eq!(
                    out,
                    serde_json::to_vec(&text).expect("a string serializes"),
                    "byte {byte:#x} at {at}"
                );
            }
        }
        for text in [
            "",
            "é",
            "日本語 \u{7f} \u{2028}",
            "\"\\\n\t\u{1}",
            "0b3b6d1e-2c4f-4a8e-9f00-12ab34cd56ef",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).expect("a string serializes"));
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let value = json!({
            "id": "a\"b",
            "n": [1, -2, 3.5, 1e300, null, true, false],
            "nested": { "k\u{1}": { "": [] }, "z": {} },
            "big": u64::MAX,
        });
        assert_eq!(written(&value), value.to_string());
    }
}
