//! Four small async-graphql federation subgraphs for the gateway's tests and benchmark.
//!
//! - `users`: `User @key(id)`, `name @shareable`, `email` (overridden by `orders`), `createUser`.
//! - `products`: `Product @key(upc)` with an `@inaccessible` field, `Media` interface
//!   (`Book`, `Movie`), `SearchResult` union, `addProduct`.
//! - `inventory`: `Product.inStock` and `shippingEstimate @requires(fields: "price weight")`.
//! - `orders`: `Order @key(id)`, items referencing `Product`, `User.orders`,
//!   `Order.buyer @provides(fields: "name")`, `User.email @override(from: "users")`.
//!
//! Every subgraph counts the requests it serves so tests can assert one fetch per plan node.

#![allow(dead_code, clippy::unused_async)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Interface, Object, Schema, SimpleObject, Union,
};

/// Orders mutations across subgraphs: each mutation takes the next number.
#[derive(Clone, Default)]
pub(crate) struct Sequence(pub Arc<AtomicUsize>);

impl Sequence {
    fn next(&self) -> i32 {
        i32::try_from(self.0.fetch_add(1, Ordering::SeqCst) + 1).unwrap_or(i32::MAX)
    }
}

fn sequence(ctx: &Context<'_>) -> i32 {
    ctx.data_opt::<Sequence>().map_or(0, Sequence::next)
}

// ---------------------------------------------------------------- users

/// A user as the users subgraph owns it.
#[derive(SimpleObject, Clone)]
pub(crate) struct User {
    id: ID,
    #[graphql(shareable)]
    name: String,
    email: String,
}

fn user(id: &str) -> Option<User> {
    let n: usize = id.strip_prefix('u')?.parse().ok()?;
    (n <= 1000).then(|| User {
        id: ID(id.to_owned()),
        name: format!("User {n}"),
        email: format!("users-{n}@example.com"),
    })
}

/// Queries of the users subgraph.
pub(crate) struct UsersQuery;

#[Object(name = "Query")]
impl UsersQuery {
    async fn me(&self) -> Option<User> {
        user("u1")
    }
    async fn user(&self, id: ID) -> Option<User> {
        user(&id)
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        user(&id)
    }
}

/// Mutations of the users subgraph.
pub(crate) struct UsersMutation;

#[derive(SimpleObject)]
struct Created {
    sequence: i32,
    name: String,
}

#[Object(name = "Mutation")]
impl UsersMutation {
    async fn create_user(&self, ctx: &Context<'_>, name: String) -> Created {
        Created {
            sequence: sequence(ctx),
            name,
        }
    }
}

/// The users subgraph schema.
pub(crate) type UsersSchema = Schema<UsersQuery, UsersMutation, EmptySubscription>;

/// Builds the users subgraph.
pub(crate) fn users(seq: Sequence) -> UsersSchema {
    Schema::build(UsersQuery, UsersMutation, EmptySubscription)
        .enable_federation()
        .data(seq)
        .finish()
}

// ---------------------------------------------------------------- products

/// A product as the products subgraph owns it.
#[derive(SimpleObject, Clone)]
pub(crate) struct Product {
    upc: String,
    name: String,
    price: i32,
    weight: i32,
    #[graphql(inaccessible)]
    internal_code: String,
}

fn product(upc: &str) -> Option<Product> {
    let n: i32 = upc.strip_prefix('p')?.parse().ok()?;
    (n <= 10_000).then(|| Product {
        upc: upc.to_owned(),
        name: format!("Product {n}"),
        price: 100 + n,
        weight: 10 + n % 7,
        internal_code: format!("secret-{n}"),
    })
}

/// A reference to a user, resolved by the users subgraph.
#[derive(SimpleObject, Clone)]
#[graphql(name = "User", unresolvable)]
pub(crate) struct UserRef {
    id: ID,
}

/// Something to watch or read.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "&ID"), field(name = "title", ty = "&String"))]
pub(crate) enum Media {
    /// A book.
    Book(Book),
    /// A movie.
    Movie(Movie),
}

/// A book, written by a user.
#[derive(SimpleObject, Clone)]
pub(crate) struct Book {
    id: ID,
    title: String,
    author: UserRef,
}

