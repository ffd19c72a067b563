//! Queries over the user database.

pub(crate) mod addresses;
pub(crate) mod refresh_tokens;
pub(crate) mod users;
