//! Key rotation: a token signed with the previous key verifies while that key stays in `JWT_PUBLIC_KEYS`.

use std::sync::Arc;

use serde_json::json;

use crate::helpers::{Core, Keys, ME, TestApp, code, unique_email};

#[tokio::test]
async fn tokens_of_the_previous_key_verify_while_it_is_in_the_set() {
    let core = Arc::new(Core::spawn().await);
    let (old, new) = (Keys::generate(), Keys::generate());
    let before = TestApp::spawn_on(Arc::clone(&core), &old, &old.public).await;
    let old_token = before.register(&unique_email("rotate")).await["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();

    let during = TestApp::spawn_on(
        Arc::clone(&core),
        &new,
        &format!("{}\n{}", new.public, old.public),
    )
    .await;
    assert!(during.gql(ME, json!({}), Some(&old_token)).await["data"]["me"]["id"].is_string());
    let new_token = during.register(&unique_email("rotate")).await["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(during.gql(ME, json!({}), Some(&new_token)).await["data"]["me"]["id"].is_string());

    let after = TestApp::spawn_on(Arc::clone(&core), &new, &new.public).await;
    assert_eq!(
        code(&after.gql(ME, json!({}), Some(&old_token)).await),
        Some("UNAUTHENTICATED")
    );
    assert!(after.gql(ME, json!({}), Some(&new_token)).await["data"]["me"]["id"].is_string());
}

#[test]
fn a_signing_key_missing_from_the_set_stops_start_up() {
    let (signing, other) = (Keys::generate(), Keys::generate());
    let private = secrecy::ExposeSecret::expose_secret(&signing.private).to_owned();
    let env = quickmart_shared::config::Env::from_pairs([
        ("JWT_PRIVATE_KEY", private.as_str()),
        ("JWT_PUBLIC_KEYS", other.public.as_str()),
    ])
    .expect("env");
    let error = user_subgraph::Config::from_env(&env).expect_err("refused");
    assert!(error.to_string().contains("JWT_PUBLIC_KEYS"), "{error}");
}

#[test]
fn production_refuses_to_start_without_keys() {
    let env = quickmart_shared::config::Env::from_pairs([
        ("QUICKMART_ENV", "production"),
        ("INTERNAL_API_TOKEN", "a-long-enough-production-token"),
        ("REDIS_URL", "redis://redis:6379"),
    ])
    .expect("env");
    let error = user_subgraph::Config::from_env(&env).expect_err("refused");
    assert!(error.to_string().contains("JWT_"), "{error}");
    let public_only = Keys::generate().public;
    let env = quickmart_shared::config::Env::from_pairs([
        ("QUICKMART_ENV", "production"),
        ("INTERNAL_API_TOKEN", "a-long-enough-production-token"),
        ("REDIS_URL", "redis://redis:6379"),
        ("JWT_PUBLIC_KEYS", public_only.as_str()),
    ])
    .expect("env");
    let error = user_subgraph::Config::from_env(&env).expect_err("the user subgraph signs");
    assert!(error.to_string().contains("JWT_PRIVATE_KEY"), "{error}");
}
