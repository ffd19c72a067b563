//! Queries over the order database.

pub(crate) mod carts;
pub(crate) mod orders;
pub(crate) mod payments;
