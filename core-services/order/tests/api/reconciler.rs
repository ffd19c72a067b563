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

/// A claim whose reservation product-core never saw (the placement crashed before reserving, or the product
/// database was restored from before it): product-core's release of an unknown id succeeds (nothing is held),
/// so the claim goes and its key is free (k8s/README.md, "Back up").
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_whose_reservation_product_core_does_not_know_is_deleted() {
    let app = TestApp::spawn().await;
    let product = app.create_product("AB-2", 100, 10).await;
    let buyer = customer();
    app.execute(&format!(
        "INSERT INTO orders (id, user_id, status, currency, idempotency_key, request_hash, reservation_id, created_at) \
         VALUES (gen_random_uuid(), '{}', 'PLACING', 'USD', 'never-reserved', 'h', gen_random_uuid(), now() - interval '1 hour')",
        buyer.id
    ))
    .await;
    let done = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(done.abandoned_claims, 1, "{done:?}");
    assert_eq!(app.order_rows().await, 0);
    assert_eq!(
        app.stock_of(&product).await,
        10,
        "nothing was held, nothing restocked"
    );
    let (status, _) = app.place(buyer, "never-reserved", &[(&product, 1)]).await;
    assert_eq!(status, StatusCode::CREATED, "the key is free again");
}

/// After a restore that left the product database older than the order database, a placed order whose commit
/// was never confirmed points at a reservation product-core does not know: the reconciler cancels it (its stock
/// is not held) instead of retrying the commit on every pass, and a second pass changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_placed_order_whose_reservation_is_gone_after_a_restore_is_cancelled() {
    let app = TestApp::spawn().await;
    let product = app.create_product("AB-3", 100, 10).await;
    let order = app.placed(customer(), &[(&product, 2)]).await;
    let id = order["id"].as_str().expect("id").to_owned();
    // As the order database holds it after such a restore: unsettled, naming a reservation product-core lost.
    app.execute(&format!(
        "UPDATE orders SET reservation_status = 'HELD', reservation_id = gen_random_uuid(), \
         updated_at = now() - interval '1 hour' WHERE id = '{id}'"
    ))
    .await;
    let done = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(done.expired, 1, "{done:?}");
    let again = reconcile_once(&app.state, Duration::ZERO)
        .await
        .expect("reconcile");
    assert_eq!(again, Reconciled::default(), "settled: nothing left to do");
    let (status, body) = app
        .call(Method::GET, &format!("/v1/orders/{id}"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "CANCELLED", "{body}");
}
