//! What the endpoint refuses, and how.

use serde_json::json;

use crate::helpers::{TestSystem, code};

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_customers_and_strangers_are_refused() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    let (_, products) = system.catalog(&admin, "misc", &[("MS-1", 100, 5)]).await;
    let place = "mutation($p: ID!, $k: String!) { placeOrder(input: { idempotencyKey: $k, items: [{ productId: $p, quantity: 1 }] }) { id } }";

    let anonymous = system
        .graphql(None, place, json!({ "p": products[0], "k": "anon" }))
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");

    let (alice, _) = system.customer("alice").await;
    let (mallory, _) = system.customer("mallory").await;
    let create = "mutation { createCategory(input: { name: \"Nope\", slug: \"nope\" }) { id } }";
    assert_eq!(
        code(&system.graphql(Some(&alice), create, json!({})).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &system
                .graphql(Some(&alice), "{ users { totalCount } }", json!({}))
                .await
        ),
        "FORBIDDEN"
    );

    let order = system
        .ok(
            Some(&alice),
            place,
            json!({ "p": products[0], "k": "alice-1" }),
        )
        .await;
    let id = order["placeOrder"]["id"].as_str().expect("id").to_owned();
    let peek = system
        .graphql(
            Some(&mallory),
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(peek, json!({ "data": { "order": null } }));
    let listed = system
        .ok(Some(&mallory), "{ orders { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["orders"]["totalCount"], json!(0));
    let cancel = system
        .graphql(
            Some(&mallory),
            "mutation($id: ID!) { cancelOrder(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&cancel), "NOT_FOUND");
    assert_eq!(
        code(
            &system
                .graphql(Some("garbage"), "{ categories { id } }", json!({}))
                .await
        ),
        "UNAUTHENTICATED"
    );
    assert_eq!(system.stock_within_the_window(&products[0], 4).await, 4);
}
