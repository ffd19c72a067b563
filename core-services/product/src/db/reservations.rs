//! Reservations: stock held atomically for several lines, then committed or released exactly once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use uuid::Uuid;

use crate::api::{ReservationDto, ReservationLineDto, ReservationStatus};
use crate::domain::{ReservationLines, ReservationTtl};
use crate::schema::{products, reservation_lines, reservations};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = reservations, check_for_backend(diesel::pg::Pg))]
struct ReservationRow {
    id: Uuid,
    status: String,
    request_hash: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reservation_lines, check_for_backend(diesel::pg::Pg))]
struct LineRow {
    reservation_id: Uuid,
    line_no: i32,
    product_id: Uuid,
    sku: String,
    name: String,
    unit_price: i64,
    quantity: i32,
}

/// A reservation and the products whose stock it changed (whose cache entries are now stale).
#[derive(Debug)]
pub(crate) struct StockChange {
    /// The reservation as it is now.
    pub reservation: ReservationDto,
    /// Products whose stock changed.
    pub touched: Vec<Uuid>,
}

/// Holds stock for every line or for none: rows are updated in product-id order, each with a conditional
/// `stock >= quantity`, inside one transaction. With a client-chosen `id`, a repeated identical request
/// returns the first reservation and changes nothing.
pub(crate) async fn reserve(
    conn: &mut AsyncPgConnection,
    id: Option<Uuid>,
    lines: &ReservationLines,
    ttl: ReservationTtl,
    currency: &str,
) -> Result<StockChange, AppError> {
    let reservation_id = id.unwrap_or_else(Uuid::now_v7);
    let request_hash = lines.request_hash();
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl.0).map_err(AppError::internal)?;
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| {
            if let Some(existing) = reservations::table
                .find(reservation_id)
                .select(ReservationRow::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
            {
                if existing.request_hash != request_hash {
                    return Err(AppError::conflict(
                        "id",
                        "a reservation with this id holds other lines",
                    ));
                }
                return Ok(StockChange {
                    reservation: load_dto(conn, existing, currency).await?,
                    touched: Vec::new(),
                });
            }
            let mut snapshots = Vec::new();
            for (product_id, quantity, index) in lines.in_lock_order() {
                let taken = diesel::update(
                    products::table
                        .filter(products::id.eq(product_id))
                        .filter(products::active.eq(true))
                        .filter(products::stock.ge(quantity)),
                )
                .set((
                    products::stock.eq(products::stock - quantity),
                    products::updated_at.eq(Utc::now()),
                ))
                .returning((products::sku, products::name, products::price))
                .get_result::<(String, String, i64)>(conn)
                .await
                .optional()?;
                match taken {
                    Some((sku, name, unit_price)) => snapshots.push(LineRow {
                        reservation_id,
                        line_no: i32::try_from(index).map_err(AppError::internal)?,
                        product_id,
                        sku,
                        name,
                        unit_price,
                        quantity,
                    }),
                    None => return Err(why_not_reservable(conn, product_id, index).await),
                }
            }
            snapshots.sort_by_key(|line| line.line_no);
            let row = ReservationRow {
                id: reservation_id,
                status: ReservationStatus::Held.as_str().to_owned(),
                request_hash: request_hash.clone(),
                expires_at,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            };
            diesel::insert_into(reservations::table)
                .values(&row)
                .execute(conn)
                .await?;
            diesel::insert_into(reservation_lines::table)
                .values(&snapshots)
                .execute(conn)
                .await?;
            let touched = snapshots.iter().map(|l| l.product_id).collect();
            Ok(StockChange {
                reservation: to_dto(row, snapshots, currency)?,
                touched,
            })
        })
        .await?;
    Ok(outcome)
}

/// Explains why a line could not be reserved: unknown or inactive product (`BAD_USER_INPUT` naming the
/// line), or too little stock (`OUT_OF_STOCK`).
async fn why_not_reservable(
    conn: &mut AsyncPgConnection,
    product_id: Uuid,
    index: usize,
) -> AppError {
    let field = format!("lines[{index}].product_id");
    let found = products::table
        .find(product_id)
        .select(products::active)
        .first::<bool>(conn)
        .await
        .optional();
    match found {
        Ok(None) => AppError::invalid(field, "no such product"),
        Ok(Some(false)) => AppError::invalid(field, "this product is no longer on sale"),
        Ok(Some(true)) => AppError::OutOfStock { product_id },
        Err(error) => error.into(),
    }
}

/// One reservation.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    currency: &str,
) -> Result<Option<ReservationDto>, AppError> {
    let row = reservations::table
        .find(id)
        .select(ReservationRow::as_select())
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => Ok(Some(load_dto(conn, row, currency).await?)),
        None => Ok(None),
    }
}

