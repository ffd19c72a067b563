//! Control characters in text input (`docs/ARCHITECTURE.md`, "Text input").
//!
//! PostgreSQL refuses NUL in `text`, and no QuickMart field has a use for the other C0 and C1 control
//! characters, so every string a core accepts is checked once, where it enters: the JSON body, the query string
//! and decoded cursors. TAB, LF and CR pass that check (multi-line fields such as a description keep them);
//! single-line fields refuse them too, with [`single_line`], in their own validation.

/// Why a text was refused.
pub const CONTROL_CHARACTERS: &str = "must not contain control characters";
/// Why a single-line text was refused.
pub const LINE_BREAKS: &str = "must be one line, without control characters";

/// Whether `c` is refused anywhere: NUL, C0 and C1 control characters and DEL, except TAB, LF and CR.
fn refused_everywhere(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// `Err` when `text` holds a control character that no field accepts.
pub fn multi_line(text: &str) -> Result<(), &'static str> {
    if text.chars().any(refused_everywhere) {
        Err(CONTROL_CHARACTERS)
    } else {
        Ok(())
    }
}

/// `Err` when `text` holds any control character, TAB, LF and CR included.
pub fn single_line(text: &str) -> Result<(), &'static str> {
    if text.chars().any(char::is_control) {
        Err(LINE_BREAKS)
    } else {
        Ok(())
    }
}

/// Why a required line was refused for holding only white space.
pub const BLANK: &str = "must not be empty";

/// A one-line field that must hold a visible character (a name, an address line): at most `max` characters
/// as sent (so that a document's `maxLength` means what it says), no control character, trimmed. The OpenAPI
/// documents call it `format: nonblank-line` (`crate::openapi`).
pub fn required_line(raw: &str, max: usize) -> Result<String, String> {
    match optional_line(raw, max)? {
        Some(line) => Ok(line),
        None => Err(BLANK.to_owned()),
    }
}

/// A one-line field that may be blank, as [`required_line`] checks it; blank is `None`. The OpenAPI documents
/// call it `format: line`.
pub fn optional_line(raw: &str, max: usize) -> Result<Option<String>, String> {
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    single_line(raw).map_err(str::to_owned)?;
    let line = raw.trim();
    Ok((!line.is_empty()).then(|| line.to_owned()))
}

/// The path (as serde_path_to_error writes it: `items[0].name`) of the first string, or object key, in `value`
/// that holds a control character no field accepts. Iterative, so no depth of nesting can overflow the stack.
pub fn first_refused(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let mut pending: Vec<(String, &Value)> = vec![(String::new(), value)];
    while let Some((path, value)) = pending.pop() {
        match value {
            Value::String(text) if multi_line(text).is_err() => return Some(path),
            Value::Array(items) => {
                pending.extend(
                    items
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, item)| (format!("{path}[{i}]"), item)),
                );
            }
            Value::Object(map) => {
                for (key, item) in map.iter().rev() {
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if multi_line(key).is_err() {
                        return Some(child);
                    }
                    pending.push((child, item));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_are_bounded_as_sent_trimmed_and_one_line() {
        assert_eq!(required_line("  Ada ", 6), Ok("Ada".to_owned()));
        assert_eq!(required_line(" \u{3000} ", 10), Err(BLANK.to_owned()));
        assert!(required_line(&format!(" {}", "x".repeat(6)), 6).is_err());
        assert!(required_line("a\tb", 10).is_err());
        assert_eq!(optional_line("   ", 10), Ok(None));
        assert_eq!(optional_line("", 10), Ok(None));
        assert_eq!(
            optional_line("é".repeat(5).as_str(), 5),
            Ok(Some("ééééé".to_owned()))
        );
    }

    #[test]
    fn nul_and_controls_are_found_with_their_path() {
        let body = json!({ "name": "ok", "items": [{ "sku": "A" }, { "sku": "B\u{0}" }] });
        assert_eq!(first_refused(&body).as_deref(), Some("items[1].sku"));
        assert_eq!(
            first_refused(&json!({ "a\u{85}": 1 })).as_deref(),
            Some("a\u{85}")
        );
        assert_eq!(
            first_refused(&json!({ "description": "two\nlines\tand\r\n" })),
            None
        );
        assert_eq!(first_refused(&json!("\u{1b}[31m")).as_deref(), Some(""));
    }

    #[test]
    fn single_line_fields_refuse_line_breaks_too() {
        assert!(single_line("Ada Lovelace").is_ok());
        assert!(single_line("Ada\nLovelace").is_err());
        assert!(multi_line("Ada\nLovelace").is_ok());
        assert!(multi_line("Ada\u{0}").is_err());
        assert!(multi_line("Ada\u{9f}").is_err());
    }

    #[test]
    fn nesting_as_deep_as_a_body_can_be_is_walked() {
        // serde_json refuses to parse past 128 levels, so no body value is deeper than this.
        let deep = (0..127).fold(json!("x\u{0}"), |inner, _| json!([inner]));
        assert_eq!(first_refused(&deep), Some("[0]".repeat(127)));
    }
}
