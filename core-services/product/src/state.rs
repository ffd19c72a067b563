//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use product_contract::cache::{PRODUCT_TTL, product_key};
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

    /// Invalidates the cache entries of products whose data changed (after the change committed): a tombstone
    /// carrying each product's new version, so that no reader who read the old row can put it back. Without the
    /// versions (the database just went away) the entries are deleted, which still invalidates but leaves that
    /// race open.
    pub async fn invalidate_products(&self, ids: &[Uuid]) {
        if ids.is_empty() {
            return;
        }
        let versions = match self.conn().await {
            Ok(mut conn) => crate::db::products::versions(&mut conn, ids).await.ok(),
            Err(_) => None,
        };
        match versions {
            Some(versions) => {
                let tombstones: Vec<(String, i64, Option<()>)> = versions
                    .into_iter()
                    .map(|(id, version)| (product_key(id), version, None))
                    .collect();
                self.cache.put_versioned(&tombstones, PRODUCT_TTL).await;
            }
            None => {
                let keys: Vec<String> = ids.iter().map(|id| product_key(*id)).collect();
                self.cache.delete(&keys).await;
            }
        }
    }
}
