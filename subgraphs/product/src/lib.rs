//! QuickMart product subgraph: `Product` and `Category` for the federated graph, cached in Redis and backed by
//! product-core.

mod catalog;
mod loaders;
mod schema;
mod types;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::SDLExportOptions;
use axum::Router;
use quickmart_shared::ServiceId;
use quickmart_shared::auth::KeyMaterial;
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::{ConfigError, Env};
use quickmart_shared::graphql::{PerRequest, RequestContext};
use quickmart_shared::server::StartError;
use secrecy::SecretString;

use user_contract::sessions::TokenVersions;

use crate::catalog::Catalog;
pub use crate::schema::{ProductSchema, build_schema, schema_validating};

/// Which service this is: its name in logs and metrics, its port and variables.
pub const SERVICE: ServiceId = ServiceId::ProductSubgraph;

/// Longest one call to product-core may take, retries included (within the gateway's 10 s subgraph timeout).
const CORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The product subgraph's settings.
#[derive(Clone)]
pub struct Config {
    /// Where to listen (`PRODUCT_SUBGRAPH_LISTEN_ADDR`, default 127.0.0.1:4002).
    pub listen_addr: SocketAddr,
    /// product-core's base URL (`PRODUCT_CORE_URL`, default `http://127.0.0.1:8082`).
    pub core_url: String,
    /// The token product-core requires (`INTERNAL_API_TOKEN`).
    pub internal_token: SecretString,
    /// The cache (`REDIS_URL`, `CACHE_NAMESPACE`).
    pub cache: CacheSettings,
    /// The keys that verify access tokens (`JWT_PUBLIC_KEYS`, …).
    pub keys: KeyMaterial,
    /// user-core's base URL (`USER_CORE_URL`), for the token versions that end sessions.
    pub user_core_url: String,
}

impl Config {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, StartError> {
        Ok(Self {
            listen_addr: env.listen_addr(SERVICE)?,
            core_url: env.service_url(ServiceId::ProductCore)?,
            internal_token: env.internal_token()?,
            cache: CacheSettings::from_env(env).map_err(|e: ConfigError| StartError::Config(e))?,
            keys: KeyMaterial::from_env(env)?,
            user_core_url: env.service_url(ServiceId::UserCore)?,
        })
    }
}

/// The whole router: `POST /graphql`, health and metrics.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let client = InternalClient::new(
        ServiceId::ProductCore.name(),
        &config.core_url,
        config.internal_token.clone(),
        CORE_TIMEOUT,
    )
    .map_err(|e| StartError::Other(format!("product-core client: {e}")))?;
    let cache = config.cache.connect_with_near_copy()?;
    let sessions = TokenVersions::connect(
        &config.user_core_url,
        config.internal_token.clone(),
        cache.clone(),
    )?;
    let core = Catalog::new(client, cache);
    let per_request: PerRequest = Arc::new(move |request, context: &RequestContext| {
        request.data(loaders::RequestData::new(
            core.clone(),
            context.call_context(),
        ))
    });
    quickmart_shared::graphql::subgraph_router(
        SERVICE.name(),
        schema_validating,
        &config.keys,
        config.internal_token.clone(),
        per_request,
        Arc::new(sessions),
    )
}

/// The subgraph's SDL with federation directives, as the supergraph composition needs it.
pub fn schema_sdl() -> String {
    build_schema().sdl_with_options(SDLExportOptions::new().federation())
}
