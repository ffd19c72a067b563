//! product-core, order-core and the order subgraph on random ports, each core over its own fresh database;
//! tokens for any user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use product_core::testing::TestProductCore;
use quickmart_shared::auth::{
    ACCESS_TOKEN_TTL, Actor, DEFAULT_ISSUER, JwtSigner, KeyMaterial, Role, generate_key_pair,
};
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::db::DbSettings;
use quickmart_shared::testing::{TestDatabase, spawn_router};
use secrecy::SecretString;
use serde_json::{Value, json};
use user_core::testing::TestUserCore;
use uuid::Uuid;

pub(crate) const TOKEN: &str = "test-internal-token";
pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A signed-in user: who, and their bearer token.
#[derive(Clone)]
pub(crate) struct User {
    pub id: Uuid,
    pub token: String,
}

pub(crate) struct TestStack {
    pub product_core: String,
    /// `METHOD path` of every request order-core has served, oldest first.
    pub order_core_calls: Arc<Mutex<Vec<String>>>,
    pub subgraph: String,
    pub http: reqwest::Client,
    signer: JwtSigner,
    keys: KeyMaterial,
    cache: CacheSettings,
    pub product: TestProductCore,
    pub order_db: TestDatabase,
    /// user-core, where the users behind the tokens exist.
    pub users: TestUserCore,
}

fn settings(db: &TestDatabase) -> DbSettings {
    DbSettings {
        url: db.secret_url(),
        max_connections: 20,
        migrate_on_start: false,
        create_if_missing: false,
        checkout_timeout: std::time::Duration::from_secs(1),
    }
}

