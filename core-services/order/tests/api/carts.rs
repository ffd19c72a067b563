//! Carts: a user's one cart, a guest's by token, current prices and flags, the limits under concurrency, the
//! merge, expiry.

use std::time::Duration;

use futures::future::join_all;
use order_core::reconciler::reconcile_once;
use quickmart_shared::auth::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, customer};

/// Who a cart call acts as.
#[derive(Clone, Copy)]
pub(crate) enum As<'a> {
    User(Actor),
    Guest(&'a str),
    NewGuest,
}

impl TestApp {
    async fn cart_call(
        &self,
        who: As<'_>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (actor, headers): (_, Vec<(&str, &str)>) = match who {
            As::User(actor) => (Some(actor), vec![]),
            As::Guest(token) => (None, vec![("x-cart-token", token)]),
            As::NewGuest => (None, vec![]),
        };
        self.request(&self.base, method, path, actor, &headers, body)
            .await
    }

    pub(crate) async fn add(
        &self,
        who: As<'_>,
        product: &str,
        quantity: i64,
    ) -> (StatusCode, Value) {
        self.cart_call(
            who,
            Method::POST,
            "/v1/cart/lines",
            Some(json!({ "product_id": product, "quantity": quantity })),
        )
        .await
    }

    pub(crate) async fn cart(&self, who: As<'_>) -> (StatusCode, Value) {
        self.cart_call(who, Method::GET, "/v1/cart", None).await
    }

    async fn merge(&self, user: Actor, token: &str) -> (StatusCode, Value) {
        self.cart_call(
            As::User(user),
            Method::POST,
            "/v1/cart/merge",
            Some(json!({ "guest_cart_token": token })),
        )
        .await
    }

    pub(crate) async fn products(
        &self,
        prefix: &str,
        count: usize,
        price: i64,
        stock: i64,
    ) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        for chunk in (0..count).collect::<Vec<_>>().chunks(20) {
            let made = join_all(chunk.iter().map(|i| {
                let sku = format!("{prefix}-{i}");
                async move { self.create_product(&sku, price, stock).await }
            }))
            .await;
            ids.extend(made);
        }
        ids
    }
}

