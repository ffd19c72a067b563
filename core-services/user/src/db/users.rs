//! Accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use quickmart_shared::auth::Role;
use quickmart_shared::db::is_unique_violation;
use uuid::Uuid;

use crate::api::UserDto;
use crate::schema::users;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Lower-cased e-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `CUSTOMER` or `ADMIN`.
    pub role: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change (a trigger).
    pub version: i64,
    /// The version of the account's sessions: bumped by a new role or password (the trigger) and by ending
    /// every session.
    pub token_version: i64,
}

impl UserRow {
    /// The account as the API shows it.
    pub(crate) fn to_dto(&self) -> Result<UserDto, AppError> {
        Ok(UserDto {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.parse::<Role>().map_err(AppError::internal)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            token_version: self.token_version,
        })
    }
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUser<'a> {
    /// Id (UUID v7).
    pub id: Uuid,
    /// Lower-cased e-mail address.
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Role.
    pub role: &'a str,
}

/// Name of the unique constraint on e-mail addresses.
const EMAIL_UNIQUE: &str = "users_email_key";

/// Inserts an account; a taken e-mail address (in any case) is [`email_taken`].
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    user: &NewUser<'_>,
) -> Result<UserRow, AppError> {
    diesel::insert_into(users::table)
        .values(user)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|error| {
            if is_unique_violation(&error, EMAIL_UNIQUE) {
                email_taken()
            } else {
                error.into()
            }
        })
}

/// The conflict of an e-mail address that another account has.
pub(crate) fn email_taken() -> AppError {
    AppError::conflict(
        "email",
        "an account with this e-mail address already exists",
    )
}

/// Inserts an account unless its e-mail address is taken; whether it was inserted.
pub(crate) async fn insert_if_absent(
    conn: &mut AsyncPgConnection,
    user: &NewUser<'_>,
) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(users::table)
        .values(user)
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted > 0)
}

/// One account by id.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, AppError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// One account by (normalised) e-mail address.
pub(crate) async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<UserRow>, AppError> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// The accounts among `ids` that exist.
pub(crate) async fn find_many(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<UserRow>, AppError> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)
        .await
        .map_err(AppError::from)
}

/// Up to `limit` accounts, newest first, after the keyset position `after` (created_at, id).
pub(crate) async fn page(
    conn: &mut AsyncPgConnection,
    limit: i64,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> Result<Vec<UserRow>, AppError> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order((users::created_at.desc(), users::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            users::created_at
                .lt(created_at)
                .or(users::created_at.eq(created_at).and(users::id.lt(id))),
        );
    }
    Ok(query.load(conn).await?)
}

/// How many accounts there are.
pub(crate) async fn count(conn: &mut AsyncPgConnection) -> Result<i64, AppError> {
    Ok(users::table.count().get_result(conn).await?)
}

/// What an update changes (only the fields given).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChanges<'a> {
    /// New display name.
    pub name: Option<&'a str>,
    /// New password hash.
    pub password_hash: Option<&'a str>,
    /// New role.
    pub role: Option<&'a str>,
}

/// Applies `changes` to an account; `None` when it does not exist.
pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges<'_>,
) -> Result<Option<UserRow>, AppError> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// Ends every session of an account: bumps its token version (so its access tokens are refused) and revokes its
/// refresh tokens, in one transaction; `None` when it does not exist.
pub(crate) async fn end_sessions(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, AppError> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        let row = diesel::update(users::table.find(id))
            .set((
                users::token_version.eq(users::token_version + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if row.is_some() {
            crate::db::refresh_tokens::revoke_all_of_user(conn, id).await?;
        }
        Ok::<_, AppError>(row)
    })
    .await
}