impl TestStack {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(false).await
    }

    /// The stack with order-core pointed at a closed port instead of product-core.
    pub(crate) async fn spawn_with_product_core_unreachable() -> Self {
        Self::spawn_with(true).await
    }

    async fn spawn_with(product_core_unreachable: bool) -> Self {
        let cache = CacheSettings::isolated(REDIS_URL);
        let product = TestProductCore::spawn(cache.clone(), TOKEN).await;
        let product_core = product.url.clone();

        let users = TestUserCore::spawn(&cache, TOKEN).await;
        let order_db = TestDatabase::create("order", order_core::MIGRATIONS).await;
        let product_core_url = if product_core_unreachable {
            // Port 9 (discard): no test server is ever given it, unlike a port bound and freed here.
            "http://127.0.0.1:9".to_owned()
        } else {
            product_core.clone()
        };
        let order_config = order_core::Config {
            listen_addr: "127.0.0.1:0".parse().expect("addr"),
            database: settings(&order_db),
            product_core_url,
            internal_token: SecretString::from(TOKEN),
            currency: "USD".into(),
            reservation_ttl: Duration::from_secs(900),
            reconcile_interval: Duration::from_secs(3600),
            guest_cart_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            payment_provider: "test".into(),
            user_core_url: users.url.clone(),
            webhook_secret: SecretString::from("whsec_test_secret"),
        };
        let order_core_calls = Arc::new(Mutex::new(Vec::new()));
        let recorded = order_core_calls.clone();
        let order_router = order_core::build(&order_config)
            .await
            .expect("order-core")
            .layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    recorded.lock().expect("lock").push(format!(
                        "{} {}",
                        request.method(),
                        request.uri()
                    ));
                    next.run(request)
                },
            ));
        let order_core = spawn_router(order_router).await;

        let (private, public) = generate_key_pair().expect("keys");
        let signer =
            JwtSigner::from_pem(&private, DEFAULT_ISSUER, ACCESS_TOKEN_TTL).expect("signer");
        let keys = KeyMaterial {
            private_pem: None,
            public_pems: public,
            issuer: DEFAULT_ISSUER.into(),
            generated: false,
        };
        let config = order_subgraph::Config {
            listen_addr: "127.0.0.1:0".parse().expect("addr"),
            core_url: order_core.clone(),
            internal_token: SecretString::from(TOKEN),
            keys: keys.clone(),
            cache: cache.clone(),
            user_core_url: users.url.clone(),
        };
        let subgraph = spawn_router(
            order_subgraph::build(&config)
                .await
                .expect("order-subgraph"),
        )
        .await;
        Self {
            product_core,
            order_core_calls,
            subgraph,
            http: reqwest::Client::new(),
            signer,
            keys,
            cache,
            product,
            order_db,
            users,
        }
    }

    /// A new user with `role`, signed in.
    pub(crate) async fn user(&self, role: Role) -> User {
        let id = self.users.add_user(role).await;
        User {
            id,
            token: self.signer.sign(Actor { id, role }, 0).expect("token"),
        }
    }

    pub(crate) async fn customer(&self) -> User {
        self.user(Role::Customer).await
    }

    pub(crate) async fn admin(&self) -> User {
        self.user(Role::Admin).await
    }

    /// Sends a GraphQL request to the order subgraph, as `user` when given.
    pub(crate) async fn graphql(
        &self,
        user: Option<&User>,
        query: &str,
        variables: Value,
    ) -> Value {
        graphql(&self.http, &self.subgraph, user, query, variables).await
    }

    /// `placeOrder` with `items` as `[(product id, quantity)]`; returns the whole response.
    pub(crate) async fn place(&self, user: &User, key: &str, items: &[(&str, i64)]) -> Value {
        let items: Vec<Value> = items
            .iter()
            .map(|(p, q)| json!({ "productId": p, "quantity": q }))
            .collect();
        self.graphql(
            Some(user),
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total { amount } } }",
            json!({ "input": { "items": items, "idempotencyKey": key } }),
        )
        .await
    }

    /// A product created straight in product-core; returns its id.
    pub(crate) async fn product(&self, sku: &str, price: i64, stock: i64) -> String {
        let body =
            json!({ "sku": sku, "name": format!("Product {sku}"), "price": price, "stock": stock });
        self.core(reqwest::Method::POST, "/v1/products", body).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    pub(crate) async fn deactivate(&self, product_id: &str) {
        self.core(
            reqwest::Method::PATCH,
            &format!("/v1/products/{product_id}"),
            json!({ "active": false }),
        )
        .await;
    }

    pub(crate) async fn stock_of(&self, product_id: &str) -> i64 {
        let response = self
            .http
            .get(format!("{}/v1/products/{product_id}", self.product_core))
            .header("x-internal-token", TOKEN)
            .send()
            .await
            .expect("request");
        response.json::<Value>().await.expect("json")["stock"]
            .as_i64()
            .expect("stock")
    }

    async fn core(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.product_core))
            .header("x-internal-token", TOKEN)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("json")
    }

    /// A product subgraph over the same product-core, verifying the same tokens (to resolve `Product`
    /// references the way the gateway would).
    pub(crate) async fn product_subgraph(&self) -> String {
        let config = product_subgraph::Config {
            listen_addr: "127.0.0.1:0".parse().expect("addr"),
            core_url: self.product_core.clone(),
            internal_token: SecretString::from(TOKEN),
            cache: self.cache.clone(),
            keys: self.keys.clone(),
            user_core_url: self.users.url.clone(),
        };
        spawn_router(
            product_subgraph::build(&config)
                .await
                .expect("product-subgraph"),
        )
        .await
    }

    /// Rows in the orders table, claims included.
    pub(crate) async fn order_rows(&self) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.order_db.pool.get().await.expect("conn");
        diesel::sql_query("SELECT count(*) AS n FROM orders")
            .get_result::<Count>(&mut *conn)
            .await
            .expect("count")
            .n
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
                .expect("reservations");
        rows.into_iter().map(|r| (r.status, r.n)).collect()
    }

    /// Runs SQL on order-core's database (test set-up only).
    pub(crate) async fn execute_on_orders(&self, sql: &str) {
        let mut conn = self.order_db.pool.get().await.expect("conn");
        diesel::sql_query(sql)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Sends a GraphQL request to `base`.
pub(crate) async fn graphql(
    http: &reqwest::Client,
    base: &str,
    user: Option<&User>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(user) = user {
        request = request.bearer_auth(&user.token);
    }
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

/// The `extensions.code` of the first error.
pub(crate) fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// The `extensions.field` of the first error.
pub(crate) fn error_field(response: &Value) -> &str {
    response["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
}