fn quantities(cart: &Value) -> Vec<(String, i64)> {
    cart["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["product_id"].as_str().expect("id").to_owned(),
                l["quantity"].as_i64().expect("q"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_guest_cart_is_started_by_its_first_line_and_named_by_its_token_only() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let mug = app.create_product("MUG", 1200, 10).await;

    let (status, first) = app.add(As::NewGuest, &tea, 2).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let token = first["cart_token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("qmc_") && token.len() == 68, "{token}");
    assert_eq!(first["subtotal"], 900);

    let (status, cart) = app.add(As::Guest(&token), &mug, 1).await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert!(cart.get("cart_token").is_none(), "the token is shown once");
    let (status, cart) = app.add(As::Guest(&token), &tea, 3).await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert_eq!(quantities(&cart), vec![(tea.clone(), 5), (mug.clone(), 1)]);
    assert_eq!(
        (cart["subtotal"].as_i64(), cart["item_count"].as_i64()),
        (Some(3450), Some(6))
    );
    assert_eq!(cart["lines"][0]["line_total"], 2250);

    let (status, read) = app.cart(As::Guest(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["id"], first["id"]);

    // Set, remove, clear.
    let path = format!("/v1/cart/lines/{tea}");
    let (status, cart) = app
        .cart_call(
            As::Guest(&token),
            Method::PUT,
            &path,
            Some(json!({ "quantity": 7 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert_eq!(quantities(&cart)[0], (tea.clone(), 7));
    let (status, cart) = app
        .cart_call(
            As::Guest(&token),
            Method::PUT,
            &path,
            Some(json!({ "quantity": 0 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert_eq!(quantities(&cart), vec![(mug.clone(), 1)]);
    let (status, body) = app
        .cart_call(As::Guest(&token), Method::DELETE, &path, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the line is gone: {body}");
    let (status, cart) = app
        .cart_call(As::Guest(&token), Method::DELETE, "/v1/cart/lines", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert_eq!(cart["lines"], json!([]));
    assert_eq!(cart["subtotal"], 0);

    // Only the token's digest is stored.
    let raw = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM carts WHERE token_hash = convert_to('{token}', 'UTF8') \
             OR encode(token_hash, 'hex') LIKE '%{}%'",
            &token[4..]
        ))
        .await;
    assert_eq!(raw, 0);
    assert_eq!(app.scalar("SELECT count(*) AS n FROM carts").await, 1);
}

#[tokio::test]
async fn a_token_opens_only_its_own_cart_and_a_user_sees_only_theirs() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let (_, guest) = app.add(As::NewGuest, &tea, 1).await;
    let token = guest["cart_token"].as_str().expect("token").to_owned();

    // An unknown token, a malformed one, and a huge one: nothing found, nothing made.
    let unknown = format!("qmc_{}", "0".repeat(64));
    for (bad, expected) in [
        (unknown.as_str(), StatusCode::NOT_FOUND),
        ("qmc_nothex", StatusCode::UNPROCESSABLE_ENTITY),
        (&"a".repeat(10_000), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = app.cart(As::Guest(bad)).await;
        assert_eq!(status, expected, "{body}");
        let (status, body) = app.add(As::Guest(bad), &tea, 1).await;
        assert_eq!(status, expected, "{body}");
    }
    assert_eq!(app.scalar("SELECT count(*) AS n FROM carts").await, 1);

    let alice = customer();
    let bob = customer();
    let (status, cart) = app.add(As::User(alice), &tea, 4).await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert!(cart.get("cart_token").is_none());
    let (status, body) = app.cart(As::User(bob)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob has no cart: {body}");
    // A user acting with someone's token still gets their own cart.
    let (status, body) = app
        .request(
            &app.base,
            Method::GET,
            "/v1/cart",
            Some(bob),
            &[("x-cart-token", &token)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, alices) = app.cart(As::User(alice)).await;
    assert_eq!(quantities(&alices), vec![(tea.clone(), 4)]);
    let (_, guests) = app.cart(As::Guest(&token)).await;
    assert_eq!(quantities(&guests), vec![(tea, 1)]);
}

#[tokio::test]
async fn lines_are_flagged_not_dropped_and_only_products_on_sale_are_added() {
    let app = TestApp::spawn().await;
    let scarce = app.create_product("SCARCE", 1000, 2).await;
    let retired = app.create_product("RETIRED", 500, 10).await;
    let user = customer();
    app.add(As::User(user), &scarce, 3).await;
    app.add(As::User(user), &retired, 1).await;
    app.deactivate(&retired).await;

    let (status, cart) = app.cart(As::User(user)).await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    assert_eq!(cart["lines"][0]["problem"], "OUT_OF_STOCK");
    assert_eq!(cart["lines"][1]["problem"], "UNAVAILABLE");
    assert_eq!(cart["lines"].as_array().map(Vec::len), Some(2));

    let (status, body) = app.add(As::User(user), &retired, 1).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "product_id", "{body}");
    let (status, body) = app
        .add(As::User(user), &uuid::Uuid::now_v7().to_string(), 1)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for bad in [0, -1, 1001, i64::from(i32::MAX) + 1] {
        let (status, body) = app.add(As::User(user), &scarce, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    // A line holds at most 1000 units, however they are added.
    let (status, _) = app.add(As::User(user), &scarce, 997).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.add(As::User(user), &scarce, 1).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, cart) = app.cart(As::User(user)).await;
    assert_eq!(cart["lines"][0]["quantity"], 1000);
}

#[tokio::test]
async fn eighty_concurrent_additions_never_pass_a_hundred_lines() {
    let app = TestApp::spawn().await;
    let products = app.products("LINE", 140, 100, 5).await;
    let user = customer();
    for product in &products[..60] {
        let (status, body) = app.add(As::User(user), product, 1).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let attempts = products[60..].iter().map(|product| {
        let app = &app;
        async move { app.add(As::User(user), product, 1).await.0 }
    });
    let statuses = join_all(attempts).await;
    let count = |status: StatusCode| statuses.iter().filter(|s| **s == status).count();
    let (ok, full) = (count(StatusCode::OK), count(StatusCode::CONFLICT));
    // Writers queue on the cart's row lock holding their connections, so on a loaded machine one can wait out
    // the pool's checkout (1 s) and be refused as unavailable: retryable, and it writes nothing.
    let unavailable = count(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ok + full + unavailable, 80, "{statuses:?}");
    assert_eq!(ok, 40.min(80 - unavailable), "{statuses:?}");
    assert_eq!(
        app.scalar("SELECT count(*) AS n FROM cart_lines").await,
        60 + i64::try_from(ok).expect("a small count"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn concurrent_first_additions_of_one_user_make_one_cart() {
    let app = TestApp::spawn().await;
    let products = app.products("FIRST", 8, 100, 5).await;
    let user = customer();
    let statuses = join_all(products.iter().map(|p| {
        let app = &app;
        async move { app.add(As::User(user), p, 1).await.0 }
    }))
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(app.scalar("SELECT count(*) AS n FROM carts").await, 1);
    assert_eq!(app.scalar("SELECT count(*) AS n FROM cart_lines").await, 8);
}

#[tokio::test]
async fn a_guest_cart_merges_once_summing_and_capping_quantities() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let mug = app.create_product("MUG", 1200, 10).await;
    let user = customer();
    app.add(As::User(user), &tea, 2).await;
    let (_, guest) = app.add(As::NewGuest, &tea, 999).await;
    let token = guest["cart_token"].as_str().expect("token").to_owned();
    app.add(As::Guest(&token), &mug, 1).await;

    let (status, merged) = app.merge(user, &token).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(
        quantities(&merged),
        vec![(tea.clone(), 1000), (mug.clone(), 1)]
    );
    let (status, _) = app.cart(As::Guest(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the guest cart is gone");

    let (status, again) = app.merge(user, &token).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        quantities(&again),
        quantities(&merged),
        "a second merge changes nothing"
    );

    // Ten concurrent merges of one token, by two users: its lines land once, in one cart.
    let other = customer();
    let (_, guest) = app.add(As::NewGuest, &mug, 3).await;
    let token = guest["cart_token"].as_str().expect("token").to_owned();
    let merges = (0..10).map(|i| {
        let app = &app;
        let token = token.clone();
        let who = if i % 2 == 0 { user } else { other };
        async move { app.merge(who, &token).await.0 }
    });
    assert!(join_all(merges).await.iter().all(|s| *s == StatusCode::OK));
    let (_, mine) = app.cart(As::User(user)).await;
    let theirs = app.cart(As::User(other)).await.1;
    let mugs = |cart: &Value| {
        quantities(cart)
            .into_iter()
            .find(|(p, _)| *p == mug)
            .map_or(0, |(_, q)| q)
    };
    assert_eq!(
        mugs(&mine) + mugs(&theirs),
        1 + 3,
        "mine {mine} theirs {theirs}"
    );

    let (status, body) = app.merge(user, "not-a-token").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .cart_call(
            As::NewGuest,
            Method::POST,
            "/v1/cart/merge",
            Some(json!({ "guest_cart_token": token })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a guest cannot merge: {body}"
    );
}

#[tokio::test]
async fn a_merge_that_would_pass_a_hundred_lines_changes_neither_cart() {
    let app = TestApp::spawn().await;
    let products = app.products("MERGE", 101, 100, 5).await;
    let user = customer();
    for product in &products[..60] {
        app.add(As::User(user), product, 1).await;
    }
    let (_, guest) = app.add(As::NewGuest, &products[60], 1).await;
    let token = guest["cart_token"].as_str().expect("token").to_owned();
    for product in &products[61..] {
        let (status, body) = app.add(As::Guest(&token), product, 1).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app.merge(user, &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        app.cart(As::User(user)).await.1["lines"]
            .as_array()
            .map(Vec::len),
        Some(60)
    );
    assert_eq!(
        app.cart(As::Guest(&token)).await.1["lines"]
            .as_array()
            .map(Vec::len),
        Some(41)
    );
}

#[tokio::test]
async fn an_idle_guest_cart_expires_and_the_reconciler_deletes_it() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let (_, guest) = app.add(As::NewGuest, &tea, 1).await;
    let token = guest["cart_token"].as_str().expect("token").to_owned();
    let (_, fresh) = app.add(As::NewGuest, &tea, 1).await;
    let fresh = fresh["cart_token"].as_str().expect("token").to_owned();
    let user = customer();
    app.add(As::User(user), &tea, 1).await;
    app.scalar(&format!(
        "WITH aged AS (UPDATE carts SET updated_at = now() - interval '31 days' \
         WHERE id IN ('{}', (SELECT id FROM carts WHERE user_id IS NOT NULL)) RETURNING 1) \
         SELECT count(*) AS n FROM aged",
        guest["id"].as_str().expect("id")
    ))
    .await;

    let (status, _) = app.cart(As::Guest(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "expired");
    let (status, _) = app.add(As::Guest(&token), &tea, 1).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an expired cart is not revived"
    );
    let done = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(done.expired_guest_carts, 1);
    assert_eq!(app.scalar("SELECT count(*) AS n FROM carts").await, 2);
    assert_eq!(app.cart(As::Guest(&fresh)).await.0, StatusCode::OK);
    assert_eq!(
        app.cart(As::User(user)).await.0,
        StatusCode::OK,
        "a user's cart never expires"
    );
}
