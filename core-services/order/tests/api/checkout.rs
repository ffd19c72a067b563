//! Checkout: the cart becomes an order paid through the test provider, exactly once, or nothing happens.

use futures::future::join_all;
use quickmart_shared::auth::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::carts::As;
use crate::helpers::{TestApp, admin, customer, problem_field};

fn address() -> Value {
    json!({ "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB" })
}

impl TestApp {
    pub(crate) async fn checkout(
        &self,
        buyer: Actor,
        key: &str,
        token: &str,
    ) -> (StatusCode, Value) {
        self.checkout_body(
            buyer,
            key,
            json!({ "payment": { "provider": "test", "token": token }, "shipping_address": address() }),
        )
        .await
    }

    async fn checkout_body(&self, buyer: Actor, key: &str, body: Value) -> (StatusCode, Value) {
        self.request(
            &self.base,
            Method::POST,
            "/v1/checkout",
            Some(buyer),
            &[("idempotency-key", key)],
            Some(body),
        )
        .await
    }

    /// A customer with a cart of `lines`.
    pub(crate) async fn shopper(&self, lines: &[(&str, i64)]) -> Actor {
        let buyer = customer();
        for (product, quantity) in lines {
            let (status, body) = self.add(As::User(buyer), product, *quantity).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        buyer
    }

    async fn cart_lines(&self, buyer: Actor) -> usize {
        self.cart(As::User(buyer)).await.1["lines"]
            .as_array()
            .map_or(0, Vec::len)
    }
}

#[tokio::test]
async fn a_captured_payment_confirms_the_order_for_its_total_and_empties_the_cart() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let mug = app.create_product("MUG", 1200, 10).await;
    let buyer = app.shopper(&[(&tea, 2), (&mug, 1)]).await;

    let (status, order) = app.checkout(buyer, "first", "tok_success").await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "CONFIRMED");
    assert_eq!(order["total"], 2100);
    assert_eq!(
        order["payment"],
        json!({ "status": "CAPTURED", "provider": "test", "amount": 2100, "currency": "USD",
                "reference": format!("test_{}", order["id"].as_str().expect("id").replace('-', "")) })
    );
    assert_eq!(order["shipping_address"]["country"], "GB");
    assert_eq!((app.stock_of(&tea).await, app.stock_of(&mug).await), (8, 9));
    assert_eq!(
        app.cart_lines(buyer).await,
        0,
        "the ordered lines left the cart"
    );
    let path = format!("/v1/orders/{}/history", order["id"].as_str().expect("id"));
    let (_, history) = app.call(Method::GET, &path, Some(buyer), None).await;
    let steps: Vec<&str> = history
        .as_array()
        .map(|h| h.iter().filter_map(|s| s["to"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(steps, ["PENDING", "CONFIRMED"], "{history}");

    // The same key again, with the cart now empty: the first order, nothing charged again.
    let (status, again) = app.checkout(buyer, "first", "tok_success").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], order["id"]);
    assert_eq!(app.scalar("SELECT count(*) AS n FROM payments").await, 1);
    let (status, body) = app.checkout(buyer, "second", "tok_success").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(problem_field(&body), "cart");
}

#[tokio::test]
async fn a_declined_payment_leaves_no_order_and_frees_the_key() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let buyer = app.shopper(&[(&tea, 3)]).await;

    for (token, reason) in [
        ("tok_decline", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds"),
    ] {
        let (status, body) = app.checkout(buyer, "key-1", token).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
        assert_eq!(
            (body["code"].as_str(), body["reason"].as_str()),
            (Some("PAYMENT_DECLINED"), Some(reason))
        );
        assert_eq!(app.order_rows().await, 0, "no order, not even a claim");
        assert_eq!(app.stock_of(&tea).await, 10, "the stock came back");
        assert_eq!(app.cart_lines(buyer).await, 1, "the cart is as it was");
    }
    assert_eq!(app.scalar("SELECT count(*) AS n FROM payments").await, 0);

    let (status, order) = app.checkout(buyer, "key-1", "tok_success").await;
    assert_eq!(status, StatusCode::CREATED, "the key works again: {order}");
    assert_eq!(order["payment"]["status"], "CAPTURED");
    assert_eq!(app.stock_of(&tea).await, 7);
}

#[tokio::test]
async fn a_delayed_payment_leaves_the_order_pending_confirmation() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let buyer = app.shopper(&[(&tea, 1)]).await;
    let (status, order) = app.checkout(buyer, "delayed", "tok_delayed").await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["payment"]["status"], "PENDING_CONFIRMATION");
    assert_eq!(app.stock_of(&tea).await, 9);
    assert_eq!(app.cart_lines(buyer).await, 0);
}

