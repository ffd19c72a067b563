//! The HTTP surface: GET, POST, media types, CORS, compression, GraphiQL, malformed bodies, size limit, health.

use insta::assert_json_snapshot;
use serde_json::{Value, json};

use crate::harness::TestGraph;

#[tokio::test]
async fn malformed_bodies_are_4xx() {
    let graph = TestGraph::start().await;
    for body in [
        "{",
        "[]",
        "\"query\"",
        "{\"query\": 5}",
        "",
        "{\"variables\": {}}",
    ] {
        let (status, response) = graph.post_raw(body.to_owned()).await;
        assert_eq!(status, 400, "{body:?} → {response}");
        assert!(response["errors"].is_array(), "{response}");
    }
    let (status, _) = graph.post("{ me { id } }", json!([1])).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let graph = TestGraph::start_with(|c| c.max_body_bytes = 1024, &[]).await;
    let query = format!("{{ me {{ id }} }} #{}", "x".repeat(2048));
    let (status, body) = graph.post(&query, Value::Null).await;
    assert_eq!(status, 413);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "extensions": {
                "code": "PAYLOAD_TOO_LARGE"
              },
              "message": "Request body is larger than 1024 bytes"
            }
          ]
        }
    "#);
}

#[tokio::test]
async fn get_runs_queries_but_refuses_mutations() {
    let graph = TestGraph::start().await;
    let response = graph
        .client()
        .get(format!(
            "{}?query={}&variables={}",
            graph.url,
            encode("query Me($x: Boolean!) { me { name @include(if: $x) } }"),
            encode("{\"x\": true}")
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert_json_snapshot!(response.json::<Value>().await.expect("json"), @r#"
        {
          "data": {
            "me": {
              "name": "User 1"
            }
          }
        }
    "#);
    let response = graph
        .client()
        .get(format!(
            "{}?query={}",
            graph.url,
            encode("mutation { createUser(name: \"x\") { sequence } }")
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn browsers_get_graphiql_from_the_gateway_itself() {
    let graph = TestGraph::start().await;
    let response = graph
        .client()
        .get(&graph.url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let html = response.text().await.expect("text");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    // Every script and stylesheet the page names is served by the gateway.
    let links: Vec<&str> = html
        .split('"')
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(links.len(), 5, "{html}");
    for link in links {
        let asset = graph
            .client()
            .get(format!("{}{link}", graph.base))
            .send()
            .await
            .expect("get");
        assert_eq!(asset.status(), 200, "{link}");
        let media = asset.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            media.starts_with("text/javascript") || media.starts_with("text/css"),
            "{link}: {media}"
        );
        assert!(!asset.bytes().await.expect("body").is_empty(), "{link}");
    }
    let missing = graph
        .client()
        .get(format!("{}/graphiql/4.1.2/../../graphql", graph.base))
        .send()
        .await
        .expect("get");
    assert_ne!(missing.status(), 200);
}

#[tokio::test]
async fn graphiql_switched_off_is_not_served() {
    let graph = TestGraph::start_with(|c| c.graphiql = false, &[]).await;
    let page = graph
        .client()
        .get(&graph.url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_ne!(page.status(), 200);
    assert!(!page.text().await.expect("text").contains("GraphiQL"));
    let asset = graph
        .client()
        .get(format!("{}/graphiql/4.1.2/boot.js", graph.base))
        .send()
        .await
        .expect("get");
    assert_eq!(asset.status(), 404);
}

#[tokio::test]
async fn introspection_switched_off_still_answers_typename() {
    let graph = TestGraph::start_with(|c| c.introspection = false, &[]).await;
    let (status, body) = graph.post("{ __typename }", Value::Null).await;
    assert_eq!(
        (status, body),
        (200, json!({"data": {"__typename": "Query"}}))
    );
    // Each way of asking for the schema: plainly, aliased, in a named or inline fragment, beside a field.
    for query in [
        "{ __schema { queryType { name } } }",
        "{ t: __type(name: \"Query\") { name } }",
        "{ ...F } fragment F on Query { __schema { types { name } } }",
        "{ ... on Query { ... on Query { __type(name: \"User\") { fields { name } } } } }",
        "{ me { id } __schema { queryType { name } } }",
    ] {
        let (status, body) = graph.post(query, Value::Null).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED",
            "{query}: {body}"
        );
        assert!(body.get("data").is_none(), "{query}: {body}");
    }
    // Field names under other types are not introspection.
    let (status, body) = graph.post("{ me { __typename id } }", Value::Null).await;
    assert_eq!(status, 200, "{body}");
}

/// POSTs `body` with `accept`; the status, the content type and the JSON body.
async fn post_accepting(
    graph: &TestGraph,
    accept: Option<&str>,
    body: Value,
) -> (u16, String, Value) {
    let mut request = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("post");
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (status, media, response.json().await.unwrap_or(Value::Null))
}

/// GraphQL over HTTP: under `application/graphql-response+json` a document that fails to parse, validate or
/// coerce its variables is a 400 without `data`; under `application/json` (or no `Accept`, or `*/*`) it is a 200.
#[tokio::test]
async fn request_errors_take_the_status_of_the_accepted_media_type() {
    let graph = TestGraph::start().await;
    let failing = [
        json!({ "query": "{" }),
        json!({ "query": "{ nope }" }),
        json!({ "query": "query($n: Int!) { me { id } }", "variables": { "n": "x" } }),
    ];
    for body in &failing {
        let (status, media, answer) = post_accepting(
            &graph,
            Some("application/graphql-response+json"),
            body.clone(),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            media.starts_with("application/graphql-response+json"),
            "{media}"
        );
        assert!(
            answer.get("data").is_none() && answer["errors"].is_array(),
            "{answer}"
        );
        for accept in [None, Some("application/json"), Some("*/*")] {
            let (status, media, answer) = post_accepting(&graph, accept, body.clone()).await;
            assert_eq!(status, 200, "{accept:?} {body}: {answer}");
            assert!(media.starts_with("application/json"), "{media}");
            assert!(answer["errors"].is_array(), "{answer}");
        }
    }
    let ok = json!({ "query": "{ __typename }" });
    let (status, media, _) = post_accepting(
        &graph,
        Some("application/graphql-response+json"),
        ok.clone(),
    )
    .await;
    assert_eq!(
        (
            status,
            media.starts_with("application/graphql-response+json")
        ),
        (200, true)
    );
    let (status, _, answer) = post_accepting(&graph, Some("text/html"), ok).await;
    assert_eq!(status, 406, "{answer}");
    // A malformed request stays a 400 under either type.
    for accept in [
        Some("application/json"),
        Some("application/graphql-response+json"),
    ] {
        for body in [
            json!({ "qeury": "{ __typename }" }),
            json!({ "query": "{ __typename }", "extensions": "x" }),
        ] {
            let (status, _, answer) = post_accepting(&graph, accept, body.clone()).await;
            assert_eq!(status, 400, "{accept:?} {body}: {answer}");
        }
    }
    let response = graph
        .client()
        .get(format!(
            "{}?query={}&extensions={}",
            graph.url,
            encode("{ __typename }"),
            encode("[1]")
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 400);
    let response = graph
        .client()
        .get(format!(
            "{}?query={}&extensions={}",
            graph.url,
            encode("{ __typename }"),
            encode("{}")
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
}

async fn preflight(graph: &TestGraph, origin: &str) -> reqwest::Response {
    graph
        .client()
        .request(reqwest::Method::OPTIONS, &graph.url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let closed = TestGraph::start().await;
    let response = preflight(&closed, "https://shop.example.com").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "nothing is allowed by default"
    );

    let graph = TestGraph::start_with(
        |c| c.cors_origins = vec!["https://shop.example.com".to_owned()],
        &[],
    )
    .await;
    let allowed = preflight(&graph, "https://shop.example.com").await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example.com"
    );
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .expect("ascii");
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization") && allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );
    for other in [
        "https://evil.example.com",
        "https://shop.example.com.evil.example",
        "null",
    ] {
        let refused = preflight(&graph, other).await;
        assert!(
            refused
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{other}"
        );
    }
    // The actual request from the allowed origin carries the header too.
    let response = graph
        .client()
        .post(&graph.url)
        .header("origin", "https://shop.example.com")
        .header("content-type", "application/json")
        .body(json!({ "query": "{ __typename }" }).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );
}

#[tokio::test]
async fn large_answers_are_compressed_when_asked() {
    let graph = TestGraph::start().await;
    let body = json!({ "query": "{ __schema { types { name fields { name } } } }" }).to_string();
    for (asked, expected) in [
        (Some("gzip"), Some("gzip")),
        (Some("br"), Some("br")),
        (None, None),
    ] {
        let mut request = graph
            .client()
            .post(&graph.url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(asked) = asked {
            request = request.header("accept-encoding", asked);
        }
        let response = request.send().await.expect("post");
        assert_eq!(response.status(), 200);
        let encoding = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().expect("ascii").to_owned());
        assert_eq!(encoding.as_deref(), expected, "{asked:?}");
    }
    // A small answer is sent as it is.
    let response = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip")
        .body(json!({ "query": "{ __typename }" }).to_string())
        .send()
        .await
        .expect("post");
    assert!(response.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let graph = TestGraph::start().await;
    graph.query("{ me { id } }").await;
    for path in ["/healthz", "/readyz"] {
        let response = graph
            .client()
            .get(format!("{}{path}", graph.base))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "{path}");
    }
    let metrics = graph
        .client()
        .get(format!("{}/metrics", graph.base))
        .send()
        .await
        .expect("get");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    assert!(text.contains("gateway_graphql_requests_total"), "{text}");
    assert!(
        text.contains("gateway_subgraph_fetch_duration_seconds"),
        "{text}"
    );
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_connection_that_stops_halfway_through_its_headers_is_closed() {
    // Row 7 of the hardening issue: plain `axum::serve` held such a connection open indefinitely.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gateway = quickmart_gateway::Gateway::from_supergraph_sdl(
        crate::harness::SUPERGRAPH,
        quickmart_gateway::GatewayConfig::default(),
    )
    .expect("gateway");
    let limits = quickmart_shared::server::ServerLimits {
        header_read_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(quickmart_shared::server::serve(
        listener,
        gateway.router(),
        limits,
        std::future::pending(),
    ));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: quickmart\r\nContent-Ty")
        .await
        .expect("write");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut rest),
    )
    .await;
    assert!(closed.is_ok(), "the gateway kept a half-sent request open");
}

#[tokio::test]
async fn posts_that_are_not_json_are_refused_before_anything_runs() {
    // Row 15 of the hardening issue: a `text/plain` POST is a CORS "simple" request any page can make.
    let graph = TestGraph::start().await;
    let mutation = r#"{"query":"mutation { createUser(name: \"csrf\") { name } }"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
        None,
    ] {
        let mut request = graph.client().post(&graph.url).body(mutation);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("gateway answers");
        assert_eq!(response.status(), 415, "{content_type:?}");
    }
    assert!(graph.take_hits().is_empty(), "nothing reached a subgraph");
    for content_type in [
        "application/json; charset=utf-8",
        "application/graphql-response+json",
    ] {
        let response = graph
            .client()
            .post(&graph.url)
            .header("content-type", content_type)
            .body(mutation)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "{content_type}");
    }
}

#[tokio::test]
async fn operations_the_gateway_answers_itself_still_refuse_a_bad_token() {
    // Row 16 of the hardening issue: `{ __typename }` never reached a subgraph, so no token was checked.
    let (private, public) = quickmart_shared::auth::generate_key_pair().expect("keys");
    let verifier =
        quickmart_shared::auth::JwtVerifier::from_pems(&public, "quickmart").expect("verifier");
    let graph = TestGraph::start_with(
        |c| c.jwt_verifier = Some(std::sync::Arc::new(verifier)),
        &[],
    )
    .await;
    let signer = quickmart_shared::auth::JwtSigner::from_pem(
        &private,
        "quickmart",
        std::time::Duration::from_secs(60),
    )
    .expect("signer");
    let good = signer
        .sign(
            quickmart_shared::auth::Actor {
                id: uuid::Uuid::now_v7(),
                role: quickmart_shared::auth::Role::Customer,
            },
            0,
        )
        .expect("token");
    let ask = |query: &'static str, token: Option<String>| {
        let mut request = graph
            .client()
            .post(&graph.url)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        let body = json!({ "query": query }).to_string();
        async move {
            request
                .body(body)
                .send()
                .await
                .expect("answer")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let refused = ask("{ __typename }", Some("Bearer abc.def.ghi".into())).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    assert!(refused.get("data").is_none(), "{refused}");
    let introspection = ask(
        "{ __schema { queryType { name } } }",
        Some("Bearer abc.def.ghi".into()),
    )
    .await;
    assert_eq!(
        introspection["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{introspection}"
    );
    assert_eq!(
        ask("{ __typename }", Some(format!("Bearer {good}"))).await,
        json!({ "data": { "__typename": "Query" } })
    );
    assert_eq!(
        ask("{ __typename }", None).await,
        json!({ "data": { "__typename": "Query" } })
    );
}
