//! `placeOrder` end to end: concurrency, idempotency, atomicity and every failure path.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::helpers::{TestStack, error_code, error_field};

fn no_held(reservations: &std::collections::HashMap<String, i64>) -> bool {
    !reservations.contains_key("HELD")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_placed_order_reads_back_whole() {
    let stack = TestStack::spawn().await;
    let (book, pen) = (
        stack.product("BOOK-1", 1999, 5).await,
        stack.product("PEN-1", 250, 10).await,
    );
    let buyer = stack.customer().await;
    let response = stack
        .graphql(
            Some(&buyer),
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
                id user { id } status total { amount currency }
                items { product { id } sku name quantity unitPrice { amount currency } lineTotal { amount } }
                shippingAddress { name line1 line2 city postalCode country } createdAt updatedAt } }",
            json!({ "input": {
                "items": [{ "productId": book, "quantity": 2 }, { "productId": pen, "quantity": 3 }],
                "idempotencyKey": "first-order",
                "shippingAddress": { "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
                                     "postalCode": "SW1Y 4LG", "country": "GB" } } }),
        )
        .await;
    insta::assert_json_snapshot!(response, {
        ".data.placeOrder.id" => "[order id]",
        ".data.placeOrder.user.id" => "[buyer id]",
        ".data.placeOrder.items[].product.id" => "[product id]",
        ".data.placeOrder.createdAt" => "[timestamp]",
        ".data.placeOrder.updatedAt" => "[timestamp]",
    }, @r#"
    {
      "data": {
        "placeOrder": {
          "createdAt": "[timestamp]",
          "id": "[order id]",
          "items": [
            {
              "lineTotal": {
                "amount": 3998
              },
              "name": "Product BOOK-1",
              "product": {
                "id": "[product id]"
              },
              "quantity": 2,
              "sku": "BOOK-1",
              "unitPrice": {
                "amount": 1999,
                "currency": "USD"
              }
            },
            {
              "lineTotal": {
                "amount": 750
              },
              "name": "Product PEN-1",
              "product": {
                "id": "[product id]"
              },
              "quantity": 3,
              "sku": "PEN-1",
              "unitPrice": {
                "amount": 250,
                "currency": "USD"
              }
            }
          ],
          "shippingAddress": {
            "city": "London",
            "country": "GB",
            "line1": "12 St James's Square",
            "line2": null,
            "name": "Ada Lovelace",
            "postalCode": "SW1Y 4LG"
          },
          "status": "PENDING",
          "total": {
            "amount": 4748,
            "currency": "USD"
          },
          "updatedAt": "[timestamp]",
          "user": {
            "id": "[buyer id]"
          }
        }
      }
    }
    "#);
    let order = &response["data"]["placeOrder"];
    assert_eq!(order["user"]["id"], json!(buyer.id.to_string()));
    assert_eq!(order["items"][1]["product"]["id"], json!(pen));
    assert_eq!(
        (stack.stock_of(&book).await, stack.stock_of(&pen).await),
        (3, 7)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forty_concurrent_orders_from_eight_users_against_ten_units() {
    let stack = Arc::new(TestStack::spawn().await);
    let product = stack.product("HOT-1", 500, 10).await;
    let mut buyers = Vec::new();
    for _ in 0..8 {
        buyers.push(stack.customer().await);
    }
    let barrier = Arc::new(Barrier::new(40));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (stack, barrier, product, buyer) = (
                Arc::clone(&stack),
                Arc::clone(&barrier),
                product.clone(),
                buyers[i % 8].clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                stack
                    .place(&buyer, &format!("order-{i}"), &[(&product, 1)])
                    .await
            })
        })
        .collect();
    let (mut placed, mut out_of_stock) = (0, 0);
    for task in tasks {
        let response = task.await.expect("task");
        if response["data"]["placeOrder"]["status"] == json!("PENDING") {
            placed += 1;
        } else {
            assert_eq!(error_code(&response), "OUT_OF_STOCK", "{response}");
            assert_eq!(
                response["errors"][0]["extensions"]["productId"],
                json!(product)
            );
            out_of_stock += 1;
        }
    }
    assert_eq!((placed, out_of_stock), (10, 30));
    assert_eq!(stack.stock_of(&product).await, 0);
    assert_eq!(stack.order_rows().await, 10);
    let reservations = stack.reservations().await;
    assert_eq!(reservations.get("COMMITTED"), Some(&10));
    assert!(
        no_held(&reservations),
        "no reservation left behind: {reservations:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_with_one_key_make_one_order() {
    let stack = Arc::new(TestStack::spawn().await);
    let (a, b) = (
        stack.product("A-1", 100, 100).await,
        stack.product("B-1", 100, 100).await,
    );
    let buyer = stack.customer().await;

    let first = stack.place(&buyer, "sequential", &[(&a, 2)]).await;
    let again = stack.place(&buyer, "sequential", &[(&a, 2)]).await;
    assert_eq!(
        again["data"]["placeOrder"]["id"], first["data"]["placeOrder"]["id"],
        "{again}"
    );
    assert!(first["data"]["placeOrder"]["id"].is_string());
    assert_eq!(stack.stock_of(&a).await, 98);

    let other = stack.place(&buyer, "sequential", &[(&b, 2)]).await;
    assert_eq!(
        (error_code(&other), error_field(&other)),
        ("CONFLICT", "idempotencyKey"),
        "{other}"
    );
    assert_eq!(other["data"], Value::Null);
    assert_eq!(stack.stock_of(&b).await, 100);

    let barrier = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (stack, barrier, a, buyer) = (
                Arc::clone(&stack),
                Arc::clone(&barrier),
                a.clone(),
                buyer.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                stack.place(&buyer, "concurrent", &[(&a, 5)]).await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let response = task.await.expect("task");
        ids.insert(
            response["data"]["placeOrder"]["id"]
                .as_str()
                .expect("an order")
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 1, "one order");
    assert_eq!(stack.stock_of(&a).await, 93, "reserved once");
    assert_eq!(stack.order_rows().await, 2);
    assert_eq!(
        stack.reservations().await.get("COMMITTED"),
        Some(&2),
        "one reservation per order"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_second_line_reserves_nothing() {
    let stack = TestStack::spawn().await;
    let (plenty, scarce) = (
        stack.product("P-1", 100, 10).await,
        stack.product("P-2", 100, 1).await,
    );
    let response = stack
        .place(
            &stack.customer().await,
            "short",
            &[(&plenty, 3), (&scarce, 2)],
        )
        .await;
    assert_eq!(error_code(&response), "OUT_OF_STOCK");
    assert_eq!(
        response["errors"][0]["extensions"]["productId"],
        json!(scarce)
    );
    assert_eq!(
        (stack.stock_of(&plenty).await, stack.stock_of(&scarce).await),
        (10, 1)
    );
    assert_eq!(stack.order_rows().await, 0);
    assert!(stack.reservations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_names_the_field() {
    let stack = TestStack::spawn().await;
    let (a, b) = (
        stack.product("V-1", 100, 10).await,
        stack.product("V-2", 100, 10).await,
    );
    let retired = stack.product("OFF-1", 100, 10).await;
    stack.deactivate(&retired).await;
    let buyer = stack.customer().await;
    for (items, field) in [
        (
            vec![(a.as_str(), 1), (retired.as_str(), 1)],
            "items[1].productId",
        ),
        (
            vec![(a.as_str(), 1), (b.as_str(), 1), (a.as_str(), 1)],
            "items[2].productId",
        ),
        (vec![(a.as_str(), 0)], "items[0].quantity"),
        (vec![(a.as_str(), 1001)], "items[0].quantity"),
        (vec![("not-a-uuid", 1)], "items[0].productId"),
        (vec![], "items"),
    ] {
        let response = stack.place(&buyer, "bad", &items).await;
        assert_eq!(
            (error_code(&response), error_field(&response)),
            ("BAD_USER_INPUT", field),
            "{response}"
        );
    }
    let response = stack
        .graphql(
            Some(&buyer),
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
            json!({ "input": { "items": [{ "productId": a, "quantity": 1 }], "idempotencyKey": "bad",
                    "shippingAddress": { "name": "A", "line1": "B", "city": "C", "postalCode": "", "country": "ZZ" } } }),
        )
        .await;
    assert_eq!(error_field(&response), "shippingAddress.postalCode");
    assert_eq!(
        response["errors"][0]["extensions"]["fieldErrors"][1]["field"],
        json!("shippingAddress.country")
    );
    let pricey = stack.product("GOLD-1", i64::from(i32::MAX), 5).await;
    let response = stack.place(&buyer, "too-much", &[(&pricey, 2)]).await;
    assert_eq!(
        (error_code(&response), error_field(&response)),
        ("BAD_USER_INPUT", "items")
    );
    assert_eq!(
        (
            stack.stock_of(&a).await,
            stack.stock_of(&pricey).await,
            stack.order_rows().await
        ),
        (10, 5, 0)
    );

    let anonymous = stack
        .graphql(
            None,
            "mutation { placeOrder(input: { items: [], idempotencyKey: \"k\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_order_write_releases_the_reservation() {
    let stack = TestStack::spawn().await;
    let product = stack.product("F-1", 100, 10).await;
    // A trigger on this test's own order database makes writing the items fail after the reservation.
    stack
        .execute_on_orders(
            "CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
        )
        .await;
    stack
        .execute_on_orders(
            "CREATE TRIGGER refuse_items BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION refuse_items()",
        )
        .await;
    let response = stack
        .place(&stack.customer().await, "doomed", &[(&product, 4)])
        .await;
    assert_eq!(error_code(&response), "INTERNAL_SERVER_ERROR");
    assert!(
        !response.to_string().contains("injected"),
        "the cause is not shown: {response}"
    );
    assert_eq!(stack.order_rows().await, 0);
    assert_eq!(stack.stock_of(&product).await, 10);
    assert_eq!(stack.reservations().await.get("RELEASED"), Some(&1));
    assert!(no_held(&stack.reservations().await));
}

#[tokio::test(flavor = "multi_thread")]
async fn product_core_unreachable_is_service_unavailable_and_writes_nothing() {
    let stack = TestStack::spawn_with_product_core_unreachable().await;
    let product = stack.product("U-1", 100, 10).await;
    let response = stack
        .place(&stack.customer().await, "offline", &[(&product, 1)])
        .await;
    assert_eq!(error_code(&response), "SERVICE_UNAVAILABLE", "{response}");
    assert_eq!(stack.order_rows().await, 0);
    assert_eq!(stack.stock_of(&product).await, 10);
    assert!(stack.reservations().await.is_empty());
}
