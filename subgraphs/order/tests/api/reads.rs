//! What order-core is asked to read for a page: only what the page selects.

use quickmart_shared::auth::Role;
use serde_json::json;

use crate::helpers::TestStack;

/// An order's lines, payment and the page's total are each read only when the page selects them.
#[tokio::test]
async fn a_page_asks_order_core_only_for_what_it_selects() {
    let stack = TestStack::spawn().await;
    let product = stack.product("READS-1", 500, 1_000).await;
    let buyer = stack.user(Role::Customer).await;
    let placed = stack.place(&buyer, "reads-1", &[(&product, 2)]).await;
    assert!(placed["errors"].is_null(), "{placed}");

    let asked = |query: &'static str| {
        let stack = &stack;
        let buyer = &buyer;
        async move {
            stack.order_core_calls.lock().expect("lock").clear();
            let answer = stack.graphql(Some(buyer), query, json!({})).await;
            assert!(answer["errors"].is_null(), "{answer}");
            let calls = stack.order_core_calls.lock().expect("lock").clone();
            assert_eq!(calls.len(), 1, "{calls:?}");
            (answer, calls[0].clone())
        }
    };

    let (answer, call) = asked("{ orders(first: 5) { nodes { id status } } }").await;
    assert_eq!(answer["data"]["orders"]["nodes"][0]["status"], "PENDING");
    for flag in ["with_items=false", "with_payment=false", "with_total=false"] {
        assert!(call.contains(flag), "{flag} in {call}");
    }

    let (answer, call) = asked("{ orders(first: 5) { nodes { items { quantity } } } }").await;
    assert_eq!(
        answer["data"]["orders"]["nodes"][0]["items"],
        json!([{ "quantity": 2 }])
    );
    assert!(call.contains("with_items=true"), "{call}");
    assert!(call.contains("with_payment=false"), "{call}");

    // Through a named fragment and an inline one, as a client may spell it: the look-ahead still sees the lines.
    let (answer, call) = asked(
        "{ orders(first: 5) { ...Page } } \
         fragment Page on OrderConnection { nodes { ... on Order { items { quantity } } } }",
    )
    .await;
    assert_eq!(
        answer["data"]["orders"]["nodes"][0]["items"],
        json!([{ "quantity": 2 }]),
        "{answer}"
    );
    assert!(call.contains("with_items=true"), "{call}");

    let (answer, call) =
        asked("{ orders(first: 5) { totalCount edges { node { payment { status } items { quantity } } } } }")
            .await;
    assert_eq!(answer["data"]["orders"]["totalCount"], 1, "{answer}");
    for flag in ["with_items=true", "with_payment=true", "with_total=true"] {
        assert!(call.contains(flag), "{flag} in {call}");
    }
}
