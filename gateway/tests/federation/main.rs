//! Federation tests: the gateway in front of four real async-graphql subgraphs on random
//! ports, over a supergraph composed by `schema/compose.mjs` (checked in, so no Node here).
//!
//! After changing `examples/fixture_subgraphs/subgraphs.rs`, refresh the fixtures:
//! ```sh
//! cargo run -p quickmart-gateway --example fixture_subgraphs -- sdl gateway/tests/fixtures
//! cd gateway/tests/fixtures && node ../../../schema/compose.mjs --out supergraph.graphql \
//!   users=http://users.invalid/graphql=users.graphql products=http://products.invalid/graphql=products.graphql \
//!   inventory=http://inventory.invalid/graphql=inventory.graphql orders=http://orders.invalid/graphql=orders.graphql
//! ```

#[path = "../../examples/fixture_subgraphs/subgraphs.rs"]
mod subgraphs;

mod harness;

mod adversarial;
mod directives;
mod errors;
mod headers;
mod http_surface;
mod joins;
mod limits;
mod literals;
mod persisted;
