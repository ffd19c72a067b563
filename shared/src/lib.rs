//! What every QuickMart service uses: configuration and secrets, the one error type and its REST and GraphQL
//! renderings, telemetry and health endpoints, the PostgreSQL pool and migrations, the Redis cache client,
//! JWT authentication, the internal REST client and pagination cursors.

pub mod auth;
pub mod cache;
pub mod client;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod graphql;
pub mod health;
pub mod internal;
pub mod openapi;
pub mod pagination;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;

pub use error::{AppError, ErrorCode, FieldError, FieldErrors};
