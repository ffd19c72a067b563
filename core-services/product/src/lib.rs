//! QuickMart product-core: the catalog, stock and reservations, over REST, owning the `quickmart_product`
//! database.

// The contract is its own crate, so callers never link this one; inside, it is still `crate::api`.
use product_contract::api;
mod db;
pub mod domain;
mod routes;
mod schema;
mod state;
pub mod sweeper;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use quickmart_shared::ServiceId;
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::config::{ConfigError, Env};
use quickmart_shared::db::DbSettings;
use quickmart_shared::server::StartError;
use quickmart_shared::service::DatabaseId;
use secrecy::SecretString;

pub use state::AppState;

/// Which service this is: its name in logs and metrics, its port and variables.
pub const SERVICE: ServiceId = ServiceId::ProductCore;
/// The database's migrations, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// product-core's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`PRODUCT_CORE_LISTEN_ADDR`, default 127.0.0.1:8082).
    pub listen_addr: SocketAddr,
    /// The database (`PRODUCT_DATABASE_URL`, `MIGRATE_ON_START`).
    pub database: DbSettings,
    /// The cache whose product entries this service invalidates (`REDIS_URL`, `CACHE_NAMESPACE`).
    pub cache: CacheSettings,
    /// The token internal callers present (`INTERNAL_API_TOKEN`).
    pub internal_token: SecretString,
    /// The store currency (`QUICKMART_CURRENCY`).
    pub currency: String,
    /// Default lifetime of an uncommitted reservation (`RESERVATION_TTL_SECS`, default 900).
    pub reservation_ttl: Duration,
    /// How often expired reservations are released (`RESERVATION_SWEEP_INTERVAL_SECS`, default 30).
    pub sweep_interval: Duration,
}

impl Config {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            listen_addr: env.listen_addr(SERVICE)?,
            database: DbSettings::from_env(env, DatabaseId::PRODUCT)?,
            cache: CacheSettings::from_env(env)?,
            internal_token: env.internal_token()?,
            currency: env.currency()?,
            reservation_ttl: Duration::from_secs(env.parse_or("RESERVATION_TTL_SECS", 900)?),
            sweep_interval: Duration::from_secs(
                env.parse_or("RESERVATION_SWEEP_INTERVAL_SECS", 30)?.max(1),
            ),
        })
    }
}

/// Prepares the database, starts the reservation sweeper and returns the whole router: the internal API,
/// health and metrics, and the OpenAPI document with Swagger UI.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let pool = quickmart_shared::db::connect(&config.database, MIGRATIONS).await?;
    let cache = config.cache.connect()?;
    let state = AppState {
        pool: pool.clone(),
        cache,
        currency: Arc::from(config.currency.as_str()),
        reservation_ttl: config.reservation_ttl,
    };
    tokio::spawn(sweeper::run(state.clone(), config.sweep_interval));
    routes::ReservationOutcome::register_all();
    Ok(quickmart_shared::openapi::core_router(
        SERVICE,
        routes::api().with_state(state),
        config.internal_token.clone(),
        quickmart_shared::db::readiness(pool),
    ))
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    quickmart_shared::openapi::document(routes::api())
}
