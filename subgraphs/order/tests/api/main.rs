//! The order subgraph over a real order-core and product-core (each over its own fresh database) and Redis.

mod batching;
mod carts;
mod federation;
mod helpers;
mod lifecycle;
mod placing;
mod reads;
mod sdl;
