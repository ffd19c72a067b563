//! Passwords never reach logs, errors or responses; they are stored as Argon2id hashes.

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::helpers::{TestApp, captured, unique_email};

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    password_hash: String,
}

#[tokio::test]
async fn passwords_appear_nowhere_but_as_argon2id_hashes() {
    let app = TestApp::spawn().await;
    let email = unique_email("secret");
    let (password, wrong, weak, new) = (
        "Sup3r-Secret-Pw-7a1",
        "Wr0ng-Secret-Pw-7b2",
        "onlylowercasesecretpw",
        "N3w-Secret-Pw-7d4",
    );
    let register = "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";
    let refused = app
        .gql(
            register,
            json!({"input": {"email": email, "password": weak, "name": "S"}}),
            None,
        )
        .await;
    assert!(refused["errors"].is_array());
    let registered = app.gql(
        register,
        json!({"input": {"email": email, "password": password, "name": "S"}}),
        None,
    );
    let token = registered.await["data"]["register"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    app.login(&email, wrong).await;
    app.login(&email, password).await;
    let update = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { id } }";
    app.gql(
        update,
        json!({"input": {"currentPassword": wrong, "newPassword": new}}),
        Some(&token),
    )
    .await;
    app.gql(
        update,
        json!({"input": {"currentPassword": password, "newPassword": weak}}),
        Some(&token),
    )
    .await;
    app.gql(
        update,
        json!({"input": {"currentPassword": password, "newPassword": new}}),
        Some(&token),
    )
    .await;

    let everything = captured();
    assert!(
        everything.contains(&email),
        "the capture must hold this test's responses"
    );
    assert!(
        everything.contains("account created"),
        "the capture must hold the services' logs"
    );
    for secret in [password, wrong, weak, new] {
        assert!(
            !everything.contains(secret),
            "a password leaked into logs or responses"
        );
    }

    let mut conn = app.core.db.pool.get().await.expect("connection");
    let stored: Stored = diesel::sql_query("SELECT password_hash FROM users WHERE email = $1")
        .bind::<diesel::sql_types::Text, _>(&email)
        .get_result(&mut conn)
        .await
        .expect("row");
    assert!(
        stored.password_hash.starts_with("$argon2id$v=19$"),
        "{}",
        stored.password_hash
    );
}
