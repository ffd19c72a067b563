//! The lifecycle: legal transitions only, cancellation restocks exactly once, customers see only their own.

use std::time::Duration;

use order_core::reconciler::{Reconciled, reconcile_once};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, admin, code, customer, sorted};

const STATUSES: [&str; 5] = ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"];

/// The legal path from PENDING to each status.
fn path_to(status: &str) -> &'static [&'static str] {
    match status {
        "CONFIRMED" => &["CONFIRMED"],
        "SHIPPED" => &["CONFIRMED", "SHIPPED"],
        "DELIVERED" => &["CONFIRMED", "SHIPPED", "DELIVERED"],
        "CANCELLED" => &["CANCELLED"],
        _ => &[],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_restocks_exactly_once() {
    let app = TestApp::spawn().await;
    let product = app.create_product("C-1", 100, 10).await;
    let buyer = customer();
    let order = app.placed(buyer, &[(&product, 3)]).await;
    let id = order["id"].as_str().expect("id");
    assert_eq!(app.stock_of(&product).await, 7);

    let (status, cancelled) = app.cancel(buyer, id).await;
    assert_eq!(
        (status, cancelled["status"].clone()),
        (StatusCode::OK, json!("CANCELLED"))
    );
    assert_eq!(app.stock_of(&product).await, 10);
    let (status, problem) = app.cancel(buyer, id).await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_STATE")
    );
    let (status, problem) = app.set_status(admin(), id, "CANCELLED").await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_STATE")
    );
    assert_eq!(app.stock_of(&product).await, 10, "restocked once");
    assert_eq!(
        sorted(app.reservations().await),
        vec![("RELEASED".to_owned(), 1)]
    );

    let (_, history) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}/history"),
            Some(buyer),
            None,
        )
        .await;
    assert_eq!(history[1]["from"], json!("PENDING"));
    assert_eq!(history[1]["to"], json!("CANCELLED"));
    assert_eq!(history[1]["actor_id"], json!(buyer.id));
    assert_eq!(history.as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_cancelling_by_status_restocks_like_cancel() {
    let app = TestApp::spawn().await;
    let product = app.create_product("C-2", 100, 10).await;
    let order = app.placed(customer(), &[(&product, 4)]).await;
    let id = order["id"].as_str().expect("id");
    let boss = admin();
    assert_eq!(
        app.set_status(boss, id, "CONFIRMED").await.0,
        StatusCode::OK
    );
    let (status, cancelled) = app.set_status(boss, id, "CANCELLED").await;
    assert_eq!(
        (status, cancelled["status"].clone()),
        (StatusCode::OK, json!("CANCELLED"))
    );
    assert_eq!(app.stock_of(&product).await, 10);
    let (_, history) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}/history"),
            Some(boss),
            None,
        )
        .await;
    assert_eq!(
        history[2]["actor_id"],
        json!(boss.id),
        "the admin is recorded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_illegal_transition_is_refused() {
    let app = TestApp::spawn().await;
    let product = app.create_product("T-1", 100, 1000).await;
    let boss = admin();
    let legal = [
        ("PENDING", "CONFIRMED"),
        ("PENDING", "CANCELLED"),
        ("CONFIRMED", "SHIPPED"),
        ("CONFIRMED", "CANCELLED"),
        ("SHIPPED", "DELIVERED"),
    ];
    for from in STATUSES {
        for to in STATUSES {
            let order = app.placed(customer(), &[(&product, 1)]).await;
            let id = order["id"].as_str().expect("id");
            for step in path_to(from) {
                assert_eq!(
                    app.set_status(boss, id, step).await.0,
                    StatusCode::OK,
                    "{from} via {step}"
                );
            }
            let (status, body) = app.set_status(boss, id, to).await;
            if legal.contains(&(from, to)) {
                assert_eq!(
                    (status, body["status"].as_str()),
                    (StatusCode::OK, Some(to)),
                    "{from} → {to}"
                );
            } else {
                assert_eq!(
                    (status, code(&body)),
                    (StatusCode::CONFLICT, "INVALID_STATE"),
                    "{from} → {to}"
                );
                let (_, now) = app
                    .call(Method::GET, &format!("/v1/orders/{id}"), Some(boss), None)
                    .await;
                assert_eq!(
                    now["status"].as_str(),
                    Some(from),
                    "a refused change changes nothing"
                );
            }
        }
    }
    // A shipped order cannot be cancelled by its owner either.
    let buyer = customer();
    let order = app.placed(buyer, &[(&product, 1)]).await;
    let id = order["id"].as_str().expect("id");
    for step in ["CONFIRMED", "SHIPPED"] {
        app.set_status(boss, id, step).await;
    }
    assert_eq!(code(&app.cancel(buyer, id).await.1), "INVALID_STATE");
    // Of 26 orders, 7 were cancelled (5 on the way to "from CANCELLED", 2 legal cancellations): only theirs came back.
    assert_eq!(app.stock_of(&product).await, 1000 - 26 + 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_reach_only_their_own_orders() {
    let app = TestApp::spawn().await;
    let product = app.create_product("O-1", 100, 10).await;
    let (owner, stranger) = (customer(), customer());
    let order = app.placed(owner, &[(&product, 2)]).await;
    let id = order["id"].as_str().expect("id");

    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}"),
            Some(stranger),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = app.cancel(stranger, id).await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}/history"),
            Some(stranger),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, page) = app
        .call(
            Method::GET,
            &format!("/v1/orders?user_id={}", owner.id),
            Some(stranger),
            None,
        )
        .await;
    assert_eq!(
        (status, page["total_count"].clone(), page["items"].clone()),
        (StatusCode::OK, json!(0), json!([]))
    );
    let (_, page) = app
        .call(Method::GET, "/v1/orders", Some(stranger), None)
        .await;
    assert_eq!(page["total_count"], json!(0));
    let (_, found) = app
        .call(
            Method::POST,
            "/v1/orders/lookup",
            Some(stranger),
            Some(json!({ "ids": [id] })),
        )
        .await;
    assert_eq!(found["items"], json!([]));
    let (status, problem) = app.set_status(stranger, id, "CANCELLED").await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, "FORBIDDEN")
    );
    assert_eq!(
        app.stock_of(&product).await,
        8,
        "nothing the stranger did restocked"
    );

    let (_, found) = app
        .call(
            Method::POST,
            "/v1/orders/lookup",
            Some(owner),
            Some(json!({ "ids": [id] })),
        )
        .await;
    assert_eq!(found["items"][0]["id"].as_str(), Some(id));
    let (status, fetched) = app
        .call(
            Method::GET,
            &format!("/v1/orders/{id}"),
            Some(admin()),
            None,
        )
        .await;
    assert_eq!((status, fetched["id"].as_str()), (StatusCode::OK, Some(id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancellation_while_product_core_is_down_restocks_later() {
    let app = TestApp::spawn().await;
    let product = app.create_product("R-1", 100, 10).await;
    let buyer = customer();
    let order = app.placed(buyer, &[(&product, 5)]).await;
    let id = order["id"].as_str().expect("id");

    // A second order-core over the same database, whose product-core is unreachable.
    let offline = order_core::build(&crate::helpers::order_config(
        &app.db,
        &crate::helpers::closed_port_url().await,
    ))
    .await
    .expect("build");
    let offline = quickmart_shared::testing::spawn_router(offline).await;
    let (status, cancelled) = app
        .request(
            &offline,
            Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            Some(buyer),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (status, cancelled["status"].clone()),
        (StatusCode::OK, json!("CANCELLED")),
        "the cancellation stands"
    );
    assert_eq!(app.stock_of(&product).await, 5, "the stock is not back yet");

    let done = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(
        done,
        Reconciled {
            released: 1,
            ..Reconciled::default()
        }
    );
    assert_eq!(app.stock_of(&product).await, 10);
    let again = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(again, Reconciled::default(), "released exactly once");
    assert_eq!(app.stock_of(&product).await, 10);
}
