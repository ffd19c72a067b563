//! Validated inputs: once parsed, the rest of the crate cannot hold an invalid value.

mod catalog;
mod cursor;
mod listing;
mod reservation;

pub use catalog::{NewCategory, NewProduct, ProductChanges, StockDelta};
pub use cursor::ProductCursor;
pub use listing::ListFilter;
pub use reservation::{ReservationLines, ReservationTtl};

/// Largest amount of money or stock that fits a GraphQL `Int`.
pub(crate) const MAX_INT: i64 = i32::MAX as i64;
