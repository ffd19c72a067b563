//! The PostgreSQL pool every core uses (diesel-async over bb8), its migrations, and database creation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use futures::FutureExt;
use secrecy::{ExposeSecret, SecretString};

use crate::health::ReadinessCheck;

/// A connection checked out of a [`DbPool`].
pub type DbConn<'a> = diesel_async::pooled_connection::bb8::PooledConnection<'a, AsyncPgConnection>;

/// Consecutive failed checkouts that open the breaker.
const BREAKER_THRESHOLD: u32 = 3;
/// How long an open breaker refuses checkouts before one probe may try the database again.
const BREAKER_OPEN_FOR: Duration = Duration::from_secs(2);

/// How long after a query on a pool succeeded its checkouts trust an open connection without a `SELECT 1`.
const TRUST_AFTER_SUCCESS: Duration = Duration::from_millis(500);

/// Why a connection could not be checked out: the database did not give one in time, or the breaker is open
/// after repeated failures and no attempt was made. Both are `SERVICE_UNAVAILABLE`.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The pool could not connect (or hand out a connection) within its wait.
    #[error("no database connection: {0}")]
    Checkout(#[from] bb8::RunError<diesel_async::pooled_connection::PoolError>),
    /// The breaker is open: the database failed repeatedly and is not tried until the next probe.
    #[error("the database failed repeatedly; not trying it until the next probe")]
    BreakerOpen,
}

/// A core's pool of PostgreSQL connections behind a circuit breaker (docs/ARCHITECTURE.md, "Faults"): while the
/// database is down, requests fail in microseconds instead of each waiting out the pool's timeout, and one probe
/// every [`BREAKER_OPEN_FOR`] finds out when it is back.
///
/// Hand-written rather than a crate: the breaker must count only checkout failures (a query's own error is not
/// the database being down), and the state machine is a dozen lines over two atomics.
///
/// Metrics, labelled with the database's name (k8s/README.md, "Monitoring"): `db_pool_wait_seconds` per checkout,
/// `db_breaker_open`, and, sampled at each scrape, `db_pool_connections_in_use`, `db_pool_idle_connections`,
/// `db_pool_max_connections` and `db_pool_checkout_timeouts_total`.
#[derive(Clone)]
pub struct DbPool {
    inner: std::sync::Arc<PoolInner>,
}

struct PoolInner {
    pool: Pool<AsyncPgConnection>,
    breaker: breaker::Breaker,
    wait: metrics::Histogram,
    breaker_open: metrics::Gauge,
}

impl DbPool {
    /// A pool whose breaker stays open for `open_for` after it trips; `database` labels its metrics.
    fn new(
        pool: Pool<AsyncPgConnection>,
        max_connections: u32,
        open_for: Duration,
        database: String,
    ) -> Self {
        crate::telemetry::metrics_handle();
        let label = || [("database", database.clone())];
        let breaker_open = metrics::gauge!("db_breaker_open", &label());
        breaker_open.set(0.0);
        let inner = std::sync::Arc::new(PoolInner {
            pool,
            breaker: breaker::Breaker::new(open_for),
            wait: metrics::histogram!("db_pool_wait_seconds", &label()),
            breaker_open,
        });
        let in_use = metrics::gauge!("db_pool_connections_in_use", &label());
        let idle = metrics::gauge!("db_pool_idle_connections", &label());
        let max = metrics::gauge!("db_pool_max_connections", &label());
        let timeouts = metrics::counter!("db_pool_checkout_timeouts_total", &label());
        let sampled = std::sync::Arc::downgrade(&inner);
        // Sampled when scraped, not on every checkout: the figures are the pool's own counters, and a pool that
        // has been dropped (a test's, say) stops being sampled.
        crate::telemetry::sample_on_scrape(move || {
            let Some(inner) = sampled.upgrade() else {
                return false;
            };
            let state = inner.pool.state();
            in_use.set(f64::from(
                state.connections.saturating_sub(state.idle_connections),
            ));
            idle.set(f64::from(state.idle_connections));
            max.set(f64::from(max_connections));
            timeouts.absolute(state.statistics.get_timed_out);
            true
        });
        Self { inner }
    }