/// A movie.
#[derive(SimpleObject, Clone)]
pub(crate) struct Movie {
    id: ID,
    title: String,
    director: String,
}

/// A search hit.
#[derive(Union)]
pub(crate) enum SearchResult {
    /// A book.
    Book(Book),
    /// A movie.
    Movie(Movie),
}

fn book() -> Book {
    Book {
        id: ID("b1".into()),
        title: "Dune".into(),
        author: UserRef {
            id: ID("u2".into()),
        },
    }
}

fn movie() -> Movie {
    Movie {
        id: ID("m1".into()),
        title: "Alien".into(),
        director: "Ridley Scott".into(),
    }
}

/// Queries of the products subgraph.
pub(crate) struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn top_products(&self, #[graphql(default = 3)] first: i32) -> Vec<Product> {
        (1..=first.clamp(0, 100))
            .filter_map(|n| product(&format!("p{n}")))
            .collect()
    }
    async fn product(&self, upc: String) -> Option<Product> {
        product(&upc)
    }
    async fn media(&self) -> Vec<Media> {
        vec![Media::Book(book()), Media::Movie(movie())]
    }
    async fn search(&self) -> Vec<SearchResult> {
        vec![SearchResult::Movie(movie()), SearchResult::Book(book())]
    }
    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<Product> {
        product(&upc)
    }
}

/// Mutations of the products subgraph.
pub(crate) struct ProductsMutation;

#[derive(SimpleObject)]
struct Added {
    sequence: i32,
    upc: String,
}

#[Object(name = "Mutation")]
impl ProductsMutation {
    async fn add_product(&self, ctx: &Context<'_>, upc: String) -> Added {
        Added {
            sequence: sequence(ctx),
            upc,
        }
    }
}

/// The products subgraph schema.
pub(crate) type ProductsSchema = Schema<ProductsQuery, ProductsMutation, EmptySubscription>;

/// Builds the products subgraph.
pub(crate) fn products(seq: Sequence) -> ProductsSchema {
    Schema::build(ProductsQuery, ProductsMutation, EmptySubscription)
        .enable_federation()
        .data(seq)
        .finish()
}

// ---------------------------------------------------------------- inventory

/// The inventory view of a product: stock and shipping, which needs price and weight.
pub(crate) struct InventoryProduct {
    upc: String,
    price: Option<i32>,
    weight: Option<i32>,
}

#[Object(name = "Product")]
impl InventoryProduct {
    async fn upc(&self) -> &str {
        &self.upc
    }
    #[graphql(external)]
    async fn price(&self) -> async_graphql::Result<i32> {
        self.price.ok_or_else(|| "price is external".into())
    }
    #[graphql(external)]
    async fn weight(&self) -> async_graphql::Result<i32> {
        self.weight.ok_or_else(|| "weight is external".into())
    }
    async fn in_stock(&self) -> bool {
        !self.upc.ends_with('3')
    }
    /// Null with an error for `p2`: an entity field that fails.
    async fn restock_date(&self) -> async_graphql::Result<Option<String>> {
        if self.upc == "p2" {
            Err("restock date unavailable".into())
        } else {
            Ok(Some("2030-01-01".into()))
        }
    }
    /// Free above 1000; otherwise weight × 2. Fails loudly if the gateway did not send
    /// the required fields.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> async_graphql::Result<i32> {
        match (self.price, self.weight) {
            (Some(price), _) if price > 1000 => Ok(0),
            (Some(_), Some(weight)) => Ok(weight * 2),
            _ => Err("price and weight are required".into()),
        }
    }
}

/// Queries of the inventory subgraph (entities only).
pub(crate) struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> InventoryProduct {
        InventoryProduct { upc, price, weight }
    }
}

/// The inventory subgraph schema.
pub(crate) type InventorySchema = Schema<InventoryQuery, EmptyMutation, EmptySubscription>;

