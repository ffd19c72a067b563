//! Starting product-core and order-core on random ports, each over its own fresh database.

use std::collections::HashMap;
use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use order_core::{AppState, Config, MIGRATIONS};
use product_core::testing::TestProductCore;
use quickmart_shared::auth::{Actor, Role};
use quickmart_shared::db::DbSettings;
use quickmart_shared::testing::{TestDatabase, spawn_router};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

pub(crate) const TOKEN: &str = "test-internal-token";
pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The secret test webhooks are signed with.
pub(crate) const WEBHOOK_SECRET: &str = "whsec_test_secret";

/// product-core, really running, over its own database.
pub(crate) type ProductCore = TestProductCore;

async fn product_core() -> ProductCore {
    TestProductCore::spawn(
        quickmart_shared::cache::CacheSettings::isolated(REDIS_URL),
        TOKEN,
    )
    .await
}

fn settings(db: &TestDatabase) -> DbSettings {
    DbSettings {
        url: db.secret_url(),
        max_connections: 20,
        migrate_on_start: true,
        create_if_missing: false,
        checkout_timeout: std::time::Duration::from_secs(1),
    }
}

/// order-core's settings over `db`, calling product-core at `product_core_url`; the reconciler is left to tests.
pub(crate) fn order_config(db: &TestDatabase, product_core_url: &str) -> Config {
    Config {
        listen_addr: "127.0.0.1:0".parse().expect("addr"),
        database: settings(db),
        product_core_url: product_core_url.to_owned(),
        internal_token: SecretString::from(TOKEN),
        currency: "USD".into(),
        reservation_ttl: Duration::from_secs(900),
        reconcile_interval: Duration::from_secs(3600),
        guest_cart_ttl: Duration::from_secs(30 * 24 * 60 * 60),
        payment_provider: "test".into(),
        // Saved addresses are read from user-core; these tests send addresses inline (the e2e suite covers ids).
        user_core_url: "http://127.0.0.1:9".into(),
        webhook_secret: SecretString::from(WEBHOOK_SECRET),
    }
}

/// A URL where nothing listens: port 9 (discard), which no test server is given. A port bound and freed here
/// could be handed to another test's server a moment later, and the call would reach it.
pub(crate) async fn closed_port_url() -> String {
    "http://127.0.0.1:9".to_owned()
}

pub(crate) fn customer() -> Actor {
    Actor {
        id: Uuid::now_v7(),
        role: Role::Customer,
    }
}

pub(crate) fn admin() -> Actor {
    Actor {
        id: Uuid::now_v7(),
        role: Role::Admin,
    }
}

pub(crate) struct TestApp {
    /// order-core's base URL.
    pub base: String,
    pub http: reqwest::Client,
    /// order-core's state (for running the reconciler by hand).
    pub state: AppState,
    pub product: ProductCore,
    pub db: TestDatabase,
}

impl TestApp {
    /// product-core and order-core, both running.
    pub(crate) async fn spawn() -> Self {
        let product = product_core().await;
        let url = product.url.clone();
        Self::spawn_calling(product, &url).await
    }

    /// product-core running (for setting up and reading stock), but order-core pointed at a closed port.
    pub(crate) async fn spawn_with_product_core_unreachable() -> Self {
        let product = product_core().await;
        Self::spawn_calling(product, &closed_port_url().await).await
    }

    async fn spawn_calling(product: ProductCore, product_core_url: &str) -> Self {
        let db = TestDatabase::create("order", MIGRATIONS).await;
        let config = order_config(&db, product_core_url);
        let base = spawn_router(order_core::build(&config).await.expect("build order-core")).await;
        let state =
            order_core::state(&order_config(&db, &product.url), db.pool.clone()).expect("state");
        Self {
            base,
            http: reqwest::Client::new(),
            state,
            product,
            db,
        }
    }

