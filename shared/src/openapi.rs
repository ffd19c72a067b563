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
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                crate::internal::INTERNAL_TOKEN_HEADER,
                "The shared internal token (`INTERNAL_API_TOKEN`).",
            ))),
        );
    }
}

/// Serves `document` at `/openapi.json` and Swagger UI (bundled assets) at `/docs`.
pub fn docs_routes(document: utoipa::openapi::OpenApi) -> Router {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}

/// The whole router of a core: its documented API behind the internal token, then health, metrics and the
/// docs (open), all instrumented as `service`. Every core is assembled this way.
pub fn core_router(
    service: crate::ServiceId,
    api: utoipa_axum::router::OpenApiRouter,
    internal_token: secrecy::SecretString,
    readiness: crate::health::ReadinessCheck,
) -> Router {
    let (api, document) = api.split_for_parts();
    let router = crate::internal::require_internal_token(api, internal_token)
        .merge(crate::health::routes(readiness))
        .merge(docs_routes(document));
    crate::telemetry::instrument(router, service.name())
}
