//! Checkout (docs/ARCHITECTURE.md, "Checkout and payments"): the buyer's cart becomes an order through the
//! claim-first placement, paid through the store's provider; the ordered lines leave the cart only once the
//! order is placed.

use std::time::{Duration, Instant};

use chrono::Utc;
use quickmart_shared::AppError;
use quickmart_shared::auth::Actor;
use quickmart_shared::client::CallContext;
use uuid::Uuid;

use crate::api::{AddressDto, CartLineProblem, Checkout, PlaceOrder, PlaceOrderItem};
use crate::db::carts::{self, CartRow};
use crate::db::orders::{self as db, PLACING};
use crate::domain::{CartOwner, IdempotencyKey, NewOrder};
use crate::placement::{self, Payment, Placed};
use crate::state::AppState;

/// How long a checkout waits for another checkout of the same cart to end.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(20);
/// Longest pause between two looks at the cart.
const MAX_POLL_PAUSE: Duration = Duration::from_millis(100);

/// Checks out `buyer`'s cart under `key`. A repeated key returns the order it placed; a second checkout of a
/// cart waits for the first, then finds the ordered lines gone.
#[tracing::instrument(skip_all, fields(buyer = %buyer.id))]
pub(crate) async fn checkout(
    state: &AppState,
    ctx: &CallContext,
    buyer: Actor,
    key: &IdempotencyKey,
    input: &Checkout,
) -> Result<Placed, AppError> {
    let token = crate::payments::choose(&state.payments, &input.payment)?;
    let address = shipping_address(state, ctx, buyer.id, input).await?;
    let deadline = Instant::now() + WAIT_FOR_OTHER;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(placed) = placed_before(state, buyer.id, key).await? {
            return Ok(placed);
        }
        let cart = carts::find(
            &mut *state.conn().await?,
            CartOwner::User(buyer.id),
            Utc::now(),
            false,
        )
        .await?
        .ok_or_else(empty_cart)?;
        let stale_before = Utc::now()
            - chrono::Duration::from_std(state.reservation_ttl).map_err(AppError::internal)?;
        if carts::start_checkout(&mut *state.conn().await?, cart.id, stale_before).await? {
            let placed = checkout_held(state, ctx, buyer, key, &cart, &address, &token).await;
            let ordered: Vec<Uuid> = match &placed {
                Ok(placed) => placed.order.items.iter().map(|i| i.product_id).collect(),
                Err(_) => Vec::new(),
            };
            // If this fails the cart stays marked until the mark is stale; the order (if any) stands.
            if let Err(error) =
                carts::end_checkout(&mut *state.conn().await?, cart.id, &ordered).await
            {
                tracing::warn!(cart_id = %cart.id, error = %error, "could not end a checkout of the cart");
            }
            return placed;
        }
        if Instant::now() >= deadline {
            return Err(AppError::Conflict {
                field: Some("cart".to_owned()),
                message: "another checkout of this cart is still running; retry in a moment"
                    .to_owned(),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL_PAUSE);
    }
}

/// The order an earlier checkout (or placement) with this key placed, if it is placed.
async fn placed_before(
    state: &AppState,
    buyer: Uuid,
    key: &IdempotencyKey,
) -> Result<Option<Placed>, AppError> {
    let mut conn = state.conn().await?;
    let Some(claim) = db::find_claim(&mut conn, buyer, key.as_str()).await? else {
        return Ok(None);
    };
    if claim.status == PLACING {
        return Ok(None);
    }
    Ok(db::find(&mut conn, claim.id, None)
        .await?
        .map(|order| Placed {
            order,
            created: false,
        }))
}

/// The cart's lines, checked at current stock, placed and paid; this call holds the cart.
async fn checkout_held(
    state: &AppState,
    ctx: &CallContext,
    buyer: Actor,
    key: &IdempotencyKey,
    cart: &CartRow,
    address: &AddressDto,
    token: &crate::payments::PaymentToken,
) -> Result<Placed, AppError> {
    // Looked at again now that no other checkout runs: the first may have ordered these lines.
    if let Some(placed) = placed_before(state, buyer.id, key).await? {
        return Ok(placed);
    }
    let lines = carts::lines(&mut *state.conn().await?, cart.id).await?;
    if lines.is_empty() {
        return Err(empty_cart());
    }
    // Flagged lines fail the checkout before anything is reserved or charged, naming the line; the
    // reservation remains the guard against a change in between.
    let quantities: Vec<(Uuid, i32)> = lines.iter().map(|l| (l.product_id, l.quantity)).collect();
    let priced = state.products.price_cart_lines(ctx, &quantities).await?;
    if let Some((index, line, problem)) = priced
        .iter()
        .enumerate()
        .find_map(|(index, line)| line.problem.map(|problem| (index, line, problem)))
    {
        return Err(match problem {
            CartLineProblem::OutOfStock => AppError::OutOfStock {
                product_id: line.product_id,
            },
            CartLineProblem::Unavailable => AppError::invalid(
                format!("cart.lines[{index}].product_id"),
                "this product is no longer on sale; remove the line",
            ),
        });
    }
    let order = NewOrder::parse(PlaceOrder {
        items: lines
            .iter()
            .map(|line| PlaceOrderItem {
                product_id: line.product_id,
                quantity: i64::from(line.quantity),
            })
            .collect(),
        shipping_address: Some(address.clone()),
    })?;
    let payment = Payment {
        provider: state.payments.as_ref(),
        token,
    };
    placement::place(state, ctx, buyer.id, key, &order, Some(payment))
        .await
        .map_err(|error| {
            error.map_fields(|field| {
                field
                    .strip_prefix("items")
                    .map_or_else(|| field.to_owned(), |rest| format!("cart.lines{rest}"))
            })
        })
}

/// Where to ship: a saved address of the buyer's (read from user-core; another user's is `NOT_FOUND`), or
/// the one sent. Exactly one of the two.
async fn shipping_address(
    state: &AppState,
    ctx: &CallContext,
    buyer: Uuid,
    input: &Checkout,
) -> Result<AddressDto, AppError> {
    match (input.shipping_address_id, &input.shipping_address) {
        (Some(_), Some(_)) => Err(AppError::invalid(
            "shipping_address_id",
            "send either a saved address's id or an address, not both",
        )),
        (None, None) => Err(AppError::invalid(
            "shipping_address",
            "is required: send a saved address's id or an address",
        )),
        (None, Some(address)) => Ok(address.clone()),
        (Some(id), None) => match state.users.address(ctx, buyer, id).await {
            Ok(saved) => Ok(saved.address),
            Err(AppError::NotFound(_)) => Err(AppError::NotFound(
                "you have no saved address with this id".to_owned(),
            )),
            Err(error) => Err(error),
        },
    }
}

fn empty_cart() -> AppError {
    AppError::invalid("cart", "is empty: add products before checking out")
}
