//! Refresh-token families: issue, rotate (with reuse detection) and revoke.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use quickmart_shared::db::is_foreign_key_violation;
use uuid::Uuid;

use crate::schema::refresh_tokens;

/// Name of the foreign key from tokens to users.
const USER_FOREIGN_KEY: &str = "refresh_tokens_user_id_fkey";

/// A row of `refresh_tokens`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct TokenRow {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The login this token descends from.
    pub family_id: Uuid,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Its successor, once rotated.
    pub replaced_by: Option<Uuid>,
    /// When it (or its family) was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct NewToken {
    /// Id (UUID v7).
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Family: a new one per login, inherited on rotation.
    pub family_id: Uuid,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Stores a token; an unknown user (deleted since it was looked up) is `NOT_FOUND`.
pub(crate) async fn insert(conn: &mut AsyncPgConnection, token: &NewToken) -> Result<(), AppError> {
    diesel::insert_into(refresh_tokens::table)
        .values(token)
        .execute(conn)
        .await
        .map(drop)
        .map_err(|error| {
            if is_foreign_key_violation(&error, USER_FOREIGN_KEY) {
                AppError::NotFound("no user has this id".to_owned())
            } else {
                error.into()
            }
        })
}

/// What presenting a token for rotation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// The token was live: it now points at its successor, which was stored.
    Rotated {
        /// The owner.
        user_id: Uuid,
    },
    /// Unknown, expired or revoked: refused, nothing changed.
    Refused,
    /// Already rotated: someone replays an old token, so the whole family is now revoked.
    ReuseDetected {
        /// The family revoked.
        family_id: Uuid,
    },
}

/// Rotates the token whose hash is `presented` into `successor` (which inherits the family), in one transaction
/// with the old row locked, so two concurrent rotations of one token cannot both succeed. The family revocation of
/// a detected reuse commits even though the caller answers with an error.
pub(crate) async fn rotate(
    conn: &mut AsyncPgConnection,
    presented: &[u8],
    successor_id: Uuid,
    successor_hash: Vec<u8>,
    successor_expires_at: DateTime<Utc>,
) -> Result<Rotation, AppError> {
    let presented = presented.to_vec();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let Some(old) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&presented))
            .select(TokenRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
        else {
            return Ok(Rotation::Refused);
        };
        if old.replaced_by.is_some() {
            revoke_family(conn, old.family_id).await?;
            return Ok(Rotation::ReuseDetected {
                family_id: old.family_id,
            });
        }
        if old.revoked_at.is_some() || old.expires_at <= Utc::now() {
            return Ok(Rotation::Refused);
        }
        let successor = NewToken {
            id: successor_id,
            user_id: old.user_id,
            family_id: old.family_id,
            token_hash: successor_hash,
            expires_at: successor_expires_at,
        };
        insert(conn, &successor).await?;
        diesel::update(refresh_tokens::table.find(old.id))
            .set(refresh_tokens::replaced_by.eq(successor.id))
            .execute(conn)
            .await?;
        Ok(Rotation::Rotated {
            user_id: old.user_id,
        })
    })
    .await
}

/// Revokes the live tokens of the family of the token whose hash is `presented`; how many were live.
pub(crate) async fn revoke_by_hash(
    conn: &mut AsyncPgConnection,
    presented: &[u8],
) -> Result<usize, AppError> {
    let family = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(presented))
        .select(refresh_tokens::family_id)
        .first::<Uuid>(conn)
        .await
        .optional()?;
    match family {
        Some(family) => revoke_family(conn, family).await,
        None => Ok(0),
    }
}

/// Revokes every live token of a family.
pub(crate) async fn revoke_family(
    conn: &mut AsyncPgConnection,
    family_id: Uuid,
) -> Result<usize, AppError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map_err(AppError::from)
}

/// Revokes every live token of a user (a password change ends every session).
pub(crate) async fn revoke_all_of_user(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<usize, AppError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map_err(AppError::from)
}

/// Deletes up to `batch` whole sessions (families) whose every token expired more than `grace` ago; how many
/// tokens went. A family with any token still valid is kept whole, so reuse detection still sees its history.
pub(crate) async fn purge_expired(
    conn: &mut AsyncPgConnection,
    grace: chrono::Duration,
    batch: i64,
) -> Result<usize, AppError> {
    let cutoff = Utc::now() - grace;
    Ok(diesel::sql_query(
        "DELETE FROM refresh_tokens WHERE family_id IN ( \
             SELECT family_id FROM refresh_tokens GROUP BY family_id \
             HAVING max(expires_at) < $1 LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)
    .await?)
}
