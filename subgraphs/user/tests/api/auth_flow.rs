//! Sessions end to end: register, login, me, refresh with rotation and reuse detection, logout, password change.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quickmart_shared::cache::Cache;
use secrecy::SecretString;
use serde_json::{Value, json};
use user_contract::cache::{USER_TTL, user_key};

use crate::helpers::{ME, PASSWORD, REFRESH, TestApp, code, unique_email};

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn register_login_me_refresh_reuse_and_logout() {
    let app = TestApp::spawn().await;
    let email = unique_email("flow");
    let registered = app.register(&email.to_uppercase()).await;
    insta::assert_json_snapshot!(registered, {
        ".accessToken" => "[jwt]", ".refreshToken" => "[opaque]", ".user.id" => "[id]", ".user.createdAt" => "[time]",
        ".user.email" => "[email]"
    }, @r#"
    {
      "accessToken": "[jwt]",
      "expiresIn": 900,
      "refreshToken": "[opaque]",
      "user": {
        "createdAt": "[time]",
        "email": "[email]",
        "id": "[id]",
        "name": "Test User",
        "role": "CUSTOMER"
      }
    }
    "#);
    assert_eq!(registered["user"]["email"].as_str(), Some(email.as_str()));

    // The access token: EdDSA with the key's id; sub, role, iat, exp (15 minutes), jti, iss.
    let access = registered["accessToken"].as_str().expect("token");
    let header = decode_part(access, 0);
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("EdDSA"), Some(app.keys.kid().as_str()))
    );
    let claims = decode_part(access, 1);
    assert_eq!(claims["sub"], registered["user"]["id"]);
    assert_eq!(
        (claims["role"].as_str(), claims["iss"].as_str()),
        (Some("CUSTOMER"), Some("quickmart"))
    );
    assert_eq!(
        claims["exp"]
            .as_u64()
            .zip(claims["iat"].as_u64())
            .map(|(exp, iat)| exp - iat),
        Some(900)
    );
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));

    let login = app.login(&email, PASSWORD).await;
    let session = &login["data"]["login"];
    let me = app
        .gql(ME, json!({}), session["accessToken"].as_str())
        .await;
    assert_eq!(me["data"]["me"]["email"].as_str(), Some(email.as_str()));

    let first = session["refreshToken"].as_str().expect("refresh token");
    let refreshed = app.gql(REFRESH, json!({"token": first}), None).await;
    let second = refreshed["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_owned();
    let new_access = refreshed["data"]["refreshToken"]["accessToken"]
        .as_str()
        .expect("access");
    assert_eq!(
        app.gql(ME, json!({}), Some(new_access)).await["data"]["me"]["email"].as_str(),
        Some(email.as_str())
    );

    // The old refresh token is refused; presenting it revoked the family, so the newest one is refused too.
    let replay = app.gql(REFRESH, json!({"token": first}), None).await;
    assert_eq!(
        (code(&replay), &replay["data"]),
        (Some("UNAUTHENTICATED"), &Value::Null)
    );
    assert_eq!(
        code(&app.gql(REFRESH, json!({"token": second}), None).await),
        Some("UNAUTHENTICATED")
    );
    // The registration's own session is another family and still works.
    let other = registered["refreshToken"].as_str().expect("token");
    let other = app.gql(REFRESH, json!({"token": other}), None).await;
    let live = other["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .expect("other family lives")
        .to_owned();

    let logout = "mutation($token: String!) { logout(refreshToken: $token) }";
    assert_eq!(
        app.gql(logout, json!({"token": live}), None).await["data"]["logout"],
        json!(true)
    );
    assert_eq!(
        code(&app.gql(REFRESH, json!({"token": live}), None).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        app.gql(logout, json!({"token": live}), None).await["data"]["logout"],
        json!(false)
    );
}

#[tokio::test]
async fn a_password_change_signs_out_every_session() {
    let app = TestApp::spawn().await;
    let email = unique_email("change");
    let registered = app.register(&email).await;
    let token = registered["accessToken"].as_str();
    let other_session = app.login(&email, PASSWORD).await["data"]["login"]["refreshToken"].clone();
    let update = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { name } }";

    let wrong =
        json!({"input": {"currentPassword": "Not-The-One-1", "newPassword": "Brand-New-Pass-9"}});
    let refused = app.gql(update, wrong, token).await;
    assert_eq!(code(&refused), Some("BAD_USER_INPUT"));
    assert_eq!(
        refused["errors"][0]["extensions"]["field"].as_str(),
        Some("currentPassword")
    );

    let change = json!({"input": {"currentPassword": PASSWORD, "newPassword": "Brand-New-Pass-9"}});
    assert_eq!(
        app.gql(update, change, token).await["data"]["updateMe"]["name"].as_str(),
        Some("Test User")
    );
    for session in [&registered["refreshToken"], &other_session] {
        let refreshed = app.gql(REFRESH, json!({"token": session}), None).await;
        assert_eq!(code(&refreshed), Some("UNAUTHENTICATED"), "{refreshed}");
    }
    assert_eq!(
        code(&app.login(&email, PASSWORD).await),
        Some("UNAUTHENTICATED")
    );
    assert!(
        app.login(&email, "Brand-New-Pass-9").await["data"]["login"]["accessToken"].is_string()
    );
}

#[tokio::test]
async fn users_are_cached_by_id_and_updates_invalidate_them() {
    let app = TestApp::spawn().await;
    let registered = app.register(&unique_email("cache")).await;
    let token = registered["accessToken"].as_str();
    let id = registered["user"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    // A generous timeout: on a loaded machine the service's own 100 ms would make this check flaky.
    let cache = Cache::redis(
        &SecretString::from("redis://127.0.0.1:6379"),
        std::time::Duration::from_secs(5),
    )
    .expect("redis")
    .with_namespace(&app.cache_namespace);

    assert_eq!(
        app.gql(ME, json!({}), token).await["data"]["me"]["name"].as_str(),
        Some("Test User")
    );
    let cached: Option<Value> = cache
        .get_many_versioned(&[user_key(id)], USER_TTL)
        .await
        .remove(0);
    assert_eq!(
        cached
            .and_then(|u| u["name"].as_str().map(str::to_owned))
            .as_deref(),
        Some("Test User")
    );

    let rename = "mutation { updateMe(input: { name: \"Renamed\" }) { name } }";
    assert_eq!(
        app.gql(rename, json!({}), token).await["data"]["updateMe"]["name"].as_str(),
        Some("Renamed")
    );
    // The old copy is gone; the subgraph cached the copy user-core returned from the write.
    let cached: Option<Value> = cache
        .get_many_versioned(&[user_key(id)], USER_TTL)
        .await
        .remove(0);
    assert_eq!(
        cached.as_ref().and_then(|u| u["name"].as_str()),
        Some("Renamed")
    );
    assert_eq!(
        app.gql(ME, json!({}), token).await["data"]["me"]["name"].as_str(),
        Some("Renamed")
    );
}

#[tokio::test]
async fn anonymous_callers_have_no_me_and_cannot_update() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.gql(ME, json!({}), None).await,
        json!({"data": {"me": null}})
    );
    let update = app
        .gql(
            "mutation { updateMe(input: { name: \"X\" }) { name } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(code(&update), Some("UNAUTHENTICATED"));
}
