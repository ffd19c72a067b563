//! The client's idempotency key.

use quickmart_shared::AppError;

/// Longest idempotency key accepted.
const MAX_LENGTH: usize = 200;

/// A client-chosen key (1–200 visible ASCII characters) that makes retries of one placement return one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates the key, naming `field` when it is missing or malformed.
    pub fn parse(value: Option<&str>, field: &str) -> Result<Self, AppError> {
        match value {
            None => Err(AppError::invalid(
                field,
                "is required: choose a unique key per order and reuse it on retries",
            )),
            Some(key) if key.is_empty() || key.len() > MAX_LENGTH => Err(AppError::invalid(
                field,
                format!("must hold 1 to {MAX_LENGTH} characters"),
            )),
            Some(key) if !key.bytes().all(|b| b.is_ascii_graphic()) => Err(AppError::invalid(
                field,
                "may hold only visible ASCII characters (no spaces)",
            )),
            Some(key) => Ok(Self(key.to_owned())),
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse(Some("order-2026-11-25-0001"), "k").is_ok());
        assert!(IdempotencyKey::parse(None, "k").is_err());
        assert!(IdempotencyKey::parse(Some(""), "k").is_err());
        assert!(IdempotencyKey::parse(Some("has space"), "k").is_err());
        assert!(IdempotencyKey::parse(Some(&"k".repeat(201)), "k").is_err());
    }
}
