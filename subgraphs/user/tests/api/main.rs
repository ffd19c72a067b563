//! Integration tests of the user subgraph: a real user-core and subgraph on random ports, real PostgreSQL and
//! Redis.

mod schema;
