//! Federation directives: @requires, @provides, @shareable, @external, @override,
//! @inaccessible; abstract types; fragments, aliases, @skip/@include; mutations.

use insta::assert_json_snapshot;
use serde_json::json;

use crate::harness::TestGraph;

#[tokio::test]
async fn requires_sends_external_fields_and_does_not_leak_them() {
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ topProducts(first: 2) { upc shippingEstimate } }")
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "shippingEstimate": 22,
                "upc": "p1"
              },
              {
                "shippingEstimate": 24,
                "upc": "p2"
              }
            ]
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "inventory": 1,
          "products": 1
        }
    "#);
}

#[tokio::test]
async fn provides_is_used_on_its_path_only() {
    let graph = TestGraph::start().await;
    let body = graph.query("{ orders(first: 1) { buyer { name } } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "orders": [
              {
                "buyer": {
                  "name": "Provided u1"
                }
              }
            ]
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "orders": 1
        }
    "#);
    let body = graph.query("{ orders(first: 1) { user { name } } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "orders": [
              {
                "user": {
                  "name": "User 1"
                }
              }
            ]
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
async fn override_moves_the_field_to_the_new_subgraph() {
    let graph = TestGraph::start().await;
    assert_json_snapshot!(graph.query("{ me { email } }").await, @r#"
        {
          "data": {
            "me": {
              "email": "orders-u1@example.com"
            }
          }
        }
    "#);
}

#[tokio::test]
async fn inaccessible_fields_are_not_queryable_nor_introspectable() {
    let graph = TestGraph::start().await;
    let (status, body) = graph
        .post(r#"{ product(upc: "p1") { internalCode } }"#, json!(null))
        .await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED"
              },
              "locations": [
                {
                  "column": 24,
                  "line": 1
                }
              ],
              "message": "Cannot query field \"internalCode\" on type \"Product\"."
            }
          ]
        }
    "#);
    let body = graph
        .query(r#"{ __type(name: "Product") { fields { name } } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "__type": {
              "fields": [
                {
                  "name": "upc"
                },
                {
                  "name": "price"
                },
                {
                  "name": "weight"
                },
                {
                  "name": "inStock"
                },
                {
                  "name": "restockDate"
                },
                {
                  "name": "shippingEstimate"
                },
                {
                  "name": "name"
                }
              ]
            }
          }
        }
    "#);
}

#[tokio::test]
async fn introspection_hides_federation_internals() {
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ __schema { queryType { name } mutationType { name } types { name } } }")
        .await;
    let names: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Product") && names.contains(&"Media") && names.contains(&"String"),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("join__")
            || n.starts_with("link__")
            || *n == "_Service"
            || *n == "_Any"),
        "{names:?}"
    );
    let body = graph
        .query(r#"{ __type(name: "Query") { fields { name } } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "__type": {
              "fields": [
                {
                  "name": "orders"
                },
                {
                  "name": "order"
                },
                {
                  "name": "topProducts"
                },
                {
                  "name": "product"
                },
                {
                  "name": "media"
                },
                {
                  "name": "search"
                },
                {
                  "name": "me"
                },
                {
                  "name": "user"
                }
              ]
            }
          }
        }
    "#);
}

#[tokio::test]
async fn interfaces_and_unions_resolve_typename_and_join_entities() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            "{ media { __typename id title ... on Book { author { name } } ... on Movie { director } }
               search { __typename ... on Book { title } ... on Movie { title director } } }",
        )
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "media": [
              {
                "__typename": "Book",
                "author": {
                  "name": "User 2"
                },
                "id": "b1",
                "title": "Dune"
              },
              {
                "__typename": "Movie",
                "director": "Ridley Scott",
                "id": "m1",
                "title": "Alien"
              }
            ],
            "search": [
              {
                "__typename": "Movie",
                "director": "Ridley Scott",
                "title": "Alien"
              },
              {
                "__typename": "Book",
                "title": "Dune"
              }
            ]
          }
        }
    "#);
}

#[tokio::test]
async fn fragments_and_aliases() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            r#"query Two { first: product(upc: "p1") { ...Details } second: product(upc: "p2") { label: name stock: inStock } }
               fragment Details on Product { upc name ... on Product { cost: price } }"#,
        )
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "first": {
              "cost": 101,
              "name": "Product 1",
              "upc": "p1"
            },
            "second": {
              "label": "Product 2",
              "stock": true
            }
          }
        }
    "#);
}

#[tokio::test]
async fn skip_and_include_follow_variables() {
    let graph = TestGraph::start().await;
    let query = "query ($withStock: Boolean!, $noName: Boolean!) {
        product(upc: \"p1\") { upc name @skip(if: $noName) inStock @include(if: $withStock) } }";
    let (_, body) = graph
        .post(query, json!({ "withStock": false, "noName": true }))
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "product": {
              "upc": "p1"
            }
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "products": 1
        }
    "#);
    let (_, body) = graph
        .post(query, json!({ "withStock": true, "noName": false }))
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "product": {
              "inStock": true,
              "name": "Product 1",
              "upc": "p1"
            }
          }
        }
    "#);
    assert_json_snapshot!(graph.take_hits(), @r#"
        {
          "inventory": 1,
          "products": 1
        }
    "#);
}

#[tokio::test]
async fn mutations_run_in_document_order() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(r#"mutation { a: createUser(name: "a") { sequence } b: addProduct(upc: "x") { sequence } c: createUser(name: "c") { sequence name } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "a": {
              "sequence": 1
            },
            "b": {
              "sequence": 2
            },
            "c": {
              "name": "c",
              "sequence": 3
            }
          }
        }
    "#);
}
