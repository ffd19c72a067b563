//! Validated inputs: once parsed, the rest of the crate cannot hold an invalid value.

mod address;
mod idempotency;
mod order;

pub use address::ShippingAddress;
pub use idempotency::IdempotencyKey;
pub use order::{MAX_LINES, MAX_QUANTITY, NewOrder, OrderLine};

use quickmart_shared::FieldError;

/// Collects field errors while validating a whole input, so the caller sees every problem at once.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    /// `Ok(value)` when nothing was added, the collected errors otherwise.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, quickmart_shared::AppError> {
        if self.0.is_empty() { Ok(value) } else { Err(quickmart_shared::AppError::Invalid(self.0)) }
    }
}

/// Largest amount of money that fits a GraphQL `Int`.
pub const MAX_AMOUNT: i64 = i32::MAX as i64;
