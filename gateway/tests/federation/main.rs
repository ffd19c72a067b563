//! Federation tests: the gateway in front of four real async-graphql subgraphs on random
//! ports, over a supergraph composed by `schema/compose.mjs` (checked in, so no Node here).

#[path = "../../examples/fixture_subgraphs/subgraphs.rs"]
mod subgraphs;

mod harness;

mod directives;
mod errors;
mod http_surface;
mod joins;
mod limits;
