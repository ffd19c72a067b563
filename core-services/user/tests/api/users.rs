//! Accounts: creation, validation, credentials, reads, updates and roles.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestCore, status_and_json};

#[tokio::test]
async fn created_accounts_are_lower_cased_and_hashed_with_argon2id() {
    let core = TestCore::spawn().await;
    let user = core.create_user("  Ada.Lovelace@Example.COM ").await;
    insta::assert_json_snapshot!(user, {".id" => "[id]", ".created_at" => "[time]", ".updated_at" => "[time]"}, @r#"
    {
      "created_at": "[time]",
      "email": "ada.lovelace@example.com",
      "id": "[id]",
      "name": "Ada",
      "role": "CUSTOMER",
      "token_version": 0,
      "updated_at": "[time]",
      "version": 1
    }
    "#);
    let mut conn = core.db.pool.get().await.expect("connection");
    let hash: String = diesel::sql_query(
        "SELECT password_hash FROM users WHERE email = 'ada.lovelace@example.com'",
    )
    .get_result::<Hash>(&mut conn)
    .await
    .expect("row")
    .password_hash;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[derive(QueryableByName)]
struct Hash {
    #[diesel(sql_type = diesel::sql_types::Text)]
    password_hash: String,
}

#[tokio::test]
async fn invalid_input_names_every_field_and_never_echoes_the_password() {
    let core = TestCore::spawn().await;
    let response = core
        .post(
            "/v1/users",
            json!({"email": "not-an-email", "password": "short", "name": "  "}),
        )
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 422);
    insta::assert_json_snapshot!(body, {".requestId" => "[request id]"}, @r#"
    {
      "code": "BAD_USER_INPUT",
      "detail": "email: must be an e-mail address such as name@example.com (and 2 more)",
      "errors": [
        {
          "field": "email",
          "message": "must be an e-mail address such as name@example.com"
        },
        {
          "field": "password",
          "message": "must be at least 10 characters long"
        },
        {
          "field": "name",
          "message": "must not be empty"
        }
      ],
      "requestId": "[request id]",
      "status": 422,
      "title": "Unprocessable Entity",
      "type": "urn:quickmart:problem:bad-user-input"
    }
    "#);
    let one_class = core.post(
        "/v1/users",
        json!({"email": "a@example.com", "password": "onlylowercase", "name": "A"}),
    );
    let (status, body) = status_and_json(one_class.await).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("password"))
    );
    assert!(!body.to_string().contains("onlylowercase"));
}

