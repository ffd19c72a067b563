//! product-core for tests, its own and those of the crates that call it (the `testing` feature): the real
//! service on a random port over a fresh database of its own, dropped with it.

use std::time::Duration;

use axum::Router;
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::db::DbSettings;
use quickmart_shared::testing::{TestDatabase, spawn_router};
use secrecy::SecretString;

use crate::{Config, MIGRATIONS, build};

/// A running product-core; its database is dropped with it.
pub struct TestProductCore {
    /// Its base URL (`http://127.0.0.1:<port>`).
    pub url: String,
    /// Its database.
    pub db: TestDatabase,
    /// What it was started with.
    pub config: Config,
}

impl TestProductCore {
    /// Starts product-core over a fresh database, caching in `cache` and requiring `internal_token`.
    /// Reservations live 15 minutes and the sweeper waits an hour: tests sweep when they mean to.
    pub async fn spawn(cache: CacheSettings, internal_token: &str) -> Self {
        Self::spawn_wrapped(cache, internal_token, |router| router).await
    }

    /// As [`Self::spawn`], serving `wrap(router)` (to record or delay what the core receives).
    pub async fn spawn_wrapped(
        cache: CacheSettings,
        internal_token: &str,
        wrap: impl FnOnce(Router) -> Router,
    ) -> Self {
        let db = TestDatabase::create("product", MIGRATIONS).await;
        let config = Config {
            listen_addr: "127.0.0.1:0".parse().expect("a literal address"),
            database: DbSettings {
                url: db.secret_url(),
                max_connections: 20,
                // TestDatabase::create has migrated it.
                migrate_on_start: false,
                create_if_missing: false,
                checkout_timeout: std::time::Duration::from_secs(1),
            },
            cache,
            internal_token: SecretString::from(internal_token.to_owned()),
            currency: "USD".into(),
            reservation_ttl: Duration::from_secs(900),
            sweep_interval: Duration::from_secs(3600),
        };
        let router = build(&config)
            .await
            .expect("product-core starts over a fresh database");
        let url = spawn_router(wrap(router)).await;
        Self { url, db, config }
    }
}
