//! Login rate limits (Redis): 5 failed logins per e-mail and 30 per client address in 15 minutes. A success
//! clears the e-mail's counter. When Redis is unavailable the limits fail open: logins keep working.

use std::time::Duration;

use quickmart_shared::AppError;
use quickmart_shared::cache::{Cache, keys};

/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed logins allowed per e-mail address in a window.
const PER_EMAIL: u64 = 5;
/// Failed logins allowed per client address in a window.
const PER_CLIENT: u64 = 30;

/// The counters one login attempt is judged by.
pub(crate) struct LoginLimits<'a> {
    cache: &'a Cache,
    email_key: String,
    client_key: Option<String>,
}

impl<'a> LoginLimits<'a> {
    /// The counters of `email` and of the client at `client_ip` (when known).
    pub(crate) fn new(cache: &'a Cache, email: &str, client_ip: Option<&str>) -> Self {
        Self {
            cache,
            email_key: keys::login_failures_by_email(email.trim()),
            client_key: client_ip.map(keys::login_failures_by_ip),
        }
    }

    /// `RATE_LIMITED` (with the seconds until the window ends) when either counter is spent.
    pub(crate) async fn check(&self) -> Result<(), AppError> {
        let counted: Vec<String> = std::iter::once(self.email_key.clone()).chain(self.client_key.clone()).collect();
        let counts = self.cache.get_many_json::<u64>(&counted).await;
        for ((key, count), limit) in counted.iter().zip(counts).zip([PER_EMAIL, PER_CLIENT]) {
            if count.is_some_and(|count| count >= limit) {
                // Counting once more on a spent counter changes nothing but tells how long its window has left.
                let retry_after_secs = self.cache.count_in_window(key, WINDOW).await.map_or(WINDOW.as_secs(), |c| c.1);
                tracing::warn!(limit, "login rate limit reached");
                return Err(AppError::RateLimited { retry_after_secs });
            }
        }
        Ok(())
    }

    /// Counts a failed login against the e-mail and the client.
    pub(crate) async fn record_failure(&self) {
        self.cache.count_in_window(&self.email_key, WINDOW).await;
        if let Some(key) = &self.client_key {
            self.cache.count_in_window(key, WINDOW).await;
        }
    }

    /// Clears the e-mail's failures after a successful login.
    pub(crate) async fn record_success(&self) {
        self.cache.delete(std::slice::from_ref(&self.email_key)).await;
    }
}
