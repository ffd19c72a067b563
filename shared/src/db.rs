//! The PostgreSQL pool every core uses (diesel-async over bb8), its migrations, and database creation.

use std::time::Duration;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use secrecy::{ExposeSecret, SecretString};

use crate::health::ReadinessCheck;

/// A pool of PostgreSQL connections.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection checked out of a [`DbPool`].
pub type DbConn<'a> = diesel_async::pooled_connection::bb8::PooledConnection<'a, AsyncPgConnection>;
/// Why a connection could not be checked out.
pub type PoolError = bb8::RunError<diesel_async::pooled_connection::PoolError>;

/// Advisory-lock key that serialises migrations between replicas starting together ("qm-migr").
const MIGRATION_LOCK_KEY: i64 = 0x0071_6d2d_6d69_6772;

/// How a core connects to its database.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `postgres://…/<database>`.
    pub url: SecretString,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
    /// Run pending migrations at start (off where a Kubernetes Job runs them).
    pub migrate_on_start: bool,
    /// Create the database when it does not exist (development).
    pub create_if_missing: bool,
}

impl DbSettings {
    /// Reads `<PREFIX>_DATABASE_URL`, `<PREFIX>_DB_MAX_CONNECTIONS` and `MIGRATE_ON_START`.
    pub fn from_env(
        env: &crate::config::Env,
        database: crate::service::DatabaseId,
    ) -> Result<Self, crate::config::ConfigError> {
        Ok(Self {
            url: env.database_url(database)?,
            max_connections: env
                .parse_or(&format!("{}_DB_MAX_CONNECTIONS", database.env_prefix), 16)?,
            migrate_on_start: env.flag("MIGRATE_ON_START", true)?,
            create_if_missing: !env.is_production(),
        })
    }
}

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is not a PostgreSQL URL with a database name.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// PostgreSQL did not accept a connection.
    #[error("cannot connect to PostgreSQL database `{database}`: {source}")]
    Connect {
        /// The database.
        database: String,
        /// The cause.
        source: diesel::ConnectionError,
    },
    /// A statement failed while preparing the database.
    #[error("database setup failed: {0}")]
    Query(#[from] DieselError),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Prepares the database (created if missing and allowed, migrated if enabled) and opens the pool.
pub async fn connect(
    settings: &DbSettings,
    migrations: EmbeddedMigrations,
) -> Result<DbPool, DbError> {
    let url = settings.url.expose_secret().to_owned();
    if settings.create_if_missing {
        ensure_database(&url).await?;
    }
    if settings.migrate_on_start {
        run_migrations(&url, migrations).await?;
    }
    Ok(pool(&url, settings.max_connections))
}

/// Opens a pool without touching the database yet: connections are made on demand, so a database that is
/// down makes requests fail with `SERVICE_UNAVAILABLE` rather than the service refuse to start.
pub fn pool(url: &str, max_connections: u32) -> DbPool {
    Pool::builder()
        .max_size(max_connections.max(1))
        .connection_timeout(Duration::from_secs(5))
        .build_unchecked(AsyncDieselConnectionManager::<AsyncPgConnection>::new(url))
}

/// Splits `postgres://…/name?…` into the URL of the maintenance database `postgres` and `name`.
fn maintenance_url(url: &str) -> Result<(String, String), DbError> {
    let mut parsed = url::Url::parse(url).map_err(|e| DbError::InvalidUrl(e.to_string()))?;
    let database = parsed.path().trim_start_matches('/').to_owned();
    if database.is_empty()
        || !database
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(DbError::InvalidUrl(format!(
            "expected a database name of letters, digits, `_` or `-`, got `{database}`"
        )));
    }
    parsed.set_path("/postgres");
    Ok((parsed.to_string(), database))
}

/// Creates the database named in `url` when it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), DbError> {
    let (admin_url, database) = maintenance_url(url)?;
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(|source| DbError::Connect {
            database: "postgres".into(),
            source,
        })?;
    let exists: Option<i32> =
        diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(&database)
            .get_result::<One>(&mut conn)
            .await
            .optional()?
            .map(|row| row.one);
    if exists.is_none() {
        match diesel::sql_query(format!("CREATE DATABASE \"{database}\""))
            .execute(&mut conn)
            .await
        {
            Ok(_) => tracing::info!(%database, "created database"),
            // Another replica or test created it between our check and our CREATE.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(DieselError::DatabaseError(_, info))
                if info.message().contains("already exists") => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// Drops the database named in `url`, disconnecting whoever still uses it (tests).
pub async fn drop_database(url: &str) -> Result<(), DbError> {
    let (admin_url, database) = maintenance_url(url)?;
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(|source| DbError::Connect {
            database: "postgres".into(),
            source,
        })?;
    diesel::sql_query(format!(
        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
    ))
    .execute(&mut conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    one: i32,
}

/// Runs pending migrations under an advisory lock, so replicas starting together never race.
pub async fn run_migrations(url: &str, migrations: EmbeddedMigrations) -> Result<(), DbError> {
    let url = url.to_owned();
    let database = maintenance_url(&url)?.1;
    tokio::task::spawn_blocking(move || -> Result<(), DbError> {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .map_err(|source| DbError::Connect {
                    database: database.clone(),
                    source,
                })?;
        let lock = diesel::sql_query("SELECT pg_advisory_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY);
        diesel::RunQueryDsl::execute(lock, &mut conn)?;
        let applied = conn
            .run_pending_migrations(migrations)
            .map(|v| v.len())
            .map_err(|e| DbError::Migration(e.to_string()));
        let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY);
        let unlocked = diesel::RunQueryDsl::execute(unlock, &mut conn);
        let applied = applied?;
        unlocked?;
        if applied > 0 {
            tracing::info!(%database, applied, "applied migrations");
        }
        Ok(())
    })
    .await
    .map_err(|e| DbError::Migration(format!("migration task failed: {e}")))?
}

/// Readiness of a core: its own database answers `SELECT 1` within two seconds.
pub fn readiness(pool: DbPool) -> ReadinessCheck {
    std::sync::Arc::new(move || {
        let pool = pool.clone();
        Box::pin(async move {
            let probe = async {
                let mut conn = pool.get().await.ok()?;
                diesel::sql_query("SELECT 1 AS one")
                    .get_result::<One>(&mut *conn)
                    .await
                    .ok()
            };
            matches!(
                tokio::time::timeout(Duration::from_secs(2), probe).await,
                Ok(Some(_))
            )
        })
    })
}

/// Whether `error` is a unique violation of `constraint` (so the call site can turn it into `CONFLICT`).
pub fn is_unique_violation(error: &DieselError, constraint: &str) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

/// Whether `error` is a foreign-key violation of `constraint`.
pub fn is_foreign_key_violation(error: &DieselError, constraint: &str) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
        if info.constraint_name() == Some(constraint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_url_swaps_the_database() {
        let (admin, name) =
            maintenance_url("postgres://u:p@db:5432/quickmart_product?sslmode=disable")
                .expect("valid");
        assert_eq!(name, "quickmart_product");
        assert_eq!(admin, "postgres://u:p@db:5432/postgres?sslmode=disable");
        assert!(maintenance_url("postgres://db:5432/").is_err());
        assert!(maintenance_url("postgres://db/a\";drop").is_err());
    }
}