#[tokio::test]
async fn a_taken_email_conflicts_in_any_case() {
    let core = TestCore::spawn().await;
    core.create_user("grace@example.com").await;
    let response = core.post(
        "/v1/users",
        json!({"email": "GRACE@Example.com", "password": PASSWORD, "name": "G"}),
    );
    let (status, body) = status_and_json(response.await).await;
    assert_eq!(
        (
            status,
            body["code"].as_str(),
            body["errors"][0]["field"].as_str()
        ),
        (409, Some("CONFLICT"), Some("email"))
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let core = TestCore::spawn().await;
    let user = core.create_user("linus@example.com").await;
    let right = core.post(
        "/v1/users/verify-credentials",
        json!({"email": "LINUS@example.com", "password": PASSWORD}),
    );
    let (status, body) = status_and_json(right.await).await;
    assert_eq!((status, &body["id"]), (200, &user["id"]));

    let wrong = core.post(
        "/v1/users/verify-credentials",
        json!({"email": "linus@example.com", "password": "Wrong-pass-1"}),
    );
    let unknown = core.post(
        "/v1/users/verify-credentials",
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    );
    let (mut wrong, mut unknown) = (
        status_and_json(wrong.await).await,
        status_and_json(unknown.await).await,
    );
    for (_, body) in [&mut wrong, &mut unknown] {
        body.as_object_mut().expect("problem").remove("requestId");
    }
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn reads_by_id_by_ids_and_by_page() {
    let core = TestCore::spawn().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(core.create_user(&format!("reader{i}@example.com")).await);
    }
    let (status, one) = status_and_json(
        core.get(&format!(
            "/v1/users/{}",
            created[2]["id"].as_str().expect("id")
        ))
        .await,
    )
    .await;
    assert_eq!((status, &one), (200, &created[2]));
    let (status, missing) = status_and_json(
        core.get(&format!("/v1/users/{}", uuid::Uuid::now_v7()))
            .await,
    )
    .await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, malformed) = status_and_json(core.get("/v1/users/not-a-uuid").await).await;
    assert_eq!(
        (status, malformed["code"].as_str()),
        (400, Some("BAD_USER_INPUT"))
    );

    let ids = json!({"ids": [created[0]["id"], created[4]["id"], uuid::Uuid::now_v7()]});
    let (_, found) = status_and_json(core.post("/v1/users/lookup", ids).await).await;
    let mut emails: Vec<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    emails.sort_unstable();
    assert_eq!(emails, ["reader0@example.com", "reader4@example.com"]);

    // Six accounts (five and the admin), pages of four, newest first, with no gaps or repeats.
    let (_, first) = status_and_json(core.get("/v1/users?limit=4").await).await;
    assert_eq!(
        (first["has_more"].as_bool(), first["total_count"].as_i64()),
        (Some(true), Some(6))
    );
    let cursor = first["items"][3]["cursor"].as_str().expect("cursor");
    let (_, second) =
        status_and_json(core.get(&format!("/v1/users?limit=4&after={cursor}")).await).await;
    assert_eq!(second["has_more"].as_bool(), Some(false));
    let listed: Vec<&str> = first["items"]
        .as_array()
        .into_iter()
        .chain(second["items"].as_array())
        .flatten()
        .filter_map(|edge| edge["user"]["email"].as_str())
        .collect();
    assert_eq!(
        listed,
        [
            "reader4@example.com",
            "reader3@example.com",
            "reader2@example.com",
            "reader1@example.com",
            "reader0@example.com",
            "admin@quickmart.local"
        ]
    );

    let (status, bad) = status_and_json(core.get("/v1/users?limit=101").await).await;
    assert_eq!(
        (status, bad["errors"][0]["field"].as_str()),
        (422, Some("limit"))
    );
    let (status, bad) = status_and_json(core.get("/v1/users?after=garbage").await).await;
    assert_eq!(
        (status, bad["errors"][0]["field"].as_str()),
        (422, Some("after"))
    );
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_every_session() {
    let core = TestCore::spawn().await;
    let user = core.create_user("margaret@example.com").await;
    let id = user["id"].as_str().expect("id");
    let sessions = join_all((0..2).map(|_| core.issue_token(id))).await;
    let patch = |body| {
        core.request(Method::PATCH, &format!("/v1/users/{id}"))
            .json(&body)
            .send()
    };

    let (status, body) = status_and_json(
        patch(json!({"new_password": "Another-Pass-7"}))
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("current_password"))
    );
    let wrong = json!({"current_password": "Not-The-One-1", "new_password": "Another-Pass-7"});
    let (status, body) = status_and_json(patch(wrong).await.expect("send")).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("current_password"))
    );
    let weak = json!({"current_password": PASSWORD, "new_password": "weakweakweak"});
    let (status, body) = status_and_json(patch(weak).await.expect("send")).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("new_password"))
    );
    // Nothing was revoked by the refused attempts.
    let rotated = core
        .post(
            "/v1/refresh-tokens/rotate",
            json!({"refresh_token": sessions[0]}),
        )
        .await;
    assert_eq!(rotated.status(), 200);

    let change = json!({"name": "Margaret H.", "current_password": PASSWORD, "new_password": "Another-Pass-7"});
    let (status, body) = status_and_json(patch(change).await.expect("send")).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Margaret H.")));
    let rotated: serde_json::Value = rotated.json().await.expect("json");
    for token in [
        rotated["refresh_token"].as_str().expect("token"),
        sessions[1].as_str(),
    ] {
        let response = core
            .post("/v1/refresh-tokens/rotate", json!({"refresh_token": token}))
            .await;
        assert_eq!(response.status(), 401);
    }
    let old = core.post(
        "/v1/users/verify-credentials",
        json!({"email": "margaret@example.com", "password": PASSWORD}),
    );
    assert_eq!(old.await.status(), 401);
    let new = json!({"email": "margaret@example.com", "password": "Another-Pass-7"});
    assert_eq!(
        core.post("/v1/users/verify-credentials", new)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn roles_and_names_change() {
    let core = TestCore::spawn().await;
    let user = core.create_user("ken@example.com").await;
    let id = user["id"].as_str().expect("id");
    let response = core
        .request(Method::PUT, &format!("/v1/users/{id}/role"))
        .json(&json!({"role": "ADMIN"}))
        .send();
    let (status, body) = status_and_json(response.await.expect("send")).await;
    assert_eq!((status, body["role"].as_str()), (200, Some("ADMIN")));
    let response = core
        .request(Method::PATCH, &format!("/v1/users/{id}"))
        .json(&json!({"name": ""}))
        .send();
    let (status, body) = status_and_json(response.await.expect("send")).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("name"))
    );
    let missing = format!("/v1/users/{}/role", uuid::Uuid::now_v7());
    let response = core
        .request(Method::PUT, &missing)
        .json(&json!({"role": "ADMIN"}))
        .send();
    assert_eq!(response.await.expect("send").status(), 404);
}

