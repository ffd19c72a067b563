//! user-core for tests, its own and those of the crates that call it (the `testing` feature): the real service on
//! a random port over a fresh database of its own, dropped with it.

use quickmart_shared::auth::Role;
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::config::Env;
use quickmart_shared::testing::{TestDatabase, spawn_router};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::db::users::{self, NewUser};
use crate::{Config, MIGRATIONS, build};

/// A running user-core; its database is dropped with it.
pub struct TestUserCore {
    /// Its base URL (`http://127.0.0.1:<port>`).
    pub url: String,
    /// Its database.
    pub db: TestDatabase,
}

impl TestUserCore {
    /// Starts user-core over a fresh database, invalidating in `cache` and requiring `internal_token`.
    pub async fn spawn(cache: &CacheSettings, internal_token: &str) -> Self {
        let db = TestDatabase::create("user", MIGRATIONS).await;
        let admin_email = format!("admin-{}@example.com", Uuid::now_v7().simple());
        let env = Env::from_pairs([
            ("USER_DATABASE_URL", db.url.as_str()),
            ("REDIS_URL", cache.url.expose_secret()),
            ("CACHE_NAMESPACE", cache.namespace.as_str()),
            ("INTERNAL_API_TOKEN", internal_token),
            ("QUICKMART_ADMIN_EMAIL", admin_email.as_str()),
            ("QUICKMART_ADMIN_PASSWORD", "test-admin-password-1"),
        ])
        .expect("a literal environment");
        let config = Config::from_env(&env).expect("user-core settings");
        let router = build(&config)
            .await
            .expect("user-core starts over a fresh database");
        Self {
            url: spawn_router(router).await,
            db,
        }
    }

    /// Adds an account with `role` straight to the database: the tests of other modules need a signed-in user
    /// who exists, not a login (its password hash is no hash, so nobody can log in as it).
    pub async fn add_user(&self, role: Role) -> Uuid {
        let id = Uuid::now_v7();
        let email = format!("user-{}@example.com", id.simple());
        let mut conn = self.db.pool.get().await.expect("a connection");
        users::insert(
            &mut conn,
            &NewUser {
                id,
                email: &email,
                name: "Test User",
                password_hash: "not-a-password-hash",
                role: role.as_str(),
            },
        )
        .await
        .expect("insert a user");
        id
    }
}
