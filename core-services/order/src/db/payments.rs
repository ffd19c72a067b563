//! Payment rows: one per order at most, written in the transaction that gives the order its status.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use uuid::Uuid;

use crate::api::{OrderStatus, PaymentDto, PaymentStatus};
use crate::schema::{orders, payment_events, payments};

/// The provider of a payment an admin recorded by confirming an unpaid order.
pub(crate) const MANUAL_PROVIDER: &str = "manual";

/// A payment to record for an order.
#[derive(Debug, Clone)]
pub(crate) struct NewPayment {
    /// Who handles it.
    pub provider: String,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The order's total.
    pub amount: i64,
    /// The store currency.
    pub currency: String,
    /// The provider's id for it.
    pub reference: Option<String>,
}

/// Records `payment` for `order_id` (call inside the order's transaction).
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    payment: &NewPayment,
) -> Result<(), AppError> {
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(Uuid::now_v7()),
            payments::order_id.eq(order_id),
            payments::provider.eq(&payment.provider),
            payments::status.eq(payment.status.as_str()),
            payments::amount.eq(payment.amount),
            payments::currency.eq(&payment.currency),
            payments::reference.eq(payment.reference.as_deref()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a `MANUAL` payment of `amount` for an order that has no payment yet (one that has keeps it).
pub(crate) async fn insert_manual(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    amount: i64,
    currency: &str,
) -> Result<(), AppError> {
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(Uuid::now_v7()),
            payments::order_id.eq(order_id),
            payments::provider.eq(MANUAL_PROVIDER),
            payments::status.eq(PaymentStatus::Manual.as_str()),
            payments::amount.eq(amount),
            payments::currency.eq(currency),
        ))
        .on_conflict(payments::order_id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// The payments of these orders, by order.
pub(crate) async fn for_orders(
    conn: &mut AsyncPgConnection,
    order_ids: &[Uuid],
) -> Result<HashMap<Uuid, PaymentDto>, AppError> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String, String, i64, String, Option<String>)> = payments::table
        .filter(payments::order_id.eq_any(order_ids))
        .select((
            payments::order_id,
            payments::provider,
            payments::status,
            payments::amount,
            payments::currency,
            payments::reference,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(
            |(order_id, provider, status, amount, currency, reference)| {
                let status = PaymentStatus::parse(&status).ok_or_else(|| {
                    AppError::internal(format!("unknown payment status {status}"))
                })?;
                Ok((
                    order_id,
                    PaymentDto {
                        status,
                        provider,
                        amount,
                        currency,
                        reference,
                    },
                ))
            },
        )
        .collect()
}

/// Records that the webhook event `id` is applied; `false` when it already was (a replay).
pub(crate) async fn record_event(conn: &mut AsyncPgConnection, id: &str) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(payment_events::table)
        .values(payment_events::id.eq(id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// The payment `provider` knows as `reference`, locked: (order id, status).
pub(crate) async fn lock_by_reference(
    conn: &mut AsyncPgConnection,
    provider: &str,
    reference: &str,
) -> Result<Option<(Uuid, PaymentStatus)>, AppError> {
    let row: Option<(Uuid, String)> = payments::table
        .filter(payments::provider.eq(provider))
        .filter(payments::reference.eq(reference))
        .select((payments::order_id, payments::status))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    row.map(|(order_id, status)| {
        let status = PaymentStatus::parse(&status)
            .ok_or_else(|| AppError::internal(format!("unknown payment status {status}")))?;
        Ok((order_id, status))
    })
    .transpose()
}

/// A payment that one status change just moved, for the one caller that acts on it (a refund, say).
#[derive(Debug, Clone, Queryable)]
pub(crate) struct MovedPayment {
    /// Who handles it.
    pub provider: String,
    /// The provider's id for it.
    pub reference: Option<String>,
    /// Its amount.
    pub amount: i64,
}

/// Moves the order's payment to `to` if it is in one of `from`; the payment when it moved, so that exactly one
/// caller acts on a change.
pub(crate) async fn change_status(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    from: &[PaymentStatus],
    to: PaymentStatus,
) -> Result<Option<MovedPayment>, AppError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    diesel::update(
        payments::table
            .filter(payments::order_id.eq(order_id))
            .filter(payments::status.eq_any(from)),
    )
    .set((
        payments::status.eq(to.as_str()),
        payments::updated_at.eq(diesel::dsl::now),
    ))
    .returning((payments::provider, payments::reference, payments::amount))
    .get_result(conn)
    .await
    .optional()
    .map_err(AppError::from)
}

/// `PENDING` orders still awaiting their provider's word since before `before`, oldest first.
pub(crate) async fn overdue(
    conn: &mut AsyncPgConnection,
    before: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, AppError> {
    payments::table
        .inner_join(orders::table)
        .filter(orders::status.eq(OrderStatus::Pending.as_str()))
        .filter(payments::status.eq(PaymentStatus::PendingConfirmation.as_str()))
        .filter(payments::created_at.lt(before))
        .order(payments::created_at)
        .limit(limit)
        .select(payments::order_id)
        .load(conn)
        .await
        .map_err(AppError::from)
}
