//! The REST API of product-core, versioned under `/v1`.

mod categories;
mod products;
mod reservations;

pub(crate) use reservations::ReservationOutcome;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "QuickMart product-core",
        description = "The catalog, stock and reservations. Every route requires the `x-internal-token` header. \
            Subgraphs pass the acting user as `x-actor: <CUSTOMER|ADMIN> <user id>`; \
            authorization happens in the subgraph. Errors are RFC 9457 problem documents \
            (`application/problem+json`) with a stable `code`: 400 malformed request, 422 invalid values (with \
            `errors[].field`), 401 missing or wrong internal token, 404, 409 (duplicate, `OUT_OF_STOCK` with \
            `productId`, `INVALID_STATE`), 503 database unavailable."
    ),
    // `sort` is text on the wire (see `ProductQuery`), so nothing else registers the enumeration it documents.
    components(schemas(crate::api::ProductSort)),
    tags(
        (name = "categories", description = "Catalog categories"),
        (name = "products", description = "Products and stock"),
        (name = "reservations", description = "Stock held for orders being placed")
    )
)]
struct ApiDoc;

/// The API routes with their OpenAPI description.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            categories::list_categories,
            categories::create_category
        ))
        .routes(routes!(categories::get_category))
        .routes(routes!(products::list_products, products::create_product))
        .routes(routes!(products::lookup_products))
        .routes(routes!(products::get_product, products::update_product))
        .routes(routes!(products::adjust_stock))
        .routes(routes!(reservations::create_reservation))
        .routes(routes!(reservations::get_reservation))
        .routes(routes!(reservations::commit_reservation))
        .routes(routes!(reservations::release_reservation))
}
