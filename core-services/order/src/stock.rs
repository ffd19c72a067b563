//! product-core as order-core uses it: products' current prices and stock for carts, and reservations (reserve,
//! commit, release) for orders.

use std::collections::HashMap;
use std::time::Duration;

use order_contract::api::{CartLineDto, CartLineProblem};

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

    /// Cart lines (`(product, quantity)`) at the products' current prices, each flagged when it cannot be bought
    /// as it stands: `UNAVAILABLE` (inactive or gone, priced 0 when gone) or `OUT_OF_STOCK`. One lookup.
    pub async fn price_cart_lines(
        &self,
        ctx: &CallContext,
        lines: &[(Uuid, i32)],
    ) -> Result<Vec<CartLineDto>, AppError> {
        let products: HashMap<Uuid, ProductDto> = if lines.is_empty() {
            HashMap::new()
        } else {
            let ids = lines.iter().map(|(id, _)| *id).collect();
            self.lookup(ctx, ids)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect()
        };
        Ok(lines
            .iter()
            .map(|&(product_id, quantity)| {
                let (unit_price, problem) = match products.get(&product_id) {
                    Some(p) if !p.active => (p.price, Some(CartLineProblem::Unavailable)),
                    Some(p) if p.stock < quantity => (p.price, Some(CartLineProblem::OutOfStock)),
                    Some(p) => (p.price, None),
                    None => (0, Some(CartLineProblem::Unavailable)),
                };
                CartLineDto {
                    product_id,
                    quantity,
                    unit_price,
                    line_total: unit_price * i64::from(quantity),
                    problem,
                }
            })
            .collect())
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
