//! Forged, tampered, expired and foreign tokens are all `UNAUTHENTICATED`, even on fields anyone may read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{Keys, ME, TestApp, code};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn claims(sub: &str, role: &str, iat: u64, exp: u64, iss: &str) -> Value {
    json!({"sub": sub, "role": role, "iat": iat, "exp": exp, "jti": uuid::Uuid::now_v7().to_string(), "iss": iss})
}

/// A token signed with `keys` as EdDSA, claiming `kid`.
fn sign(keys: &Keys, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_ed_pem(keys.private.expose_secret().as_bytes()).expect("key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

#[tokio::test]
async fn every_forgery_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let registered = app.register(&crate::helpers::unique_email("victim")).await;
    let valid = registered["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let id = registered["user"]["id"].as_str().expect("id").to_owned();
    let kid = app.keys.kid();
    let t = now();

    // The payload edited to claim ADMIN, the signature kept.
    let parts: Vec<&str> = valid.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload"))
            .expect("claims");
    payload["role"] = json!("ADMIN");
    let edited = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    // `alg: none` with no signature.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
        b64(&payload)
    );
    // HS256, keyed with the (public) verification key as the HMAC secret.
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &payload,
        &EncodingKey::from_secret(app.keys.public.as_bytes()),
    )
    .expect("hs256");
    let stranger = Keys::generate();
    let forgeries = [
        ("edited payload", edited),
        ("alg none", none),
        ("HS256 with the public key", hs256),
        (
            "expired",
            sign(
                &app.keys,
                &kid,
                &claims(&id, "CUSTOMER", t - 3600, t - 1800, "quickmart"),
            ),
        ),
        (
            "not yet valid",
            sign(
                &app.keys,
                &kid,
                &claims(&id, "CUSTOMER", t + 3600, t + 4500, "quickmart"),
            ),
        ),
        (
            "wrong issuer",
            sign(
                &app.keys,
                &kid,
                &claims(&id, "CUSTOMER", t, t + 900, "someone-else"),
            ),
        ),
        (
            "another key, our kid",
            sign(
                &stranger,
                &kid,
                &claims(&id, "ADMIN", t, t + 900, "quickmart"),
            ),
        ),
        (
            "another key, its kid",
            sign(
                &stranger,
                &stranger.kid(),
                &claims(&id, "ADMIN", t, t + 900, "quickmart"),
            ),
        ),
        ("garbage", "garbage".to_owned()),
        ("three dots of garbage", "a.b.c".to_owned()),
    ];
    // The untouched token works, so each refusal below is the forgery's doing.
    assert_eq!(
        app.gql(ME, json!({}), Some(&valid)).await["data"]["me"]["id"].as_str(),
        Some(id.as_str())
    );
    // The whole answer, for every forgery: no data, one error, no hint of which check failed.
    let refused = json!({
        "data": null,
        "errors": [{"message": "the access token is invalid or expired", "extensions": {"code": "UNAUTHENTICATED"}}]
    });
    for (name, token) in forgeries {
        let response = app.gql("{ __typename }", json!({}), Some(&token)).await;
        assert_eq!(response, refused, "{name}");
        let me = app.gql(ME, json!({}), Some(&token)).await;
        assert_eq!(code(&me), Some("UNAUTHENTICATED"), "{name}: {me}");
    }
}

#[tokio::test]
async fn an_authorization_header_without_a_bearer_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", app.url))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({"query": "{ me { id } }"}))
        .send()
        .await
        .expect("send");
    let body: Value = response.json().await.expect("json");
    assert_eq!(code(&body), Some("UNAUTHENTICATED"));
}
