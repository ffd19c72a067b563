//! Placing an order, safe under any concurrency and any retry (`docs/ARCHITECTURE.md`, "Placing an order"):
//!
//! 1. claim (user, key) with a `PLACING` row;
//! 2. reserve every line in product-core (prices, SKUs and names come from the reservation);
//! 3. with a payment (checkout), authorize it for the reserved total: a decline releases the stock and deletes the
//!    claim, so the key works again;
//! 4. write items and total, status `PENDING` (`CONFIRMED` when the payment was captured), with the payment;
//! 5. commit the reservation.
//!
//! A failed reservation deletes the claim; a failure after it releases the reservation and deletes the claim.
//! A crash in between is covered by the reservation's TTL and by the reconciler, which cleans up abandoned
//! claims and finishes unconfirmed commits.

use std::time::{Duration, Instant};

use product_contract::api::ReservationDto;
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use uuid::Uuid;

use crate::api::{OrderDto, PaymentStatus};
use crate::db::orders::{
    self as db, ClaimOutcome, NewClaim, PLACING, PlacedItem, ReservationState,
};
use crate::db::payments::NewPayment;
use crate::domain::{IdempotencyKey, MAX_AMOUNT, NewOrder};
use crate::payments::{Authorization, PaymentProvider, PaymentRequest, PaymentToken};
use crate::state::AppState;

/// `orders_placements_total`'s outcomes: the order was placed, or its placement failed after the claim.
const PLACED: &str = "placed";
const FAILED: &str = "failed";

/// Both outcomes' series, at zero, so the failure-ratio alert (k8s/components/monitoring) has them from the start.
pub(crate) fn register_metrics() {
    for outcome in [PLACED, FAILED] {
        metrics::counter!("orders_placements_total", "outcome" => outcome).increment(0);
    }
    for outcome in [CAPTURED, PENDING, DECLINED] {
        metrics::counter!("payments_total", "outcome" => outcome).increment(0);
    }
}

/// How long a duplicate request waits for the first one with its key to finish before giving up.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(20);
/// Longest pause between two looks at the first request's claim.
const MAX_POLL_PAUSE: Duration = Duration::from_millis(100);

/// A placed order, and whether this request placed it (or returned the order an earlier one placed).
#[derive(Debug)]
pub(crate) struct Placed {
    /// The order.
    pub order: OrderDto,
    /// `false` when an earlier request with the same key and body placed it.
    pub created: bool,
}

impl Placed {
    /// The answer to the client: 201 with a new order, 200 with the one an earlier request placed.
    pub(crate) fn into_answer(self) -> (axum::http::StatusCode, axum::Json<OrderDto>) {
        let status = if self.created {
            axum::http::StatusCode::CREATED
        } else {
            axum::http::StatusCode::OK
        };
        (status, axum::Json(self.order))
    }
}

/// How a checkout pays: the store's provider and the buyer's token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payment<'a> {
    /// The provider.
    pub provider: &'a dyn PaymentProvider,
    /// The buyer's token.
    pub token: &'a PaymentToken,
}

/// `payments_total`'s outcomes.
const CAPTURED: &str = "captured";
const PENDING: &str = "pending";
const DECLINED: &str = "declined";

