//! Placing orders: atomic reservations, idempotency, failures on every side, under real concurrency.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::helpers::{TestApp, code, customer, problem_field, sorted};

fn held(committed: i64) -> Vec<(String, i64)> {
    vec![("COMMITTED".to_owned(), committed)]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_takes_prices_and_names_from_the_reservation() {
    let app = TestApp::spawn().await;
    let (book, pen) = (
        app.create_product("BOOK-1", 1999, 5).await,
        app.create_product("PEN-1", 250, 10).await,
    );
    let buyer = customer();
    let address = json!({ "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
                          "postal_code": "SW1Y 4LG", "country": "gb" });
    let body = json!({ "items": [{ "product_id": book, "quantity": 2 }, { "product_id": pen, "quantity": 3 }],
                       "shipping_address": address });
    let (status, refused) = app
        .place_body(buyer, "lower-case-country", body.clone())
        .await;
    assert_eq!(
        (status, problem_field(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "shipping_address.country"),
        "the core takes a code as the contract enumerates it, upper case: {refused}"
    );
    let mut body = body;
    body["shipping_address"]["country"] = json!("GB");
    let (status, order) = app.place_body(buyer, "first-order", body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], json!("PENDING"));
    assert_eq!(order["user_id"], json!(buyer.id));
    assert_eq!(
        (order["total"].clone(), order["currency"].clone()),
        (json!(2 * 1999 + 3 * 250), json!("USD"))
    );
    assert_eq!(
        order["items"],
        json!([
            { "product_id": book, "sku": "BOOK-1", "name": "Product BOOK-1", "quantity": 2, "unit_price": 1999, "line_total": 3998 },
            { "product_id": pen, "sku": "PEN-1", "name": "Product PEN-1", "quantity": 3, "unit_price": 250, "line_total": 750 }
        ])
    );
    assert_eq!(
        order["shipping_address"]["country"],
        json!("GB"),
        "country codes are stored as sent"
    );
    assert_eq!(
        (app.stock_of(&book).await, app.stock_of(&pen).await),
        (3, 7)
    );
    assert_eq!(
        sorted(app.reservations().await),
        held(1),
        "the reservation is committed"
    );

    let id = order["id"].as_str().expect("id");
    let (status, fetched) = app
        .call(Method::GET, &format!("/v1/orders/{id}"), Some(buyer), None)
        .await;
    assert_eq!((status, &fetched), (StatusCode::OK, &order));
    let (status, history) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}/history"),
            Some(buyer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (history[0]["from"].clone(), history[0]["to"].clone()),
        (Value::Null, json!("PENDING"))
    );
    assert_eq!(history[0]["actor_id"], json!(buyer.id));
}

