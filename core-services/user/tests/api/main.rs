//! Integration tests of user-core: a real server on a random port over its own fresh database.

mod addresses;
mod bootstrap;
mod helpers;
mod refresh_tokens;
mod users;
