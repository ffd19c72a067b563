//! The admin account created at start.

use serde_json::json;

use crate::helpers::{TestCore, status_and_json};

#[tokio::test]
async fn the_admin_is_created_once_and_later_starts_change_nothing() {
    let env = [
        ("QUICKMART_ADMIN_EMAIL", "Boss@Example.com"),
        ("QUICKMART_ADMIN_PASSWORD", "first-Admin-pass"),
    ];
    let core = TestCore::spawn_with(&env).await;
    let login = json!({"email": "boss@example.com", "password": "first-Admin-pass"});
    let (status, admin) = status_and_json(
        core.post("/v1/users/verify-credentials", login.clone())
            .await,
    )
    .await;
    assert_eq!((status, admin["role"].as_str()), (200, Some("ADMIN")));

    // A restart with another password (and a replica starting alongside) neither fails nor resets the account.
    let restarted = [
        ("QUICKMART_ADMIN_EMAIL", "boss@example.com"),
        ("QUICKMART_ADMIN_PASSWORD", "second-Admin-pass"),
    ];
    futures::future::join(
        TestCore::start_on(&core.db, &restarted),
        TestCore::start_on(&core.db, &restarted),
    )
    .await;
    assert_eq!(
        core.post("/v1/users/verify-credentials", login)
            .await
            .status(),
        200
    );
    let (_, page) = status_and_json(core.get("/v1/users").await).await;
    assert_eq!(page["total_count"].as_i64(), Some(1));
}

#[tokio::test]
async fn a_weak_admin_password_stops_start_up_naming_the_variable() {
    let db = quickmart_shared::testing::TestDatabase::create("user", user_core::MIGRATIONS).await;
    let env = quickmart_shared::config::Env::from_pairs([
        ("USER_DATABASE_URL", db.url.as_str()),
        ("QUICKMART_ADMIN_PASSWORD", "short"),
    ])
    .expect("env");
    let config = user_core::Config::from_env(&env).expect("config");
    let Err(error) = user_core::build(&config).await else {
        panic!("a weak admin password must stop start-up")
    };
    assert!(
        error.to_string().contains("QUICKMART_ADMIN_PASSWORD"),
        "{error}"
    );
    assert!(!error.to_string().contains("short\""));
}

#[test]
fn production_refuses_the_default_admin_password() {
    let env = quickmart_shared::config::Env::from_pairs([
        ("QUICKMART_ENV", "production"),
        ("USER_DATABASE_URL", "postgres://db/quickmart_user"),
        ("INTERNAL_API_TOKEN", "a-long-enough-production-token"),
        ("QUICKMART_ADMIN_PASSWORD", user_core::DEV_ADMIN_PASSWORD),
    ])
    .expect("env");
    let error = user_core::Config::from_env(&env).expect_err("refused");
    assert!(error.to_string().contains("QUICKMART_ADMIN_PASSWORD"));
}
