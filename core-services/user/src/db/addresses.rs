//! Address books. Every statement names the owner as well as the address, so one user's address id never
//! reaches another user's row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use quickmart_shared::address::{AddressDto, PostalAddress};
use uuid::Uuid;

use crate::api::SavedAddressDto;
use crate::schema::{addresses, users};

/// A row of `addresses`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = addresses)]
pub(crate) struct AddressRow {
    /// Id.
    pub id: Uuid,
    /// Recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// More of the address.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    /// The user's default address.
    pub is_default: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl AddressRow {
    /// The address as the API shows it.
    pub(crate) fn to_dto(&self) -> SavedAddressDto {
        SavedAddressDto {
            id: self.id,
            is_default: self.is_default,
            address: AddressDto {
                name: self.name.clone(),
                line1: self.line1.clone(),
                line2: self.line2.clone(),
                city: self.city.clone(),
                postal_code: self.postal_code.clone(),
                country: self.country.clone(),
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The columns a validated address writes.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = addresses)]
struct AddressColumns<'a> {
    name: &'a str,
    line1: &'a str,
    // Written as NULL when absent: an update replaces the whole address.
    #[diesel(treat_none_as_null = true)]
    line2: Option<&'a str>,
    city: &'a str,
    postal_code: &'a str,
    country: &'a str,
}

impl<'a> AddressColumns<'a> {
    fn of(address: &'a PostalAddress) -> Self {
        let [name, line1, line2, city, postal_code, country] = address.parts();
        Self {
            name,
            line1,
            line2: (!line2.is_empty()).then_some(line2),
            city,
            postal_code,
            country,
        }
    }
}

/// A user's addresses, oldest first.
pub(crate) async fn list(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<Vec<AddressRow>, AppError> {
    addresses::table
        .filter(addresses::user_id.eq(user_id))
        .order((addresses::created_at.asc(), addresses::id.asc()))
        .select(AddressRow::as_select())
        .load(conn)
        .await
        .map_err(AppError::from)
}

/// One of a user's addresses.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<AddressRow>, AppError> {
    addresses::table
        .filter(addresses::user_id.eq(user_id).and(addresses::id.eq(id)))
        .select(AddressRow::as_select())
        .first(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// Locks the user's row for the rest of the transaction, so that writers of one address book take turns (the
/// limit is counted under it); whether the user exists.
pub(crate) async fn lock_owner(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<bool, AppError> {
    let locked: Option<Uuid> = users::table
        .find(user_id)
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(locked.is_some())
}

/// How many addresses the user has.
pub(crate) async fn count(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<i64, AppError> {
    addresses::table
        .filter(addresses::user_id.eq(user_id))
        .count()
        .get_result(conn)
        .await
        .map_err(AppError::from)
}

/// Adds an address (call with the owner locked).
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    address: &PostalAddress,
    is_default: bool,
) -> Result<AddressRow, AppError> {
    diesel::insert_into(addresses::table)
        .values((
            addresses::id.eq(Uuid::now_v7()),
            addresses::user_id.eq(user_id),
            addresses::is_default.eq(is_default),
            AddressColumns::of(address),
        ))
        .returning(AddressRow::as_returning())
        .get_result(conn)
        .await
        .map_err(AppError::from)
}

/// Replaces one of a user's addresses.
pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    id: Uuid,
    address: &PostalAddress,
) -> Result<Option<AddressRow>, AppError> {
    diesel::update(addresses::table)
        .filter(addresses::user_id.eq(user_id).and(addresses::id.eq(id)))
        .set((
            AddressColumns::of(address),
            addresses::updated_at.eq(diesel::dsl::now),
        ))
        .returning(AddressRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// Deletes one of a user's addresses; the deleted row, if it was there.
pub(crate) async fn delete(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<AddressRow>, AppError> {
    diesel::delete(addresses::table)
        .filter(addresses::user_id.eq(user_id).and(addresses::id.eq(id)))
        .returning(AddressRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// Makes `id` the user's only default (call with the owner locked); the address, if it is the user's.
pub(crate) async fn set_default(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<AddressRow>, AppError> {
    // The old default first: the partial unique index allows one default per user at any moment.
    diesel::update(addresses::table)
        .filter(
            addresses::user_id
                .eq(user_id)
                .and(addresses::is_default)
                .and(addresses::id.ne(id)),
        )
        .set((
            addresses::is_default.eq(false),
            addresses::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    diesel::update(addresses::table)
        .filter(addresses::user_id.eq(user_id).and(addresses::id.eq(id)))
        .set((
            addresses::is_default.eq(true),
            addresses::updated_at.eq(diesel::dsl::now),
        ))
        .returning(AddressRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(AppError::from)
}

/// The user's oldest address, if any (the default after the default is removed).
pub(crate) async fn oldest(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<Option<Uuid>, AppError> {
    addresses::table
        .filter(addresses::user_id.eq(user_id))
        .order((addresses::created_at.asc(), addresses::id.asc()))
        .select(addresses::id)
        .first(conn)
        .await
        .optional()
        .map_err(AppError::from)
}
