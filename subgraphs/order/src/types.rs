//! The GraphQL types of the order subgraph.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use order_contract::api::{
    OrderDto, OrderItemDto, OrderPage, OrderQuery, OrderStatus as CoreStatus,
};
use quickmart_shared::AppError;
use quickmart_shared::auth::Caller;
use quickmart_shared::graphql::{
    Address, AddressInput, Money, PageInfo, camel_case, request_context, total_count,
};
use quickmart_shared::pagination::PageSize;
use uuid::Uuid;

use crate::loaders::{RequestData, UserOrdersKey};

/// The per-request data of a resolver.
pub(crate) fn request_data<'a>(ctx: &Context<'a>) -> Result<&'a RequestData, AppError> {
    ctx.data::<RequestData>()
        .map_err(|_| AppError::internal("order request data missing"))
}

/// Whether `caller` may see `order`: its owner or an admin.
pub(crate) fn may_see(caller: &Caller, order: &OrderDto) -> bool {
    caller
        .actor()
        .is_some_and(|actor| actor.is_admin() || actor.id == order.user_id)
}

/// Where an order is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "order_contract::api::OrderStatus")]
pub enum OrderStatus {
    /// Placed; stock is taken.
    Pending,
    /// Accepted by the store.
    Confirmed,
    /// On its way.
    Shipped,
    /// Arrived.
    Delivered,
    /// Cancelled; its stock went back on the shelf.
    Cancelled,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "order_contract::api::PaymentStatus")]
pub enum PaymentStatus {
    /// Authorized, not yet captured.
    Authorized,
    /// The money was taken.
    Captured,
    /// The provider failed it after accepting it.
    Failed,
    /// The money went back.
    Refunded,
    /// The provider will confirm it later.
    PendingConfirmation,
    /// Paid outside the store: an admin confirmed the order.
    Manual,
}

/// An order's payment.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct Payment {
    /// Where it stands.
    pub status: PaymentStatus,
    /// Who handles it (`test`, a provider, or `manual`).
    pub provider: String,
    /// The amount: the order's total, never a figure the client sent.
    pub amount: Money,
    /// The provider's id for it.
    pub reference: Option<String>,
}

/// How to pay at checkout.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct PaymentInput {
    /// The provider (`test` unless the store runs another).
    #[graphql(default_with = "\"test\".to_owned()")]
    pub provider: String,
    /// The token the provider's front-end library made (never a card number). The `test` provider knows
    /// `tok_success`, `tok_decline`, `tok_insufficient_funds` and `tok_delayed`.
    pub token: String,
}

/// What to check out: the signed-in customer's cart.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct CheckoutInput {
    /// A key you choose per checkout (1–200 visible ASCII characters) and send again on a retry: the same key
    /// returns the first order instead of placing and charging a second. After `PAYMENT_DECLINED` the key is free
    /// again, so the retry with another token may use it.
    pub idempotency_key: String,
    /// How to pay.
    pub payment: PaymentInput,
    /// One of your saved addresses (`me.addresses`), copied into the order; or send `shippingAddress`.
    pub shipping_address_id: Option<ID>,
    /// Where to ship; or send `shippingAddressId`.
    pub shipping_address: Option<AddressInput>,
}

/// One line of a new order.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct OrderItemInput {
    /// The product.
    pub product_id: ID,
    /// Units (1–1000).
    pub quantity: i32,
}

/// What to order.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct PlaceOrderInput {
    /// 1–100 lines; each product on one line only (a repeated product is refused, not merged).
    pub items: Vec<OrderItemInput>,
    /// A key you choose per order (1–200 visible ASCII characters) and send again on a retry: the same key and
    /// items return the first order instead of placing a second; the same key with other items is `CONFLICT`.
    pub idempotency_key: String,
    /// Where to ship, if known.
    pub shipping_address: Option<AddressInput>,
}

/// A product, resolved by the product subgraph.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Product", unresolvable)]
pub(crate) struct ProductRef {
    /// Product id.
    pub id: ID,
}

/// A user: the user subgraph resolves everything but `orders`.
pub(crate) struct User {
    /// The user's id.
    pub id: Uuid,
}

#[Object]
impl User {
    /// User id.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The user's orders, newest first. Only the user themselves and admins see them; anyone else gets an
    /// empty connection (existence is not leaked).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection, AppError> {
        let page_size = PageSize::new(first.map(i64::from), "first")?;
        let request = request_context(ctx)?;
        let allowed = request
            .caller
            .actor()
            .is_some_and(|a| a.is_admin() || a.id == self.id);
        if !allowed {
            return Ok(OrderConnection::default());
        }
        let key = UserOrdersKey {
            user_id: self.id,
            limit: i64::from(page_size.get()),
            after,
        };
        let page = request_data(ctx)?
            .user_orders
            .load_one(key)
            .await
            .map_err(|e| AppError::unshare(e).map_fields(list_field))?
            .unwrap_or_else(|| OrderPage {
                items: Vec::new(),
                has_more: false,
                total_count: Some(0),
            });
        Ok(connection(page))
    }
}

