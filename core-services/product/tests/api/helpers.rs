//! Starting product-core on a random port over a fresh database.

use std::sync::Arc;
use std::time::Duration;

use product_core::AppState;
use product_core::testing::TestProductCore;
use quickmart_shared::cache::CacheSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const TOKEN: &str = "test-internal-token";
pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub(crate) struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    /// Dropped with the app, which drops the database.
    _core: TestProductCore,
}

impl TestApp {
    pub(crate) async fn spawn() -> Self {
        let cache = CacheSettings::isolated(REDIS_URL);
        let core = TestProductCore::spawn(cache.clone(), TOKEN).await;
        let state = AppState {
            pool: core.db.pool.clone(),
            cache: cache.connect().expect("redis url"),
            currency: Arc::from("USD"),
            reservation_ttl: Duration::from_secs(900),
        };
        Self {
            base: core.url.clone(),
            http: reqwest::Client::new(),
            state,
            _core: core,
        }
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-internal-token", TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn create_category(&self, slug: &str) -> Value {
        let (status, body) = self
            .post(
                "/v1/categories",
                json!({ "name": slug.to_uppercase(), "slug": slug }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub(crate) async fn create_product(&self, sku: &str, price: i64, stock: i64) -> Value {
        let (status, body) = self
            .post(
                "/v1/products",
                json!({ "sku": sku, "name": format!("Product {sku}"), "price": price, "stock": stock }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub(crate) async fn stock_of(&self, id: &str) -> i64 {
        let (status, body) = self.get(&format!("/v1/products/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["stock"].as_i64().expect("stock")
    }
}

/// The first field a problem document names.
pub(crate) fn problem_field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or_default()
}
