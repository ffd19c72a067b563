//! OpenAPI, Swagger UI, health and the internal token.

use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn docs_and_health_are_open_and_the_api_is_not() {
    let app = TestApp::spawn().await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.base)).send();
    let document: serde_json::Value = get("/openapi.json")
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    for path in [
        "/v1/orders",
        "/v1/orders/{id}",
        "/v1/orders/{id}/cancel",
        "/v1/orders/{id}/status",
        "/v1/orders/lookup",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    let parameters = document["paths"]["/v1/orders"]["post"]["parameters"]
        .as_array()
        .expect("parameters");
    let headers: Vec<&str> = parameters
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(headers, ["Idempotency-Key", "x-actor"]);
    assert_eq!(
        parameters[1]["schema"]["pattern"],
        quickmart_shared::internal::ACTOR_PATTERN,
        "the document states the one spelling the core parses"
    );
    let listing = &document["paths"]["/v1/orders"]["get"]["parameters"];
    let actor = listing
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "x-actor"))
        .expect("GET /v1/orders documents x-actor");
    assert_eq!(
        actor["schema"]["pattern"],
        quickmart_shared::internal::ACTOR_PATTERN
    );
    assert_eq!(
        order_core::openapi().paths.paths.len(),
        document["paths"].as_object().map_or(0, |p| p.len())
    );
    assert_eq!(get("/docs/").await.expect("docs").status(), StatusCode::OK);
    assert_eq!(
        get("/readyz").await.expect("readyz").status(),
        StatusCode::OK
    );
    let response = get("/v1/orders").await.expect("orders");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
