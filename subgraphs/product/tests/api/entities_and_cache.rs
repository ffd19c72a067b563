//! Entity batching, cache-aside reads, invalidation, and serving with Redis down.

use quickmart_shared::cache::CacheSettings;
use serde_json::json;

use crate::helpers::TestStack;

const ENTITIES: &str = "query($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Product { id sku stock } } }";

#[tokio::test(flavor = "multi_thread")]
async fn fifty_representations_are_one_core_request_and_then_none() {
    let stack = TestStack::spawn().await;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(stack.seed_product(&format!("E-{n}"), 100, 1).await);
    }
    let representations: Vec<_> = ids
        .iter()
        .map(|id| json!({ "__typename": "Product", "id": id }))
        .collect();
    stack.reset_core_requests();
    let response = stack
        .graphql(
            None,
            ENTITIES,
            json!({ "representations": representations }),
        )
        .await;
    let entities = response["data"]["_entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 50);
    assert!(
        entities
            .iter()
            .zip(&ids)
            .all(|(entity, id)| entity["id"] == json!(id)),
        "order kept"
    );
    assert_eq!(stack.core_requests(), ["POST /v1/products/lookup"]);

    stack.reset_core_requests();
    let again = stack
        .graphql(
            None,
            ENTITIES,
            json!({ "representations": representations }),
        )
        .await;
    assert_eq!(again, response);
    assert!(
        stack.core_requests().is_empty(),
        "cached reads must not reach the core: {:?}",
        stack.core_requests()
    );
}

/// An entity fetch's text skips validation once it validated (its representations cannot change the outcome), and
/// a broken representations value is still refused, with errors and no data, and the subgraph goes on answering.
#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_entity_fetch_still_refuses_broken_representations() {
    let stack = TestStack::spawn().await;
    let id = stack.seed_product("T-1", 100, 1).await;
    let good = json!({ "representations": [{ "__typename": "Product", "id": id }] });
    for _ in 0..2 {
        let response = stack.graphql(None, ENTITIES, good.clone()).await;
        assert_eq!(response["data"]["_entities"][0]["sku"], "T-1", "{response}");
    }
    for broken in [
        json!({ "representations": null }),
        json!({}),
        json!({ "representations": [null] }),
        json!({ "representations": [7] }),
        json!({ "representations": [{ "id": id }] }),
        json!({ "representations": "Product" }),
    ] {
        let response = stack.graphql(None, ENTITIES, broken.clone()).await;
        assert!(
            response["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{broken} answered {response}"
        );
        let entities = &response["data"]["_entities"];
        assert!(
            entities.is_null()
                || entities
                    .as_array()
                    .is_some_and(|e| e.iter().all(|e| e.is_null())),
            "{broken} answered {response}"
        );
    }
    let response = stack.graphql(None, ENTITIES, good).await;
    assert_eq!(response["data"]["_entities"][0]["sku"], "T-1", "{response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mutations_and_direct_reservations_invalidate_the_cached_product() {
    let stack = TestStack::spawn().await;
    let id = stack.seed_product("C-1", 500, 10).await;
    let read = "query($id: ID!) { product(id: $id) { name stock } }";
    let first = stack.graphql(None, read, json!({ "id": id })).await;
    assert_eq!(
        first["data"]["product"],
        json!({ "name": "Product C-1", "stock": 10 })
    );
    stack.reset_core_requests();
    assert_eq!(stack.graphql(None, read, json!({ "id": id })).await, first);
    assert!(stack.core_requests().is_empty(), "second read is cached");

    let rename =
        "mutation($id: ID!) { updateProduct(id: $id, input: { name: \"Renamed\" }) { name } }";
    stack
        .graphql(Some(&stack.admin), rename, json!({ "id": id }))
        .await;
    let renamed = stack.graphql(None, read, json!({ "id": id })).await;
    assert_eq!(
        renamed["data"]["product"],
        json!({ "name": "Renamed", "stock": 10 })
    );

    stack
        .core_post(
            "/v1/reservations",
            json!({ "lines": [{ "product_id": id, "quantity": 4 }] }),
        )
        .await;
    // A reservation made straight at product-core reaches this subgraph's near copy on the invalidation
    // channel: within milliseconds, not at once.
    let expected = json!({ "name": "Renamed", "stock": 6 });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let reserved = loop {
        let reserved = stack.graphql(None, read, json!({ "id": id })).await;
        if reserved["data"]["product"] == expected || std::time::Instant::now() > deadline {
            break reserved;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(reserved["data"]["product"], expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_succeed_with_redis_down() {
    let stack = TestStack::spawn_with_cache(CacheSettings::isolated("redis://127.0.0.1:1")).await;
    let id = stack.seed_product("D-1", 100, 3).await;
    for _ in 0..3 {
        let response = stack
            .graphql(
                None,
                "query($id: ID!) { product(id: $id) { stock } categories { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            response,
            json!({ "data": { "product": { "stock": 3 }, "categories": [] } })
        );
    }
}
