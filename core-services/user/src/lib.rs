//! QuickMart user core: accounts (Argon2id passwords, roles), rotating refresh tokens and address books over an
//! internal REST API, owning the `quickmart_user` database.

// The contract is its own crate, so callers never link this one; inside, it is still `crate::api`.
use user_contract::api;
mod bootstrap;
mod db;
pub mod domain;
pub mod purger;
mod routes;
mod schema;
mod state;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::SocketAddr;

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
pub const SERVICE: ServiceId = ServiceId::UserCore;
/// The admin account created at first start when `QUICKMART_ADMIN_EMAIL` is unset.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@quickmart.local";
/// The development admin password; production refuses it.
pub const DEV_ADMIN_PASSWORD: &str = "quickmart-admin";
/// The schema of `quickmart_user` (a `const`: the shared migration helpers take it by value).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Settings of user-core.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen_addr: SocketAddr,
    /// The database.
    pub database: DbSettings,
    /// The token internal callers must present.
    pub internal_token: SecretString,
    /// The admin account to make sure exists.
    pub admin_email: String,
    /// Its password, used only when the account is created.
    pub admin_password: SecretString,
    /// How long a refresh token lives.
    pub refresh_token_ttl: chrono::Duration,
    /// The cache whose user entries this service deletes after every write (`REDIS_URL`, `CACHE_NAMESPACE`).
    pub cache: CacheSettings,
}

impl Config {
    /// Reads `USER_CORE_LISTEN_ADDR`, `USER_DATABASE_URL`, `INTERNAL_API_TOKEN`, `QUICKMART_ADMIN_EMAIL`,
    /// `QUICKMART_ADMIN_PASSWORD`, `REFRESH_TOKEN_TTL_DAYS` (default 30), `REDIS_URL` and `CACHE_NAMESPACE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let days: u16 = env.parse_or("REFRESH_TOKEN_TTL_DAYS", 30)?;
        Ok(Self {
            listen_addr: env.listen_addr(SERVICE)?,
            database: DbSettings::from_env(env, DatabaseId::USER)?,
            internal_token: env.internal_token()?,
            admin_email: env
                .raw("QUICKMART_ADMIN_EMAIL")
                .unwrap_or(DEFAULT_ADMIN_EMAIL)
                .to_owned(),
            admin_password: env.secret("QUICKMART_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD)?,
            refresh_token_ttl: chrono::Duration::days(i64::from(days.max(1))),
            cache: CacheSettings::from_env(env)?,
        })
    }
}

/// Connects and migrates the database, makes sure the admin account exists, and returns the whole router: the
/// internal API behind the internal token, health, metrics and docs open.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let pool = quickmart_shared::db::connect(&config.database, MIGRATIONS).await?;
    let hasher = domain::PasswordHasher::new()
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    bootstrap::ensure_admin(&pool, &hasher, &config.admin_email, &config.admin_password).await?;
    tokio::spawn(purger::run(pool.clone(), purger::INTERVAL));
    let state = AppState {
        cache: config.cache.connect()?,
        pool: pool.clone(),
        hasher,
        refresh_token_ttl: config.refresh_token_ttl,
    };
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