/// A page of orders as the caller may see them.
pub(crate) async fn list(
    ctx: &Context<'_>,
    query: OrderQuery,
) -> Result<OrderConnection, AppError> {
    let call = request_context(ctx)?.call_context();
    let page = request_data(ctx)?
        .core
        .list(&call, &query)
        .await
        .map_err(|e| e.map_fields(list_field))?;
    Ok(connection(page))
}

/// Whether the connection a resolver returns has `field` selected on its orders: order-core reads an order's
/// payment (`with_payment`) and its lines (`with_items`) only for a page that shows them.
pub(crate) fn wants_on_each_order(ctx: &Context<'_>, field: &str) -> bool {
    let connection = ctx.look_ahead();
    connection.field("nodes").field(field).exists()
        || connection
            .field("edges")
            .field("node")
            .field(field)
            .exists()
}

/// The GraphQL connection of an order-core page.
fn connection(page: OrderPage) -> OrderConnection {
    let edges: Vec<OrderEdge> = page
        .items
        .into_iter()
        .map(|edge| OrderEdge {
            cursor: edge.cursor,
            node: Order::from(edge.order),
        })
        .collect();
    OrderConnection {
        page_info: PageInfo {
            has_next_page: page.has_more,
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        total_count: total_count(page.total_count),
    }
}

/// An order. Shared, not copied: a connection lists each order twice (`edges` and `nodes`), and its lines
/// point into it rather than copying their strings.
#[derive(Debug, Clone)]
pub(crate) struct Order(Arc<OrderDto>);

impl From<OrderDto> for Order {
    fn from(order: OrderDto) -> Self {
        Self(Arc::new(order))
    }
}

#[Object]
impl Order {
    /// Order id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The buyer (resolved by the user subgraph).
    async fn user(&self) -> User {
        User { id: self.0.user_id }
    }
    /// Where it is in its lifecycle.
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    /// The lines, in the order they were placed.
    async fn items(&self) -> Vec<OrderItem> {
        (0..self.0.items.len())
            .map(|index| OrderItem {
                order: Arc::clone(&self.0),
                index,
            })
            .collect()
    }
    /// Sum of the line totals.
    async fn total(&self) -> Result<Money, AppError> {
        Money::from_minor(self.0.total, &self.0.currency)
    }
    /// Where to ship, as given when placing.
    async fn shipping_address(&self) -> Option<Address> {
        self.0
            .shipping_address
            .clone()
            .map(|a| Address::new(None, a))
    }
    /// How it was paid: set for an order placed by `checkout` or confirmed by an admin (`MANUAL`); `null` for an
    /// unpaid order placed by `placeOrder`. Only its owner and admins see an order at all.
    async fn payment(&self) -> Result<Option<Payment>, AppError> {
        self.0
            .payment
            .as_ref()
            .map(|p| {
                Ok(Payment {
                    status: p.status.into(),
                    provider: p.provider.clone(),
                    amount: Money::from_minor(p.amount, &p.currency)?,
                    reference: p.reference.clone(),
                })
            })
            .transpose()
    }
    /// When it was placed.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A line of an order; `sku`, `name` and `unitPrice` are snapshots taken when it was placed.
pub(crate) struct OrderItem {
    order: Arc<OrderDto>,
    /// Which of the order's lines.
    index: usize,
}

impl OrderItem {
    fn line(&self) -> &OrderItemDto {
        &self.order.items[self.index]
    }
}

#[Object]
impl OrderItem {
    /// The product (resolved by the product subgraph, even once it is no longer on sale).
    async fn product(&self) -> ProductRef {
        ProductRef {
            id: ID(self.line().product_id.to_string()),
        }
    }
    /// Its SKU when ordered.
    async fn sku(&self) -> &str {
        &self.line().sku
    }
    /// Its name when ordered.
    async fn name(&self) -> &str {
        &self.line().name
    }
    /// Units.
    async fn quantity(&self) -> i32 {
        self.line().quantity
    }
    /// Its price when ordered.
    async fn unit_price(&self) -> Result<Money, AppError> {
        Money::from_minor(self.line().unit_price, &self.order.currency)
    }
    /// `unitPrice × quantity`.
    async fn line_total(&self) -> Result<Money, AppError> {
        Money::from_minor(self.line().line_total, &self.order.currency)
    }
}

/// A page of orders.
#[derive(Default, SimpleObject)]
pub(crate) struct OrderConnection {
    /// The orders with their cursors.
    pub edges: Vec<OrderEdge>,
    /// The orders.
    pub nodes: Vec<Order>,
    /// Where this page ends.
    pub page_info: PageInfo,
    /// How many orders match in all.
    pub total_count: i32,
}

/// An order and its position in the list.
#[derive(SimpleObject)]
pub(crate) struct OrderEdge {
    /// Pass as `after` to continue after this order.
    pub cursor: String,
    /// The order.
    pub node: Order,
}

/// A list parameter of order-core as the GraphQL argument that set it.
fn list_field(field: &str) -> String {
    if field == "limit" {
        "first".to_owned()
    } else {
        camel_case(field)
    }
}

/// The core's status for a GraphQL one.
pub(crate) fn core_status(status: OrderStatus) -> CoreStatus {
    status.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_fields_become_graphql_fields() {
        assert_eq!(list_field("items[1].product_id"), "items[1].productId");
        assert_eq!(list_field("after"), "after");
        assert_eq!(list_field("limit"), "first");
    }
}
