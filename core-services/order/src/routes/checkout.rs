//! `POST /v1/checkout`: the acting user's cart becomes a paid order.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::ApiJson;
use quickmart_shared::internal::{ACTOR_HEADER, ActorHeaders};

use crate::api::{Checkout, OrderDto};
use crate::checkout;
use crate::state::AppState;

use super::orders::{PlacementParams, idempotency_key, to_completion};

/// Places the acting user's cart as an order, reserving every line or none, and pays for it through the store's
/// provider for the order's total. Captured: the order is `CONFIRMED`; pending (a webhook will tell): `PENDING`;
/// declined: `PAYMENT_DECLINED`, and nothing is ordered, reserved or charged, so the same key may be used again.
/// The ordered lines leave the cart once the order is placed. Repeating a request with the same
/// `Idempotency-Key` returns the first order.
#[utoipa::path(post, path = "/v1/checkout", tag = "orders", request_body = Checkout,
    params(PlacementParams),
    responses(
        (status = 201, description = "placed (and paid, or awaiting the provider)", body = OrderDto),
        (status = 200, description = "a repeated request with the same key: the first order", body = OrderDto),
        (status = 400, description = "malformed body, or no acting user (`x-actor`)", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`PAYMENT_DECLINED` with `reason`; nothing was ordered or charged", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "the buyer has no saved address with `shipping_address_id`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`OUT_OF_STOCK` (with `productId`), or `CONFLICT`: the key was used for another order, or another checkout of the cart is still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "empty cart, a line no longer on sale (`cart.lines[i].product_id`), invalid address, unknown provider or token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "product-core, user-core, the payment provider or the database is unavailable; nothing was placed", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn checkout(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
    ApiJson(input): ApiJson<Checkout>,
) -> Result<(StatusCode, Json<OrderDto>), AppError> {
    let buyer = actor
        .ok_or_else(|| AppError::malformed(Some(ACTOR_HEADER), "checking out needs the buyer"))?;
    let key = idempotency_key(&headers)?;
    let ctx = CallContext::for_actor(Some(buyer));
    let placed =
        to_completion(async move { checkout::checkout(&state, &ctx, buyer, &key, &input).await })
            .await?;
    Ok(placed.into_answer())
}