/// Builds the inventory subgraph.
pub(crate) fn inventory() -> InventorySchema {
    Schema::build(InventoryQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// ---------------------------------------------------------------- orders

/// A reference to a product, resolved by the products subgraph.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", unresolvable)]
pub(crate) struct ProductRef {
    upc: String,
}

/// One line of an order.
#[derive(SimpleObject, Clone)]
pub(crate) struct OrderItem {
    product: ProductRef,
    quantity: i32,
}

/// The orders subgraph's view of a user: their orders, their (overridden) email, and a
/// name it can provide on `Order.buyer`.
pub(crate) struct OrdersUser {
    id: ID,
}

#[Object(name = "User")]
impl OrdersUser {
    async fn id(&self) -> &ID {
        &self.id
    }
    #[graphql(external)]
    async fn name(&self) -> String {
        format!("Provided {}", self.id.as_str())
    }
    #[graphql(override_from = "users")]
    async fn email(&self) -> String {
        format!("orders-{}@example.com", self.id.as_str())
    }
    async fn orders(&self) -> Vec<Order> {
        vec![order(1, self.id.as_str())]
    }
}

/// An order.
pub(crate) struct Order {
    id: ID,
    user_id: String,
    items: Vec<OrderItem>,
}

#[Object]
impl Order {
    async fn id(&self) -> &ID {
        &self.id
    }
    async fn user(&self) -> OrdersUser {
        OrdersUser {
            id: ID(self.user_id.clone()),
        }
    }
    #[graphql(provides = "name")]
    async fn buyer(&self) -> OrdersUser {
        OrdersUser {
            id: ID(self.user_id.clone()),
        }
    }
    async fn items(&self) -> &[OrderItem] {
        &self.items
    }
    async fn total(&self) -> i32 {
        self.items.iter().map(|i| i.quantity * 100).sum()
    }
    /// Null with an error for order 2: a nullable field that fails.
    async fn note(&self) -> async_graphql::Result<Option<String>> {
        if self.id.as_str() == "o2" {
            Err("note unavailable".into())
        } else {
            Ok(Some(format!("note {}", self.id.as_str())))
        }
    }
}

fn order(n: usize, user_id: &str) -> Order {
    Order {
        id: ID(format!("o{n}")),
        user_id: user_id.to_owned(),
        items: (0..3)
            .map(|i| OrderItem {
                product: ProductRef {
                    upc: format!("p{}", (n - 1) * 3 + i + 1),
                },
                quantity: i32::try_from(i).unwrap_or(0) + 1,
            })
            .collect(),
    }
}

/// Queries of the orders subgraph.
pub(crate) struct OrdersQuery;

#[Object(name = "Query")]
impl OrdersQuery {
    async fn orders(&self, #[graphql(default = 20)] first: i32) -> Vec<Order> {
        (1..=usize::try_from(first.clamp(0, 100)).unwrap_or(0))
            .map(|n| order(n, &format!("u{n}")))
            .collect()
    }
    async fn order(&self, id: ID) -> Option<Order> {
        let n: usize = id.strip_prefix('o')?.parse().ok()?;
        Some(order(n, &format!("u{n}")))
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> OrdersUser {
        OrdersUser { id }
    }
}

/// The orders subgraph schema.
pub(crate) type OrdersSchema = Schema<OrdersQuery, EmptyMutation, EmptySubscription>;

/// Builds the orders subgraph.
pub(crate) fn orders() -> OrdersSchema {
    Schema::build(OrdersQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

/// Each subgraph's federation SDL, by name.
pub(crate) fn sdls() -> Vec<(&'static str, String)> {
    let options = || async_graphql::SDLExportOptions::new().federation();
    vec![
        (
            "users",
            users(Sequence::default()).sdl_with_options(options()),
        ),
        (
            "products",
            products(Sequence::default()).sdl_with_options(options()),
        ),
        ("inventory", inventory().sdl_with_options(options())),
        ("orders", orders().sdl_with_options(options())),
    ]
}

/// An axum router serving one schema at `/graphql`, counting requests.
pub(crate) fn router<Q, M>(
    schema: Schema<Q, M, EmptySubscription>,
    hits: Arc<AtomicUsize>,
) -> axum::Router
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
{
    axum::Router::new().route(
        "/graphql",
        axum::routing::post(move |request: async_graphql_axum::GraphQLRequest| {
            let schema = schema.clone();
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                async_graphql_axum::GraphQLResponse::from(
                    schema.execute(request.into_inner()).await,
                )
            }
        }),
    )
}
