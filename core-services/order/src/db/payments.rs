//! Payment rows: one per order at most, written in the transaction that gives the order its status.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use uuid::Uuid;

use crate::api::{PaymentDto, PaymentStatus};
use crate::schema::payments;

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
