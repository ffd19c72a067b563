//! Which client headers reach the subgraphs, and the request id every subgraph call carries.

use std::collections::BTreeMap;

use http::HeaderMap;
use insta::assert_json_snapshot;

use crate::harness::TestGraph;

/// Received headers by name, with values that vary between runs replaced.
fn received(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = match name.as_str() {
                "host" => "[port varies]".to_owned(),
                "content-length" => "[body size]".to_owned(),
                _ => value.to_str().unwrap_or("[not text]").to_owned(),
            };
            (name.as_str().to_owned(), value)
        })
        .collect()
}

#[tokio::test]
async fn subgraphs_receive_the_allowed_headers_only() {
    let graph = TestGraph::start_with(
        |c| {
            c.internal_token = Some("test-internal-token".into());
            c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        },
        &[],
    )
    .await;
    let response = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer token-1")
        .header("x-request-id", "req-42")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("x-forwarded-for", "203.0.113.7")
        .header("cookie", "session=secret")
        .header("connection", "keep-alive")
        .header("te", "trailers")
        .header("x-custom", "not for subgraphs")
        .body(r#"{"query":"{ me { name } }"}"#)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 200);
    let requests = graph.take_received_headers("users");
    assert_eq!(requests.len(), 1);
    // The peer (loopback) is a trusted proxy here, so the entry it appended names the client; the chain itself
    // never reaches a subgraph, only the address derived from it, with the internal token that vouches for it.
    assert_json_snapshot!(received(&requests[0]), @r#"
        {
          "accept": "application/json",
          "authorization": "Bearer token-1",
          "content-length": "[body size]",
          "content-type": "application/json",
          "host": "[port varies]",
          "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
          "x-internal-token": "test-internal-token",
          "x-quickmart-client-ip": "203.0.113.7",
          "x-request-id": "req-42"
        }
    "#);
}

#[tokio::test]
async fn without_trusted_proxies_the_client_is_the_tcp_peer() {
    // Row 9 of the hardening issue, in part: a client must not choose its own rate-limit bucket.
    let graph = TestGraph::start_with(
        |c| c.internal_token = Some("test-internal-token".into()),
        &[],
    )
    .await;
    let response = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-quickmart-client-ip", "198.51.100.1")
        .header("x-internal-token", "guessed")
        .body(r#"{"query":"{ me { name } }"}"#)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 200);
    let requests = graph.take_received_headers("users");
    assert_eq!(
        requests[0]
            .get("x-quickmart-client-ip")
            .map(|v| v.as_bytes()),
        Some(&b"127.0.0.1"[..])
    );
    assert_eq!(
        requests[0].get("x-internal-token").map(|v| v.as_bytes()),
        Some(&b"test-internal-token"[..])
    );
    assert!(requests[0].get("x-forwarded-for").is_none());
}

#[tokio::test]
async fn a_request_id_is_generated_and_reaches_every_subgraph_when_the_client_sent_none() {
    let graph = TestGraph::start().await;
    let response = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .body(r#"{"query":"{ me { name } orders(first: 1) { id } }"}"#)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 200);
    let request_id = response
        .headers()
        .get("x-request-id")
        .expect("the response names the request id")
        .clone();
    assert!(!request_id.is_empty());
    for subgraph in ["users", "orders"] {
        let requests = graph.take_received_headers(subgraph);
        assert_eq!(requests.len(), 1, "{subgraph}");
        assert_eq!(
            requests[0].get("x-request-id"),
            Some(&request_id),
            "{subgraph}"
        );
        let traceparent = requests[0]
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            traceparent.starts_with("00-") && traceparent.len() == 55,
            "{subgraph}: {traceparent:?}"
        );
    }
}
