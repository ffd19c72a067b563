//! A product-core, a user-core (for the users behind the tokens) and a product subgraph on random ports, with
//! tokens for each role.

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::Next;
use product_core::testing::TestProductCore;
use quickmart_shared::auth::{
    ACCESS_TOKEN_TTL, Actor, DEFAULT_ISSUER, JwtSigner, KeyMaterial, Role, generate_key_pair,
};
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::testing::spawn_router;
use secrecy::SecretString;
use serde_json::{Value, json};
use user_core::testing::TestUserCore;

pub(crate) const TOKEN: &str = "test-internal-token";
pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub(crate) struct TestStack {
    pub core_url: String,
    pub subgraph_url: String,
    pub http: reqwest::Client,
    /// Paths (with their queries) of the requests product-core received, in order.
    pub core_requests: Arc<Mutex<Vec<String>>>,
    pub admin: String,
    pub customer: String,
    /// The user behind `admin`.
    pub admin_id: uuid::Uuid,
    /// Signs tokens the subgraph accepts.
    pub signer: JwtSigner,
    _core: TestProductCore,
    /// user-core, where the users behind the tokens exist.
    pub users: TestUserCore,
}

impl TestStack {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with_cache(CacheSettings::isolated(REDIS_URL)).await
    }

    pub(crate) async fn spawn_with_cache(cache: CacheSettings) -> Self {
        let core_requests = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::clone(&core_requests);
        let core = TestProductCore::spawn_wrapped(cache.clone(), TOKEN, move |router| {
            router.layer(axum::middleware::from_fn(
                move |request: Request, next: Next| {
                    recorder.lock().expect("lock").push(format!(
                        "{} {}",
                        request.method(),
                        request.uri().path_and_query().map_or("", |p| p.as_str())
                    ));
                    next.run(request)
                },
            ))
        })
        .await;
        let core_url = core.url.clone();
        let users = TestUserCore::spawn(&cache, TOKEN).await;

        let (private, public) = generate_key_pair().expect("keys");
        let signer =
            JwtSigner::from_pem(&private, DEFAULT_ISSUER, ACCESS_TOKEN_TTL).expect("signer");
        let config = product_subgraph::Config {
            listen_addr: "127.0.0.1:0".parse().expect("addr"),
            core_url: core_url.clone(),
            internal_token: SecretString::from(TOKEN),
            cache,
            keys: KeyMaterial {
                private_pem: None,
                public_pems: public,
                issuer: DEFAULT_ISSUER.into(),
                generated: false,
            },
            user_core_url: users.url.clone(),
        };
        let subgraph_url =
            spawn_router(product_subgraph::build(&config).await.expect("subgraph")).await;
        let admin_id = users.add_user(Role::Admin).await;
        let admin = signer
            .sign(
                Actor {
                    id: admin_id,
                    role: Role::Admin,
                },
                0,
            )
            .expect("token");
        let customer_id = users.add_user(Role::Customer).await;
        let customer = signer
            .sign(
                Actor {
                    id: customer_id,
                    role: Role::Customer,
                },
                0,
            )
            .expect("token");
        Self {
            core_url,
            subgraph_url,
            http: reqwest::Client::new(),
            core_requests,
            admin,
            customer,
            admin_id,
            signer,
            _core: core,
            users,
        }
    }

    /// Sends a GraphQL request, with a bearer token when given.
    pub(crate) async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.subgraph_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// Calls product-core directly.
    pub(crate) async fn core_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.core_url))
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

    /// Creates a product straight in product-core; returns its id.
    pub(crate) async fn seed_product(&self, sku: &str, price: i64, stock: i64) -> String {
        let body =
            json!({ "sku": sku, "name": format!("Product {sku}"), "price": price, "stock": stock });
        self.core_post("/v1/products", body).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Forgets the requests product-core received so far.
    pub(crate) fn reset_core_requests(&self) {
        self.core_requests.lock().expect("lock").clear();
    }

    /// The requests product-core received since the last reset.
    pub(crate) fn core_requests(&self) -> Vec<String> {
        self.core_requests.lock().expect("lock").clone()
    }
}

/// The `extensions.code` of the first error.
pub(crate) fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}
