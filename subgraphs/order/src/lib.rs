//! QuickMart order subgraph: `Order` for the federated graph (with `user` and `items.product` as entity
//! references the user and product subgraphs resolve), `User.orders`, and placing, cancelling and moving
//! orders, and the cart (a customer's or a guest's), backed by order-core. Authorization (owner or admin) happens
//! here.

mod carts;
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
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::Env;
use quickmart_shared::graphql::{PerRequest, RequestContext};
use quickmart_shared::server::StartError;
use secrecy::SecretString;

pub use crate::schema::{OrderSchema, build_schema, schema_validating};
use order_contract::OrderCoreClient;
use quickmart_shared::cache::{CacheSettings, LimitStore};
use user_contract::sessions::TokenVersions;

/// Which service this is: its name in logs and metrics, its port and variables.
pub const SERVICE: ServiceId = ServiceId::OrderSubgraph;

/// Longest one call to order-core may take, retries included: placing an order waits for product-core's
/// reservation, which order-core bounds at 5 s; both end before the gateway's 10 s subgraph timeout.
const CORE_TIMEOUT: Duration = Duration::from_secs(8);

/// The order subgraph's settings.
#[derive(Clone)]
pub struct Config {
    /// Where to listen (`ORDER_SUBGRAPH_LISTEN_ADDR`, default 127.0.0.1:4003).
    pub listen_addr: SocketAddr,
    /// order-core's base URL (`ORDER_CORE_URL`, default `http://127.0.0.1:8083`).
    pub core_url: String,
    /// The token order-core requires (`INTERNAL_API_TOKEN`).
    pub internal_token: SecretString,
    /// The keys that verify access tokens (`JWT_PUBLIC_KEYS`, …).
    pub keys: KeyMaterial,
    /// The cache the token versions and the guest-cart limits live in (`REDIS_URL`, `CACHE_NAMESPACE`).
    pub cache: CacheSettings,
    /// user-core's base URL (`USER_CORE_URL`), for the token versions that end sessions.
    pub user_core_url: String,
}

impl Config {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, StartError> {
        Ok(Self {
            listen_addr: env.listen_addr(SERVICE)?,
            core_url: env.service_url(ServiceId::OrderCore)?,
            internal_token: env.internal_token()?,
            keys: KeyMaterial::from_env(env)?,
            cache: CacheSettings::from_env(env)?,
            user_core_url: env.service_url(ServiceId::UserCore)?,
        })
    }
}

/// The whole router: `POST /graphql`, health and metrics.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let client = InternalClient::new(
        ServiceId::OrderCore.name(),
        &config.core_url,
        config.internal_token.clone(),
        CORE_TIMEOUT,
    )
    .map_err(|e| StartError::Other(format!("order-core client: {e}")))?;
    let core = OrderCoreClient::new(client);
    let sessions = TokenVersions::connect(
        &config.user_core_url,
        config.internal_token.clone(),
        config.cache.connect_with_near_copy()?,
    )?;
    let limits = LimitStore::new(config.cache.connect()?);
    let per_request: PerRequest = Arc::new(move |request, context: &RequestContext| {
        request.data(loaders::RequestData::new(
            core.clone(),
            limits.clone(),
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
