//! Order rows: claims, placement, reads with keyset pages, status changes with their history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Integer, Record, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use uuid::Uuid;

use crate::api::{AddressDto, OrderDto, OrderItemDto, OrderStatus, PaymentStatus, StatusChangeDto};
use crate::db::payments::{self, NewPayment};
use crate::domain::{OrderCursor, can_become, parse_status};
use crate::schema::{order_items, order_status_history, orders};

/// The status of a claim whose placement is still running.
pub(crate) const PLACING: &str = "PLACING";

/// What order-core knows product-core holds for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReservationState {
    /// Reserved (or about to be); the commit is not confirmed yet.
    Held,
    /// Committed: the stock stays taken.
    Committed,
    /// Released: the stock went back.
    Released,
}

impl ReservationState {
    /// The database spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Held => "HELD",
            Self::Committed => "COMMITTED",
            Self::Released => "RELEASED",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
struct OrderRow {
    id: Uuid,
    user_id: Uuid,
    status: String,
    total: i64,
    currency: String,
    idempotency_key: String,
    request_hash: String,
    reservation_id: Uuid,
    reservation_status: String,
    shipping_address: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// What a read shows of an order: its row without the placement's bookkeeping (key, request hash,
/// reservation), which no reader needs and which would double what a page decodes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
struct OrderView {
    id: Uuid,
    user_id: Uuid,
    status: String,
    total: i64,
    currency: String,
    shipping_address: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = order_items, check_for_backend(diesel::pg::Pg))]
struct ItemRow {
    order_id: Uuid,
    line_no: i32,
    product_id: Uuid,
    sku: String,
    name: String,
    quantity: i32,
    unit_price: i64,
    line_total: i64,
}

/// (product, SKU, name, quantity, unit price, line total) of one line, as [`OrderLines`] carries it.
type LineSql = Record<(diesel::sql_types::Uuid, Text, Text, Integer, BigInt, BigInt)>;
type Line = (Uuid, String, String, i32, i64, i64);

/// An order with its lines.
type OrderWithLines = (OrderView, Vec<Line>);

/// An order's lines, in the order they were placed, as a column of the order's own row: a page and its lines are
/// one statement (the primary key (order_id, line_no) finds each order's), where reading the lines after the
/// orders took a second round trip to PostgreSQL. A type of its own rather than `diesel::dsl::sql`: diesel never
/// keeps a statement holding raw SQL prepared, and PostgreSQL would plan every page again.
#[derive(Debug, Clone, Copy, QueryId, ValidGrouping)]
struct OrderLines;

impl Expression for OrderLines {
    type SqlType = Array<LineSql>;
}

impl QueryFragment<Pg> for OrderLines {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "ARRAY(SELECT ROW(i.product_id, i.sku, i.name, i.quantity, i.unit_price, i.line_total) \
             FROM order_items i WHERE i.order_id = orders.id ORDER BY i.line_no)",
        );
        Ok(())
    }
}

impl AppearsOnTable<orders::table> for OrderLines {}

impl SelectableExpression<orders::table> for OrderLines {}

/// (from, to, actor, when) of one status change.
type HistoryRow = (Option<String>, String, Option<Uuid>, DateTime<Utc>);

#[derive(Debug, Insertable)]
#[diesel(table_name = order_status_history)]
struct NewHistoryRow {
    order_id: Uuid,
    from_status: Option<String>,
    to_status: String,
    actor_id: Option<Uuid>,
    changed_at: DateTime<Utc>,
}

/// A new claim: the order row in status `PLACING`.
#[derive(Debug, Clone)]
pub(crate) struct NewClaim {
    /// The order id it will keep.
    pub id: Uuid,
    /// The buyer.
    pub user_id: Uuid,
    /// The client's key.
    pub idempotency_key: String,
    /// Hash of the request.
    pub request_hash: String,
    /// The reservation id product-core will be asked to use.
    pub reservation_id: Uuid,
    /// The store currency.
    pub currency: String,
    /// The address snapshot.
    pub shipping_address: Option<AddressDto>,
}

/// The claim already holding a (user, key).
#[derive(Debug, Clone)]
pub(crate) struct ExistingClaim {
    /// Its order id.
    pub id: Uuid,
    /// `PLACING` while its placement runs, a visible status after.
    pub status: String,
    /// Hash of the request that made it.
    pub request_hash: String,
}

