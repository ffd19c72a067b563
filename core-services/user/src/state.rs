//! What every handler shares.

use quickmart_shared::AppError;
use quickmart_shared::db::{DbConn, DbPool};

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
}

impl AppState {
    /// A pooled connection, or `SERVICE_UNAVAILABLE`.
    pub async fn conn(&self) -> Result<DbConn<'_>, AppError> {
        Ok(self.pool.get().await?)
    }
}
