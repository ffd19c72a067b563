//! `/healthz`, `/readyz`, `/metrics`.
//!
//! Local stand-ins for `quickmart_shared::health::routes`: a gateway value only exists once
//! its supergraph has loaded, so readiness is simply "this router is serving".

use axum::Router;
use axum::routing::get;

use crate::telemetry;

/// The operational routes.
pub fn routes() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route("/metrics", get(|| async { telemetry::metrics_handle().render() }))
}
