//! `/v1/users`: accounts and credentials.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diesel_async::AsyncConnection;
use quickmart_shared::AppError;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath, ApiQuery};
use quickmart_shared::pagination::{PageSize, decode_cursor, encode_cursor};
use uuid::Uuid;

use crate::AppState;
use crate::api::{
    CreateUser, LookupUsers, SetRole, UpdateUser, UserDto, UserEdge, UserList, UserPage, UserQuery,
    VerifyCredentials,
};
use crate::db::users::{self, NewUser, UserChanges};
use crate::domain::{AccountChanges, Email, NewAccount, PasswordChange, UserName};

/// Most ids one lookup may ask for.
const MAX_LOOKUP: usize = 1000;

/// Creates a customer account.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = CreateUser, responses(
    (status = 201, description = "Created", body = UserDto),
    (status = 409, description = "The e-mail address is taken (in any case)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid email, password or name", body = Problem, content_type = "application/problem+json"),
))]
#[tracing::instrument(skip_all)]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserDto>), AppError> {
    let NewAccount {
        email,
        password,
        name,
    } = NewAccount::parse(body)?;
    let mut conn = state.conn().await?;
    // Cheap checks before the costly hash; the unique index still settles a race between two sign-ups.
    if users::find_by_email(&mut conn, email.as_str())
        .await?
        .is_some()
    {
        return Err(users::email_taken());
    }
    let hash = state.hasher.hash(&password).await?;
    let new = NewUser {
        id: Uuid::now_v7(),
        email: email.as_str(),
        name: name.as_str(),
        password_hash: &hash,
        role: quickmart_shared::auth::Role::Customer.as_str(),
    };
    let row = users::insert(&mut conn, &new).await?;
    tracing::info!(user_id = %row.id, "account created");
    Ok((StatusCode::CREATED, Json(row.to_dto()?)))
}

/// Checks an e-mail and password. An unknown e-mail and a wrong password get the same answer in about the same
/// time (the password is checked against a decoy hash), so the answer does not tell which accounts exist.
#[utoipa::path(post, path = "/v1/users/verify-credentials", tag = "users", request_body = VerifyCredentials, responses(
    (status = 200, description = "The credentials are right", body = UserDto),
    (status = 401, description = "Unknown e-mail or wrong password", body = Problem, content_type = "application/problem+json"),
))]
#[tracing::instrument(skip_all)]
pub(crate) async fn verify_credentials(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VerifyCredentials>,
) -> Result<Json<UserDto>, AppError> {
    // No account has an address that is not one (too long, control characters): answered without a lookup
    // or a hash, which tells nothing a caller did not know.
    let Ok(email) = Email::parse(&body.email) else {
        return Err(wrong_credentials());
    };
    let row = {
        let mut conn = state.conn().await?;
        users::find_by_email(&mut conn, email.as_str()).await?
    };
    let hash = row.as_ref().map(|r| r.password_hash.as_str());
    match row.as_ref() {
        Some(row) if state.hasher.verify(&body.password, hash).await? => Ok(Json(row.to_dto()?)),
        Some(_) => Err(wrong_credentials()),
        None => {
            state.hasher.verify(&body.password, None).await?;
            Err(wrong_credentials())
        }
    }
}

fn wrong_credentials() -> AppError {
    AppError::Unauthenticated("the e-mail address or password is wrong".to_owned())
}

/// One account.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The account", body = UserDto),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserDto>, AppError> {
    let mut conn = state.conn().await?;
    let row = users::find(&mut conn, id).await?.ok_or_else(not_found)?;
    Ok(Json(row.to_dto()?))
}

fn not_found() -> AppError {
    AppError::NotFound("no user has this id".to_owned())
}

/// Many accounts by id in one call (the subgraph's DataLoader batches); unknown ids are left out.
#[utoipa::path(post, path = "/v1/users/lookup", tag = "users", request_body = LookupUsers, responses(
    (status = 200, description = "The accounts found, in no particular order", body = UserList),
    (status = 422, description = "Too many ids", body = Problem, content_type = "application/problem+json"),
))]
#[tracing::instrument(skip_all, fields(count = body.ids.len()))]
pub(crate) async fn lookup_users(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LookupUsers>,
) -> Result<Json<UserList>, AppError> {
    if body.ids.len() > MAX_LOOKUP {
        return Err(AppError::invalid(
            "ids",
            format!("at most {MAX_LOOKUP} ids per lookup"),
        ));
    }
    let mut conn = state.conn().await?;
    let rows = users::find_many(&mut conn, &body.ids).await?;
    let items = rows
        .iter()
        .map(users::UserRow::to_dto)
        .collect::<Result<_, _>>()?;
    Ok(Json(UserList { items }))
}

