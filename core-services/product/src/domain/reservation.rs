//! Reservation requests.

use std::time::Duration;

use quickmart_shared::AppError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::CreateReservation;
use quickmart_shared::FieldErrors;

/// Most lines one reservation may hold.
pub(super) const MAX_LINES: usize = 100;
/// Most units of one product one line may hold.
pub(super) const MAX_QUANTITY: i64 = 1000;

/// Valid reservation lines: 1 to 100, each product once, 1 to 1000 units each; in request order.
#[derive(Debug, Clone)]
pub struct ReservationLines(Vec<(Uuid, i32)>);

impl ReservationLines {
    /// Validates the lines of `input`.
    pub fn parse(input: &CreateReservation) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        if input.lines.is_empty() || input.lines.len() > MAX_LINES {
            problems.add(
                "lines",
                format!("must hold between 1 and {MAX_LINES} lines"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (index, line) in input.lines.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                problems.add(
                    format!("lines[{index}].quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
            }
            if !seen.insert(line.product_id) {
                problems.add(
                    format!("lines[{index}].product_id"),
                    "appears on more than one line",
                );
            }
        }
        let lines = input
            .lines
            .iter()
            .map(|l| (l.product_id, i32::try_from(l.quantity).unwrap_or_default()))
            .collect();
        problems.finish(Self(lines))
    }

    /// The lines in request order, as (product, quantity, index in the request).
    pub fn in_request_order(&self) -> impl Iterator<Item = (Uuid, i32, usize)> + '_ {
        self.0
            .iter()
            .enumerate()
            .map(|(index, (product, quantity))| (*product, *quantity, index))
    }

    /// The lines in product-id order: the order rows are locked in, so concurrent reservations never deadlock.
    pub fn in_lock_order(&self) -> Vec<(Uuid, i32, usize)> {
        let mut lines: Vec<_> = self.in_request_order().collect();
        lines.sort_by_key(|(product, _, _)| *product);
        lines
    }

    /// A stable hash of the lines, to recognise a retried request.
    pub fn request_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for (product, quantity) in &self.0 {
            hasher.update(product.as_bytes());
            hasher.update(quantity.to_be_bytes());
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// How long an uncommitted reservation holds stock.
#[derive(Debug, Clone, Copy)]
pub struct ReservationTtl(pub Duration);

impl ReservationTtl {
    /// The requested TTL (1 s to 1 h) or the service default.
    pub fn parse(requested: Option<u32>, default: Duration) -> Result<Self, AppError> {
        match requested {
            None => Ok(Self(default)),
            Some(seconds @ 1..=3600) => Ok(Self(Duration::from_secs(u64::from(seconds)))),
            Some(_) => Err(AppError::invalid(
                "ttl_seconds",
                "must be between 1 and 3600",
            )),
        }
    }
}
