//! QuickMart user subgraph: the `User` entity and its address book, sign-up and login (rate limited), EdDSA
//! access tokens, rotating refresh tokens and roles. Authorization happens here; user-core owns the data.

mod accounts;
mod addresses;
mod loaders;
mod rate_limit;
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
use quickmart_shared::graphql::{PerRequest, RequestContext, subgraph_router};
use quickmart_shared::server::StartError;
use secrecy::SecretString;

pub use crate::schema::{UserSchema, build_schema, schema_validating};
use user_contract::UserCoreClient;
use user_contract::sessions::TokenVersions;

use crate::accounts::Accounts;

/// Which service this is: its name in logs and metrics, its port and variables.
pub const SERVICE: ServiceId = ServiceId::UserSubgraph;
/// Longest one call to user-core may take, retries included (within the gateway's 10 s subgraph timeout).
const CORE_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the user subgraph.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`USER_SUBGRAPH_LISTEN_ADDR`, default 127.0.0.1:4001).
    pub listen_addr: SocketAddr,
    /// Base URL of user-core (`USER_CORE_URL`, default `http://127.0.0.1:8081`).
    pub core_url: String,
    /// The token user-core requires (`INTERNAL_API_TOKEN`).
    pub internal_token: SecretString,
    /// The cache and rate-limit store (`REDIS_URL`).
    pub cache: CacheSettings,
    /// The signing key and the verifying key set (`JWT_PRIVATE_KEY`, `JWT_PUBLIC_KEYS`, `JWT_ISSUER`).
    pub keys: KeyMaterial,
}

impl Config {
    /// Reads the settings from `env`; in development, missing keys are generated once into the state folder.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let keys = KeyMaterial::from_env(env)?;
        if keys.private_pem.is_none() {
            // The user subgraph mints every access token: a verify-only key set cannot serve logins.
            return Err(ConfigError::Missing {
                name: "JWT_PRIVATE_KEY".into(),
            });
        }
        Ok(Self {
            listen_addr: env.listen_addr(SERVICE)?,
            core_url: env.service_url(ServiceId::UserCore)?,
            internal_token: env.internal_token()?,
            cache: CacheSettings::from_env(env)?,
            keys,
        })
    }
}

/// Builds the whole router: `POST /graphql` (authenticating every request), health and metrics.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let cache = config.cache.connect_with_near_copy()?;
    let core = UserCoreClient::new(
        InternalClient::new(
            ServiceId::UserCore.name(),
            &config.core_url,
            config.internal_token.clone(),
            CORE_TIMEOUT,
        )
        .map_err(|e| StartError::Other(format!("user-core client: {e}")))?,
    );
    let sessions = TokenVersions::new(core.clone(), cache.clone());
    let accounts = Accounts {
        core,
        limits: quickmart_shared::cache::LimitStore::new(cache.clone()),
        cache,
        signer: Arc::new(config.keys.signer()?),
    };
    let per_request: PerRequest = Arc::new(move |request, context: &RequestContext| {
        request.data(loaders::RequestData::new(
            accounts.clone(),
            context.call_context(),
        ))
    });
    subgraph_router(
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
