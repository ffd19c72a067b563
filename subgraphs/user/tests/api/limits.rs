//! Requests straight at the subgraph (past the gateway) are bounded too: body size, depth.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_huge_body_is_refused_before_it_is_read() {
    // Row 10 of the hardening issue: async-graphql-axum read a 24 MiB body whole.
    let app = TestApp::spawn().await;
    let padding = "x".repeat(24 << 20);
    let body = json!({ "query": format!("{{ __typename }} # {padding}") }).to_string();
    let answer = reqwest::Client::new()
        .post(format!("{}/graphql", app.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    // Refused with 413 as soon as the declared length is seen (the client may also find the socket closed).
    assert!(
        answer.as_ref().map_or(true, |r| r.status() == 413),
        "{answer:?}"
    );
}

#[tokio::test]
async fn operations_deeper_than_any_the_gateway_admits_are_refused() {
    let app = TestApp::spawn().await;
    let of_types = |n: usize| {
        (0..n).fold(String::from("name"), |inner, _| {
            format!("ofType {{ {inner} }}")
        })
    };
    // GraphiQL's introspection reaches 15 levels; it passes here too.
    let body = app
        .gql(
            &format!(
                "{{ __schema {{ types {{ fields {{ type {{ {} }} }} }} }} }}",
                of_types(10)
            ),
            json!({}),
            None,
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .gql(
            &format!(
                "{{ __schema {{ types {{ fields {{ type {{ {} }} }} }} }} }}",
                of_types(17)
            ),
            json!({}),
            None,
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nested too deep")),
        "{body}"
    );
}
