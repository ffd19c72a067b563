//! Start-up errors of the gateway.

/// Why a gateway could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The supergraph SDL does not parse.
    #[error("the supergraph does not parse: {0}")]
    SupergraphParse(String),
    /// The SDL parses but has no `join__Graph` enum.
    #[error("the schema is not a federation supergraph (no join__Graph enum)")]
    NotASupergraph,
    /// A subgraph has neither a `join__graph(url:)` nor an override.
    #[error("subgraph {0} has no URL (set join__graph(url:) or its GATEWAY_SUBGRAPH_<NAME>_URL)")]
    MissingSubgraphUrl(String),
    /// The query planner refused the supergraph.
    #[error("the query planner could not load the supergraph: {0}")]
    Planner(String),
    /// A configuration variable is malformed.
    #[error("invalid configuration {name}: {reason}")]
    Config {
        /// The environment variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A shared setting (internal token, JWT keys) is missing or malformed.
    #[error(transparent)]
    Settings(#[from] quickmart_shared::config::ConfigError),
    /// The JWT public keys do not parse.
    #[error(transparent)]
    Keys(#[from] quickmart_shared::auth::KeyError),
    /// The HTTP client for subgraphs could not be built.
    #[error("could not build the subgraph HTTP client: {0}")]
    HttpClient(String),
    /// Reading the supergraph file or binding the listener failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
