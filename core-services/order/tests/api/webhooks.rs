//! The payment webhook: signed, fresh, applied once; the sweeper of unpaid orders; refunds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use order_core::reconciler::reconcile_once;
use order_core::webhooks::sign;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{TestApp, WEBHOOK_SECRET, admin};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

impl TestApp {
    /// Posts `event` with `signature` (`None`: signed correctly now), without the internal token.
    async fn webhook(&self, event: &Value, signature: Option<String>) -> StatusCode {
        let body = serde_json::to_vec(event).expect("json");
        let signature = signature.unwrap_or_else(|| {
            let t = now();
            format!(
                "t={t},v1={}",
                sign(&SecretString::from(WEBHOOK_SECRET), t, &body)
            )
        });
        self.http
            .post(format!("{}/webhooks/payments", self.base))
            .header("quickmart-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("webhook")
            .status()
    }

    async fn order(&self, id: &str) -> Value {
        let (status, order) = self
            .call(
                Method::GET,
                &format!("/v1/orders/{id}"),
                Some(admin()),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{order}");
        order
    }

    /// A `tok_delayed` checkout of 2 units of a new product with 10 in stock: (order, product).
    async fn delayed_order(&self, sku: &str) -> (Value, String) {
        let product = self.create_product(sku, 500, 10).await;
        let buyer = self.shopper(&[(&product, 2)]).await;
        let (status, order) = self.checkout(buyer, "delayed", "tok_delayed").await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        (order, product)
    }
}

fn event(id: &str, kind: &str, order: &Value) -> Value {
    json!({ "id": id, "type": kind, "reference": order["payment"]["reference"] })
}

#[tokio::test]
async fn a_signed_success_confirms_and_a_replay_or_a_forgery_changes_nothing() {
    let app = TestApp::spawn().await;
    let (order, product) = app.delayed_order("TEA").await;
    let id = order["id"].as_str().expect("id");
    let success = event("evt_1", "payment.succeeded", &order);

    // Refused, and nothing changes: unsigned, signed with another secret, stale, future, for another body.
    let body = serde_json::to_vec(&success).expect("json");
    let t = now();
    let forged = [
        String::new(),
        format!("t={t},v1={}", sign(&SecretString::from("guess"), t, &body)),
        format!(
            "t={},v1={}",
            t - 301,
            sign(&SecretString::from(WEBHOOK_SECRET), t - 301, &body)
        ),
        format!(
            "t={},v1={}",
            t + 301,
            sign(&SecretString::from(WEBHOOK_SECRET), t + 301, &body)
        ),
        format!(
            "t={t},v1={}",
            sign(&SecretString::from(WEBHOOK_SECRET), t, b"{}")
        ),
        format!("t={t},v1={}", "0".repeat(64)),
    ];
    for signature in forged {
        assert_eq!(
            app.webhook(&success, Some(signature.clone())).await,
            StatusCode::UNAUTHORIZED,
            "{signature}"
        );
    }
    assert_eq!(app.order(id).await["status"], "PENDING");

    assert_eq!(app.webhook(&success, None).await, StatusCode::NO_CONTENT);
    let confirmed = app.order(id).await;
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert_eq!(confirmed["payment"]["status"], "CAPTURED");

    // The same event again, and a late failure for the same payment: nothing changes.
    assert_eq!(app.webhook(&success, None).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.webhook(&event("evt_2", "payment.failed", &order), None)
            .await,
        StatusCode::NO_CONTENT
    );
    let after = app.order(id).await;
    assert_eq!(
        (
            after["status"].as_str(),
            after["payment"]["status"].as_str()
        ),
        (Some("CONFIRMED"), Some("CAPTURED"))
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM order_status_history WHERE order_id = '{id}'"
        ))
        .await,
        2
    );
    assert_eq!(app.stock_of(&product).await, 8);

