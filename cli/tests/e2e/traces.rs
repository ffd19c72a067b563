//! Traces (issue 15, K2): one GraphQL request through the gateway of the stack `quickmart up` runs is one trace,
//! with the spans of the gateway, a subgraph and a core linked parent to child, exported over OTLP/HTTP to a
//! receiver this test runs (an OpenTelemetry Collector cannot be installed here; the payload is decoded with the
//! OTLP protobuf definitions).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

use crate::helpers::TestSystem;

/// Every span the receiver was sent.
type Received = Arc<Mutex<Vec<Span>>>;

/// An OTLP/HTTP receiver on a random port: its `/v1/traces` URL and what it received.
async fn otlp_receiver() -> (String, Received) {
    let received = Received::default();
    let store = Arc::clone(&received);
    let router = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let store = Arc::clone(&store);
            async move {
                let request =
                    ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
                let spans = request
                    .resource_spans
                    .into_iter()
                    .flat_map(|r| r.scope_spans)
                    .flat_map(|s| s.spans);
                store.lock().expect("lock").extend(spans);
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/v1/traces"), received)
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
        .and_then(|v| match v {
            AnyValue::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_is_one_trace_through_the_gateway_a_subgraph_and_a_core() {
    let (url, received) = otlp_receiver().await;
    quickmart_shared::telemetry::init_with_traces(
        quickmart_shared::traces::TraceSettings::exporting_to(&url),
    );
    let system = TestSystem::start().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response: serde_json::Value = system
        .http
        .post(&system.gateway)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "query": "{ products(first: 2) { nodes { id name } } }" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(response["errors"].is_null(), "{response:#}");
    // Every span of the request has ended by the time its answer arrived; shutting the exporter down sends them.
    tokio::task::spawn_blocking(quickmart_shared::traces::shutdown)
        .await
        .expect("export");

    let spans: Vec<Span> = received
        .lock()
        .expect("lock")
        .iter()
        .filter(|s| hex(&s.trace_id) == trace_id)
        .cloned()
        .collect();
    let by_id: HashMap<String, &Span> = spans.iter().map(|s| (hex(&s.span_id), s)).collect();
    let services: Vec<(&str, &str)> = spans
        .iter()
        .map(|s| {
            (
                attribute(s, "quickmart.service").unwrap_or("none"),
                s.name.as_str(),
            )
        })
        .collect();
    assert!(
        spans
            .iter()
            .all(|s| attribute(s, "quickmart.service").is_some()),
        "every span names its service: {services:?}"
    );
    // The server spans of the three hops.
    let served = |service: &str| {
        spans
            .iter()
            .find(|s| {
                attribute(s, "quickmart.service") == Some(service)
                    && attribute(s, "route").is_some()
            })
            .unwrap_or_else(|| panic!("no request span of {service} in {services:?}"))
    };
    let gateway = served("gateway");
    let subgraph = served("product-subgraph");
    let core = served("product-core");
    assert_eq!(
        hex(&gateway.parent_span_id),
        "00f067aa0ba902b7",
        "the gateway continues the caller's trace"
    );
    // Linked: each hop's request span descends from the one before it, through the outbound span between them.
    let descends = |child: &Span, ancestor: &Span| {
        let mut at = child;
        for _ in 0..16 {
            let Some(parent) = by_id.get(&hex(&at.parent_span_id)) else {
                return false;
            };
            if parent.span_id == ancestor.span_id {
                return true;
            }
            at = parent;
        }
        false
    };
    assert!(
        descends(subgraph, gateway),
        "subgraph under gateway: {services:?}"
    );
    assert!(
        descends(core, subgraph),
        "core under subgraph: {services:?}"
    );
    let fetch = by_id
        .get(&hex(&subgraph.parent_span_id))
        .expect("the subgraph's parent was exported");
    assert_eq!(fetch.name, "fetch product", "{services:?}");
    // The core's queries are spans of the same trace, with their SQL and never its bound values.
    let query = spans
        .iter()
        .find(|s| attribute(s, "db.system.name") == Some("postgresql"))
        .unwrap_or_else(|| panic!("no database span in {services:?}"));
    assert!(descends(query, core), "the query under the core's request");
    let sql = attribute(query, "db.query.text").unwrap_or_default();
    assert!(
        sql.to_ascii_uppercase().contains("SELECT") && !sql.contains("binds"),
        "{sql}"
    );
}
