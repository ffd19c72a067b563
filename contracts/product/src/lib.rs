//! The contract of product-core, the one thing its callers depend on (`docs/ARCHITECTURE.md`, "Crates and
//! what they may depend on"): the REST request and response bodies ([`api`]), one typed client
//! ([`ProductCoreClient`]), and the cache keys and lifetimes of product entities ([`cache`]; the product
//! subgraph fills them, product-core invalidates them).

pub mod api;
pub mod cache;
mod client;

pub use client::ProductCoreClient;
