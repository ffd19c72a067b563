//! `/v1/products`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quickmart_shared::AppError;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath, ApiQuery};
use uuid::Uuid;

use crate::api::{
    CreateProduct, LookupProducts, ProductDto, ProductEdge, ProductList, ProductPage, ProductQuery,
    StockAdjustment, UpdateProduct,
};
use crate::db;
use crate::domain::ProductCursor;
use crate::domain::{ListFilter, NewProduct, ProductChanges, StockDelta};
use crate::state::AppState;

/// Most ids one lookup may ask for.
const MAX_LOOKUP: usize = 1000;

/// A filtered, sorted page of products.
#[utoipa::path(get, path = "/v1/products", tag = "products", params(ProductQuery),
    responses(
        (status = 200, body = ProductPage),
        (status = 422, description = "bad filter, sort, limit or cursor", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn list_products(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<Json<ProductPage>, AppError> {
    let filter = ListFilter::parse(query)?;
    let mut conn = state.conn().await?;
    let (mut rows, total_count) = db::products::page(&mut conn, &filter).await?;
    let has_more = rows.len() > filter.page_size.get() as usize;
    rows.truncate(filter.page_size.get() as usize);
    let items = rows
        .into_iter()
        .map(|row| {
            let product = row.into_dto(&state.currency);
            ProductEdge {
                cursor: ProductCursor::of(filter.sort, &product).encode(),
                product,
            }
        })
        .collect();
    Ok(Json(ProductPage {
        items,
        has_more,
        total_count,
    }))
}

/// Creates a product.
#[utoipa::path(post, path = "/v1/products", tag = "products", request_body = CreateProduct,
    responses(
        (status = 201, body = ProductDto),
        (status = 409, description = "SKU taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid values", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state, input))]
pub(super) async fn create_product(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateProduct>,
) -> Result<(StatusCode, Json<ProductDto>), AppError> {
    let product = NewProduct::parse(input, &state.currency)?;
    let mut conn = state.conn().await?;
    let created = db::products::insert(&mut conn, product).await?;
    Ok((StatusCode::CREATED, Json(created.into_dto(&state.currency))))
}

/// The products with the given ids (for batched entity resolution); unknown ids are left out.
#[utoipa::path(post, path = "/v1/products/lookup", tag = "products", request_body = LookupProducts,
    responses(
        (status = 200, body = ProductList),
        (status = 422, description = "more than 1000 ids", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state, input), fields(count = input.ids.len()))]
pub(super) async fn lookup_products(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<LookupProducts>,
) -> Result<Json<ProductList>, AppError> {
    if input.ids.len() > MAX_LOOKUP {
        return Err(AppError::invalid(
            "ids",
            format!("at most {MAX_LOOKUP} ids per lookup"),
        ));
    }
    let mut conn = state.conn().await?;
    let rows = db::products::find_many(&mut conn, &input.ids).await?;
    Ok(Json(ProductList {
        items: rows
            .into_iter()
            .map(|r| r.into_dto(&state.currency))
            .collect(),
    }))
}

/// One product, active or not.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProductDto),
        (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn get_product(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ProductDto>, AppError> {
    let mut conn = state.conn().await?;
    let row = db::products::find(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no product {id}")))?;
    Ok(Json(row.into_dto(&state.currency)))
}

/// Changes the given fields of a product.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products", params(("id" = Uuid, Path)),
    request_body = UpdateProduct,
    responses(
        (status = 200, body = ProductDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid values", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state, input))]
pub(super) async fn update_product(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<UpdateProduct>,
) -> Result<Json<ProductDto>, AppError> {
    let changes = ProductChanges::parse(input)?;
    let mut conn = state.conn().await?;
    let row = db::products::update(&mut conn, id, changes)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no product {id}")))?;
    state.invalidate_products(&[id]).await;
    Ok(Json(row.into_dto(&state.currency)))
}

/// Adds to or removes from the stock; it never goes below zero.
#[utoipa::path(post, path = "/v1/products/{id}/stock-adjustments", tag = "products", params(("id" = Uuid, Path)),
    request_body = StockAdjustment,
    responses(
        (status = 200, body = ProductDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "would go below zero", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn adjust_stock(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<StockAdjustment>,
) -> Result<Json<ProductDto>, AppError> {
    let delta = StockDelta::parse(&input)?;
    let mut conn = state.conn().await?;
    let row = db::products::adjust_stock(&mut conn, id, delta).await?;
    state.invalidate_products(&[id]).await;
    Ok(Json(row.into_dto(&state.currency)))
}
