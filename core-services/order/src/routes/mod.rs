//! The REST API of order-core, versioned under `/v1`.

mod carts;
mod checkout;
mod orders;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "QuickMart order-core",
        description = "Orders: atomic placement over product-core reservations, idempotent retries, the lifecycle \
            and its history. Every route requires the `x-internal-token` header. Subgraphs pass the acting user as \
            `x-actor: <CUSTOMER|ADMIN> <user id>`: the buyer of a new order, the actor \
            recorded in the status history, and for a `CUSTOMER` the owner every read and cancellation is scoped \
            to (other users' orders are 404). Errors are RFC 9457 problem documents (`application/problem+json`) \
            with a stable `code`: 400 malformed request, 422 invalid values (with `errors[].field`), 401 missing \
            or wrong internal token, 402 `PAYMENT_DECLINED` (with `reason`) at checkout, 403 a customer changing a \
            status, 404, 409 (`CONFLICT` for an idempotency key reused with another body, `OUT_OF_STOCK` with \
            `productId`, `INVALID_STATE` for an illegal transition), 503 database, product-core or user-core \
            unavailable."
    ),
    tags(
        (name = "orders", description = "Orders and their lifecycle"),
        (name = "carts", description = "Carts: a signed-in user's one cart (`x-actor`), or a guest's by its token \
            (`x-cart-token`), priced at product-core's current prices on every read"),
    )
)]
struct ApiDoc;

/// The API routes with their OpenAPI description.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orders::list_orders, orders::place_order))
        .routes(routes!(orders::lookup_orders))
        .routes(routes!(orders::orders_by_users))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::order_history))
        .routes(routes!(orders::cancel_order))
        .routes(routes!(orders::change_status))
        .routes(routes!(carts::get_cart))
        .routes(routes!(carts::add_line, carts::clear_cart))
        .routes(routes!(carts::set_line, carts::remove_line))
        .routes(routes!(carts::merge_cart))
        .routes(routes!(checkout::checkout))
}
