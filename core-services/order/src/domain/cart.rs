//! Carts' rules (docs/ARCHITECTURE.md, "Carts"): who holds a cart, how many lines and units it may hold, and
//! the guest's token.

use order_contract::api::{CART_TOKEN_BYTES, CART_TOKEN_PREFIX, NOT_A_CART_TOKEN, is_cart_token};
use quickmart_shared::AppError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Most lines one cart holds.
pub const MAX_CART_LINES: usize = 100;
/// Most units of one product in a cart (as on an order line).
pub const MAX_CART_QUANTITY: i32 = 1000;

/// Whose cart a request acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartOwner {
    /// A signed-in user's one cart.
    User(Uuid),
    /// A guest's cart, by its token's digest.
    Guest([u8; 32]),
}

/// A guest's cart token, as the guest holds it. Only its digest is stored, so a copy of the database opens no
/// cart.
#[derive(Clone, PartialEq, Eq)]
pub struct CartToken(String);

impl std::fmt::Debug for CartToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CartToken(..)")
    }
}

impl CartToken {
    /// A new, random token.
    pub fn generate() -> Self {
        let bytes: [u8; CART_TOKEN_BYTES] = rand::random();
        let mut token = String::with_capacity(CART_TOKEN_PREFIX.len() + 2 * CART_TOKEN_BYTES);
        token.push_str(CART_TOKEN_PREFIX);
        for byte in bytes {
            token.push_str(&format!("{byte:02x}"));
        }
        Self(token)
    }

    /// A token a client sent, naming `field` when it cannot be one of ours (so that no lookup is made for it).
    pub fn parse(value: &str, field: &str) -> Result<Self, AppError> {
        if is_cart_token(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(AppError::invalid(field, NOT_A_CART_TOKEN))
        }
    }

    /// The token, to hand to the guest once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored digest.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The owner a request holding this token acts as.
    pub fn owner(&self) -> CartOwner {
        CartOwner::Guest(self.digest())
    }
}

/// A quantity for a cart line (1–1000), naming `field` when it is out of range.
pub fn parse_cart_quantity(quantity: i64, field: &str) -> Result<i32, AppError> {
    i32::try_from(quantity)
        .ok()
        .filter(|q| (1..=MAX_CART_QUANTITY).contains(q))
        .ok_or_else(|| {
            AppError::invalid(field, format!("must be between 1 and {MAX_CART_QUANTITY}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_and_two_never_match() {
        let first = CartToken::generate();
        let second = CartToken::generate();
        assert_ne!(first, second);
        assert_eq!(
            CartToken::parse(first.expose(), "t").ok(),
            Some(first.clone())
        );
        assert_ne!(first.digest(), second.digest());
        assert!(!format!("{first:?}").contains(first.expose()));
    }

    #[test]
    fn anything_else_is_refused_before_a_lookup() {
        let good = CartToken::generate();
        for bad in [
            "",
            "qmc_",
            &good.expose()[..good.expose().len() - 1],
            &format!("{}0", good.expose()),
            &good.expose().to_uppercase(),
            &good.expose().replacen("qmc_", "qmx_", 1),
            &"qmc_".repeat(100_000),
        ] {
            assert!(CartToken::parse(bad, "t").is_err(), "{bad:.40}");
        }
    }

    #[test]
    fn quantities_are_bounded() {
        assert_eq!(parse_cart_quantity(1, "q").ok(), Some(1));
        assert_eq!(parse_cart_quantity(1000, "q").ok(), Some(1000));
        for bad in [0, -1, 1001, i64::from(i32::MAX) + 1, i64::MIN] {
            assert!(parse_cart_quantity(bad, "q").is_err());
        }
    }
}
