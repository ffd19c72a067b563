//! Starting user-core for one test.

use quickmart_shared::config::Env;
use quickmart_shared::testing::{TestDatabase, spawn_router};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

/// The internal token the test servers use.
pub(crate) const TOKEN: &str = "test-internal-token";
/// A password that meets the policy.
pub(crate) const PASSWORD: &str = "Correct-Horse-42";

/// A running user-core and its database.
pub(crate) struct TestCore {
    pub url: String,
    pub db: TestDatabase,
    client: reqwest::Client,
}

impl TestCore {
    /// Starts user-core on a fresh database.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts user-core on a fresh database with extra environment variables.
    pub(crate) async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let db = TestDatabase::create("user", user_core::MIGRATIONS).await;
        let url = Self::start_on(&db, extra).await;
        Self {
            url,
            db,
            client: reqwest::Client::new(),
        }
    }

    /// Starts another user-core process on the same database (a restart or a second replica).
    pub(crate) async fn start_on(db: &TestDatabase, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("USER_DATABASE_URL", db.url.as_str()),
            ("INTERNAL_API_TOKEN", TOKEN),
        ];
        pairs.extend_from_slice(extra);
        let config =
            user_core::Config::from_env(&Env::from_pairs(pairs).expect("env")).expect("config");
        spawn_router(user_core::build(&config).await.expect("build")).await
    }

    /// A request with the internal token.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.url))
            .header("x-internal-token", TOKEN)
    }

    /// POSTs JSON with the internal token.
    pub(crate) async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// GETs with the internal token.
    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    /// Creates a customer and returns its JSON.
    pub(crate) async fn create_user(&self, email: &str) -> Value {
        let response = self
            .post(
                "/v1/users",
                json!({"email": email, "password": PASSWORD, "name": "Ada"}),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("json")
    }

    /// Starts a session for a user and returns its refresh token.
    pub(crate) async fn issue_token(&self, user_id: &str) -> String {
        let response = self
            .post("/v1/refresh-tokens", json!({"user_id": user_id}))
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        body["refresh_token"].as_str().expect("token").to_owned()
    }
}

/// A response's status and JSON body.
pub(crate) async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
