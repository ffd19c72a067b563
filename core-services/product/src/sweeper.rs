//! Releases reservations that were never committed, once their TTL has passed.

use std::time::Duration;

use quickmart_shared::AppError;

use crate::db;
use crate::state::AppState;

/// Reservations released per transaction.
const BATCH: i64 = 100;

/// Releases every expired reservation now; returns how many were released.
pub async fn sweep_once(state: &AppState) -> Result<usize, AppError> {
    let mut released = 0;
    loop {
        let mut conn = state.conn().await?;
        let (count, touched) = db::reservations::release_expired(&mut conn, BATCH).await?;
        drop(conn);
        state.invalidate_products(&touched).await;
        released += count;
        if count < BATCH as usize {
            return Ok(released);
        }
    }
}

/// Sweeps every `interval` until the process ends. Several replicas may sweep at once: rows locked by one
/// are skipped by the others.
pub async fn run(state: AppState, interval: Duration) {
    quickmart_shared::background::every(crate::SERVICE.name(), interval, || async {
        let released = sweep_once(&state).await?;
        if released > 0 {
            metrics::counter!("reservations_expired_total").increment(released as u64);
            tracing::info!(released, "released expired reservations");
        }
        Ok(())
    })
    .await;
}
