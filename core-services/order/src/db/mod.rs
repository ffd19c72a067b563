//! Queries over the order database.

pub mod orders;
