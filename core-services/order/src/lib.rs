//! QuickMart order-core: atomic order placement over product-core's stock reservations, idempotent retries,
//! the order lifecycle and its history, over REST, owning the `quickmart_order` database.

// The contract is its own crate, so callers never link this one; inside, it is still `crate::api`.
use order_contract::api;
mod checkout;
mod db;
pub mod domain;
mod lifecycle;
pub mod payments;
mod placement;
pub mod reconciler;
mod routes;
mod schema;
mod state;
pub mod stock;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use quickmart_shared::ServiceId;
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::{ConfigError, Env};
use quickmart_shared::db::{DbPool, DbSettings};
use quickmart_shared::server::StartError;
use quickmart_shared::service::DatabaseId;
use secrecy::SecretString;

pub use state::AppState;

/// Which service this is: its name in logs and metrics, its port and variables.
pub const SERVICE: ServiceId = ServiceId::OrderCore;
/// The database's migrations, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Longest one call to product-core may take, retries included (within the order subgraph's 8 s).
const PRODUCT_CORE_TIMEOUT: Duration = Duration::from_secs(5);
/// The webhook secret development setups share; refused in production.
pub const DEV_WEBHOOK_SECRET: &str = "quickmart-dev-webhook-secret";

/// Longest one call to user-core may take (a saved address, before anything is reserved).
const USER_CORE_TIMEOUT: Duration = Duration::from_secs(2);

/// order-core's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`ORDER_CORE_LISTEN_ADDR`, default 127.0.0.1:8083).
    pub listen_addr: SocketAddr,
    /// The database (`ORDER_DATABASE_URL`, `MIGRATE_ON_START`).
    pub database: DbSettings,
    /// product-core's base URL (`PRODUCT_CORE_URL`, default `http://127.0.0.1:8082`).
    pub product_core_url: String,
    /// The token this service requires and presents to product-core (`INTERNAL_API_TOKEN`).
    pub internal_token: SecretString,
    /// The store currency (`QUICKMART_CURRENCY`).
    pub currency: String,
    /// Lifetime of an uncommitted reservation, and the age of an abandoned claim (`RESERVATION_TTL_SECS`,
    /// 1–3600, default 900).
    pub reservation_ttl: Duration,
    /// How often unfinished placements, commits and releases are finished (`ORDER_RECONCILE_INTERVAL_SECS`,
    /// default 30).
    pub reconcile_interval: Duration,
    /// How long a guest cart lives after its last change (`GUEST_CART_TTL_DAYS`, 1–365, default 30).
    pub guest_cart_ttl: Duration,
    /// The payment provider (`PAYMENT_PROVIDER`, default `test`, the only one built in; production refuses it
    /// unless `PAYMENT_ALLOW_TEST_PROVIDER=true`).
    pub payment_provider: String,
    /// user-core's base URL (`USER_CORE_URL`, default `http://127.0.0.1:8081`), for saved addresses.
    pub user_core_url: String,
    /// The secret the payment provider signs webhooks with (`PAYMENT_WEBHOOK_SECRET`; a development default,
    /// refused in production).
    pub webhook_secret: SecretString,
}

impl Config {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ttl: u64 = env.parse_or("RESERVATION_TTL_SECS", 900)?;
        if !(1..=3600).contains(&ttl) {
            return Err(ConfigError::Malformed {
                name: "RESERVATION_TTL_SECS".into(),
                reason: format!("must be between 1 and 3600 seconds, got {ttl}"),
            });
        }
        let guest_cart_days: u64 = env.parse_or("GUEST_CART_TTL_DAYS", 30)?;
        if !(1..=365).contains(&guest_cart_days) {
            return Err(ConfigError::Malformed {
                name: "GUEST_CART_TTL_DAYS".into(),
                reason: format!("must be between 1 and 365 days, got {guest_cart_days}"),
            });
        }
        let product_core_url = env.service_url(ServiceId::ProductCore)?;
        let payment_provider = env
            .raw("PAYMENT_PROVIDER")
            .unwrap_or(payments::TEST_PROVIDER)
            .to_owned();
        if payment_provider != payments::TEST_PROVIDER {
            return Err(ConfigError::Malformed {
                name: "PAYMENT_PROVIDER".into(),
                reason: format!(
                    "`{payment_provider}` is not a provider this build has; use `test`"
                ),
            });
        }
        if env.is_production() && !env.flag("PAYMENT_ALLOW_TEST_PROVIDER", false)? {
            // No money moves through the test provider: a production store on it would ship unpaid orders.
            return Err(ConfigError::Malformed {
                name: "PAYMENT_PROVIDER".into(),
                reason: "the `test` provider takes no money; production refuses it unless \
                         PAYMENT_ALLOW_TEST_PROVIDER=true"
                    .into(),
            });
        }
        Ok(Self {
            listen_addr: env.listen_addr(SERVICE)?,
            database: DbSettings::from_env(env, DatabaseId::ORDER)?,
            product_core_url,
            internal_token: env.internal_token()?,
            currency: env.currency()?,
            reservation_ttl: Duration::from_secs(ttl),
            reconcile_interval: Duration::from_secs(
                env.parse_or("ORDER_RECONCILE_INTERVAL_SECS", 30)?.max(1),
            ),
            guest_cart_ttl: Duration::from_secs(guest_cart_days * 24 * 60 * 60),
            payment_provider,
            user_core_url: env.service_url(ServiceId::UserCore)?,
            webhook_secret: env.secret("PAYMENT_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)?,
        })
    }
}

/// The handlers' state over an open pool.
pub fn state(config: &Config, pool: DbPool) -> Result<AppState, StartError> {
    let client = InternalClient::new(
        ServiceId::ProductCore.name(),
        &config.product_core_url,
        config.internal_token.clone(),
        PRODUCT_CORE_TIMEOUT,
    )
    .map_err(|e| StartError::Other(format!("cannot build the product-core client: {e}")))?;
    let users = InternalClient::new(
        ServiceId::UserCore.name(),
        &config.user_core_url,
        config.internal_token.clone(),
        USER_CORE_TIMEOUT,
    )
    .map_err(|e| StartError::Other(format!("cannot build the user-core client: {e}")))?;
    Ok(AppState {
        pool,
        products: stock::StockReservations::new(client),
        currency: Arc::from(config.currency.as_str()),
        reservation_ttl: config.reservation_ttl,
        guest_cart_ttl: chrono::Duration::from_std(config.guest_cart_ttl)
            .map_err(|e| StartError::Other(format!("GUEST_CART_TTL_DAYS: {e}")))?,
        // `Config::from_env` admits only the test provider today.
        payments: Arc::new(payments::TestProvider),
        users: user_contract::UserCoreClient::new(users),
        webhook_secret: config.webhook_secret.clone(),
    })
}

/// Prepares the database, starts the reconciler and returns the whole router: the internal API, health and
/// metrics, and the OpenAPI document with Swagger UI.
pub async fn build(config: &Config) -> Result<Router, StartError> {
    let pool = quickmart_shared::db::connect(&config.database, MIGRATIONS).await?;
    let state = state(config, pool.clone())?;
    tokio::spawn(reconciler::run(state.clone(), config.reconcile_interval));
    placement::register_metrics();
    Ok(quickmart_shared::openapi::core_router_with_public(
        SERVICE,
        routes::api().with_state(state.clone()),
        webhooks::router(state),
        config.internal_token.clone(),
        quickmart_shared::db::readiness(pool),
    ))
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    quickmart_shared::openapi::document(routes::api())
}
