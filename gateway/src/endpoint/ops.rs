//! `/healthz`, `/readyz`, `/metrics`: the shared routes. A gateway value only exists once its supergraph has
//! loaded, so it is ready as soon as it serves.

use axum::Router;

/// The operational routes.
pub(crate) fn routes() -> Router {
    quickmart_shared::health::routes(quickmart_shared::health::always_ready())
}
