//! Validated inputs: once parsed, the rest of the crate cannot hold an invalid value.

mod address;
mod idempotency;
mod order;

pub use address::ShippingAddress;
pub use idempotency::IdempotencyKey;
pub use order::{MAX_LINES, MAX_QUANTITY, NewOrder, OrderLine};

/// Largest amount of money that fits a GraphQL `Int`.
pub const MAX_AMOUNT: i64 = i32::MAX as i64;
