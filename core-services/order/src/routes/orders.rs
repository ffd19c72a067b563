//! `/v1/orders`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use quickmart_shared::AppError;
use quickmart_shared::auth::{Actor, Role};
use quickmart_shared::client::CallContext;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath, ApiQuery};
use quickmart_shared::internal::{ACTOR_HEADER, ActorHeaders};
use quickmart_shared::pagination::PageSize;
use tracing::Instrument;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::{
    ChangeStatus, IDEMPOTENCY_KEY_HEADER, LookupOrders, OrderDto, OrderEdge, OrderList, OrderPage,
    OrderQuery, OrderStatus, OrdersByUsers, PlaceOrder, StatusChangeDto, UserOrderPage,
    UserOrderPages,
};
use crate::db::orders::{self as db, ListFilter};
use crate::domain::OrderCursor;
use crate::domain::{IdempotencyKey, NewOrder};
use crate::placement::Placed;
use crate::state::AppState;
use crate::{lifecycle, placement};

/// Most ids one lookup may ask for.
const MAX_LOOKUP: usize = 1000;
/// Most buyers one `by-users` call may ask for (a GraphQL batch of `User.orders`).
const MAX_USERS_PER_BATCH: usize = 100;

/// The acting user, as the subgraph passes it.
#[derive(IntoParams)]
#[into_params(names("x-actor"), parameter_in = Header)]
#[allow(dead_code)] // Only describes the header `ActorHeaders` reads.
struct ActorParams(
    /// `<CUSTOMER|ADMIN> <user id>`; a customer sees and cancels only their own orders.
    // Optional, but never null: a header is present or not. `quickmart_shared::openapi::finish` adds the
    // pattern, `internal::ACTOR_PATTERN`.
    #[param(required = false)]
    String,
);

/// The buyer and the idempotency key of a new order, both required.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key", "x-actor"), parameter_in = Header)]
#[allow(dead_code)] // Only describes the headers `place_order` reads.
pub(super) struct PlacementParams(
    /// Client-chosen key (1–200 visible ASCII characters), reused on retries.
    #[param(pattern = "^[!-~]{1,200}$")]
    String,
    /// The buyer, as `<CUSTOMER|ADMIN> <user id>`.
    // `quickmart_shared::openapi::finish` adds the pattern, `internal::ACTOR_PATTERN`.
    String,
);

/// The user whose orders a request is limited to: a customer's own, or everyone's for an admin or a caller
/// acting for no user.
fn owner_scope(actor: Option<Actor>) -> Option<Uuid> {
    actor.filter(|a| a.role == Role::Customer).map(|a| a.id)
}

/// Places an order for the acting user (`x-actor`): reserves every line in product-core or none, at
/// product-core's prices. Repeating a request with the same `Idempotency-Key` and body returns the first order.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = PlaceOrder,
    params(PlacementParams),
    responses(
        (status = 201, description = "placed", body = OrderDto),
        (status = 200, description = "a repeated request with the same key and body: the first order", body = OrderDto),
        (status = 400, description = "malformed body, or no acting user (`x-actor`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`OUT_OF_STOCK` (with `productId`), or `CONFLICT`: the key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid lines or address, unknown or inactive product (naming `items[i].product_id`), total too large", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "product-core or the database is unavailable; nothing was placed", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip_all, fields(lines = input.items.len()))]
pub(super) async fn place_order(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PlaceOrder>,
) -> Result<(StatusCode, Json<OrderDto>), AppError> {
    let actor = actor.ok_or_else(|| {
        AppError::malformed(Some(ACTOR_HEADER), "placing an order needs the buyer")
    })?;
    let key = idempotency_key(&headers)?;
    let order = NewOrder::parse(input)?;
    let ctx = CallContext::for_actor(Some(actor));
    let placed =
        to_completion(
            async move { placement::place(&state, &ctx, actor.id, &key, &order, None).await },
        )
        .await?;
    Ok(placed.into_answer())
}

/// The `Idempotency-Key` header, validated.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, AppError> {
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    IdempotencyKey::parse(key, "idempotency_key")
}

/// Runs a placement on its own task: a caller that hangs up must not cut it between reserving stock (or
/// charging) and writing the order (the reservation TTL and the reconciler remain the net for a process that
/// dies).
pub(super) async fn to_completion(
    placement: impl Future<Output = Result<Placed, AppError>> + Send + 'static,
) -> Result<Placed, AppError> {
    tokio::spawn(placement.instrument(tracing::Span::current()))
        .await
        .map_err(AppError::internal)?
}

