//! `/v1/users/{id}/addresses`: a customer's address book (docs/ARCHITECTURE.md, "Rules of the domain"). The
//! subgraph decides who may act for a user; here every route is scoped to the user in its path, so another
//! user's address id is `NOT_FOUND`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diesel_async::AsyncConnection;
use quickmart_shared::AppError;
use quickmart_shared::address::{AddressDto, PostalAddress};
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath};
use uuid::Uuid;

use crate::AppState;
use crate::api::{AddressBook, MAX_ADDRESSES, SavedAddressDto};
use crate::db::addresses;

fn no_such_address() -> AppError {
    AppError::NotFound("this user has no address with this id".to_owned())
}

fn no_such_user() -> AppError {
    AppError::NotFound("no user has this id".to_owned())
}

/// A user's address book, oldest first.
#[utoipa::path(get, path = "/v1/users/{id}/addresses", tag = "addresses",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The address book (empty for an unknown user)", body = AddressBook),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn list_addresses(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AddressBook>, AppError> {
    let mut conn = state.conn().await?;
    let rows = addresses::list(&mut conn, id).await?;
    Ok(Json(AddressBook {
        items: rows.iter().map(addresses::AddressRow::to_dto).collect(),
    }))
}

/// One saved address.
#[utoipa::path(get, path = "/v1/users/{id}/addresses/{address_id}", tag = "addresses",
    params(("id" = Uuid, Path, description = "User id"), ("address_id" = Uuid, Path, description = "Address id")),
    responses(
        (status = 200, description = "The address", body = SavedAddressDto),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The user has no such address", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn get_address(
    State(state): State<AppState>,
    ApiPath((id, address_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<SavedAddressDto>, AppError> {
    let mut conn = state.conn().await?;
    let row = addresses::find(&mut conn, id, address_id)
        .await?
        .ok_or_else(no_such_address)?;
    Ok(Json(row.to_dto()))
}

/// Adds an address; the first one becomes the default. At most 20 per user, counted while the user's row is
/// locked, so concurrent additions cannot pass the limit together.
#[utoipa::path(post, path = "/v1/users/{id}/addresses", tag = "addresses", request_body = AddressDto,
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 201, description = "Added", body = SavedAddressDto),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The address book is full (20 addresses)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid address", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state, body))]
pub(crate) async fn add_address(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AddressDto>,
) -> Result<(StatusCode, Json<SavedAddressDto>), AppError> {
    let address = PostalAddress::parse(body, "")?;
    let mut conn = state.conn().await?;
    let row = (*conn)
        .transaction(async |conn| {
            if !addresses::lock_owner(conn, id).await? {
                return Err(no_such_user());
            }
            let held = addresses::count(conn, id).await?;
            if held >= MAX_ADDRESSES as i64 {
                return Err(AppError::conflict(
                    "addresses",
                    format!(
                        "an address book holds at most {MAX_ADDRESSES} addresses; remove one first"
                    ),
                ));
            }
            addresses::insert(conn, id, &address, held == 0).await
        })
        .await?;
    metrics::counter!("addresses_saved_total").increment(1);
    Ok((StatusCode::CREATED, Json(row.to_dto())))
}

/// Replaces a saved address (whether it is the default does not change).
#[utoipa::path(put, path = "/v1/users/{id}/addresses/{address_id}", tag = "addresses", request_body = AddressDto,
    params(("id" = Uuid, Path, description = "User id"), ("address_id" = Uuid, Path, description = "Address id")),
    responses(
        (status = 200, description = "The address as it is now", body = SavedAddressDto),
        (status = 404, description = "The user has no such address", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid address", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state, body))]
pub(crate) async fn update_address(
    State(state): State<AppState>,
    ApiPath((id, address_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<AddressDto>,
) -> Result<Json<SavedAddressDto>, AppError> {
    let address = PostalAddress::parse(body, "")?;
    let mut conn = state.conn().await?;
    let row = addresses::update(&mut conn, id, address_id, &address)
        .await?
        .ok_or_else(no_such_address)?;
    Ok(Json(row.to_dto()))
}

/// Removes a saved address. When it was the default, the oldest remaining address becomes the default, so a
/// book that is not empty always has one.
#[utoipa::path(delete, path = "/v1/users/{id}/addresses/{address_id}", tag = "addresses",
    params(("id" = Uuid, Path, description = "User id"), ("address_id" = Uuid, Path, description = "Address id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "The user has no such address", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn remove_address(
    State(state): State<AppState>,
    ApiPath((id, address_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, AppError> {
    let mut conn = state.conn().await?;
    (*conn)
        .transaction(async |conn| {
            addresses::lock_owner(conn, id).await?;
            let removed = addresses::delete(conn, id, address_id)
                .await?
                .ok_or_else(no_such_address)?;
            if removed.is_default
                && let Some(next) = addresses::oldest(conn, id).await?
            {
                addresses::set_default(conn, id, next).await?;
            }
            Ok::<_, AppError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a saved address the default (the previous default no longer is).
#[utoipa::path(put, path = "/v1/users/{id}/addresses/{address_id}/default", tag = "addresses",
    params(("id" = Uuid, Path, description = "User id"), ("address_id" = Uuid, Path, description = "Address id")),
    responses(
        (status = 200, description = "The new default", body = SavedAddressDto),
        (status = 404, description = "The user has no such address", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn set_default_address(
    State(state): State<AppState>,
    ApiPath((id, address_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<SavedAddressDto>, AppError> {
    let mut conn = state.conn().await?;
    let row = (*conn)
        .transaction(async |conn| {
            addresses::lock_owner(conn, id).await?;
            // Not found rolls back the old default's reset with it.
            addresses::set_default(conn, id, address_id)
                .await?
                .ok_or_else(no_such_address)
        })
        .await?;
    Ok(Json(row.to_dto()))
}
