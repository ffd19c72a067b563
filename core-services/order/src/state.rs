//! What every handler and the reconciler share.

use std::sync::Arc;
use std::time::Duration;

use quickmart_shared::AppError;
use quickmart_shared::db::{DbConn, DbPool};
use secrecy::SecretString;

use crate::payments::PaymentProvider;
use crate::stock::StockReservations;
use user_contract::UserCoreClient;

/// The state of order-core's handlers.
#[derive(Clone)]
pub struct AppState {
    /// The order database.
    pub pool: DbPool,
    /// product-core, which holds the stock.
    pub products: StockReservations,
    /// The store currency.
    pub currency: Arc<str>,
    /// How long an uncommitted reservation holds stock; a `PLACING` claim older than this is abandoned.
    pub reservation_ttl: Duration,
    /// How long a guest cart lives after its last change.
    pub guest_cart_ttl: chrono::Duration,
    /// The payment provider checkouts pay through.
    pub payments: Arc<dyn PaymentProvider>,
    /// user-core, for the saved addresses a checkout ships to.
    pub users: UserCoreClient,
    /// The secret payment webhooks are signed with.
    pub webhook_secret: SecretString,
}

impl AppState {
    /// A pooled connection, or `SERVICE_UNAVAILABLE`.
    pub async fn conn(&self) -> Result<DbConn<'_>, AppError> {
        Ok(self.pool.get().await?)
    }
}
