//! `POST /webhooks/payments`: the payment provider tells order-core how a pending payment ended
//! (docs/ARCHITECTURE.md, "Checkout and payments"). Reachable from outside the cluster, so it takes no internal
//! token: every request is signed instead, `Quickmart-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<raw body>")>`, within 5 minutes of now, and every event id is applied once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use diesel_async::AsyncConnection;
use hmac::{Hmac, Mac};
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use uuid::Uuid;

use crate::api::{OrderStatus, PaymentStatus};
use crate::db::orders::{self as db};
use crate::db::payments;
use crate::lifecycle;
use crate::state::AppState;

/// The path the provider posts to.
pub const WEBHOOK_PATH: &str = "/webhooks/payments";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "quickmart-signature";
/// How far a signature's time may be from now.
pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// Largest event accepted: an event is a few hundred bytes.
const MAX_EVENT_BYTES: usize = 16 * 1024;

/// One provider event.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentEvent {
    /// The provider's event id; a second delivery of it changes nothing.
    id: String,
    /// `payment.succeeded` or `payment.failed`.
    #[serde(rename = "type")]
    kind: String,
    /// The payment's reference, as the authorization returned it.
    reference: String,
}

/// The webhook's router, outside the internal-token layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .with_state(state)
}

/// The signature of `body` at `timestamp` under `secret`, as the header's `v1`.
pub fn sign(secret: &SecretString, timestamp: u64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(secret: &SecretString, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `header` signs `body` under `secret` at a time within the tolerance of `now`.
fn verify(secret: &SecretString, header: &str, body: &[u8], now: u64) -> Result<(), AppError> {
    let refused =
        || AppError::Unauthenticated("the webhook signature is missing, stale or wrong".to_owned());
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(refused)?;
    if now.abs_diff(timestamp) > TOLERANCE.as_secs() {
        return Err(refused());
    }
    let valid = signatures.iter().any(|hex| {
        decode_hex(hex)
            .is_some_and(|bytes| mac(secret, timestamp, body).verify_slice(&bytes).is_ok())
    });
    if valid { Ok(()) } else { Err(refused()) }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What an event did.
enum Applied {
    /// Nothing: a replay, or a payment already past this point.
    Nothing,
    /// The order is confirmed.
    Confirmed,
    /// The order was already cancelled (unpaid too long): the payment is refunded.
    Refunded(Uuid, payments::MovedPayment),
    /// The payment failed: the order is cancelled and its stock must go back.
    Cancelled(Uuid, Uuid),
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(AppError::body_too_large());
    }
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    verify(&state.webhook_secret, signature, &body, unix_now())?;
    let event: PaymentEvent = serde_json::from_slice(&body)
        .map_err(|e| AppError::malformed(None, format!("not a payment event: {e}")))?;
    if event.id.is_empty() || event.id.len() > 200 {
        return Err(AppError::invalid("id", "must hold 1 to 200 characters"));
    }
    let succeeded = match event.kind.as_str() {
        "payment.succeeded" => true,
        "payment.failed" => false,
        _ => {
            return Err(AppError::invalid(
                "type",
                "must be payment.succeeded or payment.failed",
            ));
        }
    };
    let provider = state.payments.name();
    let mut conn = state.conn().await?;
    let applied = (*conn)
        .transaction(async |conn| {
            if !payments::record_event(conn, &event.id).await? {
                return Ok(Applied::Nothing);
            }
            let Some((order_id, status)) =
                payments::lock_by_reference(conn, provider, &event.reference).await?
            else {
                // Rolled back with the event id, so a delivery after the payment is known still applies.
                return Err(AppError::NotFound(
                    "no payment has this reference".to_owned(),
                ));
            };
            if status != PaymentStatus::PendingConfirmation {
                return Ok(Applied::Nothing);
            }
            let order = db::find(conn, order_id, None).await?.ok_or_else(|| {
                AppError::internal(format!("the order of payment {order_id} vanished"))
            })?;
            match (succeeded, order.status) {
                (true, OrderStatus::Pending) => {
                    payments::change_status(conn, order_id, &[status], PaymentStatus::Captured)
                        .await?;
                    db::transition(conn, order_id, None, OrderStatus::Confirmed, None).await?;
                    Ok(Applied::Confirmed)
                }
                (true, _) => {
                    let refunded =
                        payments::change_status(conn, order_id, &[status], PaymentStatus::Refunded)
                            .await?;
                    // The payment row is locked: it moves here, once.
                    Ok(refunded.map_or(Applied::Nothing, |payment| {
                        Applied::Refunded(order_id, payment)
                    }))
                }
                (false, OrderStatus::Pending) => {
                    payments::change_status(conn, order_id, &[status], PaymentStatus::Failed)
                        .await?;
                    let cancelled =
                        db::transition(conn, order_id, None, OrderStatus::Cancelled, None).await?;
                    Ok(Applied::Cancelled(order_id, cancelled.reservation_id))
                }
                (false, _) => {
                    payments::change_status(conn, order_id, &[status], PaymentStatus::Failed)
                        .await?;
                    Ok(Applied::Nothing)
                }
            }
        })
        .await?;
    drop(conn);
    match applied {
        Applied::Nothing => {
            metrics::counter!("payment_webhooks_total", "outcome" => "ignored").increment(1);
        }
        Applied::Confirmed => {
            metrics::counter!("payment_webhooks_total", "outcome" => "confirmed").increment(1);
        }
        Applied::Refunded(order_id, payment) => {
            metrics::counter!("payment_webhooks_total", "outcome" => "refunded").increment(1);
            lifecycle::refund(&state, order_id, &payment).await;
        }
        Applied::Cancelled(order_id, reservation_id) => {
            metrics::counter!("payment_webhooks_total", "outcome" => "cancelled").increment(1);
            if let Err(error) =
                lifecycle::release(&state, &CallContext::default(), order_id, reservation_id).await
            {
                tracing::warn!(%order_id, error = %error, "stock of a cancelled order not released yet; the reconciler will retry");
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretString {
        SecretString::from("whsec_test")
    }

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let body = br#"{"id":"evt_1","type":"payment.succeeded","reference":"test_1"}"#;
        let now = 1_800_000_000;
        let header = format!("t={now},v1={}", sign(&secret(), now, body));
        assert!(verify(&secret(), &header, body, now).is_ok());
        assert!(verify(&secret(), &header, body, now + 299).is_ok());
        assert!(
            verify(&secret(), &header, body, now + 301).is_err(),
            "stale"
        );
        assert!(
            verify(&secret(), &header, body, now - 301).is_err(),
            "from the future"
        );
        assert!(
            verify(&secret(), &header, b"{}", now).is_err(),
            "another body"
        );
        assert!(
            verify(&SecretString::from("other"), &header, body, now).is_err(),
            "another secret"
        );
        let other_time = format!("t={},v1={}", now + 1, sign(&secret(), now, body));
        assert!(
            verify(&secret(), &other_time, body, now).is_err(),
            "the time is signed too"
        );
        for bad in [
            "",
            "t=abc,v1=00",
            &format!("v1={}", sign(&secret(), now, body)),
            &format!("t={now}"),
        ] {
            assert!(verify(&secret(), bad, body, now).is_err(), "{bad}");
        }
        // A rotated secret: either signature may match.
        let two = format!(
            "t={now},v1={},v1={}",
            "0".repeat(64),
            sign(&secret(), now, body)
        );
        assert!(verify(&secret(), &two, body, now).is_ok());
    }
}
