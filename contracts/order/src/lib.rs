//! The contract of order-core, the one thing its callers depend on (`docs/ARCHITECTURE.md`, "Crates and what
//! they may depend on"): the REST request and response bodies ([`api`]) and one typed client
//! ([`OrderCoreClient`]). Orders are not cached (they are per user and change with every status).

pub mod api;
mod client;

pub use client::OrderCoreClient;
