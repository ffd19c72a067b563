//! The REST contract of order-core: request and response bodies. OpenAPI derives come with the `openapi`
//! feature, which order-core enables and clients need not.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Header carrying the client's idempotency key on `POST /v1/orders`.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Where an order is in its lifecycle (the internal `PLACING` state is never shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Placed; stock is taken.
    Pending,
    /// Accepted by the store (an admin, later a payment module).
    Confirmed,
    /// On its way.
    Shipped,
    /// Arrived.
    Delivered,
    /// Cancelled; its stock went back on the shelf.
    Cancelled,
}

impl OrderStatus {
    /// The database and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// One line of `POST /v1/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderItem {
    /// The product.
    pub product_id: Uuid,
    /// Units (1–1000).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub quantity: i64,
}

pub use quickmart_shared::address::{AddressDto, COUNTRY_CODES, is_country_code};

/// Body of `POST /v1/orders` (with the `Idempotency-Key` header; the buyer is the user of `x-actor`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// 1–100 lines, each product at most once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub items: Vec<PlaceOrderItem>,
    /// Where to ship, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<AddressDto>,
}

/// A line of an order, with the snapshots taken when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderItemDto {
    /// The product.
    pub product_id: Uuid,
    /// Its SKU then.
    pub sku: String,
    /// Its name then.
    pub name: String,
    /// Units.
    pub quantity: i32,
    /// Its price then, in minor units.
    pub unit_price: i64,
    /// `unit_price × quantity`.
    pub line_total: i64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderDto {
    /// Order id (UUID v7).
    pub id: Uuid,
    /// The buyer.
    pub user_id: Uuid,
    /// Lifecycle state.
    pub status: OrderStatus,
    /// Sum of the line totals, in minor units.
    pub total: i64,
    /// The store currency.
    pub currency: String,
    /// The lines, in the order they were requested.
    pub items: Vec<OrderItemDto>,
    /// Where to ship, as given when placing.
    pub shipping_address: Option<AddressDto>,
    /// Its payment, for an order placed by checkout or confirmed by an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentDto>,
    /// When it was placed.
    #[serde(with = "quickmart_shared::timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "quickmart_shared::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /v1/orders/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    /// The next status; only legal transitions are accepted.
    pub status: OrderStatus,
}

/// One recorded change of status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChangeDto {
    /// The status before (`None` for the placement).
    pub from: Option<OrderStatus>,
    /// The status after.
    pub to: OrderStatus,
    /// Who changed it (the user of `x-actor`); `None` when order-core acted on its own.
    pub actor_id: Option<Uuid>,
    /// When.
    #[serde(with = "quickmart_shared::timestamp")]
    pub changed_at: DateTime<Utc>,
}

/// Body of `POST /v1/orders/lookup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LookupOrders {
    /// Up to 1000 ids; unknown (or, for a customer, foreign) ones are left out of the answer.
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub ids: Vec<Uuid>,
}

/// Answer of `POST /v1/orders/lookup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderList {
    /// The orders found.
    pub items: Vec<OrderDto>,
}

/// Body of `POST /v1/orders/by-users`: one page of orders for each of several buyers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrdersByUsers {
    /// 1–100 buyers (a customer actor gets pages only for themself; other buyers' pages are empty).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub user_ids: Vec<Uuid>,
    /// Only orders in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// Page size per buyer, 1–100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
    /// Cursor of the last item of the previous page; the same position applies to every buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Answer of `POST /v1/orders/by-users`: a page for every requested buyer, in request order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserOrderPages {
    /// One page per buyer.
    pub pages: Vec<UserOrderPage>,
}

/// One buyer's page of orders.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserOrderPage {
    /// The buyer.
    pub user_id: Uuid,
    /// Their orders, newest first.
    #[serde(flatten)]
    pub page: OrderPage,
}

/// Query of `GET /v1/orders`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OrderQuery {
    /// Only this buyer's orders (a customer actor only ever sees their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// Only orders in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// Page size, 1–100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Whether to count every match for `total_count` (default true); `false` skips that count, the costliest
    /// part of a page, for a caller that shows no total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_total: Option<bool>,
    /// Whether to read each order's payment (default true); `false` leaves `payment` out of every order, one query
    /// less, for a caller that shows no payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_payment: Option<bool>,
    /// Whether to read each order's lines (default true); `false` answers every order with empty `items`, and
    /// PostgreSQL reads no lines, for a caller that shows none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_items: Option<bool>,
    /// Cursor of the last item of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One page of orders, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderPage {
    /// The orders with their cursors, in order.
    pub items: Vec<OrderEdge>,
    /// Whether another page follows.
    pub has_more: bool,
    /// How many orders match the filter in all; absent when the request said `with_total=false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}

/// An order and its position in the list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEdge {
    /// Pass as `after` to continue after this order.
    pub cursor: String,
    /// The order.
    pub order: OrderDto,
}

