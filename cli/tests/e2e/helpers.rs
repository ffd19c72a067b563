//! Starting the whole stack for one test and talking to its gateway.

use std::time::Duration;

use quickmart::stack::Stack;
use quickmart_shared::ServiceId;
use quickmart_shared::auth::generate_key_pair;
use quickmart_shared::config::Env;
use quickmart_shared::testing::TestDatabase;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

pub(crate) const ADMIN_EMAIL: &str = "admin@e2e.test";
pub(crate) const ADMIN_PASSWORD: &str = "e2e-admin-password-1";

pub(crate) struct TestSystem {
    pub gateway: String,
    pub http: reqwest::Client,
    /// What it was started with, for a replica of it.
    env: Env,
    /// Dropping it aborts every service; then the databases are dropped (with FORCE).
    _stack: Stack,
    _databases: Vec<TestDatabase>,
}

impl TestSystem {
    /// The whole stack over fresh databases on the test server.
    pub(crate) async fn start() -> Self {
        let user = TestDatabase::create("e2e_user", user_core::MIGRATIONS).await;
        let product = TestDatabase::create("e2e_product", product_core::MIGRATIONS).await;
        let order = TestDatabase::create("e2e_order", order_core::MIGRATIONS).await;
        let urls = [user.url.clone(), product.url.clone(), order.url.clone()];
        Self::start_over(urls, vec![user, product, order]).await
    }

    /// The whole stack over databases it creates on `server` (a private PostgreSQL a fault test may stop).
    pub(crate) async fn start_on(server: &str) -> Self {
        let urls = ServiceId::CORES.map(|core| {
            core.database()
                .map(|db| format!("{server}/{}", db.name))
                .unwrap_or_default()
        });
        Self::start_over(urls, Vec::new()).await
    }

    async fn start_over(database_urls: [String; 3], databases: Vec<TestDatabase>) -> Self {
        let [user, product, order] = database_urls;
        let (private, public) = generate_key_pair().expect("keys");
        let mut env = Env::from_pairs::<String, String>([
            ("USER_DATABASE_URL".into(), user),
            ("PRODUCT_DATABASE_URL".into(), product),
            ("ORDER_DATABASE_URL".into(), order),
            ("REDIS_URL".into(), "redis://127.0.0.1:6379".into()),
            (
                "CACHE_NAMESPACE".into(),
                format!("e2e-{}:", uuid::Uuid::new_v4().simple()),
            ),
            ("INTERNAL_API_TOKEN".into(), "e2e-internal-token".into()),
            ("JWT_PRIVATE_KEY".into(), private.expose_secret().to_owned()),
            ("JWT_PUBLIC_KEYS".into(), public),
            ("QUICKMART_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
            ("QUICKMART_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ])
        .expect("env");
        for service in ServiceId::ALL {
            env.set(service.listen_variable(), "127.0.0.1:0");
        }
        Self::serve(env, databases).await
    }

    async fn serve(env: Env, databases: Vec<TestDatabase>) -> Self {
        let stack = Stack::start(env.clone()).await.expect("start the stack");
        stack
            .wait_until_ready(Duration::from_secs(30))
            .await
            .expect("ready");
        Self {
            gateway: format!("{}/graphql", stack.url(ServiceId::Gateway)),
            http: reqwest::Client::new(),
            env,
            _stack: stack,
            _databases: databases,
        }
    }

    /// A second complete set of services over the same databases, Redis namespace and keys, on ports of its
    /// own: another replica of every service, as a deployment of two runs them.
    pub(crate) async fn replica(&self) -> Self {
        Self::serve(self.env.clone(), Vec::new()).await
    }

    /// Sends an operation to the gateway, with a bearer token when given.
    pub(crate) async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = self
            .http
            .post(&self.gateway)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        response.json().await.expect("json")
    }

    /// Like [`graphql`](Self::graphql), failing the test on any error.
    pub(crate) async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.graphql(token, query, variables).await;
        assert!(response["errors"].is_null(), "{query}\n→ {response:#}");
        response["data"].clone()
    }

    /// The admin's access token.
    pub(crate) async fn admin_token(&self) -> String {
        let data = self
            .ok(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
            )
            .await;
        data["login"]["accessToken"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Registers a customer; returns (access token, user id).
    pub(crate) async fn customer(&self, name: &str) -> (String, String) {
        let email = format!("{name}-{}@e2e.test", uuid::Uuid::new_v4().simple());
        let data = self
            .ok(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }",
                json!({ "input": { "email": email, "password": "customer-pass-42", "name": name } }),
            )
            .await;
        (
            data["register"]["accessToken"]
                .as_str()
                .expect("token")
                .to_owned(),
            data["register"]["user"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        )
    }

    /// Creates a category and products as the admin; returns (category id, product ids).
    pub(crate) async fn catalog(
        &self,
        admin: &str,
        slug: &str,
        products: &[(&str, i64, i64)],
    ) -> (String, Vec<String>) {
        let category = self
            .ok(
                Some(admin),
                "mutation($i: CreateCategoryInput!) { createCategory(input: $i) { id } }",
                json!({ "i": { "name": slug, "slug": slug } }),
            )
            .await["createCategory"]["id"]
            .as_str()
            .expect("category")
            .to_owned();
        let mut ids = Vec::new();
        for (sku, price, stock) in products {
            let created = self
                .ok(
                    Some(admin),
                    "mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }",
                    json!({ "i": { "sku": sku, "name": format!("Item {sku}"), "description": "e2e", "price": price,
                                   "stock": stock, "categoryId": category } }),
                )
                .await;
            ids.push(
                created["createProduct"]["id"]
                    .as_str()
                    .expect("product")
                    .to_owned(),
            );
        }
        (category, ids)
    }

    /// A product's stock once it reads `expected`, or whatever it reads after the invalidation window (2 s):
    /// order-core changes stock in product-core, and the product subgraph's near copy hears of it on the
    /// invalidation channel, within milliseconds rather than at once.
    pub(crate) async fn stock_within_the_window(&self, product: &str, expected: i64) -> i64 {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            let stock = self.stock(product).await;
            if stock == expected || std::time::Instant::now() > deadline {
                return stock;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A product's current stock, as anyone sees it.
    pub(crate) async fn stock(&self, product: &str) -> i64 {
        self.ok(
            None,
            "query($id: ID!) { product(id: $id) { stock } }",
            json!({ "id": product }),
        )
        .await["product"]["stock"]
            .as_i64()
            .expect("stock")
    }
}

/// The `extensions.code` of the first error.
pub(crate) fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}
