//! Queries, mutations and entity resolvers.

use async_graphql::{Context, EmptySubscription, ID, Object, Schema};
use order_contract::api::{OrderQuery, PlaceOrder, PlaceOrderItem};
use quickmart_shared::AppError;
use quickmart_shared::graphql::{
    AdminOnly, SignedIn, camel_case, parse_id, request_context, wants_total,
};
use quickmart_shared::pagination::PageSize;

use crate::types::{
    Order, OrderConnection, OrderStatus, PlaceOrderInput, User, core_status, list, may_see,
    request_data,
};

/// The order subgraph's schema.
pub type OrderSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema (no data attached: per-request data comes with each request).
pub fn build_schema() -> OrderSchema {
    quickmart_shared::graphql::subgraph_schema(Query, Mutation, EmptySubscription).finish()
}

/// Root queries.
pub struct Query;

#[Object]
impl Query {
    /// One order: its owner and admins see it; for anyone else it is `null`, with no error.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let id = parse_id(&id, "id")?;
        visible_order(ctx, id).await
    }

    /// A page of orders, newest first: every order for an admin, the caller's own for a customer.
    #[graphql(guard = "SignedIn")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection, AppError> {
        let page_size = PageSize::new(first.map(i64::from), "first")?;
        let actor = request_context(ctx)?.require_user()?;
        let user_id = (!actor.is_admin()).then_some(actor.id);
        let query = OrderQuery {
            user_id,
            status: status.map(core_status),
            limit: Some(i64::from(page_size.get())),
            after,
            with_total: Some(wants_total(ctx)),
        };
        list(ctx, query).await
    }

    /// Resolves `Order` entity references (batched: N references are one core call); `null` for orders the
    /// caller may not see.
    #[graphql(entity)]
    async fn find_order_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Order>> {
        let Ok(id) = uuid::Uuid::parse_str(&id) else {
            return Ok(None);
        };
        visible_order(ctx, id).await
    }

    /// Resolves `User` entity references to the part of `User` this subgraph owns: `orders`.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        uuid::Uuid::parse_str(&id).ok().map(|id| User { id })
    }
}

/// The order `id` if the caller may see it.
async fn visible_order(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Order>> {
    let caller = request_context(ctx)?.caller;
    if caller.actor().is_none() {
        return Ok(None);
    }
    // order-core already scopes a customer's lookups to their own orders; checking again here keeps the rule
    // in the layer that owns authorization.
    let order = request_data(ctx)?.orders.load_one(id).await?;
    Ok(order.filter(|order| may_see(&caller, order)).map(Order))
}

/// Root mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Places an order for the signed-in user: every line's stock is reserved or none is (`OUT_OF_STOCK` with
    /// `extensions.productId`), at the current prices. Retrying with the same `idempotencyKey` returns the
    /// first order.
    #[graphql(guard = "SignedIn")]
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        input: PlaceOrderInput,
    ) -> Result<Order, AppError> {
        let call = request_context(ctx)?.call_context();
        let items = input
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                Ok(PlaceOrderItem {
                    product_id: parse_id(&item.product_id, &format!("items[{index}].productId"))?,
                    quantity: i64::from(item.quantity),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let body = PlaceOrder {
            items,
            shipping_address: input.shipping_address.map(Into::into),
        };
        let order = request_data(ctx)?
            .core
            .place(&call, &input.idempotency_key, &body)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        Ok(Order(order))
    }

    /// Cancels an order while it is `PENDING` or `CONFIRMED` (its owner, or an admin) and puts its stock back.
    /// Someone else's order is `NOT_FOUND`.
    #[graphql(guard = "SignedIn")]
    async fn cancel_order(&self, ctx: &Context<'_>, id: ID) -> Result<Order, AppError> {
        let id = parse_id(&id, "id")?;
        let call = request_context(ctx)?.call_context();
        Ok(Order(request_data(ctx)?.core.cancel(&call, id).await?))
    }

    /// Moves an order along its lifecycle (admins only): PENDING → CONFIRMED → SHIPPED → DELIVERED, or PENDING
    /// or CONFIRMED → CANCELLED, which restocks exactly as `cancelOrder` does. Anything else is `INVALID_STATE`.
    #[graphql(guard = "AdminOnly")]
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: OrderStatus,
    ) -> Result<Order, AppError> {
        let id = parse_id(&id, "id")?;
        let call = request_context(ctx)?.call_context();
        Ok(Order(
            request_data(ctx)?
                .core
                .change_status(&call, id, core_status(status))
                .await?,
        ))
    }
}
