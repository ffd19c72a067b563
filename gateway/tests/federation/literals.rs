//! Texts that differ only in their literal arguments are planned once, by their shape, and each still gets the
//! answer to its own values.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::harness::TestGraph;

fn upcs(body: &Value, field: &str) -> Vec<String> {
    body["data"][field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} in {body}"))
        .iter()
        .map(|p| p["upc"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn texts_of_one_shape_share_a_plan_and_keep_their_own_values() {
    let graph = TestGraph::start().await;
    for first in 1..=4 {
        let body = graph
            .query(&format!(
                "{{ topProducts(first: {first}) {{ upc name shippingEstimate }} }}"
            ))
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let expected: Vec<String> = (1..=first).map(|n| format!("p{n}")).collect();
        assert_eq!(upcs(&body, "topProducts"), expected);
    }
    // Four texts and the one shape they share; before, four texts and four plans.
    assert_eq!(graph.gateway.plan_cache_usage().0, 5);

    // A second shape: a different field.
    for upc in ["p7", "p8"] {
        let body = graph
            .query(&format!("{{ product(upc: \"{upc}\") {{ upc price }} }}"))
            .await;
        assert_eq!(body["data"]["product"]["upc"], upc, "{body}");
    }
    assert_eq!(graph.gateway.plan_cache_usage().0, 8);

    // A text seen before is answered from its own entry, with its own value, not the last one planned.
    let body = graph.query("{ topProducts(first: 2) { upc } }").await;
    assert_eq!(upcs(&body, "topProducts"), ["p1", "p2"]);
}

#[tokio::test]
async fn a_variable_named_like_a_lifted_literal_changes_nothing() {
    let graph = TestGraph::start().await;
    // The text's own literal wins over a variable sent under the lifted name.
    let (status, body) = graph
        .post(
            "{ topProducts(first: 1) { upc } }",
            json!({ "_literal0": 5 }),
        )
        .await;
    assert_eq!(
        (status, upcs(&body, "topProducts")),
        (200, vec!["p1".into()])
    );

    // A document that declares such a variable itself is planned as written, its literals inline.
    let (status, body) = graph
        .post(
            "query($_literal0: Int!) { topProducts(first: $_literal0) { upc } product(upc: \"p9\") { upc } }",
            json!({ "_literal0": 2 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(upcs(&body, "topProducts"), ["p1", "p2"]);
    assert_eq!(body["data"]["product"]["upc"], "p9");
}

#[tokio::test]
async fn equal_literals_under_one_response_key_still_merge() {
    let graph = TestGraph::start().await;
    // Two selections of `product` merge because their arguments are equal; lifted apart, they would not.
    let body = graph
        .query(
            "{ product(upc: \"p4\") { upc } product(upc: \"p4\") { name } ...More }
             fragment More on Query { product(upc: \"p4\") { price } other: product(upc: \"p5\") { upc } }",
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"],
        json!({
            "product": { "upc": "p4", "name": "Product 4", "price": 104 },
            "other": { "upc": "p5" }
        })
    );
    // Equal literals are one variable, so a text where they differ is another shape.
    let body = graph
        .query("{ product(upc: \"p4\") { upc } other: product(upc: \"p4\") { upc } }")
        .await;
    assert_eq!(body["data"]["other"]["upc"], "p4", "{body}");
    let body = graph
        .query("{ product(upc: \"p4\") { upc } other: product(upc: \"p6\") { upc } }")
        .await;
    assert_eq!(body["data"]["other"]["upc"], "p6", "{body}");
}

#[tokio::test]
async fn literals_in_fragments_mutations_and_abstract_types_keep_their_meaning() {
    let graph = TestGraph::start().await;
    for upc in ["p2", "p3"] {
        let body = graph
            .query(&format!(
                "query Named {{ ...Pick }} fragment Pick on Query {{ product(upc: \"{upc}\") {{ ... on Product {{ upc inStock }} }} }}"
            ))
            .await;
        assert_eq!(body["data"]["product"]["upc"], upc, "{body}");
        // The inventory fixture has every product but p3 in stock.
        assert_eq!(body["data"]["product"]["inStock"], upc != "p3", "{body}");
    }
    for upc in ["n1", "n2"] {
        let (status, body) = graph
            .post(
                &format!("mutation {{ addProduct(upc: \"{upc}\") {{ upc }} }}"),
                Value::Null,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["addProduct"]["upc"], upc, "{body}");
    }
    // `null` stays inline, and an invalid literal is refused as it always was, naming the argument.
    let (status, body) = graph
        .post("{ topProducts(first: \"many\") { upc } }", Value::Null)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn a_lifted_size_is_still_costed_per_text() {
    let graph = TestGraph::start_with(|c| c.limits.max_cost = 50, &[]).await;
    let small = graph.query("{ topProducts(first: 5) { upc } }").await;
    assert!(small["errors"].is_null(), "{small}");
    // Same shape, a size over the budget: refused every time, though the shape is planned and cached.
    for _ in 0..2 {
        let (status, body) = graph
            .post("{ topProducts(first: 90) { upc } }", Value::Null)
            .await;
        assert_eq!(status, 400, "{body}");
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(extensions["code"], "OPERATION_LIMIT_EXCEEDED", "{body}");
        assert_eq!(extensions["limit"], "cost", "{body}");
    }
}

#[tokio::test]
async fn many_texts_of_one_shape_at_once_stay_within_the_cache_bound() {
    // 8× the cache's entries, all at once: every answer is its own, and the cache holds no more than its bound.
    let graph = TestGraph::start_with(|c| c.plan_cache_size = 8, &[]).await;
    let answers = join_all((1..=64).map(|n| {
        let graph = &graph;
        async move {
            let upc = format!("p{n}");
            let body = graph
                .query(&format!("{{ product(upc: \"{upc}\") {{ upc name }} }}"))
                .await;
            (upc, body)
        }
    }))
    .await;
    for (upc, body) in answers {
        assert_eq!(body["data"]["product"]["upc"], upc, "{body}");
    }
    assert!(graph.gateway.plan_cache_usage().0 <= 8);
}