/// A page of orders, newest first, filtered by buyer and status.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(OrderQuery, ActorParams),
    responses(
        (status = 200, body = OrderPage),
        (status = 422, description = "bad limit or cursor", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn list_orders(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> Result<Json<OrderPage>, AppError> {
    let page_size = PageSize::new(query.limit, "limit")?;
    let after = query
        .after
        .as_deref()
        .map(|c| OrderCursor::decode(c, "after"))
        .transpose()?;
    let user_id = match (owner_scope(actor), query.user_id) {
        (Some(me), Some(asked)) if asked != me => {
            return Ok(Json(OrderPage {
                items: Vec::new(),
                has_more: false,
                total_count: query.with_total.unwrap_or(true).then_some(0),
            }));
        }
        (Some(me), _) => Some(me),
        (None, asked) => asked,
    };
    let filter = ListFilter {
        user_id,
        status: query.status,
        after,
        limit: page_size.limit_plus_one(),
        with_total: query.with_total.unwrap_or(true),
        with_payment: query.with_payment.unwrap_or(true),
        with_items: query.with_items.unwrap_or(true),
    };
    let (orders, total_count) = db::page(&mut *state.conn().await?, &filter).await?;
    Ok(Json(page_of(orders, total_count, page_size)))
}

/// One page of orders per buyer, newest first, from one query (for batched `User.orders`). A customer actor
/// gets pages only for themself; other buyers' pages are empty, as `GET /v1/orders` answers them.
#[utoipa::path(post, path = "/v1/orders/by-users", tag = "orders", request_body = OrdersByUsers, params(ActorParams),
    responses(
        (status = 200, body = UserOrderPages),
        (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no buyers or more than 100, bad limit or cursor", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip_all, fields(users = input.user_ids.len()))]
pub(super) async fn orders_by_users(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiJson(input): ApiJson<OrdersByUsers>,
) -> Result<Json<UserOrderPages>, AppError> {
    if input.user_ids.is_empty() || input.user_ids.len() > MAX_USERS_PER_BATCH {
        return Err(AppError::invalid(
            "user_ids",
            format!("1 to {MAX_USERS_PER_BATCH} buyers per call"),
        ));
    }
    let page_size = PageSize::new(input.limit, "limit")?;
    let after = input
        .after
        .as_deref()
        .map(|c| OrderCursor::decode(c, "after"))
        .transpose()?;
    let visible: Vec<Uuid> = match owner_scope(actor) {
        Some(me) => input
            .user_ids
            .iter()
            .copied()
            .filter(|id| *id == me)
            .collect(),
        None => input.user_ids.clone(),
    };
    let found = if visible.is_empty() {
        Default::default()
    } else {
        db::pages_by_users(
            &mut *state.conn().await?,
            &visible,
            input.status,
            after,
            page_size.limit_plus_one(),
        )
        .await?
    };
    let pages = input
        .user_ids
        .iter()
        .map(|user_id| {
            let (orders, total_count) = found.get(user_id).cloned().unwrap_or_default();
            UserOrderPage {
                user_id: *user_id,
                page: page_of(orders, Some(total_count), page_size),
            }
        })
        .collect();
    Ok(Json(UserOrderPages { pages }))
}

/// A page of `orders` fetched with one row more than `page_size` (that row says another page follows).
fn page_of(mut orders: Vec<OrderDto>, total_count: Option<i64>, page_size: PageSize) -> OrderPage {
    let has_more = orders.len() > page_size.get() as usize;
    orders.truncate(page_size.get() as usize);
    let items = orders
        .into_iter()
        .map(|order| OrderEdge {
            cursor: OrderCursor::of(&order).encode(),
            order,
        })
        .collect();
    OrderPage {
        items,
        has_more,
        total_count,
    }
}

/// The orders with the given ids (for batched entity resolution); unknown ones, and for a customer other
/// users' ones, are left out.
#[utoipa::path(post, path = "/v1/orders/lookup", tag = "orders", request_body = LookupOrders, params(ActorParams),
    responses(
        (status = 200, body = OrderList),
        (status = 422, description = "more than 1000 ids", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip_all, fields(count = input.ids.len()))]
pub(super) async fn lookup_orders(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiJson(input): ApiJson<LookupOrders>,
) -> Result<Json<OrderList>, AppError> {
    if input.ids.len() > MAX_LOOKUP {
        return Err(AppError::invalid(
            "ids",
            format!("at most {MAX_LOOKUP} ids per lookup"),
        ));
    }
    let items = db::find_many(&mut *state.conn().await?, &input.ids, owner_scope(actor)).await?;
    Ok(Json(OrderList { items }))
}

/// One order.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", params(("id" = Uuid, Path), ActorParams),
    responses(
        (status = 200, body = OrderDto),
        (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such order (or another user's, for a customer)", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn get_order(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OrderDto>, AppError> {
    db::find(&mut *state.conn().await?, id, owner_scope(actor))
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no order {id}")))
}

/// Every status change of an order, oldest first, with who made it.
#[utoipa::path(get, path = "/v1/orders/{id}/history", tag = "orders", params(("id" = Uuid, Path), ActorParams),
    responses(
        (status = 200, body = Vec<StatusChangeDto>),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn order_history(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<StatusChangeDto>>, AppError> {
    db::history(&mut *state.conn().await?, id, owner_scope(actor))
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no order {id}")))
}

/// Cancels a `PENDING` or `CONFIRMED` order and puts its stock back, exactly once.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "orders", params(("id" = Uuid, Path), ActorParams),
    responses(
        (status = 200, body = OrderDto),
        (status = 404, description = "no such order (or another user's, for a customer)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_STATE`: already shipped, delivered or cancelled", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn cancel_order(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OrderDto>, AppError> {
    let ctx = CallContext::for_actor(actor);
    let order = lifecycle::change_status(
        &state,
        &ctx,
        id,
        owner_scope(actor),
        OrderStatus::Cancelled,
        actor.map(|a| a.id),
    )
    .await?;
    Ok(Json(order))
}

/// Moves an order along its lifecycle (PENDING → CONFIRMED → SHIPPED → DELIVERED; PENDING or CONFIRMED →
/// CANCELLED, which restocks exactly as `cancel` does). Not for customers.
#[utoipa::path(post, path = "/v1/orders/{id}/status", tag = "orders", request_body = ChangeStatus,
    params(("id" = Uuid, Path), ActorParams),
    responses(
        (status = 200, body = OrderDto),
        (status = 403, description = "a customer acting", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_STATE`: not a legal transition from the current status", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn change_status(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ChangeStatus>,
) -> Result<Json<OrderDto>, AppError> {
    if owner_scope(actor).is_some() {
        return Err(AppError::Forbidden(
            "only an admin changes an order's status".to_owned(),
        ));
    }
    let ctx = CallContext::for_actor(actor);
    let order =
        lifecycle::change_status(&state, &ctx, id, None, input.status, actor.map(|a| a.id)).await?;
    Ok(Json(order))
}
