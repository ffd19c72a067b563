//! Reservations: atomic, concurrent-safe, released exactly once, swept when expired; cache invalidation.

use std::sync::Arc;

use product_contract::cache::{PRODUCT_TTL, product_key};
use quickmart_shared::cache::Cache;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::helpers::{TestApp, problem_field};

fn id_of(product: &Value) -> String {
    product["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn forty_concurrent_reservations_against_ten_units() {
    let app = Arc::new(TestApp::spawn().await);
    let product = id_of(&app.create_product("HOT-1", 100, 10).await);
    let barrier = Arc::new(Barrier::new(40));
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (app, barrier, product) = (Arc::clone(&app), Arc::clone(&barrier), product.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                app.post(
                    "/v1/reservations",
                    json!({ "lines": [{ "product_id": product, "quantity": 1 }] }),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    let mut out_of_stock = 0;
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match (status, body["code"].as_str()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, Some("OUT_OF_STOCK")) => {
                assert_eq!(body["productId"].as_str(), Some(product.as_str()));
                out_of_stock += 1;
            }
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    assert_eq!((created, out_of_stock), (10, 30));
    assert_eq!(app.stock_of(&product).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_line_reserves_nothing() {
    let app = TestApp::spawn().await;
    let plenty = id_of(&app.create_product("P-1", 250, 10).await);
    let scarce = id_of(&app.create_product("P-2", 100, 1).await);
    let (status, problem) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": plenty, "quantity": 3 }, { "product_id": scarce, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("OUT_OF_STOCK"))
    );
    assert_eq!(problem["productId"].as_str(), Some(scarce.as_str()));
    assert_eq!(
        (app.stock_of(&plenty).await, app.stock_of(&scarce).await),
        (10, 1)
    );

    let (status, problem) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": plenty, "quantity": 1 }, { "product_id": plenty, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "lines[1].product_id")
    );
    let (status, problem) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": plenty, "quantity": 0 }] }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "lines[0].quantity")
    );
    let (status, problem) = app
        .post("/v1/reservations", json!({ "lines": [{ "product_id": plenty, "quantity": 1 }, { "product_id": Uuid::now_v7(), "quantity": 1 }] }))
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "lines[1].product_id")
    );
    assert_eq!(app.stock_of(&plenty).await, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn reserve_commit_release_exactly_once() {
    let app = TestApp::spawn().await;
    let product = id_of(&app.create_product("R-1", 1234, 5).await);
    let (status, reservation) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": product, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reservation}");
    assert_eq!(reservation["status"], json!("HELD"));
    assert_eq!(reservation["lines"][0]["unit_price"], json!(1234));
    assert_eq!(reservation["lines"][0]["sku"], json!("R-1"));
    let id = id_of(&reservation);
    assert_eq!(app.stock_of(&product).await, 3);

    for _ in 0..2 {
        let (status, committed) = app
            .post(&format!("/v1/reservations/{id}/commit"), json!({}))
            .await;
        assert_eq!(
            (status, committed["status"].clone()),
            (StatusCode::OK, json!("COMMITTED"))
        );
    }
    for _ in 0..2 {
        let (status, released) = app
            .post(&format!("/v1/reservations/{id}/release"), json!({}))
            .await;
        assert_eq!(
            (status, released["status"].clone()),
            (StatusCode::OK, json!("RELEASED"))
        );
    }
    assert_eq!(app.stock_of(&product).await, 5);
    let (status, problem) = app
        .post(&format!("/v1/reservations/{id}/commit"), json!({}))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("INVALID_STATE"))
    );
    let (status, _) = app
        .post(
            &format!("/v1/reservations/{}/release", Uuid::now_v7()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_reservation_holds_stock_once() {
    let app = TestApp::spawn().await;
    let product = id_of(&app.create_product("I-1", 100, 5).await);
    let id = Uuid::now_v7();
    let request = json!({ "id": id, "lines": [{ "product_id": product, "quantity": 2 }] });
    let (first, _) = app.post("/v1/reservations", request.clone()).await;
    let (again, body) = app.post("/v1/reservations", request).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(body["id"], json!(id));
    assert_eq!(app.stock_of(&product).await, 3);
    let (status, problem) = app
        .post(
            "/v1/reservations",
            json!({ "id": id, "lines": [{ "product_id": product, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("CONFLICT"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweeper_releases_expired_uncommitted_reservations() {
    let app = TestApp::spawn().await;
    let product = id_of(&app.create_product("SW-1", 100, 5).await);
    let (_, expiring) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": product, "quantity": 2 }], "ttl_seconds": 1 }),
        )
        .await;
    let (_, kept) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": product, "quantity": 1 }], "ttl_seconds": 1 }),
        )
        .await;
    let (status, _) = app
        .post(
            &format!("/v1/reservations/{}/commit", id_of(&kept)),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.stock_of(&product).await, 2);
    // Wait out the one-second TTL, then sweep as the background task would.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let released = product_core::sweeper::sweep_once(&app.state)
        .await
        .expect("sweep");
    assert_eq!(released, 1);
    assert_eq!(app.stock_of(&product).await, 4);
    let (_, after) = app
        .get(&format!("/v1/reservations/{}", id_of(&expiring)))
        .await;
    assert_eq!(after["status"], json!("RELEASED"));
    let (_, after) = app.get(&format!("/v1/reservations/{}", id_of(&kept))).await;
    assert_eq!(after["status"], json!("COMMITTED"));
    assert_eq!(
        product_core::sweeper::sweep_once(&app.state)
            .await
            .expect("sweep"),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_changes_invalidate_the_cached_product() {
    let app = TestApp::spawn().await;
    let product = app.create_product("CA-1", 100, 5).await;
    let id: Uuid = product["id"].as_str().expect("id").parse().expect("uuid");
    let cache: &Cache = &app.state.cache;
    let key = product_key(id);
    let seed = || async { cache.set_json(&key, &product, PRODUCT_TTL).await };

    seed().await;
    assert!(
        cache.get_json::<Value>(&key).await.is_some(),
        "Redis must be up for this test"
    );
    let (_, reservation) = app
        .post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": id, "quantity": 1 }] }),
        )
        .await;
    assert!(cache.get_json::<Value>(&key).await.is_none(), "reservation");

    seed().await;
    app.post(
        &format!("/v1/reservations/{}/release", id_of(&reservation)),
        json!({}),
    )
    .await;
    assert!(cache.get_json::<Value>(&key).await.is_none(), "release");

    seed().await;
    app.post(
        &format!("/v1/products/{id}/stock-adjustments"),
        json!({ "delta": 1 }),
    )
    .await;
    assert!(cache.get_json::<Value>(&key).await.is_none(), "adjustment");
}

/// Every change bumps the product's version, whichever statement makes it: the cache's tombstones and
/// compare-and-set fills depend on it (a stale copy always carries an older version).
#[tokio::test]
async fn every_change_bumps_the_version() {
    let app = TestApp::spawn().await;
    let product = app.create_product("VER-1", 100, 5).await;
    assert_eq!(product["version"], 1);
    let id = product["id"].as_str().expect("id").to_owned();
    app.post(
        &format!("/v1/products/{id}/stock-adjustments"),
        json!({ "delta": 1 }),
    )
    .await;
    app.post(
        "/v1/reservations",
        json!({ "lines": [{ "product_id": id, "quantity": 2 }] }),
    )
    .await;
    let (_, now) = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(now["version"], 3, "{now}");
    assert_eq!(now["stock"], 4);
}
