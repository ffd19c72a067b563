//! Gateway configuration: typed, from environment variables with working defaults.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::GatewayError;
use crate::limits::OperationLimits;

/// Everything the gateway can be configured with.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Where the binary listens (`GATEWAY_LISTEN_ADDR`, default `127.0.0.1:4000`).
    pub listen_addr: SocketAddr,
    /// Largest accepted request body (`GATEWAY_MAX_BODY_BYTES`, default 1 MiB).
    pub max_body_bytes: usize,
    /// Depth, alias and root-field limits (`GATEWAY_MAX_DEPTH`, `GATEWAY_MAX_ALIASES`,
    /// `GATEWAY_MAX_ROOT_FIELDS`; defaults 12, 30, 20).
    pub limits: OperationLimits,
    /// Per-fetch timeout (`GATEWAY_SUBGRAPH_TIMEOUT_MS`, default 10 000).
    pub subgraph_timeout: Duration,
    /// Prepared operations kept (`GATEWAY_PLAN_CACHE_SIZE`, default 1 000).
    pub plan_cache_size: usize,
    /// Idle keep-alive connections kept per subgraph (`GATEWAY_POOL_IDLE_PER_HOST`, default 256).
    pub pool_idle_per_host: usize,
    /// Subgraph URL overrides by `join__Graph` value, uppercased
    /// (`GATEWAY_SUBGRAPH_<NAME>_URL`).
    pub subgraph_urls: HashMap<String, String>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
            max_body_bytes: 1024 * 1024,
            limits: OperationLimits::default(),
            subgraph_timeout: Duration::from_secs(10),
            plan_cache_size: 1000,
            pool_idle_per_host: 256,
            subgraph_urls: HashMap::new(),
        }
    }
}

impl GatewayConfig {
    /// Reads the configuration from the environment; a malformed value fails naming it.
    pub fn from_env() -> Result<Self, GatewayError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the configuration from a list of variables (testable `from_env`).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, GatewayError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let mut config = Self::default();
        if let Some(v) = vars.get("GATEWAY_LISTEN_ADDR") {
            config.listen_addr = parse("GATEWAY_LISTEN_ADDR", v)?;
        }
        if let Some(v) = vars.get("GATEWAY_MAX_BODY_BYTES") {
            config.max_body_bytes = parse("GATEWAY_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = vars.get("GATEWAY_MAX_DEPTH") {
            config.limits.max_depth = parse("GATEWAY_MAX_DEPTH", v)?;
        }
        if let Some(v) = vars.get("GATEWAY_MAX_ALIASES") {
            config.limits.max_aliases = parse("GATEWAY_MAX_ALIASES", v)?;
        }
        if let Some(v) = vars.get("GATEWAY_MAX_ROOT_FIELDS") {
            config.limits.max_root_fields = parse("GATEWAY_MAX_ROOT_FIELDS", v)?;
        }
        if let Some(v) = vars.get("GATEWAY_SUBGRAPH_TIMEOUT_MS") {
            config.subgraph_timeout = Duration::from_millis(parse("GATEWAY_SUBGRAPH_TIMEOUT_MS", v)?);
        }
        if let Some(v) = vars.get("GATEWAY_PLAN_CACHE_SIZE") {
            config.plan_cache_size = parse("GATEWAY_PLAN_CACHE_SIZE", v)?;
        }
        if let Some(v) = vars.get("GATEWAY_POOL_IDLE_PER_HOST") {
            config.pool_idle_per_host = parse("GATEWAY_POOL_IDLE_PER_HOST", v)?;
        }
        for (name, value) in &vars {
            if let Some(graph) = name.strip_prefix("GATEWAY_SUBGRAPH_").and_then(|rest| rest.strip_suffix("_URL"))
                && !graph.is_empty()
            {
                config.subgraph_urls.insert(graph.to_owned(), value.clone());
            }
        }
        Ok(config)
    }

    /// The URL override for a `join__Graph` value, if one is configured.
    pub fn subgraph_url(&self, graph_id: &str) -> Option<String> {
        self.subgraph_urls.get(&graph_id.to_uppercase()).cloned()
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, GatewayError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| GatewayError::Config { name, reason: e.to_string() })
}
