//! Queries over the product database.

pub mod categories;
pub mod products;
pub mod reservations;
