//! `/healthz`, `/readyz` and `/metrics`, the same on every service.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use futures::future::BoxFuture;

/// Answers whether the service can serve traffic now (its own database, the gateway's supergraph).
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// A readiness check that always passes (services whose only dependencies must degrade, not fail).
pub fn always_ready() -> ReadinessCheck {
    Arc::new(|| Box::pin(async { true }))
}

/// The health and metrics routes: liveness never looks at dependencies; readiness runs `check`.
pub fn routes(check: ReadinessCheck) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let check = Arc::clone(&check);
                async move {
                    if check().await {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(|| async { crate::telemetry::render_metrics() }),
        )
}
