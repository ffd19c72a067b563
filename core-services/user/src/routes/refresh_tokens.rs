//! `/v1/refresh-tokens`: sessions. Tokens are opaque, single-use and stored only as hashes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use quickmart_shared::AppError;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::ApiJson;
use uuid::Uuid;

use crate::AppState;
use crate::api::{IssueRefreshToken, IssuedRefreshToken, PresentRefreshToken, Revoked};
use crate::db::refresh_tokens::{self, NewToken, Rotation};
use crate::db::users;
use crate::domain::RefreshToken;

/// Starts a session (a new token family) for a user who just signed in.
#[utoipa::path(post, path = "/v1/refresh-tokens", tag = "refresh-tokens", request_body = IssueRefreshToken, responses(
    (status = 201, description = "The token, shown once", body = IssuedRefreshToken),
    (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
))]
#[tracing::instrument(skip_all, fields(user_id = %body.user_id))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<IssueRefreshToken>,
) -> Result<(StatusCode, Json<IssuedRefreshToken>), AppError> {
    let token = RefreshToken::generate();
    let expires_at = Utc::now() + state.refresh_token_ttl;
    let mut conn = state.conn().await?;
    let user = users::find(&mut conn, body.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no user has this id".to_owned()))?;
    let row = NewToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        family_id: Uuid::now_v7(),
        token_hash: token.hash(),
        expires_at,
    };
    refresh_tokens::insert(&mut conn, &row).await?;
    let issued = IssuedRefreshToken {
        refresh_token: token.into_secret(),
        expires_at,
        user: user.to_dto()?,
    };
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Exchanges a live token for its successor. Presenting a token that was already rotated means it leaked: the
/// whole family is revoked and the answer is 401, as for an unknown, expired or revoked token.
#[utoipa::path(post, path = "/v1/refresh-tokens/rotate", tag = "refresh-tokens", request_body = PresentRefreshToken,
    responses(
        (status = 200, description = "The successor token, shown once, and the user as of now", body = IssuedRefreshToken),
        (status = 401, description = "Unknown, expired, revoked or reused token", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PresentRefreshToken>,
) -> Result<Json<IssuedRefreshToken>, AppError> {
    let presented = RefreshToken::presented(body.refresh_token).hash();
    let successor = RefreshToken::generate();
    let expires_at = Utc::now() + state.refresh_token_ttl;
    let mut conn = state.conn().await?;
    let outcome = refresh_tokens::rotate(
        &mut conn,
        &presented,
        Uuid::now_v7(),
        successor.hash(),
        expires_at,
    )
    .await?;
    let refused =
        || AppError::Unauthenticated("the refresh token is invalid, expired or revoked".to_owned());
    match outcome {
        Rotation::Rotated { user_id } => {
            let user = users::find(&mut conn, user_id).await?.ok_or_else(refused)?;
            Ok(Json(IssuedRefreshToken {
                refresh_token: successor.into_secret(),
                expires_at,
                user: user.to_dto()?,
            }))
        }
        Rotation::ReuseDetected { family_id } => {
            tracing::warn!(%family_id, "a rotated refresh token was presented again; its family is revoked");
            Err(refused())
        }
        Rotation::Refused => Err(refused()),
    }
}

/// Ends the session the token belongs to (its whole family). Unknown tokens are not an error: signing out twice
/// is harmless.
#[utoipa::path(post, path = "/v1/refresh-tokens/revoke", tag = "refresh-tokens", request_body = PresentRefreshToken,
    responses((status = 200, description = "Whether a live session was ended", body = Revoked)))]
#[tracing::instrument(skip_all)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PresentRefreshToken>,
) -> Result<Json<Revoked>, AppError> {
    let presented = RefreshToken::presented(body.refresh_token).hash();
    let mut conn = state.conn().await?;
    let revoked = refresh_tokens::revoke_by_hash(&mut conn, &presented).await?;
    Ok(Json(Revoked {
        revoked: revoked > 0,
    }))
}
