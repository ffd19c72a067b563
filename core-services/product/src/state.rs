//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use product_contract::cache::product_key;
use quickmart_shared::AppError;
use quickmart_shared::cache::Cache;
use quickmart_shared::db::{DbConn, DbPool};
use uuid::Uuid;

/// The state of product-core's handlers.
#[derive(Clone)]
pub struct AppState {
    /// The product database.
    pub pool: DbPool,
    /// The shared cache, whose product entries this service invalidates after every stock or product change.
    pub cache: Cache,
    /// The store currency.
    pub currency: Arc<str>,
    /// How long an uncommitted reservation holds stock by default.
    pub reservation_ttl: Duration,
}

impl AppState {
    /// A pooled connection, or `SERVICE_UNAVAILABLE`.
    pub async fn conn(&self) -> Result<DbConn<'_>, AppError> {
        Ok(self.pool.get().await?)
    }

    /// Deletes the cache entries of products whose data changed (after the change committed).
    pub async fn invalidate_products(&self, ids: &[Uuid]) {
        let keys: Vec<String> = ids.iter().map(|id| product_key(*id)).collect();
        self.cache.delete(&keys).await;
    }
}
