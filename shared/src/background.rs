//! Background work in the cores: the one way a core runs a job on a timer.

use std::time::Duration;

use crate::AppError;

/// Runs `job` of `service` every `interval` for as long as the process runs. A tick missed while a run was slow waits rather
/// than piles up; a failure is logged and the next tick tries again. Jobs must be safe on every replica at once.
pub async fn every<F, Fut>(service: &'static str, interval: Duration, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), AppError>>,
{
    JOB_SERVICE
        .scope(service, async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(error) = job().await {
                    error.log();
                }
            }
        })
        .await;
}

tokio::task_local! {
    static JOB_SERVICE: &'static str;
}

/// The service whose background job the current task runs, if it runs one (the `quickmart.service` of the spans
/// a job makes).
pub fn job_service() -> Option<&'static str> {
    JOB_SERVICE.try_with(|service| *service).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A failing run does not stop the next ones.
    #[tokio::test(start_paused = true)]
    async fn a_failure_does_not_stop_the_timer() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let timer = tokio::spawn(every("test-job", Duration::from_secs(1), move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Err(AppError::internal("this run fails"))
            }
        }));
        tokio::time::sleep(Duration::from_millis(3500)).await;
        timer.abort();
        assert_eq!(runs.load(Ordering::SeqCst), 4, "at 0, 1, 2 and 3 s");
    }
}
