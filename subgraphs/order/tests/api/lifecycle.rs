//! `cancelOrder`, `updateOrderStatus`, and who may see or touch an order.

use serde_json::{Value, json};

use crate::helpers::{TestStack, User, error_code};

const CANCEL: &str = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }";
const UPDATE: &str = "mutation($id: ID!, $status: OrderStatus!) { updateOrderStatus(id: $id, status: $status) { status } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { id status user { id } } }";
const ORDERS: &str =
    "query($status: OrderStatus) { orders(status: $status) { totalCount nodes { id } } }";

async fn place(stack: &TestStack, user: &User, product: &str, quantity: i64) -> String {
    let response = stack
        .place(
            user,
            &uuid::Uuid::new_v4().to_string(),
            &[(product, quantity)],
        )
        .await;
    response["data"]["placeOrder"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("placed: {response}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_restocks_exactly_once_and_illegal_moves_are_refused() {
    let stack = TestStack::spawn().await;
    let product = stack.product("C-1", 100, 10).await;
    let (buyer, admin) = (stack.customer().await, stack.admin().await);
    let id = place(&stack, &buyer, &product, 3).await;
    assert_eq!(stack.stock_of(&product).await, 7);

    let cancelled = stack
        .graphql(Some(&buyer), CANCEL, json!({ "id": id }))
        .await;
    assert_eq!(
        cancelled["data"]["cancelOrder"]["status"],
        json!("CANCELLED"),
        "{cancelled}"
    );
    assert_eq!(stack.stock_of(&product).await, 10);
    let twice = stack
        .graphql(Some(&buyer), CANCEL, json!({ "id": id }))
        .await;
    assert_eq!(error_code(&twice), "INVALID_STATE");
    let by_status = stack
        .graphql(
            Some(&admin),
            UPDATE,
            json!({ "id": id, "status": "CANCELLED" }),
        )
        .await;
    assert_eq!(error_code(&by_status), "INVALID_STATE");
    assert_eq!(stack.stock_of(&product).await, 10, "restocked once");

    // Through the lifecycle; each illegal step is refused on the way.
    let id = place(&stack, &buyer, &product, 2).await;
    for (status, expected) in [
        ("SHIPPED", "INVALID_STATE"),
        ("PENDING", "INVALID_STATE"),
        ("CONFIRMED", ""),
        ("DELIVERED", "INVALID_STATE"),
        ("SHIPPED", ""),
        ("CANCELLED", "INVALID_STATE"),
        ("DELIVERED", ""),
        ("SHIPPED", "INVALID_STATE"),
        ("CANCELLED", "INVALID_STATE"),
    ] {
        let response = stack
            .graphql(Some(&admin), UPDATE, json!({ "id": id, "status": status }))
            .await;
        assert_eq!(error_code(&response), expected, "→ {status}: {response}");
        if expected.is_empty() {
            assert_eq!(
                response["data"]["updateOrderStatus"]["status"],
                json!(status)
            );
        }
    }
    assert_eq!(
        error_code(
            &stack
                .graphql(Some(&buyer), CANCEL, json!({ "id": id }))
                .await
        ),
        "INVALID_STATE"
    );
    assert_eq!(
        stack.stock_of(&product).await,
        8,
        "a delivered order keeps its stock"
    );

    // An admin cancelling a confirmed order by status restocks like cancelOrder.
    let id = place(&stack, &buyer, &product, 5).await;
    stack
        .graphql(
            Some(&admin),
            UPDATE,
            json!({ "id": id, "status": "CONFIRMED" }),
        )
        .await;
    let response = stack
        .graphql(
            Some(&admin),
            UPDATE,
            json!({ "id": id, "status": "CANCELLED" }),
        )
        .await;
    assert_eq!(
        response["data"]["updateOrderStatus"]["status"],
        json!("CANCELLED")
    );
    assert_eq!(stack.stock_of(&product).await, 8);

    let customer = stack
        .graphql(
            Some(&buyer),
            UPDATE,
            json!({ "id": id, "status": "SHIPPED" }),
        )
        .await;
    assert_eq!(
        error_code(&customer),
        "FORBIDDEN",
        "updateOrderStatus is for admins"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_customer_cannot_read_list_or_cancel_an_order() {
    let stack = TestStack::spawn().await;
    let product = stack.product("O-1", 100, 10).await;
    let (owner, stranger, admin) = (
        stack.customer().await,
        stack.customer().await,
        stack.admin().await,
    );
    let id = place(&stack, &owner, &product, 2).await;
    place(&stack, &stranger, &product, 1).await;

    let read = stack
        .graphql(Some(&stranger), ORDER, json!({ "id": id }))
        .await;
    assert_eq!(read, json!({ "data": { "order": null } }), "null, no error");
    let anonymous = stack.graphql(None, ORDER, json!({ "id": id })).await;
    assert_eq!(anonymous, json!({ "data": { "order": null } }));
    let listed = stack.graphql(Some(&stranger), ORDERS, json!({})).await;
    assert_eq!(
        listed["data"]["orders"]["totalCount"],
        json!(1),
        "only their own"
    );
    assert_ne!(listed["data"]["orders"]["nodes"][0]["id"], json!(id));
    let cancel = stack
        .graphql(Some(&stranger), CANCEL, json!({ "id": id }))
        .await;
    assert_eq!(
        (error_code(&cancel), &cancel["data"]),
        ("NOT_FOUND", &Value::Null)
    );
    assert_eq!(stack.stock_of(&product).await, 7, "nothing restocked");

    let own = stack
        .graphql(Some(&owner), ORDER, json!({ "id": id }))
        .await;
    assert_eq!(
        own["data"]["order"]["user"]["id"],
        json!(owner.id.to_string())
    );
    let seen_by_admin = stack
        .graphql(Some(&admin), ORDER, json!({ "id": id }))
        .await;
    assert_eq!(seen_by_admin["data"]["order"]["id"], json!(id));
    let all = stack.graphql(Some(&admin), ORDERS, json!({})).await;
    assert_eq!(
        all["data"]["orders"]["totalCount"],
        json!(2),
        "admins see every order"
    );
    let pending = stack
        .graphql(Some(&admin), ORDERS, json!({ "status": "CANCELLED" }))
        .await;
    assert_eq!(pending["data"]["orders"]["totalCount"], json!(0));
    assert_eq!(
        error_code(&stack.graphql(None, ORDERS, json!({})).await),
        "UNAUTHENTICATED"
    );
    let unknown = stack
        .graphql(Some(&owner), CANCEL, json!({ "id": uuid::Uuid::now_v7() }))
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
}

/// A page of orders reads payments only when `payment` is selected, under `nodes` or `edges.node`, and then
/// carries them: an admin's confirmation records a `MANUAL` payment that both spellings show.
#[tokio::test]
async fn a_page_shows_payments_where_they_are_selected() {
    let stack = TestStack::spawn().await;
    let product = stack.product("LAMP", 2500, 5).await;
    let (customer, admin) = (stack.customer().await, stack.admin().await);
    let id = place(&stack, &customer, &product, 1).await;
    let confirmed = stack
        .graphql(
            Some(&admin),
            UPDATE,
            json!({ "id": id, "status": "CONFIRMED" }),
        )
        .await;
    assert_eq!(
        confirmed["data"]["updateOrderStatus"]["status"], "CONFIRMED",
        "{confirmed}"
    );

    for query in [
        "{ orders { nodes { id payment { provider amount { amount } } } } }",
        "{ orders { edges { node { id payment { provider amount { amount } } } } } }",
        "{ orders { nodes { id ... on Order { payment { provider amount { amount } } } } } }",
    ] {
        let response = stack.graphql(Some(&customer), query, json!({})).await;
        let page = &response["data"]["orders"];
        let order = if page["nodes"].is_null() {
            &page["edges"][0]["node"]
        } else {
            &page["nodes"][0]
        };
        assert_eq!(order["id"], id, "{response}");
        assert_eq!(
            order["payment"],
            json!({ "provider": "manual", "amount": { "amount": 2500 } }),
            "{query}: {response}"
        );
    }
    let response = stack
        .graphql(
            Some(&customer),
            "{ orders { nodes { id status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"]["orders"]["nodes"][0]["status"], "CONFIRMED",
        "{response}"
    );
}