/// Places `order` for `buyer` under `key`, paid by `payment` if given: the same key and body return the first
/// order (no second reservation or charge), the same key with another body is `CONFLICT`, concurrent duplicates
/// wait for the first.
#[tracing::instrument(skip_all, fields(buyer = %buyer, lines = order.lines().len()))]
pub(crate) async fn place(
    state: &AppState,
    ctx: &CallContext,
    buyer: Uuid,
    key: &IdempotencyKey,
    order: &NewOrder,
    payment: Option<Payment<'_>>,
) -> Result<Placed, AppError> {
    let request_hash = order.request_hash();
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    let mut pause = Duration::from_millis(5);
    loop {
        let claim = NewClaim {
            id: Uuid::now_v7(),
            user_id: buyer,
            idempotency_key: key.as_str().to_owned(),
            request_hash: request_hash.clone(),
            reservation_id: Uuid::now_v7(),
            currency: state.currency.to_string(),
            shipping_address: order.shipping_address().map(|a| a.to_dto()),
        };
        let outcome = db::claim(&mut *state.conn().await?, &claim).await?;
        match outcome {
            ClaimOutcome::Claimed => {
                let placed = run(state, ctx, &claim, order, payment).await;
                let outcome = if placed.is_ok() { PLACED } else { FAILED };
                metrics::counter!("orders_placements_total", "outcome" => outcome).increment(1);
                return placed.map(|order| Placed {
                    order,
                    created: true,
                });
            }
            // The first request failed and deleted its claim: this one may try.
            ClaimOutcome::Vanished => {}
            ClaimOutcome::Taken(existing) if existing.request_hash != request_hash => {
                return Err(AppError::conflict(
                    "idempotency_key",
                    "this key was already used for a different order",
                ));
            }
            ClaimOutcome::Taken(existing) if existing.status != PLACING => {
                let order = db::find(&mut *state.conn().await?, existing.id, None)
                    .await?
                    .ok_or_else(|| AppError::internal(format!("order {} vanished", existing.id)))?;
                return Ok(Placed {
                    order,
                    created: false,
                });
            }
            ClaimOutcome::Taken(_) => {
                if Instant::now() >= deadline {
                    return Err(AppError::Conflict {
                        field: Some("idempotency_key".to_owned()),
                        message: "an order with this key is still being placed; retry in a moment"
                            .to_owned(),
                    });
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_POLL_PAUSE);
            }
        }
    }
}

