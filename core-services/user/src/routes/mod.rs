//! The internal REST API and its OpenAPI document.

mod addresses;
mod refresh_tokens;
mod users;

use quickmart_shared::auth::Role;
use quickmart_shared::error::{ErrorCode, FieldError, Problem};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "QuickMart user-core",
        description = "Accounts, Argon2id passwords, roles, rotating refresh tokens and address books. Internal: every route under \
                       /v1 needs the `x-internal-token` header; authorization of end users happens in the user \
                       subgraph."
    ),
    components(schemas(Problem, ErrorCode, FieldError, Role)),
    tags(
        (name = "users", description = "Accounts and credentials"),
        (name = "addresses", description = "Address books: at most 20 saved addresses per user, one default"),
        (name = "refresh-tokens", description = "Sessions: issue, rotate with reuse detection, revoke"),
    )
)]
struct ApiDoc;

/// The API routes with their documentation.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::create_user, users::list_users))
        .routes(routes!(users::verify_credentials))
        .routes(routes!(users::lookup_users))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::set_role))
        .routes(routes!(users::end_sessions))
        .routes(routes!(addresses::list_addresses, addresses::add_address))
        .routes(routes!(
            addresses::get_address,
            addresses::update_address,
            addresses::remove_address
        ))
        .routes(routes!(addresses::set_default_address))
        .routes(routes!(refresh_tokens::issue))
        .routes(routes!(refresh_tokens::rotate))
        .routes(routes!(refresh_tokens::revoke))
}
