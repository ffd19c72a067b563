//! Integration tests of the user subgraph: a real user-core and subgraph on random ports, real PostgreSQL and
//! Redis.

mod addresses;
mod attacks;
mod auth_flow;
mod authorization;
mod helpers;
mod limits;
mod rotation;
mod schema;
mod secrets;
mod sessions;
mod validation;
