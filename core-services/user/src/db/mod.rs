//! Queries over the user database.

pub mod refresh_tokens;
pub mod users;
