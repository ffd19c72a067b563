//! README's "First steps in GraphiQL", run as printed: every GraphQL document of that section in order, with
//! its placeholders filled from the answers before it, through the gateway.

use serde_json::{Value, json};

use crate::helpers::TestSystem;

/// The GraphQL documents of the README section, in order.
fn first_steps() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## First steps in GraphiQL")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a First steps section");
    let mut documents = Vec::new();
    for block in section.split("```graphql\n").skip(1) {
        let code = block.split("```").next().unwrap_or_default();
        documents.extend(
            code.split("\n\n")
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
        );
    }
    documents
}

#[tokio::test]
async fn the_first_steps_run_as_printed() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    system
        .catalog(
            &admin,
            "first-steps",
            &[("FS-1", 500, 10), ("FS-2", 900, 10)],
        )
        .await;
    let documents = first_steps();
    assert!(documents.len() >= 10, "{documents:#?}");

    let mut filled: Vec<(&str, String)> = Vec::new();
    let mut token: Option<String> = None;
    let mut last = Value::Null;
    for document in &documents {
        let mut query = document.clone();
        for (placeholder, value) in &filled {
            query = query.replace(placeholder, value);
        }
        assert!(!query.contains("\"<"), "a placeholder is left in:\n{query}");
        let data = system.ok(token.as_deref(), &query, json!({})).await;
        if let Some(nodes) = data["products"]["nodes"].as_array() {
            filled.push(("<id>", nodes[0]["id"].as_str().expect("id").to_owned()));
            filled.push((
                "<another id>",
                nodes[1]["id"].as_str().expect("id").to_owned(),
            ));
        }
        if let Some(cart_token) = data["addToCart"]["cartToken"].as_str() {
            filled.push(("<cartToken>", cart_token.to_owned()));
        }
        if let Some(access) = data["register"]["accessToken"].as_str() {
            token = Some(access.to_owned());
        }
        if let Some(id) = data["addAddress"]["id"].as_str() {
            filled.push(("<address id>", id.to_owned()));
        }
        if !data["checkout"].is_null() {
            last = data["checkout"].clone();
        }
    }
    assert_eq!(last["status"], "CONFIRMED", "{last}");
    assert_eq!(last["payment"]["status"], "CAPTURED");
    assert_eq!(last["payment"]["amount"], last["total"]);
    assert_eq!(last["shippingAddress"]["city"], "London");
}
