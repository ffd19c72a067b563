//! Deletes sessions that can no longer be used: every token of the family expired over a day ago.

use std::time::Duration;

use quickmart_shared::AppError;
use quickmart_shared::db::DbPool;

use crate::db;

/// Families deleted per statement.
const BATCH: i64 = 500;
/// How long after its last token expired a session is kept (for support and audits).
const GRACE: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// How often the purge runs.
pub const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Purges every expired session now; returns how many tokens were deleted.
pub async fn purge_once(pool: &DbPool) -> Result<usize, AppError> {
    let mut deleted = 0;
    loop {
        let mut conn = pool.get().await?;
        let count = db::refresh_tokens::purge_expired(&mut conn, GRACE, BATCH).await?;
        deleted += count;
        if count == 0 {
            return Ok(deleted);
        }
    }
}

/// Purges every `interval` until the process ends. Replicas may purge at once: they delete the same rows.
pub async fn run(pool: DbPool, interval: Duration) {
    quickmart_shared::background::every(crate::SERVICE.name(), interval, || async {
        let deleted = purge_once(&pool).await?;
        if deleted > 0 {
            metrics::counter!("refresh_tokens_purged_total").increment(deleted as u64);
            tracing::info!(deleted, "purged expired sessions");
        }
        Ok(())
    })
    .await;
}