    // Unknown payments and bad events are refused.
    assert_eq!(
        app.webhook(
            &json!({ "id": "evt_3", "type": "payment.succeeded", "reference": "test_nothing" }),
            None
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.webhook(
            &json!({ "id": "evt_4", "type": "payment.refunded", "reference": "x" }),
            None
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let huge =
        json!({ "id": "evt_5", "type": "payment.succeeded", "reference": "r".repeat(20_000) });
    assert_eq!(
        app.webhook(&huge, None).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn a_failed_payment_cancels_and_restocks() {
    let app = TestApp::spawn().await;
    let (order, product) = app.delayed_order("TEA").await;
    assert_eq!(
        app.webhook(&event("evt_f", "payment.failed", &order), None)
            .await,
        StatusCode::NO_CONTENT
    );
    let cancelled = app.order(order["id"].as_str().expect("id")).await;
    assert_eq!(
        (
            cancelled["status"].as_str(),
            cancelled["payment"]["status"].as_str()
        ),
        (Some("CANCELLED"), Some("FAILED"))
    );
    assert_eq!(app.stock_of(&product).await, 10);
}

#[tokio::test]
async fn an_unpaid_order_past_the_ttl_is_cancelled_and_a_late_success_refunds() {
    let app = TestApp::spawn().await;
    let (order, product) = app.delayed_order("TEA").await;
    let (young, _) = app.delayed_order("MUG").await;
    let id = order["id"].as_str().expect("id");
    app.execute(&format!(
        "UPDATE payments SET created_at = now() - interval '16 minutes' WHERE order_id = '{id}'"
    ))
    .await;
    let done = reconcile_once(&app.state, Duration::from_secs(30))
        .await
        .expect("reconcile");
    assert_eq!(done.unpaid_cancelled, 1);
    assert_eq!(app.order(id).await["status"], "CANCELLED");
    assert_eq!(app.stock_of(&product).await, 10, "restocked");
    assert_eq!(
        app.order(young["id"].as_str().expect("id")).await["status"],
        "PENDING",
        "the young one waits"
    );
    let again = reconcile_once(&app.state, Duration::from_secs(30))
        .await
        .expect("reconcile");
    assert_eq!(again.unpaid_cancelled, 0, "once");

    assert_eq!(
        app.webhook(&event("evt_late", "payment.succeeded", &order), None)
            .await,
        StatusCode::NO_CONTENT
    );
    let late = app.order(id).await;
    assert_eq!(
        (late["status"].as_str(), late["payment"]["status"].as_str()),
        (Some("CANCELLED"), Some("REFUNDED"))
    );
    assert_eq!(app.stock_of(&product).await, 10);
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_and_restocks_exactly_once() {
    let app = TestApp::spawn().await;
    let product = app.create_product("TEA", 500, 10).await;
    let buyer = app.shopper(&[(&product, 3)]).await;
    let (_, order) = app.checkout(buyer, "paid", "tok_success").await;
    let id = order["id"].as_str().expect("id").to_owned();
    assert_eq!(app.stock_of(&product).await, 7);
    let cancels = (0..8).map(|_| app.cancel(buyer, &id));
    let statuses: Vec<StatusCode> = futures::future::join_all(cancels)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    let cancelled = app.order(&id).await;
    assert_eq!(
        (
            cancelled["status"].as_str(),
            cancelled["payment"]["status"].as_str()
        ),
        (Some("CANCELLED"), Some("REFUNDED"))
    );
    assert_eq!(app.stock_of(&product).await, 10, "restocked once");
}

#[test]
fn production_refuses_the_test_provider_unless_allowed_and_the_dev_webhook_secret() {
    let production = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![
            ("QUICKMART_ENV", "production"),
            ("ORDER_DATABASE_URL", "postgres://db/quickmart_order"),
            ("INTERNAL_API_TOKEN", "a-long-enough-production-token"),
        ];
        pairs.extend_from_slice(extra);
        let env = quickmart_shared::config::Env::from_pairs(pairs).expect("env");
        order_core::Config::from_env(&env)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let refused = production(&[("PAYMENT_WEBHOOK_SECRET", "a-real-webhook-secret")])
        .expect_err("test provider");
    assert!(refused.contains("PAYMENT_PROVIDER"), "{refused}");
    let refused = production(&[
        ("PAYMENT_ALLOW_TEST_PROVIDER", "true"),
        ("PAYMENT_WEBHOOK_SECRET", order_core::DEV_WEBHOOK_SECRET),
    ])
    .expect_err("dev secret");
    assert!(refused.contains("PAYMENT_WEBHOOK_SECRET"), "{refused}");
    let refused = production(&[("PAYMENT_ALLOW_TEST_PROVIDER", "true")]).expect_err("no secret");
    assert!(refused.contains("PAYMENT_WEBHOOK_SECRET"), "{refused}");
    let refused = production(&[("PAYMENT_PROVIDER", "stripe")]).expect_err("unknown provider");
    assert!(refused.contains("PAYMENT_PROVIDER"), "{refused}");
    assert_eq!(
        production(&[
            ("PAYMENT_ALLOW_TEST_PROVIDER", "true"),
            ("PAYMENT_WEBHOOK_SECRET", "a-real-webhook-secret"),
        ]),
        Ok(())
    );
}
