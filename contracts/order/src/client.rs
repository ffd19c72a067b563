//! The typed client of order-core: one method per route its callers use, over the shared internal client.

use std::collections::HashMap;

use crate::api::{
    AddCartLine, CART_TOKEN_HEADER, CartDto, ChangeStatus, Checkout, IDEMPOTENCY_KEY_HEADER,
    LookupOrders, MergeCart, OrderDto, OrderList, OrderPage, OrderQuery, OrderStatus,
    OrdersByUsers, PlaceOrder, SetCartLine, UserOrderPages,
};
use http::Method;
use quickmart_shared::AppError;
use quickmart_shared::client::{Call, CallContext, InternalClient};
use uuid::Uuid;

/// order-core over REST.
#[derive(Debug, Clone)]
pub struct OrderCoreClient {
    client: InternalClient,
}

impl OrderCoreClient {
    /// A client over `client`.
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// Places an order for the acting user. Marked idempotent: the key makes a repeated call return the first
    /// order, so a retry after a lost answer is safe.
    pub async fn place(
        &self,
        ctx: &CallContext,
        key: &str,
        body: &PlaceOrder,
    ) -> Result<OrderDto, AppError> {
        self.client
            .post("/v1/orders")
            .header(IDEMPOTENCY_KEY_HEADER, key)?
            .json(body)?
            .idempotent()
            .send(ctx)
            .await
    }

    /// Checks out the acting user's cart. Marked idempotent: the key makes a repeated call return the first
    /// order and charge once.
    pub async fn checkout(
        &self,
        ctx: &CallContext,
        key: &str,
        body: &Checkout,
    ) -> Result<OrderDto, AppError> {
        self.client
            .post("/v1/checkout")
            .header(IDEMPOTENCY_KEY_HEADER, key)?
            .json(body)?
            .idempotent()
            .send(ctx)
            .await
    }

    /// The orders with these ids that the actor may see.
    pub async fn lookup(
        &self,
        ctx: &CallContext,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, OrderDto>, AppError> {
        let found: OrderList = self
            .client
            .post("/v1/orders/lookup")
            .idempotent()
            .json(&LookupOrders { ids: ids.to_vec() })?
            .send(ctx)
            .await?;
        Ok(found.items.into_iter().map(|o| (o.id, o)).collect())
    }

    /// A page of orders.
    pub async fn list(&self, ctx: &CallContext, query: &OrderQuery) -> Result<OrderPage, AppError> {
        self.client.get("/v1/orders").query(query)?.send(ctx).await
    }

    /// One page of orders per buyer, from one call.
    pub async fn pages_by_users(
        &self,
        ctx: &CallContext,
        query: &OrdersByUsers,
    ) -> Result<UserOrderPages, AppError> {
        self.client
            .post("/v1/orders/by-users")
            .idempotent()
            .json(query)?
            .send(ctx)
            .await
    }

    /// Cancels an order (a customer actor reaches only their own).
    pub async fn cancel(&self, ctx: &CallContext, id: Uuid) -> Result<OrderDto, AppError> {
        self.client
            .post(&format!("/v1/orders/{id}/cancel"))
            .send(ctx)
            .await
    }

    /// Moves an order along its lifecycle.
    pub async fn change_status(
        &self,
        ctx: &CallContext,
        id: Uuid,
        status: OrderStatus,
    ) -> Result<OrderDto, AppError> {
        self.client
            .post(&format!("/v1/orders/{id}/status"))
            .json(&ChangeStatus { status })?
            .send(ctx)
            .await
    }

    /// The acting user's cart, or the guest's of `token`; `None` when there is none (or the token expired).
    pub async fn cart(
        &self,
        ctx: &CallContext,
        token: Option<&str>,
    ) -> Result<Option<CartDto>, AppError> {
        match with_cart_token(self.client.get("/v1/cart"), token)?
            .send(ctx)
            .await
        {
            Ok(cart) => Ok(Some(cart)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Adds units of a product to the cart; a guest without a token starts a cart (its token comes back in
    /// `cart_token`). Not retried: a lost answer could have started a cart the guest never hears of.
    pub async fn add_to_cart(
        &self,
        ctx: &CallContext,
        token: Option<&str>,
        line: &AddCartLine,
    ) -> Result<CartDto, AppError> {
        with_cart_token(self.client.post("/v1/cart/lines"), token)?
            .json(line)?
            .send(ctx)
            .await
    }

    /// Sets a line's quantity (0 removes it).
    pub async fn set_cart_line(
        &self,
        ctx: &CallContext,
        token: Option<&str>,
        product_id: Uuid,
        line: &SetCartLine,
    ) -> Result<CartDto, AppError> {
        let path = format!("/v1/cart/lines/{product_id}");
        with_cart_token(self.client.call(Method::PUT, &path), token)?
            .idempotent()
            .json(line)?
            .send(ctx)
            .await
    }

    /// Removes a line.
    pub async fn remove_cart_line(
        &self,
        ctx: &CallContext,
        token: Option<&str>,
        product_id: Uuid,
    ) -> Result<CartDto, AppError> {
        let path = format!("/v1/cart/lines/{product_id}");
        with_cart_token(self.client.call(Method::DELETE, &path), token)?
            .send(ctx)
            .await
    }

    /// Removes every line.
    pub async fn clear_cart(
        &self,
        ctx: &CallContext,
        token: Option<&str>,
    ) -> Result<CartDto, AppError> {
        with_cart_token(self.client.call(Method::DELETE, "/v1/cart/lines"), token)?
            .idempotent()
            .send(ctx)
            .await
    }

    /// Moves the guest cart of `guest_cart_token` into the acting user's cart (a second call changes nothing,
    /// so it is retried).
    pub async fn merge_cart(
        &self,
        ctx: &CallContext,
        guest_cart_token: &str,
    ) -> Result<CartDto, AppError> {
        self.client
            .post("/v1/cart/merge")
            .idempotent()
            .json(&MergeCart {
                guest_cart_token: guest_cart_token.to_owned(),
            })?
            .send(ctx)
            .await
    }
}

/// Names a guest's cart on `call`.
fn with_cart_token<'a>(call: Call<'a>, token: Option<&str>) -> Result<Call<'a>, AppError> {
    match token {
        Some(token) => call.header(CART_TOKEN_HEADER, token),
        None => Ok(call),
    }
}
