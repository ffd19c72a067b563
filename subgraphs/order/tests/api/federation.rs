//! What the gateway relies on: `Order` and `User` entity resolution, `User.orders`, and `Product` references
//! that the product subgraph resolves, even for products no longer on sale.

use serde_json::json;

use crate::helpers::{TestStack, error_code, error_field, graphql};

const USER_ORDERS: &str = "query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
    ... on User { id orders(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                  edges { cursor node { id } } nodes { id } } } } }";

#[tokio::test(flavor = "multi_thread")]
async fn order_entities_resolve_for_their_owner_only() {
    let stack = TestStack::spawn().await;
    let product = stack.product("E-1", 100, 10).await;
    let (owner, stranger) = (stack.customer().await, stack.customer().await);
    let first =
        stack.place(&owner, "e1", &[(&product, 1)]).await["data"]["placeOrder"]["id"].clone();
    let second =
        stack.place(&owner, "e2", &[(&product, 1)]).await["data"]["placeOrder"]["id"].clone();
    let query = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id status user { id } } } }";
    let reps = json!({ "reps": [
        { "__typename": "Order", "id": first },
        { "__typename": "Order", "id": second },
        { "__typename": "Order", "id": "not-an-id" }
    ] });
    let response = stack.graphql(Some(&owner), query, reps.clone()).await;
    assert_eq!(response["data"]["_entities"][0]["id"], first, "{response}");
    assert_eq!(
        response["data"]["_entities"][1]["user"]["id"],
        json!(owner.id.to_string())
    );
    assert_eq!(response["data"]["_entities"][2], json!(null));
    let response = stack.graphql(Some(&stranger), query, reps).await;
    assert_eq!(
        response,
        json!({ "data": { "_entities": [null, null, null] } })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_orders_page_for_self_and_admins_and_are_empty_for_others() {
    let stack = TestStack::spawn().await;
    let product = stack.product("U-1", 100, 10).await;
    let (owner, stranger, admin) = (
        stack.customer().await,
        stack.customer().await,
        stack.admin().await,
    );
    let mut placed = Vec::new();
    for key in ["a", "b", "c"] {
        placed.push(
            stack.place(&owner, key, &[(&product, 1)]).await["data"]["placeOrder"]["id"].clone(),
        );
    }
    placed.reverse();
    let reps = json!([{ "__typename": "User", "id": owner.id }]);

    let page = stack
        .graphql(
            Some(&owner),
            USER_ORDERS,
            json!({ "reps": reps, "first": 2 }),
        )
        .await;
    let orders = &page["data"]["_entities"][0]["orders"];
    assert_eq!(
        (
            orders["totalCount"].clone(),
            orders["pageInfo"]["hasNextPage"].clone()
        ),
        (json!(3), json!(true)),
        "{page}"
    );
    assert_eq!(
        orders["nodes"],
        json!([{ "id": placed[0] }, { "id": placed[1] }])
    );
    assert_eq!(
        orders["edges"][1]["cursor"],
        orders["pageInfo"]["endCursor"]
    );
    let after = orders["pageInfo"]["endCursor"].clone();
    let rest = stack
        .graphql(
            Some(&admin),
            USER_ORDERS,
            json!({ "reps": reps, "first": 2, "after": after }),
        )
        .await;
    let orders = &rest["data"]["_entities"][0]["orders"];
    assert_eq!(
        (
            orders["nodes"].clone(),
            orders["pageInfo"]["hasNextPage"].clone()
        ),
        (json!([{ "id": placed[2] }]), json!(false))
    );

    let hidden = stack
        .graphql(Some(&stranger), USER_ORDERS, json!({ "reps": reps }))
        .await;
    assert_eq!(
        hidden["data"]["_entities"][0]["orders"],
        json!({ "totalCount": 0, "pageInfo": { "hasNextPage": false, "endCursor": null }, "edges": [], "nodes": [] })
    );
    assert!(hidden["errors"].is_null());
    for (first, after, field) in [
        (json!(0), json!(null), "first"),
        (json!(101), json!(null), "first"),
        (json!(5), json!("junk"), "after"),
    ] {
        let bad = stack
            .graphql(
                Some(&owner),
                USER_ORDERS,
                json!({ "reps": reps, "first": first, "after": after }),
            )
            .await;
        assert_eq!(
            (error_code(&bad), error_field(&bad)),
            ("BAD_USER_INPUT", field),
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn past_orders_of_a_deactivated_product_still_resolve_it() {
    let stack = TestStack::spawn().await;
    let product = stack.product("OLD-1", 700, 5).await;
    let buyer = stack.customer().await;
    let id =
        stack.place(&buyer, "before", &[(&product, 1)]).await["data"]["placeOrder"]["id"].clone();
    stack.deactivate(&product).await;

    let placing = stack.place(&buyer, "after", &[(&product, 1)]).await;
    assert_eq!(
        (error_code(&placing), error_field(&placing)),
        ("BAD_USER_INPUT", "items[0].productId")
    );

    // The gateway's first fetch: the order subgraph returns the item with a `Product` reference.
    let order = stack
        .graphql(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { items { product { id } sku name } } }",
            json!({ "id": id }),
        )
        .await;
    let item = &order["data"]["order"]["items"][0];
    assert_eq!(
        (item["product"]["id"].clone(), item["name"].clone()),
        (json!(product), json!("Product OLD-1")),
        "{order}"
    );
    // Its second: the product subgraph resolves that reference, inactive or not.
    let products = stack.product_subgraph().await;
    let resolved = graphql(
        &stack.http,
        &products,
        Some(&buyer),
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id name active } } }",
        json!({ "reps": [{ "__typename": "Product", "id": item["product"]["id"] }] }),
    )
    .await;
    assert_eq!(
        resolved["data"]["_entities"][0],
        json!({ "id": product, "name": "Product OLD-1", "active": false }),
        "{resolved}"
    );
}
