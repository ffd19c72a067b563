//! `/v1/cart`: the acting user's cart (`x-actor`), or a guest's by its token (`x-cart-token`). See
//! docs/ARCHITECTURE.md, "Carts".

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use quickmart_shared::AppError;
use quickmart_shared::auth::Actor;
use quickmart_shared::client::CallContext;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath};
use quickmart_shared::internal::{ACTOR_HEADER, ActorHeaders};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::{AddCartLine, CART_TOKEN_HEADER, CartDto, MergeCart, SetCartLine};
use crate::db::carts::{self as db, CartRow, LineRow};
use crate::domain::{CartOwner, CartToken, MAX_CART_LINES, MAX_CART_QUANTITY, parse_cart_quantity};
use crate::state::AppState;

/// Whose cart: the acting user's, or a guest's.
#[derive(IntoParams)]
#[into_params(names("x-actor", "x-cart-token"), parameter_in = Header)]
#[allow(dead_code)] // Only describes the headers `CartRequest` reads.
struct CartParams(
    /// `<CUSTOMER|ADMIN> <user id>`: that user's one cart (the token is then ignored).
    // `quickmart_shared::openapi::finish` adds the pattern, `internal::ACTOR_PATTERN`.
    #[param(required = false)]
    String,
    /// A guest's cart token, as a cart mutation returned it.
    #[param(required = false, pattern = "^qmc_[0-9a-f]{64}$")]
    String,
);

/// The cart a request names: a user's, a guest's by token, or none yet (a guest's first mutation).
struct CartRequest {
    actor: Option<Actor>,
    token: Option<CartToken>,
}

impl CartRequest {
    /// The cart the headers name. A malformed token is refused even beside an actor, who then ignores it.
    fn from_headers(actor: Option<Actor>, headers: &HeaderMap) -> Result<Self, AppError> {
        let token = headers
            .get(CART_TOKEN_HEADER)
            .map(|value| CartToken::parse(value.to_str().unwrap_or_default(), "cart_token"))
            .transpose()?;
        Ok(Self { actor, token })
    }

    fn owner(&self) -> Option<CartOwner> {
        match (self.actor, &self.token) {
            (Some(actor), _) => Some(CartOwner::User(actor.id)),
            (None, Some(token)) => Some(token.owner()),
            (None, None) => None,
        }
    }

    fn call_context(&self) -> CallContext {
        CallContext::for_actor(self.actor)
    }
}

fn no_cart() -> AppError {
    AppError::NotFound(
        "no cart has this token (it may have expired): send no token to start a new cart"
            .to_owned(),
    )
}

fn no_such_line() -> AppError {
    AppError::NotFound("the cart has no line for this product".to_owned())
}

/// A cart and its lines as a transaction left them.
struct Written {
    cart: CartRow,
    lines: Vec<LineRow>,
}

impl AppState {
    /// The moment before which a guest cart's last change makes it expired.
    fn guest_cutoff(&self) -> DateTime<Utc> {
        Utc::now() - self.guest_cart_ttl
    }
}

/// The cart `request` names, locked: a user's (made if they have none yet) or a guest's (an unknown token is
/// `NOT_FOUND`); `None` for a guest without a token.
async fn lock_cart(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    request: &CartRequest,
) -> Result<Option<CartRow>, AppError> {
    match request.owner() {
        Some(CartOwner::User(user_id)) => {
            Ok(Some(db::lock_or_create_for_user(conn, user_id).await?))
        }
        Some(owner @ CartOwner::Guest(_)) => db::find(conn, owner, state.guest_cutoff(), true)
            .await?
            .ok_or_else(no_cart)
            .map(Some),
        None => Ok(None),
    }
}

