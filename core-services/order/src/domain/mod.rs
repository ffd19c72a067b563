//! Validated inputs: once parsed, the rest of the crate cannot hold an invalid value.

mod cart;
mod cursor;
mod idempotency;
mod order;
mod status;

pub use cart::{CartOwner, CartToken, MAX_CART_LINES, MAX_CART_QUANTITY, parse_cart_quantity};
pub use cursor::OrderCursor;
pub use idempotency::IdempotencyKey;
pub use order::{MAX_LINES, MAX_QUANTITY, NewOrder, OrderLine};
pub(crate) use status::{can_become, parse_status};

/// Largest amount of money that fits a GraphQL `Int`.
pub const MAX_AMOUNT: i64 = i32::MAX as i64;
