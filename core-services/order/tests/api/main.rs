//! order-core against real PostgreSQL databases (one for orders and one for products per test), a real
//! product-core and the real Redis.

mod carts;
mod checkout;
mod docs;
mod helpers;
mod lifecycle;
mod listing;
mod placing;
mod reconciler;
mod webhooks;
