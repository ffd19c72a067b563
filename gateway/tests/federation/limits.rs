//! Operation limits, parse and validation failures, with their codes.

use insta::assert_json_snapshot;
use serde_json::json;

use crate::harness::TestGraph;

fn nested(depth: usize) -> String {
    // me { orders { user { orders { user … } } } } with `id` at the bottom.
    let mut query = String::from("id");
    for level in (0..depth - 1).rev() {
        let field = if level == 0 {
            "me"
        } else if level % 2 == 1 {
            "orders"
        } else {
            "user"
        };
        query = format!("{field} {{ {query} }}");
    }
    format!("{{ {query} }}")
}

#[tokio::test]
async fn depth_limit() {
    // Orders of users of orders multiply: this query is over the cost budget long before it is deep.
    let graph = TestGraph::start_with(|c| c.limits.max_cost = usize::MAX, &[]).await;
    let (status, _) = graph.post(&nested(12), json!(null)).await;
    assert_eq!(status, 200);
    let (status, body) = graph.post(&nested(13), json!(null)).await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "extensions": {
                "code": "OPERATION_LIMIT_EXCEEDED",
                "limit": "depth",
                "max": 12,
                "value": 13
              },
              "message": "Operation is 13 levels deep, more than the limit of 12"
            }
          ]
        }
    "#);
}

#[tokio::test]
async fn introspection_is_exempt_from_the_field_depth_limit() {
    let graph = TestGraph::start().await;
    // 14 levels, all under `__schema`.
    let inner = (0..10).fold(String::from("name"), |inner, _| {
        format!("ofType {{ {inner} }}")
    });
    let query = format!("{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}");
    let query = query.as_str();
    let (status, body) = graph.post(query, json!(null)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn alias_limit() {
    let graph = TestGraph::start().await;
    let fields: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let (status, body) = graph
        .post(&format!("{{ me {{ {fields} }} }}"), json!(null))
        .await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "extensions": {
                "code": "OPERATION_LIMIT_EXCEEDED",
                "limit": "aliases",
                "max": 30,
                "value": 31
              },
              "message": "Operation uses 31 aliases, more than the limit of 30"
            }
          ]
        }
    "#);
}

#[tokio::test]
async fn root_field_limit() {
    let graph = TestGraph::start().await;
    let fields: String = (0..21).map(|i| format!("f{i}: __typename ")).collect();
    let (status, body) = graph.post(&format!("{{ {fields} }}"), json!(null)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "OPERATION_LIMIT_EXCEEDED",
        "{body}"
    );
}

#[tokio::test]
async fn limits_are_configurable() {
    let graph = TestGraph::start_with(|c| c.limits.max_depth = 2, &[]).await;
    let (status, body) = graph.post("{ me { orders { id } } }", json!(null)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "OPERATION_LIMIT_EXCEEDED",
        "{body}"
    );
}

#[tokio::test]
async fn parse_and_validation_failures() {
    let graph = TestGraph::start().await;
    let (status, body) = graph.post("{ me { name ", json!(null)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );
    let (status, body) = graph.post("{ me { nope } }", json!(null)).await;
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
                  "column": 8,
                  "line": 1
                }
              ],
              "message": "Cannot query field \"nope\" on type \"User\"."
            }
          ]
        }
    "#);
}
