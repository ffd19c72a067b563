//! The order lifecycle: PENDING → CONFIRMED → SHIPPED → DELIVERED; PENDING or CONFIRMED → CANCELLED, which
//! puts the stock back exactly once by releasing the order's reservation.

use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use uuid::Uuid;

use crate::api::{OrderDto, OrderStatus};
use crate::db::orders::{self as db, ReservationState};
use crate::db::payments::MovedPayment;
use crate::state::AppState;

/// Moves an order to `to`, recording `actor`; with `owner`, other users' orders are `NOT_FOUND`. The status
/// change commits first: a cancellation then releases the stock, and if product-core cannot be reached the
/// reconciler releases it later, so an order is never cancelled without its stock coming back.
#[tracing::instrument(skip(state, ctx), fields(to = to.as_str()))]
pub(crate) async fn change_status(
    state: &AppState,
    ctx: &CallContext,
    id: Uuid,
    owner: Option<Uuid>,
    to: OrderStatus,
    actor: Option<Uuid>,
) -> Result<OrderDto, AppError> {
    let transition = db::transition(&mut *state.conn().await?, id, owner, to, actor).await?;
    if to == OrderStatus::Cancelled {
        metrics::counter!("orders_cancelled_total").increment(1);
        if let Some(payment) = &transition.refund {
            refund(state, id, payment).await;
        }
        if let Err(error) = release(state, ctx, id, transition.reservation_id).await {
            tracing::warn!(order_id = %id, error = %error, "stock of a cancelled order not released yet; the reconciler will retry");
        }
    }
    Ok(transition.order)
}

/// Refunds a payment the database has just marked `REFUNDED` (exactly one caller gets to), at its provider.
pub(crate) async fn refund(state: &AppState, order_id: Uuid, payment: &MovedPayment) {
    metrics::counter!("payments_refunded_total").increment(1);
    let Some(reference) = payment
        .reference
        .as_deref()
        .filter(|_| payment.provider == state.payments.name())
    else {
        tracing::error!(%order_id, provider = %payment.provider, "a refunded payment has no reference at this store's provider; refund it by hand");
        return;
    };
    if let Err(error) = state.payments.refund(reference, payment.amount).await {
        tracing::error!(%order_id, reference, error = %error, "the provider refused a refund; refund it by hand");
    }
}

/// Releases the reservation of order `id` and records that it is released.
pub(crate) async fn release(
    state: &AppState,
    ctx: &CallContext,
    id: Uuid,
    reservation_id: Uuid,
) -> Result<(), AppError> {
    state.products.release(ctx, reservation_id).await?;
    db::set_reservation_state(
        &mut *state.conn().await?,
        id,
        &[ReservationState::Held, ReservationState::Committed],
        ReservationState::Released,
    )
    .await?;
    Ok(())
}
