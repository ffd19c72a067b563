//! The reconciler cleans up claims abandoned by a crash between reserving and writing the order.

use std::time::Duration;

use order_core::reconciler::{Reconciled, reconcile_once};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, customer, sorted};

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_claim_is_deleted_and_its_reservation_released() {
    let app = TestApp::spawn().await;
    let product = app.create_product("AB-1", 100, 10).await;
    // What a crash right after step 2 leaves behind: a reservation and a PLACING claim naming it.
    let reservation = Uuid::now_v7();
    let (status, _) = app
        .request(
            &app.product.url,
            Method::POST,
            "/v1/reservations",
            None,
            &[],
            Some(json!({ "id": reservation, "lines": [{ "product_id": product, "quantity": 4 }] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let buyer = customer();
    app.execute(&format!(
        "INSERT INTO orders (id, user_id, status, currency, idempotency_key, request_hash, reservation_id, created_at) \
         VALUES (gen_random_uuid(), '{}', 'PLACING', 'USD', 'crashed', 'h', '{reservation}', now() - interval '1 hour')",
        buyer.id
    ))
    .await;
    // A claim younger than the TTL may still be running: it is left alone.
    app.execute(&format!(
        "INSERT INTO orders (id, user_id, status, currency, idempotency_key, request_hash, reservation_id) \
         VALUES (gen_random_uuid(), '{}', 'PLACING', 'USD', 'running', 'h', gen_random_uuid())",
        buyer.id
    ))
    .await;
    assert_eq!(app.stock_of(&product).await, 6);

    let done = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(
        done,
        Reconciled {
            abandoned_claims: 1,
            ..Reconciled::default()
        }
    );
    assert_eq!(app.stock_of(&product).await, 10);
    assert_eq!(
        sorted(app.reservations().await),
        vec![("RELEASED".to_owned(), 1)]
    );
    assert_eq!(app.order_rows().await, 1, "only the young claim is left");

    // The key of the abandoned claim is free again.
    let (status, _) = app.place(buyer, "crashed", &[(&product, 1)]).await;
    assert_eq!(status, StatusCode::CREATED);
}
