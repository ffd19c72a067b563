//! Queries over the order database.

pub(crate) mod orders;