/// Accounts, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/users", tag = "users", params(UserQuery), responses(
    (status = 200, description = "One page", body = UserPage),
    (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
))]
#[tracing::instrument(skip(state))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<UserPage>, AppError> {
    let size = PageSize::new(query.limit, "limit")?;
    let after = query
        .after
        .as_deref()
        .map(|cursor| decode_cursor(cursor, "after"))
        .transpose()?;
    let mut conn = state.conn().await?;
    let mut rows = users::page(&mut conn, size.limit_plus_one(), after).await?;
    let has_more = rows.len() > size.get() as usize;
    rows.truncate(size.get() as usize);
    let total_count = if query.with_total.unwrap_or(true) {
        Some(users::count(&mut conn).await?)
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|row| {
            Ok(UserEdge {
                cursor: encode_cursor(&(row.created_at, row.id)),
                user: row.to_dto()?,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(UserPage {
        items,
        has_more,
        total_count,
    }))
}

/// Changes the name and/or the password. A new password needs the current one and ends every session (all
/// refresh tokens of the user are revoked).
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated account", body = UserDto),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or password, or the current password is wrong", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state, body))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<Json<UserDto>, AppError> {
    let AccountChanges { name, password } = AccountChanges::parse(body)?;
    let current = {
        let mut conn = state.conn().await?;
        users::find(&mut conn, id).await?.ok_or_else(not_found)?
    };
    let new_hash = match &password {
        Some(PasswordChange {
            current: presented,
            new,
        }) => {
            if !state
                .hasher
                .verify(presented, Some(&current.password_hash))
                .await?
            {
                return Err(AppError::invalid(
                    "current_password",
                    "is not the current password",
                ));
            }
            Some(state.hasher.hash(new).await?)
        }
        None => None,
    };
    let changes = UserChanges {
        name: name.as_ref().map(UserName::as_str),
        password_hash: new_hash.as_deref(),
        role: None,
    };
    let mut conn = state.conn().await?;
    let row = if new_hash.is_some() {
        (*conn)
            .transaction(async |conn| {
                let row = users::update(conn, id, &changes).await?;
                let revoked = crate::db::refresh_tokens::revoke_all_of_user(conn, id).await?;
                tracing::info!(user_id = %id, revoked, "password changed; sessions revoked");
                Ok::<_, AppError>(row)
            })
            .await?
    } else if changes.name.is_some() {
        users::update(&mut conn, id, &changes).await?
    } else {
        Some(current)
    };
    let row = row.ok_or_else(not_found)?;
    state.invalidate_user(id, row.version).await;
    Ok(Json(row.to_dto()?))
}

/// Ends every session of an account: its refresh tokens are revoked and its access tokens refused from now on
/// (the token version is bumped).
#[utoipa::path(post, path = "/v1/users/{id}/sessions/end", tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The account, with its new token version", body = UserDto),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserDto>, AppError> {
    let mut conn = state.conn().await?;
    let row = users::end_sessions(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(user_id = %id, token_version = row.token_version, "every session ended");
    state.invalidate_user(id, row.version).await;
    Ok(Json(row.to_dto()?))
}

/// Sets an account's role (the subgraph allows this to admins only). Sessions minted with the old role end.
#[utoipa::path(put, path = "/v1/users/{id}/role", tag = "users", request_body = SetRole,
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated account", body = UserDto),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SetRole>,
) -> Result<Json<UserDto>, AppError> {
    let mut conn = state.conn().await?;
    let changes = UserChanges {
        role: Some(body.role.as_str()),
        ..UserChanges::default()
    };
    let row = users::update(&mut conn, id, &changes)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(user_id = %id, role = body.role.as_str(), "role set");
    state.invalidate_user(id, row.version).await;
    Ok(Json(row.to_dto()?))
}