/// Commits a reservation: idempotent; a released one is `INVALID_STATE`.
pub(crate) async fn commit(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    currency: &str,
) -> Result<ReservationDto, AppError> {
    let updated = diesel::update(
        reservations::table
            .find(id)
            .filter(reservations::status.eq_any([
                ReservationStatus::Held.as_str(),
                ReservationStatus::Committed.as_str(),
            ])),
    )
    .set((
        reservations::status.eq(ReservationStatus::Committed.as_str()),
        reservations::updated_at.eq(Utc::now()),
    ))
    .returning(ReservationRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(row) => load_dto(conn, row, currency).await,
        None => match find(conn, id, currency).await? {
            None => Err(AppError::NotFound(format!("no reservation {id}"))),
            Some(_) => Err(AppError::InvalidState(
                "the reservation was released and cannot be committed".to_owned(),
            )),
        },
    }
}

/// Releases a reservation and restocks its lines, exactly once: releasing again changes nothing.
pub(crate) async fn release(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    currency: &str,
) -> Result<StockChange, AppError> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let Some(row) = reservations::table
            .find(id)
            .select(ReservationRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
        else {
            return Err(AppError::NotFound(format!("no reservation {id}")));
        };
        if ReservationStatus::parse(&row.status)? == ReservationStatus::Released {
            return Ok(StockChange {
                reservation: load_dto(conn, row, currency).await?,
                touched: Vec::new(),
            });
        }
        let touched = restock(conn, id).await?;
        let row = diesel::update(reservations::table.find(id))
            .set((
                reservations::status.eq(ReservationStatus::Released.as_str()),
                reservations::updated_at.eq(Utc::now()),
            ))
            .returning(ReservationRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(StockChange {
            reservation: load_dto(conn, row, currency).await?,
            touched,
        })
    })
    .await
}

/// Releases up to `batch` held reservations that expired, skipping rows another sweeper holds; returns the
/// products whose stock came back.
pub(crate) async fn release_expired(
    conn: &mut AsyncPgConnection,
    batch: i64,
) -> Result<(usize, Vec<Uuid>), AppError> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let expired: Vec<Uuid> = reservations::table
            .filter(reservations::status.eq(ReservationStatus::Held.as_str()))
            .filter(reservations::expires_at.lt(Utc::now()))
            .order(reservations::expires_at)
            .limit(batch)
            .select(reservations::id)
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        let mut touched = Vec::new();
        for id in &expired {
            touched.extend(restock(conn, *id).await?);
        }
        diesel::update(reservations::table.filter(reservations::id.eq_any(&expired)))
            .set((
                reservations::status.eq(ReservationStatus::Released.as_str()),
                reservations::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        touched.sort_unstable();
        touched.dedup();
        Ok((expired.len(), touched))
    })
    .await
}

/// Puts the units of a reservation back, in product-id order like [`reserve`].
async fn restock(
    conn: &mut AsyncPgConnection,
    reservation_id: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    let lines: Vec<(Uuid, i32)> = reservation_lines::table
        .filter(reservation_lines::reservation_id.eq(reservation_id))
        .order(reservation_lines::product_id)
        .select((reservation_lines::product_id, reservation_lines::quantity))
        .load(conn)
        .await?;
    for (product_id, quantity) in &lines {
        diesel::update(products::table.find(product_id))
            .set((
                products::stock.eq(products::stock + quantity),
                products::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
    }
    Ok(lines
        .into_iter()
        .map(|(product_id, _)| product_id)
        .collect())
}

async fn load_dto(
    conn: &mut AsyncPgConnection,
    row: ReservationRow,
    currency: &str,
) -> Result<ReservationDto, AppError> {
    let lines = reservation_lines::table
        .filter(reservation_lines::reservation_id.eq(row.id))
        .order(reservation_lines::line_no)
        .select(LineRow::as_select())
        .load(conn)
        .await?;
    to_dto(row, lines, currency)
}

fn to_dto(
    row: ReservationRow,
    lines: Vec<LineRow>,
    currency: &str,
) -> Result<ReservationDto, AppError> {
    Ok(ReservationDto {
        id: row.id,
        status: ReservationStatus::parse(&row.status)?,
        expires_at: row.expires_at,
        currency: currency.to_owned(),
        lines: lines
            .into_iter()
            .map(|l| ReservationLineDto {
                product_id: l.product_id,
                sku: l.sku,
                name: l.name,
                unit_price: l.unit_price,
                quantity: l.quantity,
            })
            .collect(),
    })
}
