//! Page sizes and opaque keyset cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Page size when the client does not ask for one.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A validated page size (1..=100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// Validates a requested size (`None` → the default), naming `field` when it is out of range.
    pub fn new(requested: Option<i64>, field: &str) -> Result<Self, AppError> {
        match requested {
            None => Ok(Self(DEFAULT_PAGE_SIZE)),
            Some(n) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&n) => Ok(Self(n as u32)),
            Some(_) => Err(AppError::invalid(
                field,
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            )),
        }
    }

    /// The size.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The size as a SQL `LIMIT` that fetches one extra row to learn whether another page follows.
    pub fn limit_plus_one(self) -> i64 {
        i64::from(self.0) + 1
    }
}

/// Encodes a keyset position as an opaque cursor.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is `BAD_USER_INPUT` naming `field`.
pub fn decode_cursor<T: DeserializeOwned>(cursor: &str, field: &str) -> Result<T, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        // A forged cursor could carry NUL into a keyset comparison.
        .filter(|value| crate::text::first_refused(value).is_none())
        .and_then(|value| serde_json::from_value(value).ok())
        .ok_or_else(|| AppError::invalid(field, "is not a cursor returned by this API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor(&(42_i64, "abc"));
        assert_eq!(
            decode_cursor::<(i64, String)>(&cursor, "after").ok(),
            Some((42, "abc".to_owned()))
        );
        let error = decode_cursor::<(i64, String)>("not a cursor", "after").expect_err("garbage");
        assert_eq!(error.field_errors()[0].field, "after");
        let forged = encode_cursor(&(42_i64, "a\u{0}b"));
        assert!(
            decode_cursor::<(i64, String)>(&forged, "after").is_err(),
            "NUL inside a cursor"
        );
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(
            PageSize::new(None, "first").map(PageSize::get).ok(),
            Some(20)
        );
        assert!(PageSize::new(Some(0), "first").is_err());
        assert!(PageSize::new(Some(101), "first").is_err());
        assert_eq!(
            PageSize::new(Some(100), "first").map(PageSize::get).ok(),
            Some(100)
        );
    }
}