    /// Checks out a connection, or fails at once while the breaker is open.
    pub async fn get(&self) -> Result<DbConn<'_>, PoolError> {
        let inner = &*self.inner;
        let Some(attempt) = inner.breaker.admit() else {
            metrics::counter!("db_breaker_rejections_total").increment(1);
            return Err(PoolError::BreakerOpen);
        };
        metrics::counter!("db_checkout_attempts_total").increment(1);
        let started = std::time::Instant::now();
        let checkout = inner.pool.get().await;
        inner.wait.record(started.elapsed());
        match checkout {
            Ok(conn) => {
                if inner.breaker.succeeded(attempt) {
                    tracing::info!("database reachable again: breaker closed");
                    inner.breaker_open.set(0.0);
                }
                Ok(conn)
            }
            Err(error) => {
                if inner.breaker.failed(attempt) {
                    tracing::warn!(error = %error, "database unreachable: breaker open");
                    inner.breaker_open.set(1.0);
                }
                Err(error.into())
            }
        }
    }

    /// Checkouts that reached the pool so far (the breaker's refusals are not counted).
    pub fn checkout_attempts(&self) -> u64 {
        self.inner.breaker.attempts()
    }
}

/// The breaker's state machine, apart from diesel (whose query traits would shadow the atomics' methods).
mod breaker {
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use super::BREAKER_THRESHOLD;

    /// Closed (failures below the threshold), open until a time, or half-open with one probe running.
    #[derive(Debug)]
    pub(super) struct Breaker {
        failures: AtomicU32,
        /// Milliseconds since `epoch` until which checkouts are refused; 0 when closed.
        open_until_ms: AtomicU64,
        /// Set while the one half-open probe runs.
        probing: AtomicBool,
        epoch: Instant,
        open_for: Duration,
        attempts: AtomicU64,
    }

    /// An admitted checkout: an ordinary one, or the probe of an open breaker.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Attempt {
        probe: bool,
    }

    impl Breaker {
        pub(super) fn new(open_for: Duration) -> Self {
            Self {
                failures: AtomicU32::new(0),
                open_until_ms: AtomicU64::new(0),
                probing: AtomicBool::new(false),
                epoch: Instant::now(),
                open_for,
                attempts: AtomicU64::new(0),
            }
        }

        /// Whether a checkout may try the database: always when closed; once open, only after the open period
        /// and only one at a time (the probe).
        pub(super) fn admit(&self) -> Option<Attempt> {
            let open_until = self.open_until_ms.load(Ordering::Acquire);
            let probe = open_until != 0;
            if probe && (self.now_ms() < open_until || self.probing.swap(true, Ordering::AcqRel)) {
                return None;
            }
            self.attempts.fetch_add(1, Ordering::Relaxed);
            Some(Attempt { probe })
        }

        /// Records a connection; whether this closed an open breaker.
        pub(super) fn succeeded(&self, attempt: Attempt) -> bool {
            self.failures.store(0, Ordering::Release);
            if attempt.probe {
                self.probing.store(false, Ordering::Release);
            }
            self.open_until_ms.swap(0, Ordering::AcqRel) != 0
        }

        /// Records a failed checkout; whether this opened the breaker (a failed probe reopens it quietly).
        pub(super) fn failed(&self, attempt: Attempt) -> bool {
            let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
            let trips = attempt.probe || failures >= BREAKER_THRESHOLD;
            let mut opened = false;
            if trips {
                let open_for = u64::try_from(self.open_for.as_millis()).unwrap_or(u64::MAX);
                let until = self.now_ms().saturating_add(open_for).max(1);
                opened = self.open_until_ms.swap(until, Ordering::AcqRel) == 0;
            }
            if attempt.probe {
                self.probing.store(false, Ordering::Release);
            }
            opened
        }

        pub(super) fn attempts(&self) -> u64 {
            self.attempts.load(Ordering::Relaxed)
        }

        fn now_ms(&self) -> u64 {
            u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
        }
    }
}

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
    /// Longest a request waits for a connection (`DB_POOL_TIMEOUT_MS`, default 1000).
    pub checkout_timeout: Duration,
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
            checkout_timeout: Duration::from_millis(
                env.parse_or("DB_POOL_TIMEOUT_MS", 1000)?.max(1),
            ),
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
    Ok(pool_with(
        &url,
        settings.max_connections,
        settings.checkout_timeout,
        BREAKER_OPEN_FOR,
    ))
}