    pub(crate) async fn request(
        &self,
        base: &str,
        method: Method,
        path: &str,
        actor: Option<Actor>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{base}{path}"))
            .header("x-internal-token", TOKEN);
        if let Some(actor) = actor {
            request = request.header(
                quickmart_shared::internal::ACTOR_HEADER,
                quickmart_shared::internal::ActorHeaders::value(&actor),
            );
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
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

    /// A call to order-core.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        actor: Option<Actor>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.request(&self.base, method, path, actor, &[], body)
            .await
    }

    /// `POST /v1/orders` with `items` as `[(product id, quantity)]`.
    pub(crate) async fn place(
        &self,
        buyer: Actor,
        key: &str,
        items: &[(&str, i64)],
    ) -> (StatusCode, Value) {
        let items: Vec<Value> = items
            .iter()
            .map(|(p, q)| json!({ "product_id": p, "quantity": q }))
            .collect();
        self.place_body(buyer, key, json!({ "items": items })).await
    }

    pub(crate) async fn place_body(
        &self,
        buyer: Actor,
        key: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.request(
            &self.base,
            Method::POST,
            "/v1/orders",
            Some(buyer),
            &[("idempotency-key", key)],
            Some(body),
        )
        .await
    }

    /// Places an order that must succeed; returns it.
    pub(crate) async fn placed(&self, buyer: Actor, items: &[(&str, i64)]) -> Value {
        let (status, order) = self.place(buyer, &Uuid::new_v4().to_string(), items).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        order
    }

    pub(crate) async fn set_status(
        &self,
        actor: Actor,
        id: &str,
        status: &str,
    ) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/v1/orders/{id}/status"),
            Some(actor),
            Some(json!({ "status": status })),
        )
        .await
    }

    pub(crate) async fn cancel(&self, actor: Actor, id: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            Some(actor),
            None,
        )
        .await
    }

    /// A product in product-core; returns its id.
    pub(crate) async fn create_product(&self, sku: &str, price: i64, stock: i64) -> String {
        let body =
            json!({ "sku": sku, "name": format!("Product {sku}"), "price": price, "stock": stock });
        let (status, product) = self
            .request(
                &self.product.url,
                Method::POST,
                "/v1/products",
                None,
                &[],
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{product}");
        product["id"].as_str().expect("id").to_owned()
    }

    pub(crate) async fn deactivate(&self, product_id: &str) {
        let path = format!("/v1/products/{product_id}");
        let (status, body) = self
            .request(
                &self.product.url,
                Method::PATCH,
                &path,
                None,
                &[],
                Some(json!({ "active": false })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub(crate) async fn stock_of(&self, product_id: &str) -> i64 {
        let (status, body) = self
            .request(
                &self.product.url,
                Method::GET,
                &format!("/v1/products/{product_id}"),
                None,
                &[],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["stock"].as_i64().expect("stock")
    }

    /// Rows in the orders table, claims included.
    pub(crate) async fn order_rows(&self) -> i64 {
        count(&self.db, "SELECT count(*) AS n FROM orders").await
    }

    /// The `n` of a one-row query on order-core's database.
    pub(crate) async fn scalar(&self, sql: &str) -> i64 {
        count(&self.db, sql).await
    }

    /// product-core's reservations by status.
    pub(crate) async fn reservations(&self) -> HashMap<String, i64> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.product.db.pool.get().await.expect("conn");
        let rows: Vec<Row> =
            diesel::sql_query("SELECT status, count(*) AS n FROM reservations GROUP BY status")
                .load(&mut *conn)
                .await
                .expect("count reservations");
        rows.into_iter().map(|r| (r.status, r.n)).collect()
    }

    /// Runs SQL on order-core's database (test set-up only).
    pub(crate) async fn execute(&self, sql: &str) {
        let mut conn = self.db.pool.get().await.expect("conn");
        diesel::sql_query(sql)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.pool.get().await.expect("conn");
    diesel::sql_query(sql)
        .get_result::<Count>(&mut *conn)
        .await
        .expect("count")
        .n
}

/// The first field a problem document names.
pub(crate) fn problem_field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or_default()
}

/// The `code` of a problem document.
pub(crate) fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

/// A reservation map as `[(status, count)]`, sorted, for comparisons.
pub(crate) fn sorted(map: HashMap<String, i64>) -> Vec<(String, i64)> {
    let mut entries: Vec<_> = map.into_iter().collect();
    entries.sort();
    entries
}