#[tokio::test]
async fn the_api_needs_the_internal_token_but_health_and_docs_do_not() {
    let core = TestCore::spawn().await;
    let client = reqwest::Client::new();
    let anonymous = client
        .get(format!("{}/v1/users", core.url))
        .send()
        .await
        .expect("send");
    assert_eq!(anonymous.status(), 401);
    let wrong = client
        .get(format!("{}/v1/users", core.url))
        .header("x-internal-token", "nope")
        .send()
        .await;
    assert_eq!(wrong.expect("send").status(), 401);
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs/"] {
        let response = client
            .get(format!("{}{path}", core.url))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "{path}");
    }
    let document: serde_json::Value = client
        .get(format!("{}/openapi.json", core.url))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        document,
        serde_json::to_value(user_core::openapi()).expect("document")
    );
    assert!(document["paths"]["/v1/refresh-tokens/rotate"]["post"].is_object());
    assert!(document["components"]["securitySchemes"]["internal_token"].is_object());
}

#[tokio::test]
async fn control_characters_are_bad_input_naming_the_field_never_a_500() {
    // Row 12 of the hardening issue: a NUL in a login e-mail reached PostgreSQL.
    let core = TestCore::spawn().await;
    let (status, problem) = status_and_json(
        core.post(
            "/v1/users/verify-credentials",
            json!({ "email": "ann\u{0}@example.com", "password": "x" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("email")),
        "{problem}"
    );
    let (status, problem) = status_and_json(
        core.post(
            "/v1/users",
            json!({ "email": "bob@example.com", "password": PASSWORD, "name": "Bob\u{7}" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("name")),
        "{problem}"
    );
}

/// The token version moves with what ends sessions (a new role, a new password, every session ended) and with
/// nothing else; ending sessions also revokes every refresh token.
#[tokio::test]
async fn the_token_version_moves_with_what_ends_sessions() {
    let core = TestCore::spawn().await;
    let user = core.create_user("sessions@example.com").await;
    let id = user["id"].as_str().expect("id").to_owned();
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let mut request = core.request(method, &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { status_and_json(request.send().await.expect("core answers")).await }
    };
    let version = |body: &serde_json::Value| body["token_version"].as_i64().expect("token_version");
    assert_eq!(version(&user), 0);

    let (_, renamed) = call(
        Method::PATCH,
        format!("/v1/users/{id}"),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(version(&renamed), 0, "a new name ends nothing");
    let (_, same) = call(
        Method::PUT,
        format!("/v1/users/{id}/role"),
        Some(json!({"role": "CUSTOMER"})),
    )
    .await;
    assert_eq!(version(&same), 0, "the same role ends nothing");
    let (_, promoted) = call(
        Method::PUT,
        format!("/v1/users/{id}/role"),
        Some(json!({"role": "ADMIN"})),
    )
    .await;
    assert_eq!(version(&promoted), 1);
    let password = json!({"current_password": PASSWORD, "new_password": "Another-Pass-77"});
    let (_, changed) = call(Method::PATCH, format!("/v1/users/{id}"), Some(password)).await;
    assert_eq!(version(&changed), 2);

    let session = core.issue_token(&id).await;
    let (status, ended) = call(Method::POST, format!("/v1/users/{id}/sessions/end"), None).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(version(&ended), 3);
    let rotate = json!({"refresh_token": session});
    let (status, _) = call(
        Method::POST,
        "/v1/refresh-tokens/rotate".into(),
        Some(rotate),
    )
    .await;
    assert_eq!(status, 401, "the session's refresh token is revoked");
    let stranger = uuid::Uuid::now_v7();
    let (status, _) = call(
        Method::POST,
        format!("/v1/users/{stranger}/sessions/end"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}
