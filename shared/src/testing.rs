//! Test support: a fresh PostgreSQL database per test, routers on random ports, and test keys.

use std::net::SocketAddr;

use axum::Router;
use diesel_migrations::EmbeddedMigrations;
use secrecy::SecretString;

use crate::auth::{ACCESS_TOKEN_TTL, DEFAULT_ISSUER, JwtSigner, JwtVerifier, generate_key_pair};
use crate::config::DEV_POSTGRES_URL;
use crate::db::{self, DbPool};

/// A database created for one test and dropped when the value is dropped.
pub struct TestDatabase {
    /// The database URL.
    pub url: String,
    /// A pool on it.
    pub pool: DbPool,
}

impl TestDatabase {
    /// Creates and migrates a uniquely named database on the server of `TEST_POSTGRES_URL` (default: the local
    /// development server).
    pub async fn create(prefix: &str, migrations: EmbeddedMigrations) -> Self {
        let server =
            std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEV_POSTGRES_URL.to_owned());
        let name = format!("test_{prefix}_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/{name}", server.trim_end_matches('/'));
        db::ensure_database(&url)
            .await
            .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        db::run_migrations(&url, migrations)
            .await
            .unwrap_or_else(|e| panic!("migrating test database {name}: {e}"));
        let pool = db::pool(&url, 10);
        Self { url, pool }
    }

    /// The URL as a secret, as services take it.
    pub fn secret_url(&self) -> SecretString {
        SecretString::from(self.url.clone())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = self.url.clone();
        // Drop runs inside the test's runtime, which cannot block on itself: use a short-lived one.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(db::drop_database(&url)).ok()
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: could not drop test database {}", self.url);
        }
    }
}

/// Serves `router` on a random loopback port; returns its base URL (`http://127.0.0.1:PORT`).
pub async fn spawn_router(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(crate::server::serve(
        listener,
        router,
        crate::server::ServerLimits::default(),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// A fresh key pair as (signer, verifier) with the default issuer.
pub fn test_keys() -> (JwtSigner, JwtVerifier) {
    let (private, public) = generate_key_pair().expect("generate keys");
    let signer = JwtSigner::from_pem(&private, DEFAULT_ISSUER, ACCESS_TOKEN_TTL).expect("signer");
    let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
    (signer, verifier)
}