/// Steps 2 to 5 for a claim this request holds.
async fn run(
    state: &AppState,
    ctx: &CallContext,
    claim: &NewClaim,
    order: &NewOrder,
    payment: Option<Payment<'_>>,
) -> Result<OrderDto, AppError> {
    let reservation = match state
        .products
        .reserve(
            ctx,
            claim.reservation_id,
            order.lines(),
            state.reservation_ttl,
        )
        .await
    {
        Ok(reservation) => reservation,
        Err(error) => {
            // An unavailable or failing product-core may still have reserved (the answer was lost): release
            // to be sure. A definite refusal (out of stock, invalid line) reserved nothing.
            if matches!(
                error,
                AppError::ServiceUnavailable(_) | AppError::Internal(_)
            ) {
                release_quietly(state, ctx, claim.reservation_id).await;
            }
            forget_claim(state, claim.id).await;
            return Err(error);
        }
    };
    let paid = match priced(state, order, &reservation) {
        Ok((items, total)) => match pay(state, claim, total, payment).await {
            Ok(paid) => Ok((items, total, paid)),
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    let (items, total, paid) = match paid {
        Ok(paid) => paid,
        Err(error) => {
            release_quietly(state, ctx, claim.reservation_id).await;
            forget_claim(state, claim.id).await;
            return Err(error);
        }
    };
    let written = db::complete_placement(
        &mut *state.conn().await?,
        claim.id,
        &items,
        total,
        claim.user_id,
        paid.as_ref(),
    )
    .await;
    if let Err(error) = written {
        if paid
            .as_ref()
            .is_some_and(|p| p.status == PaymentStatus::Captured)
        {
            // The money is taken but the order could not be written: someone must refund it by hand.
            tracing::error!(order_id = %claim.id, reference = ?paid.as_ref().and_then(|p| p.reference.as_deref()),
                "a captured payment's order could not be written; refund it by hand");
        }
        release_quietly(state, ctx, claim.reservation_id).await;
        forget_claim(state, claim.id).await;
        return Err(error);
    }
    commit(state, ctx, claim.id, claim.reservation_id).await;
    db::find(&mut *state.conn().await?, claim.id, None)
        .await?
        .ok_or_else(|| {
            AppError::internal(format!(
                "order {} vanished right after it was placed",
                claim.id
            ))
        })
}

/// Step 3: authorizes `payment` for the order's `total`; the payment to record, or `PAYMENT_DECLINED`.
async fn pay(
    state: &AppState,
    claim: &NewClaim,
    total: i64,
    payment: Option<Payment<'_>>,
) -> Result<Option<NewPayment>, AppError> {
    let Some(payment) = payment else {
        return Ok(None);
    };
    let request = PaymentRequest {
        order_id: claim.id,
        amount: total,
        currency: &state.currency,
        token: payment.token,
    };
    let (status, reference, outcome) = match payment.provider.authorize(request).await? {
        Authorization::Captured { reference } => (PaymentStatus::Captured, reference, CAPTURED),
        Authorization::Pending { reference } => {
            (PaymentStatus::PendingConfirmation, reference, PENDING)
        }
        Authorization::Declined { reason } => {
            metrics::counter!("payments_total", "outcome" => DECLINED).increment(1);
            return Err(AppError::PaymentDeclined { reason });
        }
    };
    metrics::counter!("payments_total", "outcome" => outcome).increment(1);
    Ok(Some(NewPayment {
        provider: payment.provider.name().to_owned(),
        status,
        amount: total,
        currency: state.currency.to_string(),
        reference: Some(reference),
    }))
}

/// The reserved lines as the order's items, and their total, which must fit a GraphQL `Int`.
fn priced(
    state: &AppState,
    order: &NewOrder,
    reservation: &ReservationDto,
) -> Result<(Vec<PlacedItem>, i64), AppError> {
    if reservation.currency != *state.currency {
        return Err(AppError::internal(format!(
            "product-core prices in {} but the store currency is {}",
            reservation.currency, state.currency
        )));
    }
    let matches_request = reservation.lines.len() == order.lines().len()
        && reservation
            .lines
            .iter()
            .zip(order.lines())
            .all(|(r, o)| r.product_id == o.product_id && r.quantity == o.quantity);
    if !matches_request {
        return Err(AppError::internal(format!(
            "reservation {} does not hold the requested lines",
            reservation.id
        )));
    }
    let items: Vec<PlacedItem> = reservation
        .lines
        .iter()
        .map(|line| PlacedItem {
            product_id: line.product_id,
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
        })
        .collect();
    let total = items
        .iter()
        .try_fold(0_i64, |sum, item| {
            item.unit_price
                .checked_mul(i64::from(item.quantity))?
                .checked_add(sum)
        })
        .filter(|total| *total <= MAX_AMOUNT)
        .ok_or_else(|| {
            AppError::invalid(
                "items",
                format!("the order total would exceed {MAX_AMOUNT} minor units; split the order"),
            )
        })?;
    Ok((items, total))
}

/// Step 4: commits the reservation. The order stands either way: product-core retries are built into the
/// client, and a commit that still fails is finished by the reconciler before the reservation's TTL.
async fn commit(state: &AppState, ctx: &CallContext, order_id: Uuid, reservation_id: Uuid) {
    match state.products.commit(ctx, reservation_id).await {
        Ok(_) => {
            let marked = match state.conn().await {
                Ok(mut conn) => {
                    db::set_reservation_state(
                        &mut conn,
                        order_id,
                        &[ReservationState::Held],
                        ReservationState::Committed,
                    )
                    .await
                }
                Err(error) => Err(error),
            };
            if let Err(error) = marked {
                // Harmless: the reconciler commits again (idempotent) and records it.
                tracing::warn!(%order_id, error = %error, "could not record the committed reservation");
            }
        }
        Err(error) => {
            tracing::warn!(%order_id, %reservation_id, error = %error, "reservation not committed yet; the reconciler will retry");
        }
    }
}

/// Releases a reservation after a failed placement; if that fails too, the reservation's TTL releases it.
async fn release_quietly(state: &AppState, ctx: &CallContext, reservation_id: Uuid) {
    if let Err(error) = state.products.release(ctx, reservation_id).await {
        tracing::warn!(%reservation_id, error = %error, "could not release the reservation of a failed placement; its TTL will");
    }
}

/// Deletes the claim of a failed placement; if that fails, the reconciler deletes it once it is abandoned.
async fn forget_claim(state: &AppState, order_id: Uuid) {
    let deleted = match state.conn().await {
        Ok(mut conn) => db::delete_claim(&mut conn, order_id).await,
        Err(error) => Err(error),
    };
    if let Err(error) = deleted {
        tracing::warn!(%order_id, error = %error, "could not delete the claim of a failed placement");
    }
}
