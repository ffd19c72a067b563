//! What every handler shares.

use quickmart_shared::AppError;
use quickmart_shared::cache::Cache;
use quickmart_shared::db::{DbConn, DbPool};

use user_contract::cache::{USER_TTL, user_key};
use uuid::Uuid;

use crate::domain::PasswordHasher;

/// The state of user-core's handlers.
#[derive(Clone)]
pub struct AppState {
    /// The user database.
    pub pool: DbPool,
    /// Hashes and verifies passwords (Argon2id, off the async workers).
    pub hasher: PasswordHasher,
    /// How long a refresh token lives.
    pub refresh_token_ttl: chrono::Duration,
    /// The shared cache, whose user entries this service deletes after every write to a user.
    pub cache: Cache,
}

impl AppState {
    /// Invalidates the cached copy of a user whose data changed (after the change committed), so that a write
    /// made straight at this API is seen by the subgraph at once: a tombstone of the row's new `version`, which no
    /// copy read before the change can replace.
    pub async fn invalidate_user(&self, id: Uuid, version: i64) {
        self.cache
            .put_versioned::<()>(&[(user_key(id), version, None)], USER_TTL)
            .await;
    }

    /// A pooled connection, or `SERVICE_UNAVAILABLE`.
    pub async fn conn(&self) -> Result<DbConn<'_>, AppError> {
        Ok(self.pool.get().await?)
    }
}
