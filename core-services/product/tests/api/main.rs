//! product-core against a real PostgreSQL database (one per test) and the real Redis.

mod helpers;
mod products;
mod reservations;
