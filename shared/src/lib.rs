//! What every QuickMart service uses: configuration and secrets, the one error type and its REST and GraphQL
//! renderings, telemetry and health endpoints, the PostgreSQL pool and migrations, the Redis cache client,
//! JWT authentication, the internal REST client and pagination cursors.

pub mod address;
pub mod auth;
pub mod background;
#[cfg(feature = "cache")]
pub mod cache;
#[cfg(feature = "client")]
pub mod client;
pub mod config;
#[cfg(feature = "db")]
pub mod db;
pub mod error;
pub mod extract;
#[cfg(feature = "graphql")]
pub mod graphql;
pub mod health;
pub mod internal;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod pagination;
pub mod server;
pub mod service;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod timestamp;
pub mod traces;

pub use error::{AppError, ErrorCode, FieldError, FieldErrors};
pub use service::ServiceId;
