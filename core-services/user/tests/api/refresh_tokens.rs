//! Sessions: issue, rotation, reuse detection and revocation.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestCore, status_and_json};

async fn rotate(core: &TestCore, token: &str) -> (u16, Value) {
    status_and_json(
        core.post("/v1/refresh-tokens/rotate", json!({"refresh_token": token}))
            .await,
    )
    .await
}

#[tokio::test]
async fn rotation_is_single_use_and_reuse_revokes_the_family() {
    let core = TestCore::spawn().await;
    let user = core.create_user("alan@example.com").await;
    let first = core.issue_token(user["id"].as_str().expect("id")).await;
    let other_session = core.issue_token(user["id"].as_str().expect("id")).await;

    let (status, body) = rotate(&core, &first).await;
    assert_eq!((status, &body["user"]["id"]), (200, &user["id"]));
    let second = body["refresh_token"].as_str().expect("token").to_owned();
    assert_ne!(second, first);
    let (status, body) = rotate(&core, &second).await;
    assert_eq!(status, 200);
    let third = body["refresh_token"].as_str().expect("token").to_owned();

    // Replaying a rotated token is refused, and the live tip of its family dies with it.
    let (status, body) = rotate(&core, &first).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    assert_eq!(rotate(&core, &third).await.0, 401);
    // Another login's family is untouched.
    assert_eq!(rotate(&core, &other_session).await.0, 200);
    // Tokens are stored only as hashes.
    let mut conn = core.db.pool.get().await.expect("connection");
    use diesel_async::RunQueryDsl;
    let stored: Vec<Row> =
        diesel::sql_query("SELECT encode(token_hash, 'escape') AS raw FROM refresh_tokens")
            .load(&mut conn)
            .await
            .expect("rows");
    assert!(
        stored
            .iter()
            .all(|row| !row.raw.contains(&first) && !row.raw.contains(&third))
    );
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    raw: String,
}

#[tokio::test]
async fn concurrent_rotations_of_one_token_never_both_succeed() {
    let core = TestCore::spawn().await;
    let user = core.create_user("edsger@example.com").await;
    let token = core.issue_token(user["id"].as_str().expect("id")).await;
    let outcomes = join_all((0..8).map(|_| rotate(&core, &token))).await;
    let successes = outcomes.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, 1, "{outcomes:?}");
}

#[tokio::test]
async fn revoking_ends_the_session_and_is_harmless_twice() {
    let core = TestCore::spawn().await;
    let user = core.create_user("barbara@example.com").await;
    let token = core.issue_token(user["id"].as_str().expect("id")).await;
    let (_, rotated) = rotate(&core, &token).await;
    let live = rotated["refresh_token"].as_str().expect("token");
    let revoke = |t: &str| core.post("/v1/refresh-tokens/revoke", json!({"refresh_token": t}));
    assert_eq!(
        status_and_json(revoke(live).await).await,
        (200, json!({"revoked": true}))
    );
    assert_eq!(rotate(&core, live).await.0, 401);
    assert_eq!(
        status_and_json(revoke(live).await).await,
        (200, json!({"revoked": false}))
    );
    assert_eq!(
        status_and_json(revoke("never-issued").await).await,
        (200, json!({"revoked": false}))
    );
}

#[tokio::test]
async fn unknown_users_and_tokens_are_refused() {
    let core = TestCore::spawn().await;
    let response = core
        .post(
            "/v1/refresh-tokens",
            json!({"user_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(rotate(&core, "never-issued").await.0, 401);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let core = TestCore::spawn().await;
    let user = core.create_user("expired@example.com").await;
    let token = core.issue_token(user["id"].as_str().expect("id")).await;
    let mut conn = core.db.pool.get().await.expect("connection");
    use diesel_async::RunQueryDsl;
    diesel::sql_query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&mut conn)
        .await
        .expect("expire");
    assert_eq!(rotate(&core, &token).await.0, 401);
}

/// Sessions whose every token expired over a day ago are deleted; a session with a live token stays whole (its
/// rotated tokens are what reuse detection compares against).
#[tokio::test]
async fn expired_sessions_are_purged_and_live_ones_kept_whole() {
    let core = TestCore::spawn().await;
    let user = core.create_user("purge@example.com").await;
    let id = user["id"].as_str().expect("id");
    let old = core.issue_token(id).await;
    let live = core.issue_token(id).await;
    let (status, _) = rotate(&core, &live).await;
    assert_eq!(status, 200);
    let mut conn = core.db.pool.get().await.expect("connection");
    use diesel_async::RunQueryDsl;
    // The first session ended two days ago; the second (a rotated token and its successor) is live.
    diesel::sql_query(
        "UPDATE refresh_tokens SET expires_at = now() - interval '2 days' \
         WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind::<diesel::sql_types::Text, _>(&old)
    .execute(&mut conn)
    .await
    .expect("age the first session");
    drop(conn);

    let deleted = user_core::purger::purge_once(&core.db.pool)
        .await
        .expect("purge");
    assert_eq!(deleted, 1);
    assert_eq!(
        user_core::purger::purge_once(&core.db.pool)
            .await
            .expect("purge"),
        0
    );
    let mut conn = core.db.pool.get().await.expect("connection");
    let left: Vec<Count> = diesel::sql_query("SELECT count(*) AS n FROM refresh_tokens")
        .load(&mut conn)
        .await
        .expect("count");
    assert_eq!(left[0].n, 2, "the live session's two tokens stay");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
