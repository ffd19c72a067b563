//! Accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use quickmart_shared::auth::Role;
use uuid::Uuid;

use crate::api::UserDto;
use crate::schema::users;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
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
}

impl UserRow {
    /// The account as the API shows it.
    pub fn to_dto(&self) -> Result<UserDto, AppError> {
        Ok(UserDto {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.parse::<Role>().map_err(AppError::internal)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
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
pub const EMAIL_UNIQUE: &str = "users_email_key";

/// Inserts an account; a taken e-mail address fails with a unique violation of [`EMAIL_UNIQUE`].
pub async fn insert(conn: &mut AsyncPgConnection, user: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(user)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// Inserts an account unless its e-mail address is taken; whether it was inserted.
pub async fn insert_if_absent(
    conn: &mut AsyncPgConnection,
    user: &NewUser<'_>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(users::table)
        .values(user)
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted > 0)
}

/// One account by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// One account by (normalised) e-mail address.
pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The accounts among `ids` that exist.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)
        .await
}

/// Up to `limit` accounts, newest first, after the keyset position `after` (created_at, id).
pub async fn page(
    conn: &mut AsyncPgConnection,
    limit: i64,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> QueryResult<Vec<UserRow>> {
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
    query.load(conn).await
}

/// How many accounts there are.
pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn).await
}

/// What an update changes (only the fields given).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges<'a> {
    /// New display name.
    pub name: Option<&'a str>,
    /// New password hash.
    pub password_hash: Option<&'a str>,
    /// New role.
    pub role: Option<&'a str>,
}

/// Applies `changes` to an account; `None` when it does not exist.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges<'_>,
) -> QueryResult<Option<UserRow>> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}
