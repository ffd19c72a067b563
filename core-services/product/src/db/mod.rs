//! Queries over the product database.

pub(crate) mod categories;
pub(crate) mod products;
pub(crate) mod reservations;