/// What became of an attempt to claim (user, key).
#[derive(Debug, Clone)]
pub(crate) enum ClaimOutcome {
    /// This call holds the claim.
    Claimed,
    /// An earlier request holds it.
    Taken(ExistingClaim),
    /// An earlier claim was deleted between the two statements: try again.
    Vanished,
}

/// Claims (user, key) with the row of a new `PLACING` order.
pub(crate) async fn claim(
    conn: &mut AsyncPgConnection,
    claim: &NewClaim,
) -> Result<ClaimOutcome, AppError> {
    let now = Utc::now();
    let row = OrderRow {
        id: claim.id,
        user_id: claim.user_id,
        status: PLACING.to_owned(),
        total: 0,
        currency: claim.currency.clone(),
        idempotency_key: claim.idempotency_key.clone(),
        request_hash: claim.request_hash.clone(),
        reservation_id: claim.reservation_id,
        reservation_status: ReservationState::Held.as_str().to_owned(),
        shipping_address: claim
            .shipping_address
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(AppError::internal)?,
        created_at: now,
        updated_at: now,
    };
    // A concurrent insert of the same (user, key) waits here until the first one commits, then does nothing.
    let inserted = diesel::insert_into(orders::table)
        .values(&row)
        .on_conflict((orders::user_id, orders::idempotency_key))
        .do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(ClaimOutcome::Claimed);
    }
    Ok(
        match find_claim(conn, claim.user_id, &claim.idempotency_key).await? {
            Some(existing) => ClaimOutcome::Taken(existing),
            None => ClaimOutcome::Vanished,
        },
    )
}

/// The claim of (user, key), if any.
pub(crate) async fn find_claim(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<ExistingClaim>, AppError> {
    let found = orders::table
        .filter(orders::user_id.eq(user_id))
        .filter(orders::idempotency_key.eq(key))
        .select((orders::id, orders::status, orders::request_hash))
        .first::<(Uuid, String, String)>(conn)
        .await
        .optional()?;
    Ok(found.map(|(id, status, request_hash)| ExistingClaim {
        id,
        status,
        request_hash,
    }))
}

/// Deletes a claim whose placement failed, so a retry with the same key may try again.
pub(crate) async fn delete_claim(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), AppError> {
    diesel::delete(orders::table.find(id).filter(orders::status.eq(PLACING)))
        .execute(conn)
        .await?;
    Ok(())
}

/// A reserved line, ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct PlacedItem {
    /// The product.
    pub product_id: Uuid,
    /// Its SKU when reserved.
    pub sku: String,
    /// Its name when reserved.
    pub name: String,
    /// Units.
    pub quantity: i32,
    /// Its price when reserved.
    pub unit_price: i64,
}

