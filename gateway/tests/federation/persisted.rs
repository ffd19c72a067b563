//! Persisted documents over HTTP: APQ registration, hits, misses and mismatches, sharing through Redis and
//! surviving without it, and a manifest-only gateway.

use quickmart_shared::cache::CacheSettings;
use quickmart_shared::config::DEV_REDIS_URL;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::TestGraph;

const QUERY: &str = "{ me { id name } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn send(graph: &TestGraph, body: Value) -> (u16, Value) {
    graph.post_raw(body.to_string()).await
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn apq_misses_then_registers_then_hits() {
    let graph = TestGraph::start().await;
    let hash = sha256(QUERY);
    let (status, body) = send(&graph, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(
        (status, code(&body)),
        (400, "PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"], "PersistedQueryNotFound",
        "the message Apollo's clients look for"
    );
    let (status, body) = send(&graph, json!({ "query": QUERY, "extensions": apq(&hash) })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["name"], "User 1");
    for request in [
        json!({ "extensions": apq(&hash) }),
        json!({ "documentId": format!("sha256:{hash}") }),
    ] {
        let (status, body) = send(&graph, request.clone()).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(body["data"]["me"]["name"], "User 1");
    }
    // Under application/json a miss is a 200, as Apollo's clients expect.
    let other = sha256("{ me { id } }");
    let response = graph
        .client()
        .post(&graph.url)
        .header("content-type", "application/json")
        .body(json!({ "extensions": apq(&other) }).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_hash_that_is_not_the_documents_is_refused_and_nothing_is_stored() {
    let graph = TestGraph::start().await;
    let claimed = sha256("{ me { id } }");
    let (status, body) = send(
        &graph,
        json!({ "query": QUERY, "extensions": apq(&claimed) }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (400, "PERSISTED_QUERY_HASH_MISMATCH"),
        "{body}"
    );
    let (_, body) = send(&graph, json!({ "extensions": apq(&claimed) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
}

#[tokio::test]
async fn only_documents_that_prepare_are_registered() {
    let graph = TestGraph::start_with(|c| c.limits.max_aliases = 2, &[]).await;
    for document in [
        "{ me { nope } }",
        "{ me {",
        "{ a: me { id } b: me { id } c: me { id } }",
    ] {
        let hash = sha256(document);
        let (status, body) = send(
            &graph,
            json!({ "query": document, "extensions": apq(&hash) }),
        )
        .await;
        assert_eq!(status, 400, "{document}: {body}");
        let (_, body) = send(&graph, json!({ "extensions": apq(&hash) })).await;
        assert_eq!(
            code(&body),
            "PERSISTED_QUERY_NOT_FOUND",
            "{document} was stored: {body}"
        );
    }
}

#[tokio::test]
async fn replicas_share_registrations_through_redis_and_keep_their_own_without_it() {
    let settings = CacheSettings::isolated(DEV_REDIS_URL);
    let first = TestGraph::start_with(|c| c.cache = Some(settings.clone()), &[]).await;
    let second = TestGraph::start_with(|c| c.cache = Some(settings.clone()), &[]).await;
    let hash = sha256(QUERY);
    let (status, _) = send(&first, json!({ "query": QUERY, "extensions": apq(&hash) })).await;
    assert_eq!(status, 200);
    let (status, body) = send(&second, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(status, 200, "registered on the other replica: {body}");

    // Redis unreachable: a registration still serves this replica.
    let dead = CacheSettings::isolated("redis://127.0.0.1:1");
    let alone = TestGraph::start_with(|c| c.cache = Some(dead), &[]).await;
    let (status, _) = send(&alone, json!({ "query": QUERY, "extensions": apq(&hash) })).await;
    assert_eq!(status, 200);
    let (status, body) = send(&alone, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(status, 200, "{body}");
}

/// A manifest in Apollo's format with `documents`; returns its path (in a folder the caller removes).
fn manifest(documents: &[&str]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("quickmart-manifest-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let operations: Vec<Value> = documents
        .iter()
        .map(|body| json!({ "id": sha256(body), "name": "Op", "type": "query", "body": body }))
        .collect();
    let path = dir.join("manifest.json");
    std::fs::write(
        &path,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations }).to_string(),
    )
    .expect("write");
    path
}

#[tokio::test]
async fn a_manifest_only_gateway_runs_nothing_else() {
    let path = manifest(&[QUERY]);
    let graph = TestGraph::start_with(
        |c| {
            c.persisted_manifest = Some(path.clone());
            c.persisted_only = true;
        },
        &[],
    )
    .await;
    let (status, body) = send(
        &graph,
        json!({ "documentId": format!("sha256:{}", sha256(QUERY)) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["name"], "User 1");
    let other = "{ me { id } }";
    let (status, body) = send(&graph, json!({ "query": other })).await;
    assert_eq!(
        (status, code(&body)),
        (400, "PERSISTED_DOCUMENT_REQUIRED"),
        "{body}"
    );
    let (status, body) = send(
        &graph,
        json!({ "query": other, "extensions": apq(&sha256(other)) }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (400, "PERSISTED_DOCUMENT_REQUIRED"),
        "no registration: {body}"
    );
    let (_, body) = send(
        &graph,
        json!({ "documentId": format!("sha256:{}", sha256(other)) }),
    )
    .await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    std::fs::remove_dir_all(path.parent().expect("dir")).expect("clean up");
}

#[test]
fn a_manifest_that_cannot_run_is_refused_at_start() {
    let path = manifest(&["{ me { nope } }"]);
    let config = quickmart_gateway::GatewayConfig {
        persisted_manifest: Some(path.clone()),
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();
    let error = quickmart_gateway::Gateway::from_supergraph_sdl(crate::harness::SUPERGRAPH, config)
        .expect_err("refused");
    assert!(
        error.to_string().contains("GATEWAY_PERSISTED_MANIFEST"),
        "{error}"
    );
    let only_without_manifest = quickmart_gateway::GatewayConfig {
        persisted_only: true,
        ..Default::default()
    };
    assert!(
        quickmart_gateway::Gateway::from_supergraph_sdl(
            crate::harness::SUPERGRAPH,
            only_without_manifest
        )
        .is_err()
    );
    std::fs::remove_dir_all(path.parent().expect("dir")).expect("clean up");
}
