//! `/v1/categories`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quickmart_shared::AppError;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath};
use uuid::Uuid;

use crate::api::{CategoryDto, CreateCategory};
use crate::db;
use crate::domain::NewCategory;
use crate::state::AppState;

/// Every category, by name.
#[utoipa::path(get, path = "/v1/categories", tag = "categories",
    responses((status = 200, body = Vec<CategoryDto>)))]
#[tracing::instrument(skip(state))]
pub(super) async fn list_categories(
    State(state): State<AppState>,
) -> Result<Json<Vec<CategoryDto>>, AppError> {
    let mut conn = state.conn().await?;
    Ok(Json(db::categories::list(&mut conn).await?))
}

/// Creates a category.
#[utoipa::path(post, path = "/v1/categories", tag = "categories", request_body = CreateCategory,
    responses(
        (status = 201, body = CategoryDto),
        (status = 409, description = "slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid name or slug", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state, input))]
pub(super) async fn create_category(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateCategory>,
) -> Result<(StatusCode, Json<CategoryDto>), AppError> {
    let category = NewCategory::parse(input)?;
    let mut conn = state.conn().await?;
    let created = db::categories::insert(&mut conn, category).await?;
    state
        .cache
        .delete(&[product_contract::cache::categories_key()])
        .await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One category.
#[utoipa::path(get, path = "/v1/categories/{id}", tag = "categories", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CategoryDto),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn get_category(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CategoryDto>, AppError> {
    let mut conn = state.conn().await?;
    db::categories::find(&mut conn, id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no category {id}")))
}