/// Step 3 of placing: writes the items and the total and makes the claim a `PENDING` order, in one
/// transaction, with its payment if it has one (a captured payment makes it `CONFIRMED`). Fails when the claim
/// is gone (cleaned up as abandoned).
pub(crate) async fn complete_placement(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    items: &[PlacedItem],
    total: i64,
    actor: Uuid,
    payment: Option<&NewPayment>,
) -> Result<(), AppError> {
    let paid = payment.is_some_and(|p| p.status == PaymentStatus::Captured);
    let status = if paid {
        OrderStatus::Confirmed
    } else {
        OrderStatus::Pending
    };
    conn.transaction::<_, AppError, _>(async |conn| {
        let now = Utc::now();
        let updated = diesel::update(orders::table.find(id).filter(orders::status.eq(PLACING)))
            .set((
                orders::status.eq(status.as_str()),
                orders::total.eq(total),
                orders::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        if updated == 0 {
            return Err(AppError::internal(format!(
                "the claim of order {id} vanished while it was being placed"
            )));
        }
        let rows = items
            .iter()
            .enumerate()
            .map(|(line_no, item)| {
                Ok(ItemRow {
                    order_id: id,
                    line_no: i32::try_from(line_no).map_err(AppError::internal)?,
                    product_id: item.product_id,
                    sku: item.sku.clone(),
                    name: item.name.clone(),
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                    line_total: item.unit_price * i64::from(item.quantity),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        diesel::insert_into(order_items::table)
            .values(&rows)
            .execute(conn)
            .await?;
        record(conn, id, None, OrderStatus::Pending, Some(actor), now).await?;
        if let Some(payment) = payment {
            payments::insert(conn, id, payment).await?;
        }
        if paid {
            // Paid is confirmed: the history shows both steps, the second made by the payment, not a person.
            record(conn, id, Some(OrderStatus::Pending), status, None, now).await?;
        }
        Ok(())
    })
    .await
}

async fn record(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let row = NewHistoryRow {
        order_id,
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: to.as_str().to_owned(),
        actor_id: actor,
        changed_at: at,
    };
    diesel::insert_into(order_status_history::table)
        .values(&row)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records what product-core confirmed, unless the reservation already moved on (`from` lists the states it
/// may move from). Returns whether the row changed.
pub(crate) async fn set_reservation_state(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: &[ReservationState],
    to: ReservationState,
) -> Result<bool, AppError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let updated = diesel::update(
        orders::table
            .find(id)
            .filter(orders::reservation_status.eq_any(from)),
    )
    .set(orders::reservation_status.eq(to.as_str()))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// One visible order; with `owner`, only if it belongs to that user.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    owner: Option<Uuid>,
) -> Result<Option<OrderDto>, AppError> {
    Ok(find_many(conn, &[id], owner).await?.into_iter().next())
}

/// The visible orders with these ids (unknown ids, and with `owner` other users' orders, are skipped).
pub(crate) async fn find_many(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    owner: Option<Uuid>,
) -> Result<Vec<OrderDto>, AppError> {
    let mut query = orders::table
        .filter(orders::id.eq_any(ids))
        .filter(orders::status.ne(PLACING))
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(orders::user_id.eq(owner));
    }
    let rows = query
        .select((OrderView::as_select(), OrderLines))
        .load(conn)
        .await?;
    with_payments(conn, rows, true).await
}

/// Filters of the order list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    /// Only this buyer's orders.
    pub user_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// Continue after this position.
    pub after: Option<OrderCursor>,
    /// Rows to fetch (the page size plus one, to learn whether another page follows).
    pub limit: i64,
    /// Whether to count every match.
    pub with_total: bool,
    /// Whether to read each order's payment.
    pub with_payment: bool,
    /// Whether to read each order's lines.
    pub with_items: bool,
}

/// One page of visible orders, newest first, and how many match the filter in all (when asked).
pub(crate) async fn page(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
) -> Result<(Vec<OrderDto>, Option<i64>), AppError> {
    let filtered = || {
        let mut query = orders::table
            .filter(orders::status.ne(PLACING))
            .into_boxed();
        if let Some(user_id) = filter.user_id {
            query = query.filter(orders::user_id.eq(user_id));
        }
        if let Some(status) = filter.status {
            query = query.filter(orders::status.eq(status.as_str()));
        }
        query
    };
    let mut query = filtered();
    if let Some(OrderCursor {
        created_at: c,
        id: i,
    }) = filter.after
    {
        query = query.filter(
            orders::created_at
                .lt(c)
                .or(orders::created_at.eq(c).and(orders::id.lt(i))),
        );
    }
    let query = query
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(filter.limit);
    let rows: Vec<OrderWithLines> = if filter.with_items {
        query
            .select((OrderView::as_select(), OrderLines))
            .load(conn)
            .await?
    } else {
        let views: Vec<OrderView> = query.select(OrderView::as_select()).load(conn).await?;
        views.into_iter().map(|view| (view, Vec::new())).collect()
    };
    let total = if filter.with_total {
        Some(filtered().count().get_result(conn).await?)
    } else {
        None
    };
    Ok((with_payments(conn, rows, filter.with_payment).await?, total))
}

/// One page per buyer, newest first, from one ranking query: `limit` rows per buyer after `after`, and how
/// many of each buyer's orders match the filter in all. Buyers with no orders are absent.
pub(crate) async fn pages_by_users(
    conn: &mut AsyncPgConnection,
    user_ids: &[Uuid],
    status: Option<OrderStatus>,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<HashMap<Uuid, (Vec<OrderDto>, i64)>, AppError> {
    #[derive(QueryableByName)]
    struct Ranked {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        user_id: Uuid,
        /// `None` for a buyer with matches but none after the cursor.
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
        id: Option<Uuid>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total_count: i64,
    }
    // The count runs over the filter alone, the ranking over what follows the cursor; both per buyer, on the
    // (user_id, created_at DESC, id DESC) index.
    let ranked: Vec<Ranked> = diesel::sql_query(
        "WITH matching AS ( \
           SELECT id, user_id, created_at FROM orders \
           WHERE user_id = ANY($1) AND status <> $2 AND ($3::text IS NULL OR status = $3) \
         ), totals AS ( \
           SELECT user_id, count(*) AS total_count FROM matching GROUP BY user_id \
         ), ranked AS ( \
           SELECT id, user_id, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS position \
           FROM matching WHERE $4::timestamptz IS NULL OR (created_at, id) < ($4, $5) \
         ) \
         SELECT t.user_id, r.id, t.total_count FROM totals t \
         LEFT JOIN ranked r ON r.user_id = t.user_id AND r.position <= $6",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(user_ids)
    .bind::<diesel::sql_types::Text, _>(PLACING)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(status.map(OrderStatus::as_str))
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(after.map(|a| a.created_at))
    .bind::<diesel::sql_types::Uuid, _>(after.map_or(Uuid::nil(), |a| a.id))
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await?;
    let ids: Vec<Uuid> = ranked.iter().filter_map(|r| r.id).collect();
    let rows = orders::table
        .filter(orders::id.eq_any(&ids))
        .order((orders::created_at.desc(), orders::id.desc()))
        .select((OrderView::as_select(), OrderLines))
        .load(conn)
        .await?;
    let mut pages: HashMap<Uuid, (Vec<OrderDto>, i64)> = ranked
        .iter()
        .map(|r| (r.user_id, (Vec::new(), r.total_count)))
        .collect();
    for order in with_payments(conn, rows, true).await? {
        if let Some(page) = pages.get_mut(&order.user_id) {
            page.0.push(order);
        }
    }
    Ok(pages)
}

/// The outcome of a status change.
#[derive(Debug)]
pub(crate) struct Transition {
    /// The order after the change.
    pub order: OrderDto,
    /// Its reservation (to release after a cancellation).
    pub reservation_id: Uuid,
    /// A cancelled order's captured payment, now marked `REFUNDED` by this change (and by no other), for the
    /// caller to refund at the provider.
    pub refund: Option<payments::MovedPayment>,
}

/// Moves an order to `to` if the lifecycle allows it, recording who did it; the row is locked, so of two
/// concurrent changes the second sees the first's result. With `owner`, other users' orders are `NOT_FOUND`.
pub(crate) async fn transition(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    owner: Option<Uuid>,
    to: OrderStatus,
    actor: Option<Uuid>,
) -> Result<Transition, AppError> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let row = orders::table
            .find(id)
            .filter(orders::status.ne(PLACING))
            .select(OrderRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some(row) = row.filter(|row| owner.is_none_or(|owner| row.user_id == owner)) else {
            return Err(AppError::NotFound(format!("no order {id}")));
        };
        let from = parse_status(&row.status)?;
        if !can_become(from, to) {
            return Err(AppError::InvalidState(format!(
                "an order that is {} cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let now = Utc::now();
        let row = diesel::update(orders::table.find(id))
            .set((orders::status.eq(to.as_str()), orders::updated_at.eq(now)))
            .returning(OrderRow::as_returning())
            .get_result(conn)
            .await?;
        record(conn, id, Some(from), to, actor, now).await?;
        if to == OrderStatus::Confirmed {
            // An admin confirming an order nobody paid through the store records that it was paid outside it.
            payments::insert_manual(conn, id, row.total, &row.currency).await?;
        }
        let refund = if to == OrderStatus::Cancelled {
            payments::change_status(
                conn,
                id,
                &[PaymentStatus::Captured, PaymentStatus::Authorized],
                PaymentStatus::Refunded,
            )
            .await?
        } else {
            None
        };
        let reservation_id = row.reservation_id;
        let order = find(conn, id, None)
            .await?
            .ok_or_else(|| AppError::internal("order vanished"))?;
        Ok(Transition {
            order,
            reservation_id,
            refund,
        })
    })
    .await
}

/// The status history of a visible order, oldest first; `None` when there is no such order (for `owner`).
pub(crate) async fn history(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    owner: Option<Uuid>,
) -> Result<Option<Vec<StatusChangeDto>>, AppError> {
    let mut query = orders::table
        .find(id)
        .filter(orders::status.ne(PLACING))
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(orders::user_id.eq(owner));
    }
    if query
        .select(orders::id)
        .first::<Uuid>(conn)
        .await
        .optional()?
        .is_none()
    {
        return Ok(None);
    }
    let rows: Vec<HistoryRow> = order_status_history::table
        .filter(order_status_history::order_id.eq(id))
        .order(order_status_history::id)
        .select((
            order_status_history::from_status,
            order_status_history::to_status,
            order_status_history::actor_id,
            order_status_history::changed_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(from, to, actor_id, changed_at)| {
            Ok(StatusChangeDto {
                from: from.as_deref().map(parse_status).transpose()?,
                to: parse_status(&to)?,
                actor_id,
                changed_at,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()
        .map(Some)
}

/// Claims older than `before` whose placement never finished: (order id, reservation id).
pub(crate) async fn abandoned_claims(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid)>, AppError> {
    Ok(orders::table
        .filter(orders::status.eq(PLACING))
        .filter(orders::created_at.lt(before))
        .order(orders::created_at)
        .limit(limit)
        .select((orders::id, orders::reservation_id))
        .load(conn)
        .await?)
}

/// An order whose reservation is not yet where its status says it should be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unsettled {
    /// The order.
    pub id: Uuid,
    /// Its reservation.
    pub reservation_id: Uuid,
    /// Whether it is cancelled (the reservation must be released) or live (it must be committed).
    pub cancelled: bool,
}

/// Orders last changed before `before` whose commit or release product-core has not confirmed.
pub(crate) async fn unsettled(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Unsettled>, AppError> {
    let cancelled = OrderStatus::Cancelled.as_str();
    let rows: Vec<(Uuid, Uuid, String)> = orders::table
        .filter(orders::updated_at.lt(before))
        .filter(
            orders::status
                .eq(cancelled)
                .and(orders::reservation_status.ne(ReservationState::Released.as_str()))
                .or(orders::status
                    .ne_all([PLACING, cancelled])
                    .and(orders::reservation_status.eq(ReservationState::Held.as_str()))),
        )
        .order(orders::updated_at)
        .limit(limit)
        .select((orders::id, orders::reservation_id, orders::status))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, reservation_id, status)| Unsettled {
            id,
            reservation_id,
            cancelled: status == cancelled,
        })
        .collect())
}

/// The orders of `rows`, with their payments when `read` (an order without one has none), else without.
async fn with_payments(
    conn: &mut AsyncPgConnection,
    rows: Vec<OrderWithLines>,
    read: bool,
) -> Result<Vec<OrderDto>, AppError> {
    let mut payments = if read {
        let ids: Vec<Uuid> = rows.iter().map(|(view, _)| view.id).collect();
        payments::for_orders(conn, &ids).await?
    } else {
        HashMap::new()
    };
    rows.into_iter()
        .map(|(view, lines)| {
            let payment = payments.remove(&view.id);
            order_dto(view, lines, payment)
        })
        .collect()
}

/// An order as the API shows it.
fn order_dto(
    view: OrderView,
    lines: Vec<Line>,
    payment: Option<crate::api::PaymentDto>,
) -> Result<OrderDto, AppError> {
    Ok(OrderDto {
        id: view.id,
        user_id: view.user_id,
        status: parse_status(&view.status)?,
        total: view.total,
        currency: view.currency,
        items: lines
            .into_iter()
            .map(
                |(product_id, sku, name, quantity, unit_price, line_total)| OrderItemDto {
                    product_id,
                    sku,
                    name,
                    quantity,
                    unit_price,
                    line_total,
                },
            )
            .collect(),
        shipping_address: view
            .shipping_address
            .map(serde_json::from_value)
            .transpose()
            .map_err(AppError::internal)?,
        payment,
        created_at: view.created_at,
        updated_at: view.updated_at,
    })
}