/// Opens a pool (1 s checkout wait) without touching the database yet: connections are made on demand, so a
/// database that is down makes requests fail with `SERVICE_UNAVAILABLE` rather than the service refuse to start.
pub fn pool(url: &str, max_connections: u32) -> DbPool {
    pool_with(
        url,
        max_connections,
        Duration::from_secs(1),
        BREAKER_OPEN_FOR,
    )
}

/// [`pool`] with its checkout wait and the time its breaker stays open.
pub fn pool_with(
    url: &str,
    max_connections: u32,
    checkout_timeout: Duration,
    breaker_open_for: Duration,
) -> DbPool {
    let max_connections = max_connections.max(1);
    let database = maintenance_url(url).map_or_else(|_| "unknown".to_owned(), |(_, name)| name);
    let mut config = ManagerConfig::default();
    let traced = database.clone();
    let recent = RecentSuccess::new();
    let noted = recent.clone();
    // Every connection reports its queries as spans (exported only; crate::traces), and its successes to the
    // checkout check.
    config.custom_setup = Box::new(move |url| {
        let (url, database, recent) = (url.to_owned(), traced.clone(), noted.clone());
        async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.set_instrumentation(QuerySpans {
                database,
                open: None,
                recent,
            });
            Ok(conn)
        }
        .boxed()
    });
    config.recycling_method =
        RecyclingMethod::CustomFunction(Box::new(move |conn| check_out(conn, &recent)));
    let pool = Pool::builder()
        .max_size(max_connections)
        .connection_timeout(checkout_timeout)
        .build_unchecked(
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config),
        );
    DbPool::new(pool, max_connections, breaker_open_for, database)
}

/// The check of a connection leaving the pool. One whose socket has closed (a restarted or stopping server ended
/// it) is refused at once, and the pool opens another. Any other is verified with a `SELECT 1` only when no query
/// on the pool has succeeded in the last [`TRUST_AFTER_SUCCESS`]: diesel-async's own check sends it on every
/// checkout, a third of an order page's round trips to PostgreSQL. A connection that fails in the window anyway
/// fails its query with `SERVICE_UNAVAILABLE` and is dropped, as one that fails just after a check would.
fn check_out<'a>(
    conn: &'a mut AsyncPgConnection,
    recent: &RecentSuccess,
) -> futures::future::BoxFuture<'a, diesel::QueryResult<()>> {
    if conn.is_broken() {
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("the connection closed while idle in the pool".to_owned()),
        );
        return futures::future::ready(Err(closed)).boxed();
    }
    if recent.within(TRUST_AFTER_SUCCESS) {
        return futures::future::ready(Ok(())).boxed();
    }
    async move {
        diesel::select(1_i32.into_sql::<diesel::sql_types::Integer>())
            .get_result::<i32>(conn)
            .await
            .map(drop)
    }
    .boxed()
}

/// When a query on a pool last succeeded, shared by its connections.
#[derive(Clone)]
struct RecentSuccess {
    origin: Instant,
    /// Milliseconds from `origin` to the last success, plus one; 0 before the first.
    last: Arc<AtomicU64>,
}

impl RecentSuccess {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    fn record(&self) {
        self.last.store(self.now(), Ordering::Relaxed);
    }

    fn within(&self, window: Duration) -> bool {
        let last = AtomicU64::load(&self.last, Ordering::Relaxed);
        let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        last != 0 && self.now().saturating_sub(last) <= window
    }
}

/// A span per query, from diesel's instrumentation events: opened when the query starts (a child of the request
/// being served) and closed when it finishes. The SQL is recorded without its bound values, which hold users'
/// data, and only when spans are exported.
struct QuerySpans {
    database: String,
    open: Option<tracing::Span>,
    recent: RecentSuccess,
}

/// Longest SQL text a span carries.
const MAX_QUERY_TEXT: usize = 2048;

