//! The product subgraph over HTTP, in front of a real product-core, PostgreSQL and Redis.

mod catalog;
mod entities_and_cache;
mod helpers;
mod sdl;
