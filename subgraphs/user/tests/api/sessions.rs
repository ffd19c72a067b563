//! Session changes take effect at once (issue row: "`setUserRole` / logout / password change: an access token
//! keeps its old role and stays valid up to 15 min"): access tokens carry their account's token version, and a
//! token older than the current one is refused by every subgraph replica.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ME, PASSWORD, REFRESH, TestApp, code, unique_email};

const LOGOUT_ALL: &str = "mutation { logoutAll }";
const SET_ROLE: &str =
    "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { role } }";

fn access_token(payload: &Value) -> String {
    payload["accessToken"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// Asks `me` with `token` until it is refused, for at most the invalidation window (another replica learns of
/// the change through the invalidation channel, within milliseconds).
async fn refused_within_the_window(app: &TestApp, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let answer = app.gql(ME, json!({}), Some(token)).await;
        if code(&answer) == Some("UNAUTHENTICATED") || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn logout_all_ends_every_access_and_refresh_token() {
    let app = TestApp::spawn().await;
    let email = unique_email("everywhere");
    let first = app.register(&email).await;
    let second = app.login(&email, PASSWORD).await["data"]["login"].clone();
    let (first_token, second_token) = (access_token(&first), access_token(&second));
    assert!(app.gql(ME, json!({}), Some(&second_token)).await["data"]["me"].is_object());

    let answer = app.gql(LOGOUT_ALL, json!({}), Some(&first_token)).await;
    assert_eq!(answer["data"]["logoutAll"], json!(true), "{answer}");
    for token in [&first_token, &second_token] {
        let refused = app.gql(ME, json!({}), Some(token)).await;
        assert_eq!(code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    }
    for session in [&first["refreshToken"], &second["refreshToken"]] {
        let refreshed = app.gql(REFRESH, json!({"token": session}), None).await;
        assert_eq!(code(&refreshed), Some("UNAUTHENTICATED"), "{refreshed}");
    }
    let again = app.login(&email, PASSWORD).await["data"]["login"].clone();
    let fresh = app.gql(ME, json!({}), Some(&access_token(&again))).await;
    assert_eq!(fresh["data"]["me"]["email"], json!(email), "{fresh}");
    assert_eq!(
        code(&app.gql(LOGOUT_ALL, json!({}), None).await),
        Some("UNAUTHENTICATED")
    );
}

/// A role change made on one replica is enforced by another replica of the same core and cache, whose near copy
/// held the user: the old token's rights stop within the invalidation window, not 15 minutes.
#[tokio::test]
async fn a_role_change_on_one_replica_is_enforced_by_another() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(Arc::clone(&first.core), &first.keys, &first.keys.public).await;
    let email = unique_email("demoted");
    let registered = first.register(&email).await;
    let id = registered["user"]["id"].as_str().expect("id").to_owned();
    let admin = first.admin_token().await;
    let promoted = first
        .gql(SET_ROLE, json!({"id": id, "role": "ADMIN"}), Some(&admin))
        .await;
    assert_eq!(
        promoted["data"]["setUserRole"]["role"], "ADMIN",
        "{promoted}"
    );
    let as_admin = access_token(&first.login(&email, PASSWORD).await["data"]["login"]);
    // The second replica has the user in its near copy.
    let me = second.gql(ME, json!({}), Some(&as_admin)).await;
    assert_eq!(me["data"]["me"]["role"], "ADMIN", "{me}");

    let demoted = first
        .gql(
            SET_ROLE,
            json!({"id": id, "role": "CUSTOMER"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        demoted["data"]["setUserRole"]["role"], "CUSTOMER",
        "{demoted}"
    );
    let refused = refused_within_the_window(&second, &as_admin).await;
    assert_eq!(code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    let relogin = access_token(&second.login(&email, PASSWORD).await["data"]["login"]);
    let me = second.gql(ME, json!({}), Some(&relogin)).await;
    assert_eq!(me["data"]["me"]["role"], "CUSTOMER", "{me}");
}

/// A password change ends the access tokens of every session, the one that made the change included.
#[tokio::test]
async fn a_password_change_ends_access_tokens_too() {
    let app = TestApp::spawn().await;
    let email = unique_email("newpass");
    let token = access_token(&app.register(&email).await);
    let change = json!({"input": {"currentPassword": PASSWORD, "newPassword": "Brand-New-Pass-9"}});
    let update = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { name } }";
    assert!(app.gql(update, change, Some(&token)).await["errors"].is_null());
    let refused = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(code(&refused), Some("UNAUTHENTICATED"), "{refused}");
}