/// The cart at product-core's current prices, each line flagged when it cannot be bought as it stands.
async fn priced(
    state: &AppState,
    ctx: &CallContext,
    written: Written,
    new_token: Option<&CartToken>,
) -> Result<CartDto, AppError> {
    let quantities: Vec<(Uuid, i32)> = written
        .lines
        .iter()
        .map(|l| (l.product_id, l.quantity))
        .collect();
    let lines = state.products.price_cart_lines(ctx, &quantities).await?;
    Ok(CartDto {
        id: written.cart.id,
        subtotal: lines.iter().map(|l| l.line_total).sum(),
        item_count: lines.iter().map(|l| i64::from(l.quantity)).sum(),
        currency: state.currency.to_string(),
        lines,
        updated_at: written.cart.updated_at,
        cart_token: new_token.map(|t| t.expose().to_owned()),
    })
}

/// The acting user's cart, or a guest's by token, at current prices.
#[utoipa::path(get, path = "/v1/cart", tag = "carts", params(CartParams),
    responses(
        (status = 200, description = "The cart", body = CartDto),
        (status = 404, description = "No cart: the user has none yet, the guest token is unknown or expired, or neither header names one", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed cart token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "product-core (the prices) or the database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn get_cart(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
) -> Result<Json<CartDto>, AppError> {
    let request = CartRequest::from_headers(actor, &headers)?;
    // Naming no cart finds none, as an unknown token does.
    let owner = request.owner().ok_or_else(|| {
        AppError::NotFound(
            "no cart named: send an acting user (`x-actor`) or a guest's cart token (`x-cart-token`)"
                .to_owned(),
        )
    })?;
    let mut conn = state.conn().await?;
    let cart = db::find(&mut conn, owner, state.guest_cutoff(), false)
        .await?
        .ok_or_else(|| match owner {
            CartOwner::User(_) => AppError::NotFound("this user has no cart yet".to_owned()),
            CartOwner::Guest(_) => no_cart(),
        })?;
    let lines = db::lines(&mut conn, cart.id).await?;
    drop(conn);
    let written = Written { cart, lines };
    Ok(Json(
        priced(&state, &request.call_context(), written, None).await?,
    ))
}

/// Adds units of a product on sale to the cart (a new line, or more on the product's line). A guest's first
/// addition, without a token, starts a cart and returns its `cart_token`, once.
#[utoipa::path(post, path = "/v1/cart/lines", tag = "carts", request_body = AddCartLine, params(CartParams),
    responses(
        (status = 200, description = "The cart as it is now; `cart_token` is set when this started a guest cart", body = CartDto),
        (status = 404, description = "Unknown or expired guest token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart already holds 100 lines (`lines`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Quantity out of range (the line would hold more than 1000 units), no product on sale has this id, or a malformed cart token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "product-core or the database is unavailable; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(product_id = %input.product_id))]
pub(super) async fn add_line(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AddCartLine>,
) -> Result<Json<CartDto>, AppError> {
    let request = CartRequest::from_headers(actor, &headers)?;
    let quantity = parse_cart_quantity(input.quantity, "quantity")?;
    let ctx = request.call_context();
    let on_sale = state
        .products
        .lookup(&ctx, vec![input.product_id])
        .await?
        .iter()
        .any(|p| p.id == input.product_id && p.active);
    if !on_sale {
        return Err(AppError::invalid(
            "product_id",
            "no product on sale has this id",
        ));
    }
    let new_token = request.owner().is_none().then(CartToken::generate);
    let mut conn = state.conn().await?;
    let written = (*conn)
        .transaction(async |conn| {
            let cart = match &new_token {
                Some(token) => {
                    metrics::counter!("carts_created_total", "owner" => "guest").increment(1);
                    db::create_for_guest(conn, token.digest()).await?
                }
                None => lock_cart(&state, conn, &request)
                    .await?
                    .ok_or_else(no_cart)?,
            };
            let lines = db::lines(conn, cart.id).await?;
            let held = lines
                .iter()
                .find(|l| l.product_id == input.product_id)
                .map(|l| l.quantity);
            if held.is_none() && lines.len() >= MAX_CART_LINES {
                return Err(AppError::conflict(
                    "lines",
                    format!("a cart holds at most {MAX_CART_LINES} lines; remove one first"),
                ));
            }
            let total = held.unwrap_or(0) + quantity;
            if total > MAX_CART_QUANTITY {
                return Err(AppError::invalid(
                    "quantity",
                    format!(
                        "the line would hold {total} units; a cart line holds at most {MAX_CART_QUANTITY}"
                    ),
                ));
            }
            db::put_lines(conn, cart.id, &[(input.product_id, total)]).await?;
            finish(conn, cart.id).await
        })
        .await?;
    drop(conn);
    Ok(Json(
        priced(&state, &ctx, written, new_token.as_ref()).await?,
    ))
}

/// Touches the cart and reads it back, inside the writer's transaction.
async fn finish(conn: &mut AsyncPgConnection, cart_id: Uuid) -> Result<Written, AppError> {
    let cart = db::touch(conn, cart_id).await?;
    let lines = db::lines(conn, cart_id).await?;
    Ok(Written { cart, lines })
}

/// Sets a line's quantity; 0 removes the line.
#[utoipa::path(put, path = "/v1/cart/lines/{product_id}", tag = "carts", request_body = SetCartLine,
    params(("product_id" = Uuid, Path, description = "The line's product"), CartParams),
    responses(
        (status = 200, description = "The cart as it is now", body = CartDto),
        (status = 404, description = "No such line, or no cart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Quantity out of range (0–1000), or a malformed cart token", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(product_id = %product_id))]
pub(super) async fn set_line(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
    ApiPath(product_id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<SetCartLine>,
) -> Result<Json<CartDto>, AppError> {
    let request = CartRequest::from_headers(actor, &headers)?;
    let edit = match input.quantity {
        0 => Edit::Remove(product_id),
        quantity => Edit::Set(product_id, parse_cart_quantity(quantity, "quantity")?),
    };
    change(&state, &request, edit).await
}

/// Removes a line.
#[utoipa::path(delete, path = "/v1/cart/lines/{product_id}", tag = "carts",
    params(("product_id" = Uuid, Path, description = "The line's product"), CartParams),
    responses(
        (status = 200, description = "The cart as it is now", body = CartDto),
        (status = 404, description = "No such line, or no cart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed cart token", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(product_id = %product_id))]
pub(super) async fn remove_line(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
    ApiPath(product_id): ApiPath<Uuid>,
) -> Result<Json<CartDto>, AppError> {
    let request = CartRequest::from_headers(actor, &headers)?;
    change(&state, &request, Edit::Remove(product_id)).await
}

/// Removes every line (a user's cart is made, empty, if they had none).
#[utoipa::path(delete, path = "/v1/cart/lines", tag = "carts", params(CartParams),
    responses(
        (status = 200, description = "The empty cart", body = CartDto),
        (status = 404, description = "No cart for this guest token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed cart token", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn clear_cart(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    headers: HeaderMap,
) -> Result<Json<CartDto>, AppError> {
    let request = CartRequest::from_headers(actor, &headers)?;
    change(&state, &request, Edit::Clear).await
}

/// A change to an existing line, or to all of them.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// A new quantity for the product's line.
    Set(Uuid, i32),
    /// The product's line goes.
    Remove(Uuid),
    /// Every line goes.
    Clear,
}

impl Edit {
    /// Applies the change to the locked cart; a line that is not there is `NOT_FOUND`.
    async fn apply(self, conn: &mut AsyncPgConnection, cart_id: Uuid) -> Result<(), AppError> {
        let present = match self {
            Self::Set(product_id, quantity) => {
                let present = db::lines(conn, cart_id)
                    .await?
                    .iter()
                    .any(|l| l.product_id == product_id);
                if present {
                    db::put_lines(conn, cart_id, &[(product_id, quantity)]).await?;
                }
                present
            }
            Self::Remove(product_id) => db::remove_line(conn, cart_id, product_id).await?,
            Self::Clear => {
                db::clear(conn, cart_id).await?;
                true
            }
        };
        if present { Ok(()) } else { Err(no_such_line()) }
    }
}

/// Makes `edit` to the locked cart `request` names (a user's is made if need be; a guest needs a token), then
/// prices the result.
async fn change(
    state: &AppState,
    request: &CartRequest,
    edit: Edit,
) -> Result<Json<CartDto>, AppError> {
    let mut conn = state.conn().await?;
    let written = (*conn)
        .transaction(async |conn| {
            let cart = lock_cart(state, conn, request).await?.ok_or_else(|| {
                AppError::NotFound("no cart: a guest names theirs with its cart token".to_owned())
            })?;
            edit.apply(conn, cart.id).await?;
            finish(conn, cart.id).await
        })
        .await?;
    drop(conn);
    Ok(Json(
        priced(state, &request.call_context(), written, None).await?,
    ))
}

/// Moves a guest cart into the acting user's cart: quantities of a product in both are summed (capped at
/// 1000), and the guest cart is deleted. Merging a token again, or one that expired, changes nothing.
#[utoipa::path(post, path = "/v1/cart/merge", tag = "carts", request_body = MergeCart,
    params(("x-actor" = String, Header, description = "The signed-in user, as `<CUSTOMER|ADMIN> <user id>`")),
    responses(
        (status = 200, description = "The user's cart after the merge", body = CartDto),
        (status = 400, description = "No acting user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The merged cart would hold more than 100 lines; both carts are unchanged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed token", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn merge_cart(
    State(state): State<AppState>,
    ActorHeaders(actor): ActorHeaders,
    ApiJson(input): ApiJson<MergeCart>,
) -> Result<Json<CartDto>, AppError> {
    let actor = actor.ok_or_else(|| {
        AppError::malformed(
            Some(ACTOR_HEADER),
            "merging a cart needs the signed-in user",
        )
    })?;
    let guest = CartToken::parse(&input.guest_cart_token, "guest_cart_token")?;
    let mut conn = state.conn().await?;
    let written = (*conn)
        .transaction(async |conn| {
            // Always the user's cart first, then the guest's: two merges never wait on each other in a circle.
            let cart = db::lock_or_create_for_user(conn, actor.id).await?;
            let Some(guest_cart) = db::find(conn, guest.owner(), state.guest_cutoff(), true).await?
            else {
                let lines = db::lines(conn, cart.id).await?;
                return Ok(Written { cart, lines });
            };
            let mut lines: Vec<(Uuid, i32)> = db::lines(conn, cart.id)
                .await?
                .iter()
                .map(|l| (l.product_id, l.quantity))
                .collect();
            for line in db::lines(conn, guest_cart.id).await? {
                match lines.iter_mut().find(|(p, _)| *p == line.product_id) {
                    Some((_, quantity)) => {
                        *quantity = (*quantity + line.quantity).min(MAX_CART_QUANTITY);
                    }
                    None => lines.push((line.product_id, line.quantity)),
                }
            }
            if lines.len() > MAX_CART_LINES {
                return Err(AppError::conflict(
                    "guest_cart_token",
                    format!(
                        "the merged cart would hold {} lines, and a cart holds at most {MAX_CART_LINES}: \
                         remove some lines from either cart first",
                        lines.len()
                    ),
                ));
            }
            db::put_lines(conn, cart.id, &lines).await?;
            db::delete(conn, guest_cart.id).await?;
            metrics::counter!("carts_merged_total").increment(1);
            finish(conn, cart.id).await
        })
        .await?;
    drop(conn);
    let ctx = CallContext::for_actor(Some(actor));
    Ok(Json(priced(&state, &ctx, written, None).await?))
}
