//! Bad input names its field, duplicates conflict, repeated failed logins are rate limited.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, REGISTER, TestApp, code, unique_email};

async fn register(app: &TestApp, email: &str, password: &str, name: &str) -> Value {
    app.gql(REGISTER, json!({"input": {"email": email, "password": password, "name": name}}), None).await
}

fn field(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["field"].as_str()
}

#[tokio::test]
async fn bad_input_is_bad_user_input_naming_the_field() {
    let app = TestApp::spawn().await;
    let bad_email = register(&app, "not-an-email", PASSWORD, "Ada").await;
    insta::assert_json_snapshot!(bad_email, @r#"
    {
      "data": null,
      "errors": [
        {
          "extensions": {
            "code": "BAD_USER_INPUT",
            "field": "email"
          },
          "locations": [
            {
              "column": 36,
              "line": 1
            }
          ],
          "message": "email: must be an e-mail address such as name@example.com",
          "path": [
            "register"
          ]
        }
      ]
    }
    "#);
    let weak = register(&app, &unique_email("weak"), "aaaaaaaaaaaa", "Ada").await;
    assert_eq!((code(&weak), field(&weak)), (Some("BAD_USER_INPUT"), Some("password")));
    let short = register(&app, &unique_email("short"), "Sh0rt!", "Ada").await;
    assert_eq!((code(&short), field(&short)), (Some("BAD_USER_INPUT"), Some("password")));
    let nameless = register(&app, &unique_email("nameless"), PASSWORD, "   ").await;
    assert_eq!((code(&nameless), field(&nameless)), (Some("BAD_USER_INPUT"), Some("name")));
    let everything = register(&app, "x", "y", "").await;
    assert_eq!(everything["errors"][0]["extensions"]["fieldErrors"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_taken_email_in_any_case_conflicts() {
    let app = TestApp::spawn().await;
    let email = unique_email("taken");
    app.register(&email).await;
    let again = register(&app, &email.to_uppercase(), PASSWORD, "Someone Else").await;
    assert_eq!((code(&again), field(&again)), (Some("CONFLICT"), Some("email")));
}

#[tokio::test]
async fn the_sixth_failed_login_for_an_email_is_rate_limited() {
    let app = TestApp::spawn().await;
    let email = unique_email("limited");
    app.register(&email).await;
    // A success clears the e-mail's failures: four failures and a success leave five more to spend.
    for _ in 0..4 {
        assert_eq!(code(&app.login(&email, "Wrong-Password-1").await), Some("UNAUTHENTICATED"));
    }
    assert!(app.login(&email.to_uppercase(), PASSWORD).await["data"]["login"].is_object());
    for attempt in 1..=5 {
        let failed = app.login(&email, "Wrong-Password-1").await;
        assert_eq!(code(&failed), Some("UNAUTHENTICATED"), "attempt {attempt}");
    }
    // The sixth is refused before the password is even checked, the right password included.
    let limited = app.login(&email, PASSWORD).await;
    assert_eq!(code(&limited), Some("RATE_LIMITED"), "{limited}");
    let retry_after = limited["errors"][0]["extensions"]["retryAfter"].as_u64().expect("retryAfter");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(code(&app.login(&email.to_uppercase(), PASSWORD).await), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn the_thirty_first_failed_login_from_one_client_is_rate_limited() {
    let app = TestApp::spawn().await;
    let email = unique_email("from-one-client");
    app.register(&email).await;
    // Thirty failures spread over accounts (none reaching its own limit) exhaust the client's allowance.
    for attempt in 0..30 {
        let failed = app.login(&unique_email(&format!("spray{attempt}")), "Wrong-Password-1").await;
        assert_eq!(code(&failed), Some("UNAUTHENTICATED"), "attempt {attempt}");
    }
    let limited = app.login(&email, PASSWORD).await;
    assert_eq!(code(&limited), Some("RATE_LIMITED"), "{limited}");
    assert!(limited["errors"][0]["extensions"]["retryAfter"].as_u64().is_some());
}
