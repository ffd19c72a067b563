//! Starting user-core and the user subgraph for one test, and talking GraphQL to it.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use quickmart_shared::config::Env;
use quickmart_shared::testing::{TestDatabase, spawn_router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// The internal token of the test servers.
pub(crate) const TOKEN: &str = "test-internal-token";
/// A password that meets the policy.
pub(crate) const PASSWORD: &str = "Correct-Horse-42";

/// An Ed25519 key pair as PEMs.
#[derive(Clone)]
pub(crate) struct Keys {
    pub private: SecretString,
    pub public: String,
}

impl Keys {
    /// A fresh pair.
    pub(crate) fn generate() -> Self {
        let (private, public) = quickmart_shared::auth::generate_key_pair().expect("keys");
        Self { private, public }
    }

    /// The `kid` tokens signed with this key carry.
    pub(crate) fn kid(&self) -> String {
        let signer = quickmart_shared::auth::JwtSigner::from_pem(
            &self.private,
            "quickmart",
            quickmart_shared::auth::ACCESS_TOKEN_TTL,
        )
        .expect("signer");
        signer.kid().to_owned()
    }
}

/// A user-core and its database, which subgraphs of one test share.
pub(crate) struct Core {
    pub url: String,
    pub db: TestDatabase,
    pub admin_email: String,
    /// The cache namespace the core and every subgraph on it share, as replicas sharing one Redis do.
    pub cache_namespace: String,
}

impl Core {
    /// Starts user-core on a fresh database, with an admin account unique to the test.
    pub(crate) async fn spawn() -> Self {
        capture_logs();
        let db = TestDatabase::create("user", user_core::MIGRATIONS).await;
        let admin_email = format!("admin-{}@example.com", uuid::Uuid::now_v7().simple());
        let cache_namespace = format!("test-{}:", uuid::Uuid::new_v4().simple());
        let env = Env::from_pairs([
            ("CACHE_NAMESPACE", cache_namespace.as_str()),
            ("USER_DATABASE_URL", db.url.as_str()),
            ("INTERNAL_API_TOKEN", TOKEN),
            ("QUICKMART_ADMIN_EMAIL", admin_email.as_str()),
            ("QUICKMART_ADMIN_PASSWORD", PASSWORD),
        ])
        .expect("env");
        let config = user_core::Config::from_env(&env).expect("core config");
        let url = spawn_router(user_core::build(&config).await.expect("core")).await;
        Self {
            url,
            db,
            admin_email,
            cache_namespace,
        }
    }
}

/// A running subgraph (with its core) and a client that poses as one end client (its own address).
pub(crate) struct TestApp {
    pub url: String,
    pub core: Arc<Core>,
    pub keys: Keys,
    pub client_ip: String,
    /// The cache namespace of this test's subgraph.
    pub cache_namespace: String,
    client: reqwest::Client,
}

impl TestApp {
    /// user-core and the subgraph with a fresh key pair.
    pub(crate) async fn spawn() -> Self {
        let keys = Keys::generate();
        Self::spawn_on(Arc::new(Core::spawn().await), &keys, &keys.public).await
    }

    /// A subgraph on an existing core, signing with `keys` and verifying with `public_keys`.
    pub(crate) async fn spawn_on(core: Arc<Core>, keys: &Keys, public_keys: &str) -> Self {
        let cache_namespace = core.cache_namespace.clone();
        let env = Env::from_pairs([
            ("CACHE_NAMESPACE", cache_namespace.as_str()),
            ("USER_CORE_URL", core.url.as_str()),
            ("INTERNAL_API_TOKEN", TOKEN),
            ("JWT_PRIVATE_KEY", keys.private.expose_secret()),
            ("JWT_PUBLIC_KEYS", public_keys),
        ])
        .expect("env");
        let config = user_subgraph::Config::from_env(&env).expect("subgraph config");
        let url = spawn_router(user_subgraph::build(&config).await.expect("subgraph")).await;
        let n = uuid::Uuid::new_v4().as_bytes().to_owned();
        let client_ip = format!("10.{}.{}.{}", n[0], n[1], n[2]);
        Self {
            url,
            core,
            keys: keys.clone(),
            client_ip,
            cache_namespace,
            client: reqwest::Client::new(),
        }
    }

    /// Runs a GraphQL operation, with `token` as the bearer token when given.
    pub(crate) async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.url))
            // As the gateway sends it: the derived client address, vouched for by the internal token.
            .header("x-quickmart-client-ip", &self.client_ip)
            .header("x-internal-token", TOKEN)
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let text = response.text().await.expect("body");
        record_response(&text);
        serde_json::from_str(&text).expect("GraphQL answers JSON")
    }

    /// Registers a user and returns the `AuthPayload`.
    pub(crate) async fn register(&self, email: &str) -> Value {
        let response = self
            .gql(
                REGISTER,
                json!({"input": {"email": email, "password": PASSWORD, "name": "Test User"}}),
                None,
            )
            .await;
        assert!(response["errors"].is_null(), "{response}");
        response["data"]["register"].clone()
    }

    /// Logs in and returns the whole response.
    pub(crate) async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(LOGIN, json!({"email": email, "password": password}), None)
            .await
    }

    /// Logs in as the bootstrapped admin and returns the access token.
    pub(crate) async fn admin_token(&self) -> String {
        let response = self.login(&self.core.admin_email.clone(), PASSWORD).await;
        response["data"]["login"]["accessToken"]
            .as_str()
            .expect("admin token")
            .to_owned()
    }
}

/// The sign-up mutation with every field of the payload.
pub(crate) const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken \
                            expiresIn user { id email name role createdAt } } }";
/// The login mutation.
pub(crate) const LOGIN: &str = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) \
                         { accessToken refreshToken expiresIn user { id email role } } }";
/// The refresh mutation.
pub(crate) const REFRESH: &str = "mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken \
                           refreshToken user { id } } }";
/// The signed-in user.
pub(crate) const ME: &str = "{ me { id email name role } }";

/// A unique e-mail address for this test run.
pub(crate) fn unique_email(label: &str) -> String {
    format!("{label}-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// The `extensions.code` of the first error.
pub(crate) fn code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

/// Everything the services logged and answered during this test binary's run, to search for secrets.
pub(crate) fn captured() -> String {
    let logs = LOGS
        .get()
        .map(|l| String::from_utf8_lossy(&l.lock().expect("logs").clone()).into_owned());
    let responses = RESPONSES
        .get()
        .map(|r| r.lock().expect("responses").join("\n"));
    format!(
        "{}\n{}",
        logs.unwrap_or_default(),
        responses.unwrap_or_default()
    )
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
static RESPONSES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

fn record_response(text: &str) {
    RESPONSES
        .get_or_init(Mutex::default)
        .lock()
        .expect("responses")
        .push(text.to_owned());
}

/// Sends every log line of every test (at debug level, as JSON) into one buffer.
fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Buffer(Arc::clone(&buffer));
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("one subscriber per test binary");
        buffer
    });
}

#[derive(Clone)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