/// Header naming a guest's cart by its token, on the `/v1/cart` routes (ignored when `x-actor` is set).
pub const CART_TOKEN_HEADER: &str = "x-cart-token";

/// What every guest cart token starts with, so that one found in a log or a support ticket is recognised.
pub const CART_TOKEN_PREFIX: &str = "qmc_";
/// Random bytes in a cart token (written as lowercase hex after the prefix): far beyond guessing.
pub const CART_TOKEN_BYTES: usize = 32;

/// What a field holding anything but a cart token is told, in the subgraph and the core alike.
pub const NOT_A_CART_TOKEN: &str =
    "is not a cart token: send the cartToken a cart mutation returned";

/// Whether `value` has the shape of a cart token, so that nothing else is looked up or sent on.
pub fn is_cart_token(value: &str) -> bool {
    value.strip_prefix(CART_TOKEN_PREFIX).is_some_and(|hex| {
        hex.len() == 2 * CART_TOKEN_BYTES
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Why a cart line cannot be checked out as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CartLineProblem {
    /// Fewer units are in stock than the line asks for.
    OutOfStock,
    /// The product is no longer on sale.
    Unavailable,
}

/// A line of a cart, at the product's current price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartLineDto {
    /// The product.
    pub product_id: Uuid,
    /// Units (1–1000).
    pub quantity: i32,
    /// The product's price now, in minor units (0 for a product that no longer exists).
    pub unit_price: i64,
    /// `unit_price × quantity`.
    pub line_total: i64,
    /// Set when the line cannot be checked out as it stands; such lines stay in the cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<CartLineProblem>,
}

/// A cart, priced by product-core when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartDto {
    /// Cart id.
    pub id: Uuid,
    /// The lines, in the order their products were first added.
    pub lines: Vec<CartLineDto>,
    /// Sum of the line totals, in minor units.
    pub subtotal: i64,
    /// Units in all lines.
    pub item_count: i64,
    /// The store currency.
    pub currency: String,
    /// Last change.
    #[serde(with = "quickmart_shared::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Set only on the answer that started a guest cart: the token that names it from now on. It is shown
    /// once; order-core keeps only its digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_token: Option<String>,
}

/// Body of `POST /v1/cart/lines`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddCartLine {
    /// A product on sale.
    pub product_id: Uuid,
    /// Units to add (1–1000; the line may hold at most 1000).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub quantity: i64,
}

/// Body of `PUT /v1/cart/lines/{product_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetCartLine {
    /// The line's new quantity (0–1000; 0 removes the line).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub quantity: i64,
}

/// Body of `POST /v1/cart/merge`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeCart {
    /// The token of the guest cart to move into the acting user's cart.
    #[cfg_attr(feature = "openapi", schema(pattern = "^qmc_[0-9a-f]{64}$"))]
    pub guest_cart_token: String,
}

// A token opens a cart: it never reaches a log.
impl std::fmt::Debug for MergeCart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergeCart").finish_non_exhaustive()
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Authorized, not yet captured.
    Authorized,
    /// The money was taken.
    Captured,
    /// The provider failed it after accepting it.
    Failed,
    /// The money went back.
    Refunded,
    /// The provider will say later (a webhook).
    PendingConfirmation,
    /// Paid outside the store: an admin confirmed the order.
    Manual,
}

impl PaymentStatus {
    /// The database and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "AUTHORIZED",
            Self::Captured => "CAPTURED",
            Self::Failed => "FAILED",
            Self::Refunded => "REFUNDED",
            Self::PendingConfirmation => "PENDING_CONFIRMATION",
            Self::Manual => "MANUAL",
        }
    }

    /// The status a stored spelling names.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Authorized,
            Self::Captured,
            Self::Failed,
            Self::Refunded,
            Self::PendingConfirmation,
            Self::Manual,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// An order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentDto {
    /// Where it stands.
    pub status: PaymentStatus,
    /// Who handles it (`test`, a provider's name, or `manual`).
    pub provider: String,
    /// The order's total when it was paid, in minor units.
    pub amount: i64,
    /// The store currency.
    pub currency: String,
    /// The provider's id for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// How the buyer pays at checkout: a provider and the token its front-end library made (never a card number).
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentMethod {
    /// The provider (`test` unless the store runs another).
    pub provider: String,
    /// The provider's payment token (1–200 visible ASCII characters); the `test` provider knows
    /// `tok_success`, `tok_decline`, `tok_insufficient_funds` and `tok_delayed`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[!-~]{1,200}$"))]
    pub token: String,
}

// A payment token may be spent: it never reaches a log.
impl std::fmt::Debug for PaymentMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentMethod")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// Body of `POST /v1/checkout` (with the `Idempotency-Key` header; the buyer is the user of `x-actor`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Checkout {
    /// How to pay.
    pub payment: PaymentMethod,
    /// One of the buyer's saved addresses (user-core), snapshotted into the order; or send `shipping_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address_id: Option<Uuid>,
    /// Where to ship; or send `shipping_address_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<AddressDto>,
}
