//! A customer's journey through the one endpoint.

use insta::assert_json_snapshot;
use serde_json::{Value, json};

use crate::helpers::{TestSystem, code};

const PLACE: &str = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total { amount currency } } }";

#[tokio::test(flavor = "multi_thread")]
async fn browse_order_read_back_and_cancel() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    let (category, products) = system
        .catalog(
            &admin,
            "garden",
            &[
                ("GA-1", 1500, 10),
                ("GA-2", 500, 3),
                ("GA-3", 9900, 0),
                ("GA-4", 2500, 8),
            ],
        )
        .await;

    let (token, user_id) = system.customer("ada").await;
    let login = system
        .graphql(
            None,
            "mutation { login(email: \"nobody@e2e.test\", password: \"wrong-password-1\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::helpers::code(&login), "UNAUTHENTICATED");

    let browse = "query($f: ProductFilter, $after: String) {
        products(filter: $f, sort: PRICE_ASC, first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { id sku price { amount } } } }";
    let filter = json!({ "categoryId": category, "inStock": true });
    let page = system
        .ok(Some(&token), browse, json!({ "f": filter }))
        .await;
    let skus = |page: &serde_json::Value| -> Vec<String> {
        page["products"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["sku"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(skus(&page), ["GA-2", "GA-1"]);
    assert_eq!(page["products"]["totalCount"], json!(3));
    let next = system
        .ok(
            Some(&token),
            browse,
            json!({ "f": filter, "after": page["products"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(skus(&next), ["GA-4"]);
    assert_eq!(next["products"]["pageInfo"]["hasNextPage"], json!(false));
    // The same pages spelled with literals (an ID, a Boolean, an enum, an input object): the gateway plans
    // them by one shape, and each keeps its own values.
    for (first, expected) in [(2, vec!["GA-2", "GA-1"]), (3, vec!["GA-2", "GA-1", "GA-4"])] {
        let inline = format!(
            "{{ products(filter: {{ categoryId: \"{category}\", inStock: true }}, sort: PRICE_ASC, first: {first}) {{
                totalCount nodes {{ id sku price {{ amount }} }} }} }}"
        );
        let page = system.ok(Some(&token), &inline, json!({})).await;
        assert_eq!(skus(&page), expected);
        assert_eq!(page["products"]["totalCount"], json!(3));
    }

    let order_input = json!({ "input": { "idempotencyKey": "ada-1", "items": [
        { "productId": products[0], "quantity": 2 }, { "productId": products[1], "quantity": 1 } ],
        "shippingAddress": { "name": "Ada", "line1": "1 Analytical Way", "city": "London", "postalCode": "N1", "country": "GB" } } });
    let placed = system.ok(Some(&token), PLACE, order_input.clone()).await;
    let order_id = placed["placeOrder"]["id"]
        .as_str()
        .expect("order id")
        .to_owned();
    assert_eq!(
        placed["placeOrder"]["total"],
        json!({ "amount": 3500, "currency": "USD" })
    );
    assert_eq!(
        (
            system.stock_within_the_window(&products[0], 8).await,
            system.stock_within_the_window(&products[1], 2).await
        ),
        (8, 2)
    );

    let read_back = system
        .ok(
            Some(&token),
            "query($id: ID!) { order(id: $id) { status total { amount } shippingAddress { city country }
                user { id email name } items { sku quantity unitPrice { amount } lineTotal { amount }
                product { name category { slug } } } } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(read_back["order"]["user"]["id"], json!(user_id));
    assert_json_snapshot!(read_back, { ".order.user.id" => "[id]", ".order.user.email" => "[email]" }, @r#"
    {
      "order": {
        "items": [
          {
            "lineTotal": {
              "amount": 3000
            },
            "product": {
              "category": {
                "slug": "garden"
              },
              "name": "Item GA-1"
            },
            "quantity": 2,
            "sku": "GA-1",
            "unitPrice": {
              "amount": 1500
            }
          },
          {
            "lineTotal": {
              "amount": 500
            },
            "product": {
              "category": {
                "slug": "garden"
              },
              "name": "Item GA-2"
            },
            "quantity": 1,
            "sku": "GA-2",
            "unitPrice": {
              "amount": 500
            }
          }
        ],
        "shippingAddress": {
          "city": "London",
          "country": "GB"
        },
        "status": "PENDING",
        "total": {
          "amount": 3500
        },
        "user": {
          "email": "[email]",
          "id": "[id]",
          "name": "ada"
        }
      }
    }
    "#);

    let mine = system
        .ok(
            Some(&token),
            "{ me { orders { totalCount nodes { id total { amount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["me"]["orders"]["nodes"],
        json!([{ "id": order_id, "total": { "amount": 3500 } }])
    );

    let retried = system.ok(Some(&token), PLACE, order_input).await;
    assert_eq!(retried["placeOrder"]["id"], json!(order_id));
    assert_eq!(system.stock_within_the_window(&products[0], 8).await, 8);

    let cancelled = system
        .ok(
            Some(&token),
            "mutation($id: ID!) { cancelOrder(id: $id) { status } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(cancelled["cancelOrder"]["status"], json!("CANCELLED"));
    assert_eq!(
        (
            system.stock_within_the_window(&products[0], 10).await,
            system.stock_within_the_window(&products[1], 3).await
        ),
        (10, 3)
    );
    let again = system
        .graphql(
            Some(&token),
            "mutation($id: ID!) { cancelOrder(id: $id) { status } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(crate::helpers::code(&again), "INVALID_STATE");
    assert_eq!(system.stock_within_the_window(&products[0], 10).await, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_address_and_an_orders_snapshot_are_one_address_type() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    let (_, products) = system.catalog(&admin, "books", &[("BK-1", 1200, 5)]).await;
    let (token, _) = system.customer("grace").await;
    let address = json!({"name": "Grace Hopper", "line1": "1 Navy Way", "city": "Arlington", "postalCode": "22202", "country": "us"});

    let saved = system
        .ok(
            Some(&token),
            "mutation($input: AddressInput!) { addAddress(input: $input) { id name country } }",
            json!({ "input": address }),
        )
        .await;
    let id = saved["addAddress"]["id"].clone();
    assert!(id.is_string(), "{saved}");
    let book = system
        .ok(
            Some(&token),
            "{ me { addresses { id country } defaultAddress { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        book["me"]["addresses"],
        json!([{ "id": id, "country": "US" }])
    );
    assert_eq!(book["me"]["defaultAddress"]["id"], id);

    // The order keeps a snapshot, which has no id: changing the book later cannot change the order.
    let placed = system
        .ok(
            Some(&token),
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { shippingAddress { id name country } } }",
            json!({ "input": { "idempotencyKey": "with-address", "items": [{ "productId": products[0], "quantity": 1 }], "shippingAddress": address } }),
        )
        .await;
    assert_eq!(
        placed["placeOrder"]["shippingAddress"],
        json!({ "id": null, "name": "Grace Hopper", "country": "US" })
    );
}

#[tokio::test]
async fn a_guest_cart_follows_its_shopper_through_sign_up() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    let (_, products) = system
        .catalog(&admin, "tea", &[("TEA-1", 450, 5), ("MUG-1", 1200, 5)])
        .await;
    let add = "mutation($p: ID!, $q: Int!, $t: String) { addToCart(productId: $p, quantity: $q, cartToken: $t) { cartToken cart { itemCount } } }";

    let first = system
        .ok(None, add, json!({ "p": products[0], "q": 2 }))
        .await;
    let cart_token = first["addToCart"]["cartToken"].clone();
    assert!(cart_token.is_string(), "{first}");
    let second = system
        .ok(
            None,
            add,
            json!({ "p": products[1], "q": 1, "t": cart_token }),
        )
        .await;
    assert_eq!(second["addToCart"]["cart"]["itemCount"], 3);

    let (token, _) = system.customer("ada").await;
    let merge = "mutation($t: String!) { mergeCart(guestCartToken: $t) { itemCount subtotal { amount } \
        lines { quantity product { name price { amount } } problem } } }";
    let merged = system
        .ok(Some(&token), merge, json!({ "t": cart_token }))
        .await;
    assert_eq!(
        merged["mergeCart"],
        json!({
            "itemCount": 3,
            "subtotal": { "amount": 2100 },
            "lines": [
                { "quantity": 2, "product": { "name": "Item TEA-1", "price": { "amount": 450 } }, "problem": null },
                { "quantity": 1, "product": { "name": "Item MUG-1", "price": { "amount": 1200 } }, "problem": null },
            ],
        })
    );
    let again = system
        .ok(Some(&token), merge, json!({ "t": cart_token }))
        .await;
    assert_eq!(again, merged, "a second merge changes nothing");

    let (other, _) = system.customer("eve").await;
    let cart = "query($t: String) { cart(cartToken: $t) { itemCount } }";
    assert_eq!(
        system
            .ok(Some(&other), cart, json!({ "t": cart_token }))
            .await,
        json!({ "cart": null }),
        "another customer has no cart, whatever token they send"
    );
    assert_eq!(
        system.ok(None, cart, json!({ "t": cart_token })).await,
        json!({ "cart": null }),
        "the guest cart is gone"
    );
}

#[tokio::test]
async fn a_merged_cart_checks_out_paid_to_a_saved_address() {
    let system = TestSystem::start().await;
    let admin = system.admin_token().await;
    let (_, products) = system
        .catalog(&admin, "coffee", &[("BEAN-1", 1500, 5), ("CUP-1", 800, 5)])
        .await;
    let add = "mutation($p: ID!, $q: Int!, $t: String) { addToCart(productId: $p, quantity: $q, cartToken: $t) { cartToken } }";
    let first = system
        .ok(None, add, json!({ "p": products[0], "q": 2 }))
        .await;
    let cart_token = first["addToCart"]["cartToken"].clone();
    system
        .ok(
            None,
            add,
            json!({ "p": products[1], "q": 1, "t": cart_token }),
        )
        .await;

    let (token, _) = system.customer("lin").await;
    system
        .ok(
            Some(&token),
            "mutation($t: String!) { mergeCart(guestCartToken: $t) { itemCount } }",
            json!({ "t": cart_token }),
        )
        .await;
    let address = json!({"name": "Lin Wei", "line1": "8 Harbour Rd", "city": "Hong Kong", "postalCode": "000000", "country": "HK"});
    let saved = system
        .ok(
            Some(&token),
            "mutation($i: AddressInput!) { addAddress(input: $i) { id } }",
            json!({ "i": address }),
        )
        .await;
    let address_id = saved["addAddress"]["id"].clone();

    let checkout = "mutation($i: CheckoutInput!) { checkout(input: $i) { id status total { amount } \
        payment { status provider amount { amount } reference } shippingAddress { id city } } }";
    let input = |token: &str, address: &Value| json!({ "i": { "idempotencyKey": "lin-1", "payment": { "token": token }, "shippingAddressId": address } });

    // Declined: nothing ordered, the stock and the cart as they were; the key works again.
    let declined = system
        .graphql(Some(&token), checkout, input("tok_decline", &address_id))
        .await;
    assert_eq!(code(&declined), "PAYMENT_DECLINED", "{declined}");
    assert_eq!(
        declined["errors"][0]["extensions"]["reason"],
        "card_declined"
    );
    assert_eq!(system.stock(&products[0]).await, 5);
    let orders = "{ orders { nodes { id } } cart { itemCount } }";
    assert_eq!(
        system.ok(Some(&token), orders, json!({})).await,
        json!({ "orders": { "nodes": [] }, "cart": { "itemCount": 3 } })
    );

    // Another customer's address is not found, and nothing happens.
    let (other, _) = system.customer("mallory").await;
    let refused = system
        .graphql(Some(&other), checkout, input("tok_success", &address_id))
        .await;
    assert_eq!(code(&refused), "NOT_FOUND", "{refused}");

    let paid = system
        .ok(Some(&token), checkout, input("tok_success", &address_id))
        .await;
    let order = &paid["checkout"];
    assert_eq!(order["status"], "CONFIRMED", "{paid}");
    assert_eq!(order["total"]["amount"], 3800);
    assert_eq!(order["payment"]["status"], "CAPTURED");
    assert_eq!(
        order["payment"]["amount"]["amount"], 3800,
        "the order's total, never the client's"
    );
    assert_eq!(
        order["shippingAddress"],
        json!({ "id": null, "city": "Hong Kong" })
    );
    assert_eq!(system.stock_within_the_window(&products[0], 3).await, 3);
    assert_eq!(
        system
            .ok(
                Some(&token),
                "{ cart { itemCount lines { quantity } } }",
                json!({})
            )
            .await,
        json!({ "cart": { "itemCount": 0, "lines": [] } })
    );
}
