//! The OpenAPI document and Swagger UI every core serves (`/openapi.json`, `/docs`), with no internet needed.

use axum::Router;
use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

/// Declares the `internal_token` security scheme (`x-internal-token` header) that every core requires; use with
/// `#[openapi(modifiers(&InternalTokenSecurity), security(("internal_token" = [])))]`.
pub struct InternalTokenSecurity;

impl Modify for InternalTokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "internal_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(
                crate::internal::INTERNAL_TOKEN_HEADER,
            ))),
        );
    }
}

/// Serves `document` at `/openapi.json` and Swagger UI (bundled assets) at `/docs`.
pub fn docs_routes(document: utoipa::openapi::OpenApi) -> Router {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}
