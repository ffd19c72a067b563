//! The staff's work through the one endpoint.

use serde_json::json;

use crate::helpers::{TestSystem, code};

#[tokio::test(flavor = "multi_thread")]
async fn admin_manages_catalog_stock_and_order_lifecycle() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    let (_, products) = system.catalog(&admin, "tools", &[("TL-1", 4200, 1)]).await;
    let adjusted = system
        .ok(
            Some(&admin),
            "mutation($id: ID!) { adjustStock(productId: $id, delta: 4) { stock } }",
            json!({ "id": products[0] }),
        )
        .await;
    assert_eq!(adjusted["adjustStock"]["stock"], json!(5));
    let renamed = system
        .ok(
            Some(&admin),
            "mutation($id: ID!) { updateProduct(id: $id, input: { name: \"Hammer\", price: 4500 }) { name price { amount } } }",
            json!({ "id": products[0] }),
        )
        .await;
    assert_eq!(
        renamed["updateProduct"],
        json!({ "name": "Hammer", "price": { "amount": 4500 } })
    );

    let (customer, _) = system.customer("bob").await;
    let order = system
        .ok(
            Some(&customer),
            "mutation($p: ID!) { placeOrder(input: { idempotencyKey: \"bob-1\", items: [{ productId: $p, quantity: 2 }] }) { id total { amount } } }",
            json!({ "p": products[0] }),
        )
        .await;
    let id = order["placeOrder"]["id"].as_str().expect("id").to_owned();
    assert_eq!(order["placeOrder"]["total"]["amount"], json!(9000));

    let all = system
        .ok(
            Some(&admin),
            "{ orders(status: PENDING) { nodes { id user { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["orders"]["nodes"],
        json!([{ "id": id, "user": { "name": "bob" } }])
    );

    let set = "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status } }";
    let illegal = system
        .graphql(Some(&admin), set, json!({ "id": id, "s": "DELIVERED" }))
        .await;
    assert_eq!(code(&illegal), "INVALID_STATE");
    for status in ["CONFIRMED", "SHIPPED", "DELIVERED"] {
        let moved = system
            .ok(Some(&admin), set, json!({ "id": id, "s": status }))
            .await;
        assert_eq!(moved["updateOrderStatus"]["status"], json!(status));
    }
    let too_late = system
        .graphql(Some(&admin), set, json!({ "id": id, "s": "CANCELLED" }))
        .await;
    assert_eq!(code(&too_late), "INVALID_STATE");
    assert_eq!(system.stock_within_the_window(&products[0], 3).await, 3);

    // Retiring the product keeps past orders readable and refuses new ones, naming the line.
    let retire =
        "mutation($id: ID!) { updateProduct(id: $id, input: { active: false }) { active } }";
    system
        .ok(Some(&admin), retire, json!({ "id": products[0] }))
        .await;
    let past = system
        .ok(
            Some(&customer),
            "query($id: ID!) { order(id: $id) { items { name product { name active } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        past["order"]["items"],
        json!([{ "name": "Hammer", "product": { "name": "Hammer", "active": false } }])
    );
    let refused = system
        .graphql(
            Some(&customer),
            "mutation($p: ID!) { placeOrder(input: { idempotencyKey: \"bob-2\", items: [{ productId: $p, quantity: 1 }] }) { id } }",
            json!({ "p": products[0] }),
        )
        .await;
    assert_eq!(
        (code(&refused), &refused["errors"][0]["extensions"]["field"]),
        ("BAD_USER_INPUT", &json!("items[0].productId"))
    );
}