#[tokio::test(flavor = "multi_thread")]
async fn forty_concurrent_orders_from_eight_users_against_ten_units() {
    let app = Arc::new(TestApp::spawn().await);
    let product = app.create_product("HOT-1", 500, 10).await;
    let buyers: Vec<_> = (0..8).map(|_| customer()).collect();
    let barrier = Arc::new(Barrier::new(40));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (app, barrier, product, buyer) = (
                Arc::clone(&app),
                Arc::clone(&barrier),
                product.clone(),
                buyers[i % 8],
            );
            tokio::spawn(async move {
                barrier.wait().await;
                app.place(buyer, &format!("order-{i}"), &[(&product, 1)])
                    .await
            })
        })
        .collect();
    let (mut placed, mut out_of_stock) = (0, 0);
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match (status, code(&body)) {
            (StatusCode::CREATED, _) => placed += 1,
            (StatusCode::CONFLICT, "OUT_OF_STOCK") => {
                assert_eq!(body["productId"].as_str(), Some(product.as_str()));
                out_of_stock += 1;
            }
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    assert_eq!((placed, out_of_stock), (10, 30));
    assert_eq!(app.stock_of(&product).await, 0);
    assert_eq!(
        app.order_rows().await,
        10,
        "failed placements leave no claim behind"
    );
    assert_eq!(
        sorted(app.reservations().await),
        held(10),
        "no reservation left held"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_returns_the_first_order_and_another_body_conflicts() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        app.create_product("A-1", 100, 10).await,
        app.create_product("B-1", 100, 10).await,
    );
    let buyer = customer();
    let (first, order) = app.place(buyer, "key-1", &[(&a, 2)]).await;
    let (again, retried) = app.place(buyer, "key-1", &[(&a, 2)]).await;
    assert_eq!(
        (first, again),
        (StatusCode::CREATED, StatusCode::OK),
        "{retried}"
    );
    assert_eq!(retried["id"], order["id"]);
    assert_eq!(app.stock_of(&a).await, 8, "the retry reserved nothing");
    assert_eq!(sorted(app.reservations().await), held(1));

    let (status, problem) = app.place(buyer, "key-1", &[(&b, 2)]).await;
    assert_eq!(
        (status, code(&problem), problem_field(&problem)),
        (StatusCode::CONFLICT, "CONFLICT", "idempotency_key")
    );
    let (status, problem) = app.place(buyer, "key-1", &[(&a, 3)]).await;
    assert_eq!((status, code(&problem)), (StatusCode::CONFLICT, "CONFLICT"));
    assert_eq!((app.stock_of(&a).await, app.stock_of(&b).await), (8, 10));

    // Keys belong to their user: another customer's identical key is another order.
    let (status, other) = app.place(customer(), "key-1", &[(&a, 2)]).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(other["id"], order["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_concurrent_requests_with_one_key_make_one_order() {
    let app = Arc::new(TestApp::spawn().await);
    let product = app.create_product("DUP-1", 100, 50).await;
    let buyer = customer();
    let barrier = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (app, barrier, product) = (Arc::clone(&app), Arc::clone(&barrier), product.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                app.place(buyer, "the-one-key", &[(&product, 3)]).await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (status, order) = task.await.expect("task");
        assert!(
            matches!(status, StatusCode::CREATED | StatusCode::OK),
            "{status}: {order}"
        );
        created += usize::from(status == StatusCode::CREATED);
        ids.insert(order["id"].as_str().expect("id").to_owned());
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(app.stock_of(&product).await, 47);
    assert_eq!(app.order_rows().await, 1);
    assert_eq!(sorted(app.reservations().await), held(1), "one reservation");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_second_line_reserves_nothing() {
    let app = TestApp::spawn().await;
    let (plenty, scarce) = (
        app.create_product("P-1", 100, 10).await,
        app.create_product("P-2", 100, 1).await,
    );
    let (status, problem) = app
        .place(customer(), "short", &[(&plenty, 3), (&scarce, 2)])
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "OUT_OF_STOCK")
    );
    assert_eq!(problem["productId"].as_str(), Some(scarce.as_str()));
    assert_eq!(
        (app.stock_of(&plenty).await, app.stock_of(&scarce).await),
        (10, 1)
    );
    assert_eq!(app.order_rows().await, 0);
    assert!(app.reservations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn inactive_and_unknown_products_are_refused_naming_the_line() {
    let app = TestApp::spawn().await;
    let (on_sale, retired) = (
        app.create_product("ON-1", 100, 10).await,
        app.create_product("OFF-1", 100, 10).await,
    );
    app.deactivate(&retired).await;
    let (status, problem) = app
        .place(customer(), "k1", &[(&on_sale, 1), (&retired, 1)])
        .await;
    assert_eq!(
        (status, code(&problem), problem_field(&problem)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "BAD_USER_INPUT",
            "items[1].product_id"
        )
    );
    let unknown = Uuid::now_v7().to_string();
    let (status, problem) = app.place(customer(), "k2", &[(&unknown, 1)]).await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "items[0].product_id")
    );
    assert_eq!(
        (app.stock_of(&on_sale).await, app.order_rows().await),
        (10, 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_requests_name_the_field() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        app.create_product("V-1", 100, 10).await,
        app.create_product("V-2", 100, 10).await,
    );
    let buyer = customer();
    for (items, field) in [
        (vec![(a.as_str(), 0)], "items[0].quantity"),
        (vec![(a.as_str(), 1001)], "items[0].quantity"),
        (
            vec![(a.as_str(), 1), (b.as_str(), 1), (a.as_str(), 2)],
            "items[2].product_id",
        ),
        (vec![], "items"),
    ] {
        let (status, problem) = app.place(buyer, "v", &items).await;
        assert_eq!(
            (status, problem_field(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, field),
            "{problem}"
        );
    }
    let many: Vec<Value> = (0..101)
        .map(|_| json!({ "product_id": Uuid::now_v7(), "quantity": 1 }))
        .collect();
    let (status, problem) = app.place_body(buyer, "v", json!({ "items": many })).await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "items")
    );
    let address =
        json!({ "name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "XX" });
    let (status, problem) = app
        .place_body(
            buyer,
            "v",
            json!({ "items": [{ "product_id": a, "quantity": 1 }], "shipping_address": address }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "shipping_address.country")
    );

    let body = json!({ "items": [{ "product_id": a, "quantity": 1 }] });
    let (status, problem) = app
        .request(
            &app.base,
            Method::POST,
            "/v1/orders",
            Some(buyer),
            &[],
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key")
    );
    let (status, _) = app
        .request(
            &app.base,
            Method::POST,
            "/v1/orders",
            None,
            &[("idempotency-key", "k")],
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an order needs a buyer");
    assert_eq!((app.stock_of(&a).await, app.order_rows().await), (10, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_total_beyond_a_graphql_int_is_refused_and_released() {
    let app = TestApp::spawn().await;
    let pricey = app.create_product("GOLD-1", i64::from(i32::MAX), 5).await;
    let (status, problem) = app.place(customer(), "too-much", &[(&pricey, 2)]).await;
    assert_eq!(
        (status, code(&problem), problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "BAD_USER_INPUT", "items")
    );
    assert_eq!(app.stock_of(&pricey).await, 5);
    assert_eq!(
        sorted(app.reservations().await),
        vec![("RELEASED".to_owned(), 1)]
    );
    assert_eq!(app.order_rows().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_order_write_releases_the_reservation() {
    let app = TestApp::spawn().await;
    let product = app.create_product("F-1", 100, 10).await;
    // A trigger on this test's own database makes step 3 (writing the items) fail after step 2 reserved.
    app.execute(
        "CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
    )
    .await;
    app.execute(
        "CREATE TRIGGER refuse_items BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION refuse_items()",
    )
    .await;
    let buyer = customer();
    let (status, problem) = app.place(buyer, "doomed", &[(&product, 4)]).await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR")
    );
    assert!(
        !problem.to_string().contains("injected"),
        "the cause is not shown: {problem}"
    );
    assert_eq!(
        app.order_rows().await,
        0,
        "no order row, not even the claim"
    );
    assert_eq!(app.stock_of(&product).await, 10);
    assert_eq!(
        sorted(app.reservations().await),
        vec![("RELEASED".to_owned(), 1)]
    );

    // The claim is gone, so a retry with the same key places the order once the failure is fixed.
    app.execute("DROP TRIGGER refuse_items ON order_items")
        .await;
    let (status, order) = app.place(buyer, "doomed", &[(&product, 4)]).await;
    assert_eq!(
        (status, order["status"].clone()),
        (StatusCode::CREATED, json!("PENDING"))
    );
    assert_eq!(app.stock_of(&product).await, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn product_core_unreachable_places_nothing() {
    let app = TestApp::spawn_with_product_core_unreachable().await;
    let product = app.create_product("U-1", 100, 10).await;
    let (status, problem) = app.place(customer(), "offline", &[(&product, 1)]).await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
    );
    assert_eq!(app.order_rows().await, 0);
    assert_eq!(app.stock_of(&product).await, 10);
    assert!(app.reservations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_an_address_are_bad_input_naming_the_field() {
    // Row 12 of the hardening issue: a NUL in a shipping address reached PostgreSQL as a 500.
    let app = TestApp::spawn().await;
    let product = app.create_product("NUL-1", 100, 10).await;
    for (line1, field) in [
        ("1 Main\u{0} St", "shipping_address.line1"),
        ("1 Main\nSt", "shipping_address.line1"),
    ] {
        let address = json!({ "name": "Ann", "line1": line1, "city": "Leeds", "postal_code": "LS1", "country": "GB" });
        let (status, problem) = app
            .place_body(
                customer(),
                &uuid::Uuid::new_v4().to_string(),
                json!({ "items": [{ "product_id": product, "quantity": 1 }], "shipping_address": address }),
            )
            .await;
        assert_eq!(
            (status, problem_field(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, field),
            "{problem}"
        );
    }
    assert_eq!(app.stock_of(&product).await, 10, "nothing was reserved");
}
