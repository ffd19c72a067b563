//! Entity joins across subgraphs, in sequence and in parallel.

use insta::assert_json_snapshot;

use crate::harness::TestGraph;

#[tokio::test]
async fn typename_on_query() {
    let graph = TestGraph::start().await;
    assert_json_snapshot!(graph.query("{ __typename }").await, @r#"
        {
          "data": {
            "__typename": "Query"
          }
        }
    "#);
}

#[tokio::test]
async fn orders_join_products_and_users_in_parallel() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            "{ orders(first: 2) { id user { name } items { quantity product { name price } } } }",
        )
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "orders": [
              {
                "id": "o1",
                "items": [
                  {
                    "product": {
                      "name": "Product 1",
                      "price": 101
                    },
                    "quantity": 1
                  },
                  {
                    "product": {
                      "name": "Product 2",
                      "price": 102
                    },
                    "quantity": 2
                  },
                  {
                    "product": {
                      "name": "Product 3",
                      "price": 103
                    },
                    "quantity": 3
                  }
                ],
                "user": {
                  "name": "User 1"
                }
              },
              {
                "id": "o2",
                "items": [
                  {
                    "product": {
                      "name": "Product 4",
                      "price": 104
                    },
                    "quantity": 1
                  },
                  {
                    "product": {
                      "name": "Product 5",
                      "price": 105
                    },
                    "quantity": 2
                  },
                  {
                    "product": {
                      "name": "Product 6",
                      "price": 106
                    },
                    "quantity": 3
                  }
                ],
                "user": {
                  "name": "User 2"
                }
              }
            ]
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "orders": 1,
          "products": 1,
          "users": 1
        }
    "#);
}

#[tokio::test]
async fn sequence_through_three_subgraphs() {
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ me { name orders { id items { product { name inStock } } } } }")
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "me": {
              "name": "User 1",
              "orders": [
                {
                  "id": "o1",
                  "items": [
                    {
                      "product": {
                        "inStock": true,
                        "name": "Product 1"
                      }
                    },
                    {
                      "product": {
                        "inStock": true,
                        "name": "Product 2"
                      }
                    },
                    {
                      "product": {
                        "inStock": false,
                        "name": "Product 3"
                      }
                    }
                  ]
                }
              ]
            }
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "inventory": 1,
          "orders": 1,
          "products": 1,
          "users": 1
        }
    "#);
}

#[tokio::test]
async fn twenty_orders_batch_into_one_entities_call_per_fetch() {
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ orders(first: 20) { user { name } items { product { upc name } } } }")
        .await;
    let orders = body["data"]["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 20);
    assert_eq!(orders[19]["items"][2]["product"]["upc"], "p60");
    assert_eq!(orders[19]["items"][2]["product"]["name"], "Product 60");
    assert_eq!(orders[19]["user"]["name"], "User 20");
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "orders": 1,
          "products": 1,
          "users": 1
        }
    "#);
}

#[tokio::test]
async fn duplicate_entities_are_sent_once() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(r#"{ a: order(id: "o1") { user { name } } b: order(id: "o1") { user { name } } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "a": {
              "user": {
                "name": "User 1"
              }
            },
            "b": {
              "user": {
                "name": "User 1"
              }
            }
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "orders": 1,
          "users": 1
        }
    "#);
}

#[tokio::test]
async fn a_single_fetch_answer_keeps_exactly_the_client_selection() {
    // One root fetch: the answer is projected while parsed, and must still honour aliases,
    // repeated keys and __typename, and leave out what the client did not ask for.
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ __typename top: topProducts(first: 2) { __typename id: upc name ... on Product { name price } } }")
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "__typename": "Query",
            "top": [
              {
                "__typename": "Product",
                "id": "p1",
                "name": "Product 1",
                "price": 101
              },
              {
                "__typename": "Product",
                "id": "p2",
                "name": "Product 2",
                "price": 102
              }
            ]
          }
        }
    "#);
    assert_eq!(graph.take_hits(), [("products", 1)].into_iter().collect());
    // The snapshot compares JSON values; the response must also keep the selection's order.
    let text = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .body(r#"{"query":"{ top: topProducts(first: 1) { name __typename id: upc } }"}"#)
        .send()
        .await
        .expect("gateway answers")
        .text()
        .await
        .expect("text");
    assert_eq!(
        text,
        r#"{"data":{"top":[{"name":"Product 1","__typename":"Product","id":"p1"}]}}"#
    );
}
