//! The internal REST API and its OpenAPI document.

mod refresh_tokens;
mod users;

use quickmart_shared::auth::Role;
use quickmart_shared::error::{ErrorCode, FieldError, Problem};
use quickmart_shared::internal::{ACTOR_ID_HEADER, ACTOR_ROLE_HEADER, INTERNAL_TOKEN_HEADER};
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "QuickMart user-core",
        description = "Accounts, Argon2id passwords, roles and rotating refresh tokens. Internal: every route under \
                       /v1 needs the `x-internal-token` header; authorization of end users happens in the user \
                       subgraph."
    ),
    components(schemas(Problem, ErrorCode, FieldError, Role)),
    modifiers(&InternalApi),
    security(("internal_token" = [])),
    tags(
        (name = "users", description = "Accounts and credentials"),
        (name = "refresh-tokens", description = "Sessions: issue, rotate with reuse detection, revoke"),
    )
)]
struct ApiDoc;

/// Documents the internal token and the acting-user headers subgraphs send.
struct InternalApi;

impl Modify for InternalApi {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "internal_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                INTERNAL_TOKEN_HEADER,
                "The shared internal token (`INTERNAL_API_TOKEN`).",
            ))),
        );
        let header = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        for item in document.paths.paths.values_mut() {
            item.parameters.get_or_insert_with(Vec::new).extend([
                header(
                    ACTOR_ID_HEADER,
                    "The signed-in user the subgraph acts for (UUID); sent with x-actor-role.",
                )
                .into(),
                header(ACTOR_ROLE_HEADER, "That user's role: CUSTOMER or ADMIN.").into(),
            ]);
        }
    }
}

/// The API routes with their documentation.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::create_user, users::list_users))
        .routes(routes!(users::verify_credentials))
        .routes(routes!(users::lookup_users))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::set_role))
        .routes(routes!(refresh_tokens::issue))
        .routes(routes!(refresh_tokens::rotate))
        .routes(routes!(refresh_tokens::revoke))
}
