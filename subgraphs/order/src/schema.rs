//! Queries, mutations and entity resolvers.

use async_graphql::{Context, EmptySubscription, ID, Object, Schema};
use order_contract::api::{
    AddCartLine, Checkout, OrderQuery, PaymentMethod, PlaceOrder, PlaceOrderItem, SetCartLine,
};
use quickmart_shared::AppError;
use quickmart_shared::graphql::{
    AdminOnly, SignedIn, camel_case, parse_id, request_context, wants_total,
};
use quickmart_shared::pagination::PageSize;

use crate::carts::{Cart, CartHolder, CartPayload, checked_token};
use crate::types::{
    CheckoutInput, Order, OrderConnection, OrderStatus, PlaceOrderInput, User, core_status, list,
    may_see, request_data, wants_on_each_order,
};

/// The order subgraph's schema.
pub type OrderSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema (no data attached: per-request data comes with each request).
pub fn build_schema() -> OrderSchema {
    schema_validating(async_graphql::ValidationMode::Strict)
}

/// Builds the schema with `mode` (the subgraph runs a text that validated once with `ValidationMode::Fast`).
pub fn schema_validating(mode: async_graphql::ValidationMode) -> OrderSchema {
    quickmart_shared::graphql::subgraph_schema(Query, Mutation, EmptySubscription)
        .validation_mode(mode)
        .finish()
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
            with_payment: Some(wants_on_each_order(ctx, "payment")),
            with_items: Some(wants_on_each_order(ctx, "items")),
        };
        list(ctx, query).await
    }

    /// The caller's cart: a signed-in customer's own (`cartToken` is then ignored), or a guest's by the token
    /// their first `addToCart` returned. `null` when there is none yet, or the guest's token expired.
    async fn cart(
        &self,
        ctx: &Context<'_>,
        cart_token: Option<String>,
    ) -> Result<Option<Cart>, AppError> {
        let holder = CartHolder::of(ctx, cart_token)?;
        if !holder.signed_in && holder.token.is_none() {
            return Ok(None);
        }
        let call = request_context(ctx)?.call_context();
        let cart = request_data(ctx)?
            .core
            .cart(&call, holder.token()?)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        cart.map(Cart::from_core).transpose()
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
    Ok(order
        .filter(|order| may_see(&caller, order))
        .map(Order::from))
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
        Ok(Order::from(order))
    }

    /// Adds units of a product on sale to the cart (more units on its line if it has one; a line holds at most
    /// 1000, a cart 100 lines). A guest's first call, without `cartToken`, starts a cart: keep the `cartToken`
    /// it returns. Prices are the products' current prices.
    async fn add_to_cart(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        quantity: i32,
        cart_token: Option<String>,
    ) -> Result<CartPayload, AppError> {
        let holder = CartHolder::of(ctx, cart_token)?;
        let line = AddCartLine {
            product_id: parse_id(&product_id, "productId")?,
            quantity: i64::from(quantity),
        };
        holder.allow_new_cart(ctx).await?;
        let call = request_context(ctx)?.call_context();
        let cart = request_data(ctx)?
            .core
            .add_to_cart(&call, holder.token()?, &line)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        holder.payload(cart)
    }

    /// Sets the quantity of a product's line (0 removes it); a product not in the cart is `NOT_FOUND`.
    async fn update_cart_line(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        quantity: i32,
        cart_token: Option<String>,
    ) -> Result<CartPayload, AppError> {
        let holder = CartHolder::of(ctx, cart_token)?;
        let product_id = parse_id(&product_id, "productId")?;
        let line = SetCartLine {
            quantity: i64::from(quantity),
        };
        let call = request_context(ctx)?.call_context();
        let cart = request_data(ctx)?
            .core
            .set_cart_line(&call, holder.existing_token()?, product_id, &line)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        holder.payload(cart)
    }

    /// Removes a product's line; a product not in the cart is `NOT_FOUND`.
    async fn remove_cart_line(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        cart_token: Option<String>,
    ) -> Result<CartPayload, AppError> {
        let holder = CartHolder::of(ctx, cart_token)?;
        let product_id = parse_id(&product_id, "productId")?;
        let call = request_context(ctx)?.call_context();
        let cart = request_data(ctx)?
            .core
            .remove_cart_line(&call, holder.existing_token()?, product_id)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        holder.payload(cart)
    }

    /// Empties the cart.
    async fn clear_cart(
        &self,
        ctx: &Context<'_>,
        cart_token: Option<String>,
    ) -> Result<CartPayload, AppError> {
        let holder = CartHolder::of(ctx, cart_token)?;
        let call = request_context(ctx)?.call_context();
        let cart = request_data(ctx)?
            .core
            .clear_cart(&call, holder.existing_token()?)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        holder.payload(cart)
    }

    /// Moves a guest cart into the signed-in customer's cart, once: quantities of a product in both are summed
    /// (capped at 1000), and the guest cart is gone. Merging the same token again changes nothing. Call it
    /// right after signing in, with the token the guest cart had.
    #[graphql(guard = "SignedIn")]
    async fn merge_cart(
        &self,
        ctx: &Context<'_>,
        guest_cart_token: String,
    ) -> Result<Cart, AppError> {
        let token = checked_token(&guest_cart_token, "guestCartToken")?;
        let call = request_context(ctx)?.call_context();
        let cart = request_data(ctx)?
            .core
            .merge_cart(&call, token)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        Cart::from_core(cart)
    }

    /// Checks out the signed-in customer's cart: every line is reserved or none is, the order's total is charged
    /// through the payment provider, and the ordered lines leave the cart. Captured: the order is `CONFIRMED`;
    /// `tok_delayed`: `PENDING` until the provider confirms. Declined: `PAYMENT_DECLINED` with
    /// `extensions.reason`, and nothing is ordered, reserved or charged. A line that cannot be fulfilled fails
    /// the checkout naming it (`OUT_OF_STOCK` with `extensions.productId`, or `cart.lines[i].productId`). A guest
    /// signs in and calls `mergeCart` first: orders belong to accounts.
    #[graphql(guard = "SignedIn")]
    async fn checkout(&self, ctx: &Context<'_>, input: CheckoutInput) -> Result<Order, AppError> {
        let call = request_context(ctx)?.call_context();
        let body = Checkout {
            payment: PaymentMethod {
                provider: input.payment.provider,
                token: input.payment.token,
            },
            shipping_address_id: input
                .shipping_address_id
                .as_ref()
                .map(|id| parse_id(id, "input.shippingAddressId"))
                .transpose()?,
            shipping_address: input.shipping_address.map(Into::into),
        };
        let order = request_data(ctx)?
            .core
            .checkout(&call, &input.idempotency_key, &body)
            .await
            .map_err(|e| e.map_fields(checkout_field))?;
        Ok(Order::from(order))
    }

    /// Cancels an order while it is `PENDING` or `CONFIRMED` (its owner, or an admin) and puts its stock back.
    /// Someone else's order is `NOT_FOUND`.
    #[graphql(guard = "SignedIn")]
    async fn cancel_order(&self, ctx: &Context<'_>, id: ID) -> Result<Order, AppError> {
        let id = parse_id(&id, "id")?;
        let call = request_context(ctx)?.call_context();
        Ok(Order::from(
            request_data(ctx)?.core.cancel(&call, id).await?,
        ))
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
        Ok(Order::from(
            request_data(ctx)?
                .core
                .change_status(&call, id, core_status(status))
                .await?,
        ))
    }
}

/// A field order-core names in a refused checkout, as the client sent it: the cart's lines, or `input.…`.
fn checkout_field(field: &str) -> String {
    if field.starts_with("cart") {
        camel_case(field)
    } else {
        format!("input.{}", camel_case(field))
    }
}
