//! Queries over the user database.

pub(crate) mod refresh_tokens;
pub(crate) mod users;