#[tokio::test]
async fn ten_concurrent_checkouts_of_one_cart_make_one_order_and_one_payment() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 100).await;
    let mug = app.create_product("MUG", 1200, 100).await;

    // One key, ten tries (a retrying client): all get the one order.
    let buyer = app.shopper(&[(&tea, 2), (&mug, 1)]).await;
    let tries = (0..10).map(|_| app.checkout(buyer, "same", "tok_success"));
    let answers = join_all(tries).await;
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .map(|(status, order)| {
            assert!(status.is_success(), "{order}");
            order["id"].clone()
        })
        .collect();
    assert_eq!(ids.len(), 1);

    // Ten keys (two tabs, a double click): one order, the others find the cart empty.
    let buyer = app.shopper(&[(&tea, 2), (&mug, 1)]).await;
    let tries = (0..10).map(|i| {
        let app = &app;
        async move {
            app.checkout(buyer, &format!("tab-{i}"), "tok_success")
                .await
        }
    });
    let statuses: Vec<StatusCode> = join_all(tries).await.into_iter().map(|(s, _)| s).collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );

    assert_eq!(app.order_rows().await, 2);
    assert_eq!(app.scalar("SELECT count(*) AS n FROM payments").await, 2);
    assert_eq!(
        (app.stock_of(&tea).await, app.stock_of(&mug).await),
        (96, 98)
    );
}

#[tokio::test]
async fn a_line_that_cannot_be_fulfilled_fails_the_checkout_naming_it() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let scarce = app.create_product("SCARCE", 1000, 2).await;
    let retired = app.create_product("RETIRED", 500, 10).await;

    let buyer = app.shopper(&[(&tea, 1), (&retired, 1)]).await;
    app.deactivate(&retired).await;
    let (status, body) = app.checkout(buyer, "k", "tok_success").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(problem_field(&body), "cart.lines[1].product_id");

    let buyer = app.shopper(&[(&tea, 1), (&scarce, 3)]).await;
    let (status, body) = app.checkout(buyer, "k", "tok_success").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        (body["code"].as_str(), body["productId"].as_str()),
        (Some("OUT_OF_STOCK"), Some(scarce.as_str()))
    );

    assert_eq!(app.order_rows().await, 0);
    assert!(app.reservations().await.is_empty(), "nothing was reserved");
    assert_eq!(app.scalar("SELECT count(*) AS n FROM payments").await, 0);
    assert_eq!(app.stock_of(&tea).await, 10);
    assert_eq!(app.cart_lines(buyer).await, 2);
}

#[tokio::test]
async fn bad_checkouts_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let buyer = app.shopper(&[(&tea, 1)]).await;
    let pay = json!({ "provider": "test", "token": "tok_success" });
    let cases = [
        (json!({ "payment": pay }), "shipping_address"),
        (
            json!({ "payment": pay, "shipping_address": address(), "shipping_address_id": uuid::Uuid::now_v7() }),
            "shipping_address_id",
        ),
        (
            json!({ "payment": { "provider": "stripe", "token": "tok_success" }, "shipping_address": address() }),
            "payment.provider",
        ),
        (
            json!({ "payment": { "provider": "test", "token": "4242 4242 4242 4242" }, "shipping_address": address() }),
            "payment.token",
        ),
        (
            json!({ "payment": { "provider": "test", "token": "tok_unknown" }, "shipping_address": address() }),
            "payment.token",
        ),
        (
            json!({ "payment": { "provider": "test", "token": "t".repeat(201) }, "shipping_address": address() }),
            "payment.token",
        ),
        (
            json!({ "payment": pay, "shipping_address": { "name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "ZZ" } }),
            "shipping_address.country",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = app.checkout_body(buyer, "bad", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem_field(&problem), field, "{problem}");
    }
    let (status, problem) = app
        .request(
            &app.base,
            Method::POST,
            "/v1/checkout",
            Some(buyer),
            &[],
            Some(json!({ "payment": pay, "shipping_address": address() })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no key: {problem}"
    );
    let nobody = customer();
    let (status, problem) = app.checkout(nobody, "k", "tok_success").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem_field(&problem), "cart");
    assert_eq!(app.order_rows().await, 0);
    assert_eq!(app.stock_of(&tea).await, 10);
}

#[tokio::test]
async fn an_admin_confirming_an_unpaid_order_records_a_manual_payment() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let buyer = customer();
    let order = app.placed(buyer, &[(&tea, 2)]).await;
    assert!(
        order.get("payment").is_none(),
        "placeOrder takes no payment: {order}"
    );
    let id = order["id"].as_str().expect("id");
    let (status, confirmed) = app.set_status(admin(), id, "CONFIRMED").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(
        confirmed["payment"],
        json!({ "status": "MANUAL", "provider": "manual", "amount": 900, "currency": "USD" })
    );
}

/// A page of orders carries each order's payment unless the caller says it shows none (`with_payment=false`),
/// which spares order-core the payments query; the total is counted or not independently.
#[tokio::test]
async fn a_page_leaves_payments_out_only_when_asked() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("TEA", 450, 10).await;
    let buyer = app.shopper(&[(&tea, 1)]).await;
    let (status, order) = app.checkout(buyer, "paid", "tok_success").await;
    assert_eq!(status, StatusCode::CREATED, "{order}");

    let (status, page) = app.call(Method::GET, "/v1/orders", Some(buyer), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["order"]["payment"]["status"], "CAPTURED");
    assert_eq!(page["total_count"], 1);

    let (status, page) = app
        .call(
            Method::GET,
            "/v1/orders?with_payment=false&with_total=false",
            Some(buyer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed = &page["items"][0]["order"];
    assert_eq!(listed["id"], order["id"]);
    assert!(listed.get("payment").is_none(), "{listed}");
    assert_eq!(listed["items"][0]["quantity"], 1, "lines are still read");
    assert!(page.get("total_count").is_none(), "{page}");
}
