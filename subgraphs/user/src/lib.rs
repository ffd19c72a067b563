//! QuickMart user subgraph: the `User` entity, sign-up and login (rate limited), EdDSA access tokens, rotating
//! refresh tokens and roles. Authorization happens here; user-core owns the data.

mod loader;
mod mutation;
mod query;
mod rate_limit;
mod types;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, SDLExportOptions, Schema};
use axum::Router;
use quickmart_shared::auth::{JwtSigner, KeyMaterial};
use quickmart_shared::cache::{Cache, CacheSettings};
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::{ConfigError, Env};
use quickmart_shared::graphql::{PerRequest, RequestContext, subgraph_router};
use quickmart_shared::server::StartError;
use secrecy::SecretString;

pub use loader::UserLoader;
pub use mutation::Mutation;
pub use query::Query;
pub use user_contract::UserCoreClient;

/// The service name in logs and metrics.
pub const SERVICE: &str = "user-subgraph";
/// The variable that sets the listen address.
pub const LISTEN_VARIABLE: &str = "USER_SUBGRAPH_LISTEN_ADDR";
/// How long one call to user-core may take.
const CORE_TIMEOUT: Duration = Duration::from_secs(10);

/// The user subgraph's schema.
pub type UserSchema = Schema<Query, Mutation, EmptySubscription>;

/// Settings of the user subgraph.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`USER_SUBGRAPH_LISTEN_ADDR`, default 127.0.0.1:4001).
    pub listen_addr: SocketAddr,
    /// Base URL of user-core (`USER_CORE_URL`, default `http://127.0.0.1:8081`).
    pub user_core_url: String,
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
            listen_addr: env.listen_addr("USER_SUBGRAPH", 4001)?,
            user_core_url: env
                .raw("USER_CORE_URL")
                .unwrap_or("http://127.0.0.1:8081")
                .to_owned(),
            internal_token: env.internal_token()?,
            cache: CacheSettings::from_env(env)?,
            keys,
        })
    }
}

/// What resolvers share for the life of the process.
pub(crate) struct Services {
    pub(crate) core: UserCoreClient,
    pub(crate) cache: Cache,
    pub(crate) signer: JwtSigner,
}

/// The schema with its process-wide services (none when only the SDL is wanted).
fn schema(services: Option<Arc<Services>>) -> UserSchema {
    let builder = quickmart_shared::graphql::subgraph_schema(Query, Mutation, EmptySubscription);
    match services {
        Some(services) => builder.data(services).finish(),
        None => builder.finish(),
    }
}

/// The federation SDL of the subgraph (written to `schema/user.graphql`; composed by `quickmart compose`).
pub fn schema_sdl() -> String {
    schema(None).sdl_with_options(SDLExportOptions::new().federation())
}

/// Builds the whole router: `POST /graphql` (authenticating every request), health and metrics.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let cache = config.cache.connect()?;
    let core = UserCoreClient::new(
        InternalClient::new(
            "user-core",
            &config.user_core_url,
            config.internal_token.clone(),
            CORE_TIMEOUT,
        )
        .map_err(|e| StartError::Other(format!("user-core client: {e}")))?,
    );
    let services = Arc::new(Services {
        core,
        cache,
        signer: config.keys.signer()?,
    });
    let per_request_services = Arc::clone(&services);
    // A DataLoader per request: it batches the request's lookups and calls the core as the request's caller.
    let per_request: PerRequest = Arc::new(
        move |request: async_graphql::Request, context: &RequestContext| {
            let loader = UserLoader::new(Arc::clone(&per_request_services), context.call_context());
            request.data(DataLoader::new(loader, tokio::spawn))
        },
    );
    subgraph_router(
        SERVICE,
        schema(Some(services)),
        &config.keys,
        config.internal_token.clone(),
        per_request,
    )
}
