//! The seven services of QuickMart and how to build each one's router from configuration.

use std::collections::HashMap;

use axum::Router;
use quickmart_shared::config::Env;
use quickmart_shared::server::{ServerLimits, StartError};

/// The supergraph composed by `quickmart compose`, built into the binary so `quickmart up` works anywhere.
pub const SUPERGRAPH: &str = include_str!("../../schema/supergraph.graphql");

/// One QuickMart service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Service {
    /// The federated GraphQL endpoint (port 4000).
    Gateway,
    /// The user subgraph (port 4001).
    UserSubgraph,
    /// The product subgraph (port 4002).
    ProductSubgraph,
    /// The order subgraph (port 4003).
    OrderSubgraph,
    /// The user core REST service (port 8081).
    UserCore,
    /// The product core REST service (port 8082).
    ProductCore,
    /// The order core REST service (port 8083).
    OrderCore,
}

impl Service {
    /// Every service, cores first: the order they are built in.
    pub const ALL: [Self; 7] = [
        Self::UserCore,
        Self::ProductCore,
        Self::OrderCore,
        Self::UserSubgraph,
        Self::ProductSubgraph,
        Self::OrderSubgraph,
        Self::Gateway,
    ];

    /// The name used in logs, metrics and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::UserSubgraph => "user-subgraph",
            Self::ProductSubgraph => "product-subgraph",
            Self::OrderSubgraph => "order-subgraph",
            Self::UserCore => "user-core",
            Self::ProductCore => "product-core",
            Self::OrderCore => "order-core",
        }
    }

    /// The port it listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Gateway => 4000,
            Self::UserSubgraph => 4001,
            Self::ProductSubgraph => 4002,
            Self::OrderSubgraph => 4003,
            Self::UserCore => 8081,
            Self::ProductCore => 8082,
            Self::OrderCore => 8083,
        }
    }

    /// The prefix of its variables (`<PREFIX>_LISTEN_ADDR`).
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::Gateway => "GATEWAY",
            Self::UserSubgraph => "USER_SUBGRAPH",
            Self::ProductSubgraph => "PRODUCT_SUBGRAPH",
            Self::OrderSubgraph => "ORDER_SUBGRAPH",
            Self::UserCore => "USER_CORE",
            Self::ProductCore => "PRODUCT_CORE",
            Self::OrderCore => "ORDER_CORE",
        }
    }

    /// The variable that sets its listen address.
    pub fn listen_variable(self) -> String {
        format!("{}_LISTEN_ADDR", self.env_prefix())
    }

    /// Whether it is a core (owns a database).
    pub fn is_core(self) -> bool {
        matches!(self, Self::UserCore | Self::ProductCore | Self::OrderCore)
    }
}

/// Builds the router of `service` from `vars` (the environment, plus whatever the launcher set).
pub async fn build(service: Service, vars: &HashMap<String, String>) -> Result<Router, StartError> {
    let env = Env::from_pairs(vars.clone())?;
    match service {
        Service::UserCore => user_core::build(&user_core::Config::from_env(&env)?).await,
        Service::ProductCore => product_core::build(&product_core::Config::from_env(&env)?).await,
        Service::OrderCore => order_core::build(&order_core::Config::from_env(&env)?).await,
        Service::UserSubgraph => {
            user_subgraph::build(&user_subgraph::Config::from_env(&env)?).await
        }
        Service::ProductSubgraph => {
            product_subgraph::build(&product_subgraph::Config::from_env(&env)?).await
        }
        Service::OrderSubgraph => {
            order_subgraph::build(&order_subgraph::Config::from_env(&env)?).await
        }
        Service::Gateway => build_gateway(vars),
    }
}

/// The connection limits `service` is served under: the `HTTP_*` settings, with the gateway's own body limit.
pub fn server_limits(
    service: Service,
    vars: &HashMap<String, String>,
) -> Result<ServerLimits, StartError> {
    let mut limits = ServerLimits::from_env(&Env::from_pairs(vars.clone())?)?;
    if service == Service::Gateway {
        let config = quickmart_gateway::GatewayConfig::from_vars(vars.clone())
            .map_err(|e| StartError::Other(format!("gateway configuration: {e}")))?;
        limits.max_body_bytes = config.max_body_bytes;
    }
    Ok(limits)
}

fn build_gateway(vars: &HashMap<String, String>) -> Result<Router, StartError> {
    let config = quickmart_gateway::GatewayConfig::from_vars(vars.clone())
        .map_err(|e| StartError::Other(format!("gateway configuration: {e}")))?;
    let supergraph = match vars.get("SUPERGRAPH_PATH").filter(|p| !p.is_empty()) {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| StartError::Other(format!("SUPERGRAPH_PATH: cannot read {path}: {e}")))?,
        None => SUPERGRAPH.to_owned(),
    };
    let gateway = quickmart_gateway::Gateway::from_supergraph_sdl(&supergraph, config)
        .map_err(|e| StartError::Other(format!("supergraph: {e}")))?;
    Ok(gateway.router())
}
