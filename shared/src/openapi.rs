//! The OpenAPI document and Swagger UI every core serves (`/openapi.json`, `/docs`), with no internet needed.

use axum::Router;
use utoipa_swagger_ui::SwaggerUi;

/// Serves `document` at `/openapi.json` and Swagger UI (bundled assets) at `/docs`.
pub fn docs_routes(document: utoipa::openapi::OpenApi) -> Router {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}