impl diesel::connection::Instrumentation for QuerySpans {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent;
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let span = tracing::debug_span!(
                    target: crate::traces::SPAN_TARGET,
                    "query",
                    otel.name = tracing::field::Empty,
                    otel.kind = "client",
                    quickmart.service = crate::telemetry::current_service(),
                    db.system.name = "postgresql",
                    db.namespace = %self.database,
                    db.query.text = tracing::field::Empty,
                    otel.status_code = tracing::field::Empty,
                );
                // The SQL is rendered once, and only for a span that is exported.
                if !span.is_disabled() {
                    let text = sql_text(query);
                    span.record(
                        "otel.name",
                        format!("{} {}", sql_verb(&text), self.database),
                    );
                    span.record("db.query.text", text);
                }
                self.open = Some(span);
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                let span = self.open.take();
                match (span, error) {
                    (_, None) => self.recent.record(),
                    (Some(span), Some(_)) => {
                        span.record("otel.status_code", "ERROR");
                    }
                    (None, Some(_)) => {}
                }
            }
            _ => {}
        }
    }
}

/// The SQL of a query without the bound values diesel's rendering appends.
fn sql_text(query: &dyn diesel::connection::DebugQuery) -> String {
    let mut text = query.to_string();
    if let Some(binds) = text.find(" -- binds:") {
        text.truncate(binds);
    }
    if text.len() > MAX_QUERY_TEXT {
        let mut end = MAX_QUERY_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The statement's first word (SELECT, INSERT, ...), for the span's name.
fn sql_verb(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or("QUERY")
        .to_ascii_uppercase()
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

/// Whether `error` says the database went away under a query (its connection closed, or the server is shutting
/// down or starting up): the database is unavailable, which is no bug of the service's.
pub fn is_connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        // PostgreSQL's admin_shutdown / crash_shutdown / cannot_connect_now (57P01-57P03), which diesel does not
        // classify; tokio-postgres's own I/O failures reach diesel-async the same way.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            [
                "terminating connection",
                "the database system is",
                "connection closed",
                "server closed the connection",
                "error communicating with the server",
                "connection reset",
                "broken pipe",
            ]
            .iter()
            .any(|sign| message.contains(sign))
        }
        _ => false,
    }
}

