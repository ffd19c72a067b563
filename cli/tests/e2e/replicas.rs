//! Two complete sets of services over one PostgreSQL and one Redis, as two replicas of every service run in a
//! deployment (issue "Faults, cache and scale", L5): what holds for one process must hold across them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestSystem, code};

const PLACE: &str = "mutation($p: ID!, $k: String!, $q: Int!) { placeOrder(input: { idempotencyKey: $k, items: [{ productId: $p, quantity: $q }] }) { id } }";
const ME: &str = "{ me { role } }";

/// Polls `read` on `system` until `done` holds or the invalidation window (2 s) has passed; the last answer.
async fn within_the_window(
    system: &TestSystem,
    token: Option<&str>,
    read: &str,
    variables: Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let answer = system.graphql(token, read, variables.clone()).await;
        if done(&answer) || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_sell_exactly_the_stock_and_agree_on_everything() {
    let one = TestSystem::start().await;
    let two = one.replica().await;
    let admin = one.admin_token().await;
    let (_, products) = one.catalog(&admin, "replicas", &[("R-1", 500, 5)]).await;
    let product = &products[0];

    // The last 5 units, wanted by 40 orders at once (5 × 8) from 4 buyers, half through each replica.
    let mut buyers = Vec::new();
    for n in 0..4 {
        buyers.push(one.customer(&format!("buyer{n}")).await.0);
    }
    let attempts = (0..40).map(|n| {
        let system = if n % 2 == 0 { &one } else { &two };
        system.graphql(
            Some(&buyers[n % 4]),
            PLACE,
            json!({ "p": product, "k": format!("last-{n}"), "q": 1 }),
        )
    });
    let answers = futures::future::join_all(attempts).await;
    let placed = answers
        .iter()
        .filter(|a| a["data"]["placeOrder"]["id"].is_string())
        .count();
    for refused in answers.iter().filter(|a| !a["errors"].is_null()) {
        assert_eq!(code(refused), "OUT_OF_STOCK", "{refused:#}");
    }
    assert_eq!(placed, 5, "exactly the stock is sold");
    assert_eq!(one.stock_within_the_window(product, 0).await, 0);
    assert_eq!(two.stock_within_the_window(product, 0).await, 0);

    // One idempotency key sent to both replicas at once, 8 times each: one order.
    let restocked = "mutation($id: ID!) { adjustStock(productId: $id, delta: 10) { stock } }";
    one.ok(Some(&admin), restocked, json!({ "id": product }))
        .await;
    let (token, _) = one.customer("twice").await;
    let same_key = (0..16).map(|n| {
        let system = if n % 2 == 0 { &one } else { &two };
        system.graphql(
            Some(&token),
            PLACE,
            json!({ "p": product, "k": "same-key", "q": 2 }),
        )
    });
    let answers = futures::future::join_all(same_key).await;
    let ids: HashSet<&str> = answers
        .iter()
        .map(|a| {
            a["data"]["placeOrder"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{a:#}"))
        })
        .collect();
    assert_eq!(ids.len(), 1, "one order for one key: {ids:?}");
    assert_eq!(
        one.stock_within_the_window(product, 8).await,
        8,
        "reserved once"
    );

    // A product changed through one replica is fresh on the other, whose caches held the old copy.
    let read = "query($id: ID!) { product(id: $id) { name } }";
    assert_eq!(
        two.ok(None, read, json!({ "id": product })).await["product"]["name"],
        "Item R-1"
    );
    let rename =
        "mutation($id: ID!) { updateProduct(id: $id, input: { name: \"Renamed\" }) { name } }";
    one.ok(Some(&admin), rename, json!({ "id": product })).await;
    let fresh = within_the_window(&two, None, read, json!({ "id": product }), |a| {
        a["data"]["product"]["name"] == "Renamed"
    })
    .await;
    assert_eq!(fresh["data"]["product"]["name"], "Renamed", "{fresh:#}");
    assert_eq!(two.stock_within_the_window(product, 8).await, 8);

    // A role change made on one replica is enforced by the other: the old token's rights end.
    let (token, id) = one.customer("promoted").await;
    let set_role =
        "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { role } }";
    assert_eq!(
        two.ok(Some(&token), ME, json!({})).await["me"]["role"],
        "CUSTOMER"
    );
    one.ok(Some(&admin), set_role, json!({ "id": id, "role": "ADMIN" }))
        .await;
    let refused = within_the_window(&two, Some(&token), ME, json!({}), |a| {
        code(a) == "UNAUTHENTICATED"
    })
    .await;
    assert_eq!(code(&refused), "UNAUTHENTICATED", "{refused:#}");
}
