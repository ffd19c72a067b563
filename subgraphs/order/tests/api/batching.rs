//! `User.orders` is batched: one order-core call per level of a request, however many users it reaches.

use quickmart_shared::auth::Role;
use serde_json::json;

use crate::helpers::TestStack;

#[tokio::test]
async fn nested_user_orders_cost_one_core_call_per_level() {
    // Row 5 of the hardening issue: one order-core list call per user, 1 + n + n² calls from one request.
    let stack = TestStack::spawn().await;
    let product = stack.product("BATCH-1", 500, 1_000).await;
    let mut buyers = Vec::new();
    for _ in 0..4 {
        buyers.push(stack.user(Role::Customer).await);
    }
    for (n, buyer) in buyers.iter().enumerate() {
        for k in 0..3 {
            let placed = stack
                .place(buyer, &format!("batch-{n}-{k}"), &[(&product, 1)])
                .await;
            assert!(placed["errors"].is_null(), "{placed}");
        }
    }
    let admin = stack.admin().await;
    let representations: Vec<_> = buyers
        .iter()
        .map(|b| json!({ "__typename": "User", "id": b.id.to_string() }))
        .collect();
    stack.order_core_calls.lock().expect("lock").clear();
    let response = stack
        .graphql(
            Some(&admin),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id \
               orders(first: 3) { totalCount nodes { id user { id \
                 orders(first: 2) { totalCount nodes { user { orders(first: 1) { totalCount nodes { id } } } } } } } } } } }",
            json!({ "r": representations }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let entities = response["data"]["_entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 4);
    for entity in entities {
        let orders = &entity["orders"];
        assert_eq!(orders["totalCount"], 3, "{entity}");
        assert_eq!(orders["nodes"].as_array().map(Vec::len), Some(3));
        let inner = &orders["nodes"][0]["user"]["orders"];
        assert_eq!(inner["totalCount"], 3);
        assert_eq!(inner["nodes"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            inner["nodes"][0]["user"]["orders"]["nodes"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }
    let calls = stack.order_core_calls.lock().expect("lock").clone();
    assert_eq!(
        calls,
        vec!["POST /v1/orders/by-users"; 3],
        "one call per level, none per user"
    );

    // A customer reaching other users' orders through references sees only their own, as before.
    let own = &buyers[0];
    let response = stack
        .graphql(
            Some(own),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders { totalCount } } } }",
            json!({ "r": representations }),
        )
        .await;
    let counts: Vec<_> = response["data"]["_entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["orders"]["totalCount"].as_i64())
        .collect();
    assert_eq!(
        counts,
        vec![Some(3), Some(0), Some(0), Some(0)],
        "{response}"
    );
}
