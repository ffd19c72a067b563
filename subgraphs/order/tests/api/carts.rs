//! The cart through the order subgraph: a guest's token, the merge after sign-in, the guest-cart rate limit,
//! and what another caller can reach.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestStack, error_code, error_field};

const ADD: &str = "mutation($p: ID!, $q: Int!, $t: String) { addToCart(productId: $p, quantity: $q, cartToken: $t) \
    { cartToken cart { id itemCount subtotal { amount currency } lines { product { id } quantity unitPrice { amount } \
    lineTotal { amount } problem } } } }";
const CART: &str = "query($t: String) { cart(cartToken: $t) { id itemCount lines { product { id } quantity problem } } }";
const MERGE: &str = "mutation($t: String!) { mergeCart(guestCartToken: $t) { id itemCount lines { product { id } quantity } } }";

fn lines(cart: &Value) -> Vec<(String, i64)> {
    cart["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["product"]["id"].as_str().expect("id").to_owned(),
                l["quantity"].as_i64().expect("quantity"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_guest_keeps_a_cart_by_token_and_merges_it_once_after_signing_in() {
    let stack = TestStack::spawn().await;
    let tea = stack.product("TEA", 450, 10).await;
    let mug = stack.product("MUG", 1200, 10).await;

    let first = stack.graphql(None, ADD, json!({ "p": tea, "q": 2 })).await;
    let token = first["data"]["addToCart"]["cartToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let second = stack
        .graphql(None, ADD, json!({ "p": mug, "q": 1, "t": token }))
        .await;
    let payload = &second["data"]["addToCart"];
    assert_eq!(
        payload["cartToken"],
        token.as_str(),
        "the guest keeps the token"
    );
    assert_eq!(
        payload["cart"]["subtotal"],
        json!({ "amount": 2100, "currency": "USD" })
    );
    assert_eq!(payload["cart"]["itemCount"], 3);
    assert_eq!(payload["cart"]["lines"][1]["lineTotal"]["amount"], 1200);

    let read = stack.graphql(None, CART, json!({ "t": token })).await;
    assert_eq!(
        lines(&read["data"]["cart"]),
        vec![(tea.clone(), 2), (mug.clone(), 1)]
    );
    assert_eq!(
        stack.graphql(None, CART, json!({})).await["data"]["cart"],
        Value::Null
    );

    let alice = stack.customer().await;
    stack
        .graphql(Some(&alice), ADD, json!({ "p": tea, "q": 1 }))
        .await;
    let merged = stack
        .graphql(Some(&alice), MERGE, json!({ "t": token }))
        .await;
    assert_eq!(
        lines(&merged["data"]["mergeCart"]),
        vec![(tea.clone(), 3), (mug.clone(), 1)],
        "{merged}"
    );
    let again = stack
        .graphql(Some(&alice), MERGE, json!({ "t": token }))
        .await;
    assert_eq!(
        again["data"]["mergeCart"], merged["data"]["mergeCart"],
        "a second merge changes nothing"
    );
    assert_eq!(
        stack.graphql(None, CART, json!({ "t": token })).await["data"]["cart"],
        Value::Null,
        "the guest cart is gone"
    );
    // Signed in, a token is ignored: the cart is the customer's own.
    let own = stack
        .graphql(Some(&alice), CART, json!({ "t": token }))
        .await;
    assert_eq!(own["data"]["cart"]["id"], merged["data"]["mergeCart"]["id"]);
    let signed_in_add = stack
        .graphql(Some(&alice), ADD, json!({ "p": mug, "q": 1 }))
        .await;
    assert_eq!(signed_in_add["data"]["addToCart"]["cartToken"], Value::Null);

    // A guest cannot merge.
    let refused = stack.graphql(None, MERGE, json!({ "t": token })).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
}

#[tokio::test]
async fn another_caller_reaches_no_cart_that_is_not_theirs() {
    let stack = TestStack::spawn().await;
    let tea = stack.product("TEA", 450, 10).await;
    let alice = stack.customer().await;
    let bob = stack.customer().await;
    stack
        .graphql(Some(&alice), ADD, json!({ "p": tea, "q": 1 }))
        .await;
    assert_eq!(
        stack.graphql(Some(&bob), CART, json!({})).await["data"]["cart"],
        Value::Null
    );
    let unknown = format!("qmc_{}", "ab".repeat(32));
    assert_eq!(
        stack.graphql(None, CART, json!({ "t": unknown })).await["data"]["cart"],
        Value::Null
    );
    let update = "mutation($p: ID!, $t: String) { updateCartLine(productId: $p, quantity: 2, cartToken: $t) { cartToken } }";
    for variables in [json!({ "p": tea }), json!({ "p": tea, "t": unknown })] {
        let refused = stack.graphql(None, update, variables).await;
        assert_eq!(error_code(&refused), "NOT_FOUND", "{refused}");
    }
    // Malformed tokens are refused before anything is sent on, whatever they hold.
    for bad in ["qmc_x", "qmc_\r\nx-actor: ADMIN 1", &"q".repeat(100_000)] {
        let refused = stack.graphql(None, CART, json!({ "t": bad })).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
        assert_eq!(error_field(&refused), "cartToken");
        let refused = stack
            .graphql(None, ADD, json!({ "p": tea, "q": 1, "t": bad }))
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    }
    let refused = stack
        .graphql(None, ADD, json!({ "p": tea, "q": 1001 }))
        .await;
    assert_eq!(error_field(&refused), "quantity", "{refused}");
    let retired = stack.product("OLD", 100, 5).await;
    stack.deactivate(&retired).await;
    let refused = stack
        .graphql(None, ADD, json!({ "p": retired, "q": 1 }))
        .await;
    assert_eq!(error_field(&refused), "productId", "{refused}");
}

#[tokio::test]
async fn one_client_address_starts_at_most_thirty_guest_carts_an_hour() {
    let stack = TestStack::spawn().await;
    let tea = stack.product("TEA", 450, 100_000).await;
    // 8 × the limit, all at once, from one address.
    let attempts = (0..240).map(|_| stack.graphql(None, ADD, json!({ "p": tea, "q": 1 })));
    let answers = join_all(attempts).await;
    let started = answers
        .iter()
        .filter(|a| a["data"]["addToCart"]["cartToken"].is_string())
        .count();
    let limited = answers
        .iter()
        .filter(|a| error_code(a) == "RATE_LIMITED")
        .count();
    // Never more than the limit. A few fewer can pass under a burst: each attempt is judged by the higher of
    // the replica's and Redis's counts, which concurrent attempts may read in different orders.
    assert!((20..=30).contains(&started), "{started} started");
    assert_eq!(started + limited, 240);
    // A guest who holds a token keeps using it; a signed-in customer is not counted.
    let token = answers
        .iter()
        .find_map(|a| a["data"]["addToCart"]["cartToken"].as_str())
        .expect("a token");
    let more = stack
        .graphql(None, ADD, json!({ "p": tea, "q": 1, "t": token }))
        .await;
    assert_eq!(more["data"]["addToCart"]["cart"]["itemCount"], 2, "{more}");
    let alice = stack.customer().await;
    let hers = stack
        .graphql(Some(&alice), ADD, json!({ "p": tea, "q": 1 }))
        .await;
    assert!(hers["errors"].is_null(), "{hers}");
}
