//! The typed client of order-core: one method per route its callers use, over the shared internal client.

use std::collections::HashMap;

use crate::api::{
    ChangeStatus, IDEMPOTENCY_KEY_HEADER, LookupOrders, OrderDto, OrderList, OrderPage, OrderQuery,
    OrderStatus, OrdersByUsers, PlaceOrder, UserOrderPages,
};
use quickmart_shared::AppError;
use quickmart_shared::client::{CallContext, InternalClient};
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
}
