//! Finishes what a crash or an unreachable product-core left half done: deletes abandoned `PLACING` claims
//! (releasing whatever they may have reserved), commits the reservations of placed orders whose commit was not
//! confirmed, and releases those of cancelled orders whose release was not. It also deletes guest carts that have
//! been idle for longer than `GUEST_CART_TTL_DAYS`, and cancels (restocking) orders whose payment the provider has
//! not confirmed within the reservation TTL.

use std::time::Duration;

use chrono::Utc;
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;

use crate::api::OrderStatus;
use crate::db::orders::{self as db, ReservationState};
use crate::db::{carts, payments};
use crate::lifecycle;
use crate::state::AppState;

/// Orders handled per pass.
const BATCH: i64 = 100;
/// How long an order is left to its own request before the reconciler finishes its commit or release.
pub const GRACE: Duration = Duration::from_secs(30);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Abandoned claims deleted.
    pub abandoned_claims: usize,
    /// Reservations committed.
    pub committed: usize,
    /// Reservations released for cancelled orders.
    pub released: usize,
    /// Orders cancelled because product-core had already released their stock.
    pub expired: usize,
    /// Idle guest carts deleted.
    pub expired_guest_carts: usize,
    /// Orders cancelled and restocked because their payment was still unconfirmed after the reservation TTL.
    pub unpaid_cancelled: usize,
}

/// One pass: claims older than the reservation TTL, and orders unsettled for longer than `grace`.
pub async fn reconcile_once(state: &AppState, grace: Duration) -> Result<Reconciled, AppError> {
    let ctx = CallContext::default();
    let mut done = Reconciled::default();
    let ttl = chrono::Duration::from_std(state.reservation_ttl).map_err(AppError::internal)?;
    let claims = db::abandoned_claims(&mut *state.conn().await?, Utc::now() - ttl, BATCH).await?;
    for (order_id, reservation_id) in claims {
        // Release first: if that fails the claim stays, and the next pass tries again.
        if let Err(error) = state.products.release(&ctx, reservation_id).await {
            error.log();
            continue;
        }
        db::delete_claim(&mut *state.conn().await?, order_id).await?;
        tracing::info!(%order_id, "deleted an abandoned order claim");
        done.abandoned_claims += 1;
    }
    let grace = chrono::Duration::from_std(grace).map_err(AppError::internal)?;
    let unsettled = db::unsettled(&mut *state.conn().await?, Utc::now() - grace, BATCH).await?;
    for order in unsettled {
        if order.cancelled {
            match lifecycle::release(state, &ctx, order.id, order.reservation_id).await {
                Ok(()) => done.released += 1,
                Err(error) => error.log(),
            }
            continue;
        }
        match state.products.commit(&ctx, order.reservation_id).await {
            Ok(_) => {
                db::set_reservation_state(
                    &mut *state.conn().await?,
                    order.id,
                    &[ReservationState::Held],
                    ReservationState::Committed,
                )
                .await?;
                done.committed += 1;
            }
            // product-core released the stock (its TTL passed before the commit got through), or does not know the
            // reservation at all (its database was restored from before it): the order cannot be fulfilled from
            // stock any more, so it is cancelled rather than left pointing at nothing, or retried for ever.
            Err(AppError::InvalidState(_) | AppError::NotFound(_)) => {
                tracing::error!(order_id = %order.id, "the reservation of a placed order expired before it was committed");
                match lifecycle::change_status(
                    state,
                    &ctx,
                    order.id,
                    None,
                    OrderStatus::Cancelled,
                    None,
                )
                .await
                {
                    Ok(_) => done.expired += 1,
                    Err(error) => {
                        // Already shipped: nothing to cancel; stop retrying and leave the error in the log.
                        error.log();
                        db::set_reservation_state(
                            &mut *state.conn().await?,
                            order.id,
                            &[ReservationState::Held],
                            ReservationState::Released,
                        )
                        .await?;
                    }
                }
            }
            Err(error) => error.log(),
        }
    }
    let overdue = payments::overdue(&mut *state.conn().await?, Utc::now() - ttl, BATCH).await?;
    for order_id in overdue {
        // Left PENDING_CONFIRMATION: a success webhook arriving later finds the order cancelled and refunds.
        match lifecycle::change_status(state, &ctx, order_id, None, OrderStatus::Cancelled, None)
            .await
        {
            Ok(_) => {
                tracing::info!(%order_id, "cancelled an order whose payment was never confirmed");
                done.unpaid_cancelled += 1;
            }
            // Moved on meanwhile (cancelled or confirmed by hand): a late webhook still finds its payment pending.
            Err(AppError::InvalidState(_)) => {}
            Err(error) => error.log(),
        }
    }
    let cutoff = Utc::now() - state.guest_cart_ttl;
    done.expired_guest_carts =
        carts::delete_idle_guests(&mut *state.conn().await?, cutoff, BATCH).await?;
    if done.expired_guest_carts > 0 {
        metrics::counter!("carts_expired_total").increment(done.expired_guest_carts as u64);
    }
    Ok(done)
}

/// Reconciles every `interval` until the process ends. Replicas may run it at once: every step is idempotent.
pub async fn run(state: AppState, interval: Duration) {
    quickmart_shared::background::every(crate::SERVICE.name(), interval, || async {
        let done = reconcile_once(&state, GRACE).await?;
        if done != Reconciled::default() {
            tracing::info!(?done, "reconciled orders");
        }
        Ok(())
    })
    .await;
}
