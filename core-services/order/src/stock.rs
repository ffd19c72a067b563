//! product-core as order-core uses it: products' current prices and stock for carts, and reservations (reserve,
//! commit, release) for orders.

use std::time::Duration;

use product_contract::ProductCoreClient;
use product_contract::api::{
    CreateReservation, ProductDto, ReservationDto, ReservationLineRequest,
};
use quickmart_shared::AppError;
use quickmart_shared::client::{CallContext, InternalClient};
use uuid::Uuid;

use crate::domain::OrderLine;

/// The client of product-core's reservation API.
#[derive(Debug, Clone)]
pub struct StockReservations {
    client: ProductCoreClient,
}

impl StockReservations {
    /// A client over `client`.
    pub fn new(client: InternalClient) -> Self {
        Self {
            client: ProductCoreClient::new(client),
        }
    }

    /// The products with these ids as they are now, active or not (unknown ones are left out).
    #[tracing::instrument(skip(self, ctx, ids), fields(count = ids.len()))]
    pub async fn lookup(
        &self,
        ctx: &CallContext,
        ids: Vec<Uuid>,
    ) -> Result<Vec<ProductDto>, AppError> {
        Ok(self.client.lookup(ctx, ids).await?.items)
    }

    /// Holds stock for every line or none, under the reservation id chosen at claim time, so that a retry of
    /// a call whose answer was lost holds the stock only once.
    #[tracing::instrument(skip(self, ctx, lines), fields(lines = lines.len()))]
    pub async fn reserve(
        &self,
        ctx: &CallContext,
        reservation_id: Uuid,
        lines: &[OrderLine],
        ttl: Duration,
    ) -> Result<ReservationDto, AppError> {
        let request = CreateReservation {
            id: Some(reservation_id),
            lines: lines
                .iter()
                .map(|l| ReservationLineRequest {
                    product_id: l.product_id,
                    quantity: i64::from(l.quantity),
                })
                .collect(),
            ttl_seconds: Some(u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX)),
        };
        self.client
            .reserve(ctx, &request)
            .await
            .map_err(items_not_lines)
    }

    /// Commits a reservation: the stock stays taken and product-core's sweeper leaves it alone (idempotent).
    #[tracing::instrument(skip(self, ctx))]
    pub async fn commit(
        &self,
        ctx: &CallContext,
        reservation_id: Uuid,
    ) -> Result<ReservationDto, AppError> {
        self.client.commit(ctx, reservation_id).await
    }

    /// Releases a reservation, restocking it exactly once however often this is called. A reservation
    /// product-core never made counts as released.
    #[tracing::instrument(skip(self, ctx))]
    pub async fn release(&self, ctx: &CallContext, reservation_id: Uuid) -> Result<(), AppError> {
        match self.client.release(ctx, reservation_id).await {
            Ok(()) | Err(AppError::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// product-core names reservation lines `lines[i]`; the order's caller sent them as `items[i]`, in the same
/// order.
fn items_not_lines(error: AppError) -> AppError {
    error.map_fields(|field| {
        field
            .strip_prefix("lines")
            .map_or_else(|| field.to_owned(), |rest| format!("items{rest}"))
    })
}
