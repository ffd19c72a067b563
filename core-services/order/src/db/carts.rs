//! Cart rows. Writers lock the cart's row first, so that the line limit is counted while no one else writes
//! the same cart.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use uuid::Uuid;

use crate::domain::CartOwner;
use crate::schema::{cart_lines, carts};

/// A row of `carts`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = carts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CartRow {
    /// Id.
    pub id: Uuid,
    /// Last change to the cart or its lines.
    pub updated_at: DateTime<Utc>,
}

/// A row of `cart_lines`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cart_lines, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LineRow {
    /// The product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: i32,
}

/// The cart of `owner`, if it has one; a guest cart idle since before `guest_cutoff` has expired and is not
/// found. With `lock`, the row stays locked for the rest of the transaction.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    owner: CartOwner,
    guest_cutoff: DateTime<Utc>,
    lock: bool,
) -> Result<Option<CartRow>, AppError> {
    let held_by: Box<dyn BoxableExpression<carts::table, Pg, SqlType = Nullable<Bool>>> =
        match owner {
            CartOwner::User(user_id) => Box::new(carts::user_id.eq(user_id)),
            CartOwner::Guest(digest) => Box::new(
                carts::token_hash
                    .eq(digest.to_vec())
                    .and(carts::updated_at.gt(guest_cutoff)),
            ),
        };
    let query = carts::table.filter(held_by).select(CartRow::as_select());
    let found = if lock {
        query.for_update().first(conn).await
    } else {
        query.first(conn).await
    };
    found.optional().map_err(AppError::from)
}

/// The user's cart, made now if they have none, locked for the rest of the transaction.
pub(crate) async fn lock_or_create_for_user(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<CartRow, AppError> {
    // Concurrent first writes of one user meet at the unique index: one inserts, the others find its row.
    let created = diesel::insert_into(carts::table)
        .values((carts::id.eq(Uuid::now_v7()), carts::user_id.eq(user_id)))
        .on_conflict(carts::user_id)
        .do_nothing()
        .execute(conn)
        .await?;
    if created > 0 {
        metrics::counter!("carts_created_total", "owner" => "user").increment(1);
    }
    find(conn, CartOwner::User(user_id), Utc::now(), true)
        .await?
        .ok_or_else(|| AppError::internal(format!("the cart of user {user_id} vanished")))
}

/// A new guest cart held by the token with `digest`.
pub(crate) async fn create_for_guest(
    conn: &mut AsyncPgConnection,
    digest: [u8; 32],
) -> Result<CartRow, AppError> {
    diesel::insert_into(carts::table)
        .values((
            carts::id.eq(Uuid::now_v7()),
            carts::token_hash.eq(digest.to_vec()),
        ))
        .returning(CartRow::as_returning())
        .get_result(conn)
        .await
        .map_err(AppError::from)
}

/// The cart's lines, in the order they were first added.
pub(crate) async fn lines(
    conn: &mut AsyncPgConnection,
    cart_id: Uuid,
) -> Result<Vec<LineRow>, AppError> {
    cart_lines::table
        .filter(cart_lines::cart_id.eq(cart_id))
        .order((cart_lines::added_at.asc(), cart_lines::product_id.asc()))
        .select(LineRow::as_select())
        .load(conn)
        .await
        .map_err(AppError::from)
}

/// Sets the quantities of `lines` (`(product, quantity)`), adding the lines the cart lacks (call with the cart
/// locked).
pub(crate) async fn put_lines(
    conn: &mut AsyncPgConnection,
    cart_id: Uuid,
    lines: &[(Uuid, i32)],
) -> Result<(), AppError> {
    if lines.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = lines
        .iter()
        .map(|&(product_id, quantity)| {
            (
                cart_lines::cart_id.eq(cart_id),
                cart_lines::product_id.eq(product_id),
                cart_lines::quantity.eq(quantity),
            )
        })
        .collect();
    diesel::insert_into(cart_lines::table)
        .values(rows)
        .on_conflict((cart_lines::cart_id, cart_lines::product_id))
        .do_update()
        .set(cart_lines::quantity.eq(excluded(cart_lines::quantity)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the line of `product_id`; whether there was one.
pub(crate) async fn remove_line(
    conn: &mut AsyncPgConnection,
    cart_id: Uuid,
    product_id: Uuid,
) -> Result<bool, AppError> {
    let removed = diesel::delete(cart_lines::table)
        .filter(
            cart_lines::cart_id
                .eq(cart_id)
                .and(cart_lines::product_id.eq(product_id)),
        )
        .execute(conn)
        .await?;
    Ok(removed > 0)
}

/// Removes every line.
pub(crate) async fn clear(conn: &mut AsyncPgConnection, cart_id: Uuid) -> Result<(), AppError> {
    diesel::delete(cart_lines::table)
        .filter(cart_lines::cart_id.eq(cart_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a change, which also keeps a guest cart from expiring.
pub(crate) async fn touch(
    conn: &mut AsyncPgConnection,
    cart_id: Uuid,
) -> Result<CartRow, AppError> {
    diesel::update(carts::table.find(cart_id))
        .set(carts::updated_at.eq(diesel::dsl::now))
        .returning(CartRow::as_returning())
        .get_result(conn)
        .await
        .map_err(AppError::from)
}

/// Deletes a cart with its lines.
pub(crate) async fn delete(conn: &mut AsyncPgConnection, cart_id: Uuid) -> Result<(), AppError> {
    diesel::delete(carts::table.find(cart_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes up to `limit` guest carts idle since before `cutoff`; how many.
pub(crate) async fn delete_idle_guests(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<usize, AppError> {
    let idle: Vec<Uuid> = carts::table
        .filter(carts::user_id.is_null().and(carts::updated_at.le(cutoff)))
        .select(carts::id)
        .limit(limit)
        .load(conn)
        .await?;
    if idle.is_empty() {
        return Ok(0);
    }
    // Only those still idle: one touched since the select lives on.
    diesel::delete(carts::table.filter(carts::id.eq_any(&idle).and(carts::updated_at.le(cutoff))))
        .execute(conn)
        .await
        .map_err(AppError::from)
}

/// Marks the cart as being checked out, unless another checkout started after `stale_before` holds it; whether
/// this call now holds it.
pub(crate) async fn start_checkout(
    conn: &mut AsyncPgConnection,
    cart_id: Uuid,
    stale_before: DateTime<Utc>,
) -> Result<bool, AppError> {
    let taken = diesel::update(
        carts::table.find(cart_id).filter(
            carts::checkout_started_at
                .is_null()
                .or(carts::checkout_started_at.lt(stale_before)),
        ),
    )
    .set(carts::checkout_started_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(taken == 1)
}

/// Ends a checkout of the cart; when it placed an order, the ordered products' lines go (lines added meanwhile
/// stay).
pub(crate) async fn end_checkout(
    conn: &mut AsyncPgConnection,
    cart_id: Uuid,
    ordered: &[Uuid],
) -> Result<(), AppError> {
    conn.transaction::<_, AppError, _>(async |conn| {
        if !ordered.is_empty() {
            diesel::delete(
                cart_lines::table.filter(
                    cart_lines::cart_id
                        .eq(cart_id)
                        .and(cart_lines::product_id.eq_any(ordered)),
                ),
            )
            .execute(conn)
            .await?;
        }
        diesel::update(carts::table.find(cart_id))
            .set((
                carts::checkout_started_at.eq(None::<DateTime<Utc>>),
                carts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}