/// Whether `error` is a foreign-key violation of `constraint`.
pub fn is_foreign_key_violation(error: &DieselError, constraint: &str) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
        if info.constraint_name() == Some(constraint))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While PostgreSQL is unreachable, three failed checkouts open the breaker; then 24 concurrent requests fail
    /// without one reaching the database, and after the open period exactly one probe tries it again.
    #[tokio::test]
    async fn the_breaker_stops_trying_a_dead_database_and_sends_one_probe() {
        // Nothing listens on port 1: every connection attempt is refused.
        let pool = pool_with(
            "postgres://postgres@127.0.0.1:1/nothing",
            4,
            Duration::from_millis(300),
            Duration::from_millis(400),
        );
        for _ in 0..BREAKER_THRESHOLD {
            assert!(matches!(pool.get().await, Err(PoolError::Checkout(_))));
        }
        assert_eq!(pool.checkout_attempts(), u64::from(BREAKER_THRESHOLD));
        let refused = futures::future::join_all((0..24).map(|_| pool.get())).await;
        assert!(
            refused
                .iter()
                .all(|r| matches!(r, Err(PoolError::BreakerOpen)))
        );
        assert_eq!(pool.checkout_attempts(), u64::from(BREAKER_THRESHOLD));
        tokio::time::sleep(Duration::from_millis(450)).await;
        let probed = futures::future::join_all((0..8).map(|_| pool.get())).await;
        assert_eq!(pool.checkout_attempts(), u64::from(BREAKER_THRESHOLD) + 1);
        let probes = probed
            .iter()
            .filter(|r| matches!(r, Err(PoolError::Checkout(_))))
            .count();
        assert_eq!(probes, 1, "one probe, the others refused");
        // The failed probe opened it again.
        assert!(matches!(pool.get().await, Err(PoolError::BreakerOpen)));
    }

    /// What an operator's dashboard reads (k8s/README.md, "Monitoring"): connections in use while one is held,
    /// idle once it is back, the pool's ceiling, and one wait per checkout, all labelled with the database.
    #[tokio::test]
    async fn a_scrape_reports_the_pools_connections() {
        let url = format!(
            "{}/postgres",
            crate::config::DEV_POSTGRES_URL.trim_end_matches('/')
        );
        let pool = pool(&url, 3);
        let line = |text: &str, name: &str| {
            let prefix = format!("{name}{{database=\"postgres\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_owned))
                .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        };
        let held = pool
            .get()
            .await
            .expect("a connection to the local PostgreSQL");
        let scraped = crate::telemetry::render_metrics();
        assert_eq!(line(&scraped, "db_pool_connections_in_use"), "1");
        assert_eq!(line(&scraped, "db_pool_max_connections"), "3");
        assert_eq!(line(&scraped, "db_breaker_open"), "0");
        drop(held);
        let scraped = crate::telemetry::render_metrics();
        assert_eq!(line(&scraped, "db_pool_connections_in_use"), "0");
        assert_eq!(line(&scraped, "db_pool_idle_connections"), "1");
        assert_eq!(line(&scraped, "db_pool_checkout_timeouts_total"), "0");
        crate::telemetry::metrics_handle().run_upkeep();
        let scraped = crate::telemetry::render_metrics();
        assert_eq!(line(&scraped, "db_pool_wait_seconds_count"), "1");
    }

    /// A pool that gets connections never opens its breaker, whatever the load.
    #[tokio::test]
    async fn a_healthy_database_keeps_the_breaker_closed() {
        let pool = pool(&test_database(), 4);
        let results = futures::future::join_all((0..32).map(|_| async {
            let conn = pool.get().await;
            conn.map(drop)
        }))
        .await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(pool.checkout_attempts(), 32);
    }

    /// The maintenance database of the test server.
    fn test_database() -> String {
        let server = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| crate::config::DEV_POSTGRES_URL.to_owned());
        format!("{server}/postgres")
    }

    /// The server process behind `conn`.
    async fn backend_pid(conn: &mut AsyncPgConnection) -> i32 {
        #[derive(diesel::QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        let Pid { pid } = diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result(conn)
            .await
            .expect("its backend");
        pid
    }

    /// A connection that dies under a query (the fault suite saw it as `INTERNAL_SERVER_ERROR` while PostgreSQL
    /// stopped) is `SERVICE_UNAVAILABLE`: the test ends its own backend, as a stopping server does.
    #[tokio::test]
    async fn a_connection_lost_under_a_query_is_service_unavailable() {
        let pool = pool(&test_database(), 2);
        let mut doomed = pool.get().await.expect("a connection");
        let pid = backend_pid(&mut doomed).await;
        let mut other = pool.get().await.expect("another connection");
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
            .execute(&mut *other)
            .await
            .expect("terminate");
        let error = diesel::sql_query("SELECT 1")
            .execute(&mut *doomed)
            .await
            .expect_err("the connection is gone");
        assert!(is_connection_lost(&error), "{error:?}");
        let app: crate::AppError = error.into();
        assert_eq!(app.code(), crate::ErrorCode::ServiceUnavailable);
    }

    /// A connection whose backend ended while it sat in the pool is not handed out, even right after a success,
    /// when checkouts skip the `SELECT 1`: the pool opens another and the next query succeeds.
    #[tokio::test]
    async fn a_connection_closed_while_idle_is_not_handed_out() {
        let url = test_database();
        let pool = pool(&url, 1);
        let backend = || async {
            let mut conn = pool.get().await.expect("a connection");
            backend_pid(&mut conn).await
        };
        let first = backend().await;
        let mut outside = AsyncPgConnection::establish(&url).await.expect("connect");
        diesel::sql_query(format!("SELECT pg_terminate_backend({first})"))
            .execute(&mut outside)
            .await
            .expect("terminate");
        // The pool's connection learns that its socket closed as soon as its task reads the server's goodbye.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let second = backend().await;
        assert_ne!(first, second, "a fresh connection");
    }

    #[test]
    fn checkouts_trust_a_pool_only_shortly_after_a_success() {
        let recent = RecentSuccess::new();
        assert!(
            !recent.within(Duration::from_secs(60)),
            "nothing succeeded yet"
        );
        recent.record();
        assert!(recent.within(Duration::from_millis(200)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!recent.within(Duration::from_millis(10)));
        assert!(recent.within(Duration::from_millis(200)));
    }

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
