//! QuickMart's Apollo Federation v2 gateway.
//!
//! Loads a supergraph composed by `schema/compose.mjs`, plans operations with
//! `hive-router-query-planner`, executes the plans against the subgraphs over keep-alive
//! pools, and serves the result as one GraphQL endpoint.
//!
//! ```no_run
//! # async fn run() -> Result<(), quickmart_gateway::GatewayError> {
//! use quickmart_gateway::{Gateway, GatewayConfig};
//! use quickmart_shared::config::Env;
//! let sdl = std::fs::read_to_string("schema/supergraph.graphql").unwrap_or_default();
//! let config = GatewayConfig::from_env(&Env::from_process()?)?;
//! let gateway = Gateway::from_supergraph_sdl(&sdl, config)?;
//! let app: axum::Router = gateway.router();
//! # let _ = app; Ok(()) }
//! ```

mod config;
mod endpoint;
mod error;
mod execute;
mod gateway;
mod introspection;
mod limits;
mod persisted;
mod plan;
mod response;
mod schema;
#[cfg(test)]
mod test_support;
mod variables;

pub use config::GatewayConfig;
pub use error::GatewayError;
pub use gateway::{Gateway, GatewayResponse, GraphQLRequest, RequestMethod};
pub use limits::OperationLimits;
pub use response::error::GraphQLError;
