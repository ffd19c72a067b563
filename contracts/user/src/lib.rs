//! The contract of user-core, the one thing its callers depend on (`docs/ARCHITECTURE.md`, "Crates and what
//! they may depend on"): the REST request and response bodies ([`api`]), one typed client ([`UserCoreClient`]),
//! and the cache keys and lifetimes of users ([`cache`]; the user subgraph fills and invalidates them), and (the
//! `sessions` feature) the token-version check every subgraph makes.

pub mod api;
pub mod cache;
mod client;
#[cfg(feature = "sessions")]
pub mod sessions;

pub use client::UserCoreClient;
