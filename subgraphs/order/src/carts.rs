//! The cart (docs/ARCHITECTURE.md, "Carts"): a signed-in customer's own, or a guest's by the token its first
//! `addToCart` returned. order-core keeps it and prices it; this subgraph names whose cart a request acts on
//! and limits how fast one client address may start guest carts.

use std::time::Duration;

use async_graphql::{Context, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use order_contract::api::{CartDto, CartLineDto, NOT_A_CART_TOKEN, is_cart_token};
use quickmart_shared::AppError;
use quickmart_shared::cache::key_digest;
use quickmart_shared::graphql::{Money, request_context};

use crate::types::{ProductRef, request_data};

/// How many guest carts one client address may start in [`GUEST_CART_WINDOW`].
const GUEST_CARTS_PER_ADDRESS: u64 = 30;
/// The window guest carts are counted in.
const GUEST_CART_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Why a cart line cannot be bought as it stands. Flagged lines stay in the cart, so the shopper decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "order_contract::api::CartLineProblem")]
pub(crate) enum CartLineProblem {
    /// Fewer units are in stock than the line asks for.
    OutOfStock,
    /// The product is no longer on sale.
    Unavailable,
}

/// A cart at the current prices.
#[derive(SimpleObject)]
pub(crate) struct Cart {
    /// Cart id.
    pub id: ID,
    /// The lines, in the order their products were first added.
    pub lines: Vec<CartLine>,
    /// Sum of the line totals.
    pub subtotal: Money,
    /// Units in all lines.
    pub item_count: i32,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A product and how many units of it; prices are the product's current price, not a snapshot.
#[derive(SimpleObject)]
pub(crate) struct CartLine {
    /// The product (resolved by the product subgraph).
    pub product: ProductRef,
    /// Units (1–1000).
    pub quantity: i32,
    /// The product's price now.
    pub unit_price: Money,
    /// `unitPrice × quantity`.
    pub line_total: Money,
    /// Set when the line cannot be checked out as it stands.
    pub problem: Option<CartLineProblem>,
}

/// A cart after a change, with the guest's token.
#[derive(SimpleObject)]
pub(crate) struct CartPayload {
    /// The cart as it is now.
    pub cart: Cart,
    /// A guest's cart token: keep it and send it as `cartToken` with every later cart operation, and as
    /// `guestCartToken` to `mergeCart` after signing in. `null` for a signed-in customer.
    pub cart_token: Option<String>,
}

impl Cart {
    /// The GraphQL cart of an order-core one.
    pub(crate) fn from_core(cart: CartDto) -> Result<Self, AppError> {
        let money = |amount| Money::from_minor(amount, &cart.currency);
        let lines = cart
            .lines
            .iter()
            .map(|line: &CartLineDto| {
                Ok(CartLine {
                    product: ProductRef {
                        id: ID(line.product_id.to_string()),
                    },
                    quantity: line.quantity,
                    unit_price: money(line.unit_price)?,
                    line_total: money(line.line_total)?,
                    problem: line.problem.map(Into::into),
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(Self {
            id: ID(cart.id.to_string()),
            lines,
            subtotal: money(cart.subtotal)?,
            item_count: i32::try_from(cart.item_count)
                .map_err(|_| AppError::internal("a cart's item count does not fit an Int"))?,
            updated_at: cart.updated_at,
        })
    }
}

/// Whose cart a request acts on: the signed-in caller's (a token is then ignored), else the guest's token.
pub(crate) struct CartHolder {
    /// The guest's token, when the caller is a guest who sent one.
    pub token: Option<String>,
    /// Whether the caller is signed in.
    pub signed_in: bool,
}

impl CartHolder {
    /// The holder of this request's cart.
    pub(crate) fn of(ctx: &Context<'_>, cart_token: Option<String>) -> Result<Self, AppError> {
        let signed_in = request_context(ctx)?.caller.actor().is_some();
        Ok(Self {
            token: cart_token.filter(|_| !signed_in),
            signed_in,
        })
    }

    /// The guest's token to send on (checked first, so nothing else reaches a header); `None` for a signed-in
    /// caller, or a guest starting a cart.
    pub(crate) fn token(&self) -> Result<Option<&str>, AppError> {
        self.token
            .as_deref()
            .map(|token| checked_token(token, "cartToken"))
            .transpose()
    }

    /// As [`Self::token`], for a change to an existing cart: a guest without a token has none to change.
    pub(crate) fn existing_token(&self) -> Result<Option<&str>, AppError> {
        if !self.signed_in && self.token.is_none() {
            return Err(AppError::NotFound(
                "no cart: a guest names theirs with cartToken".to_owned(),
            ));
        }
        self.token()
    }

    /// The payload of a change: a guest keeps (or, after their first addition, receives) their token.
    pub(crate) fn payload(&self, cart: CartDto) -> Result<CartPayload, AppError> {
        let cart_token = if self.signed_in {
            None
        } else {
            cart.cart_token.clone().or_else(|| self.token.clone())
        };
        Ok(CartPayload {
            cart: Cart::from_core(cart)?,
            cart_token,
        })
    }

    /// Refuses a guest's new cart once their client address has started too many in the window; a signed-in
    /// caller, or a guest who holds a token, starts none.
    pub(crate) async fn allow_new_cart(&self, ctx: &Context<'_>) -> Result<(), AppError> {
        if self.signed_in || self.token.is_some() {
            return Ok(());
        }
        let Some(ip) = request_context(ctx)?.client_ip.as_deref() else {
            return Ok(());
        };
        let key = format!("qm:v1:ratelimit:guest-cart:ip:{}", key_digest(ip));
        match request_data(ctx)?
            .limits
            .count_in_window(&key, GUEST_CART_WINDOW)
            .await
        {
            Some((count, retry_after_secs)) if count > GUEST_CARTS_PER_ADDRESS => {
                tracing::warn!("guest cart rate limit reached");
                Err(AppError::RateLimited { retry_after_secs })
            }
            _ => Ok(()),
        }
    }
}

/// `token` if it has the shape of a cart token, else `BAD_USER_INPUT` naming `field`.
pub(crate) fn checked_token<'a>(token: &'a str, field: &str) -> Result<&'a str, AppError> {
    if is_cart_token(token) {
        Ok(token)
    } else {
        Err(AppError::invalid(field, NOT_A_CART_TOKEN))
    }
}
