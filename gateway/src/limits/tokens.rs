//! One linear pass over the raw document: how many tokens, how deep the brackets nest.
//!
//! The parser recurses once per nested bracket, so a document of 10 000 `{` would overflow its stack
//! before any limit on the parsed tree could run. This scan needs no recursion and no allocation, and
//! runs before the parser; it follows the GraphQL lexical grammar closely enough to count (it does
//! not validate: a malformed token is counted and left to the parser to reject).

/// What the scan measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TokenCount {
    /// Lexical tokens: punctuators, names, numbers, strings (comments and commas are ignored).
    pub tokens: usize,
    /// Most brackets (`{`, `[`, `(`) open at one point.
    pub nesting: usize,
}

/// Counts the tokens of `document` and the deepest bracket nesting.
pub(crate) fn scan(document: &str) -> TokenCount {
    let bytes = document.as_bytes();
    let mut count = TokenCount::default();
    let mut open = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                open += 1;
                count.nesting = count.nesting.max(open);
                count.tokens += 1;
                i += 1;
            }
            b'}' | b']' | b')' => {
                open = open.saturating_sub(1);
                count.tokens += 1;
                i += 1;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                count.tokens += 1;
                i = end_of_block_string(bytes, i + 3);
            }
            b'"' => {
                count.tokens += 1;
                i = end_of_string(bytes, i + 1);
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count.tokens += 1;
                i += 3;
            }
            b'!' | b'$' | b'&' | b':' | b'=' | b'@' | b'|' | b'.' => {
                count.tokens += 1;
                i += 1;
            }
            _ => {
                // A name or a number (or an unexpected character): one token up to the next separator.
                count.tokens += 1;
                i += 1;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
            }
        }
    }
    count
}

/// Bytes that continue a name or number token (`-1.5e+10`, `_id`, non-ASCII is the parser's to refuse).
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'+' | b'.') || byte >= 0x80
}

/// The index after the closing quote of a string starting at `i` (after its opening quote).
fn end_of_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            // An unterminated string ends at the line end; the parser reports it.
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after the closing `"""` of a block string starting at `i` (after its opening `"""`).
fn end_of_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_punctuators_names_and_strings() {
        let count = scan(r#"query Q($id: ID! = "a,b") { product(id: $id) { ...F } } # { { {"#);
        // query Q ( $ id : ID ! = "a,b" ) { product ( id : $ id ) { ... F } }
        assert_eq!(
            count,
            TokenCount {
                tokens: 24,
                nesting: 2
            }
        );
    }

    #[test]
    fn block_strings_and_escapes_are_one_token() {
        let count = scan("{ f(a: \"\"\" { \\\"\"\" [ \"\"\", b: \"x\\\"{\") }");
        assert_eq!(
            count,
            TokenCount {
                tokens: 11,
                nesting: 2
            }
        );
    }

    #[test]
    fn deep_brackets_are_measured_without_recursion() {
        let document = "{".repeat(200_000);
        assert_eq!(
            scan(&document),
            TokenCount {
                tokens: 200_000,
                nesting: 200_000
            }
        );
    }
}
