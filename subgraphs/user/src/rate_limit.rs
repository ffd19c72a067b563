//! Login and registration limits (Redis), reserved before any password is checked, so that no burst of
//! concurrent attempts gets past them (`docs/ARCHITECTURE.md`, "Login and registration limits").
//!
//! - Per client address and e-mail: 5 attempts in 15 minutes, then `RATE_LIMITED`.
//! - Per e-mail, from anywhere: 20 attempts in 15 minutes (a distributed guess at one account).
//! - Per client address: after 30 failures in 15 minutes the address is slowed, not refused: its attempts take
//!   turns, one every 10 seconds, in arrival order, and one whose turn is more than 30 seconds away is refused.
//!   Many clients share an address behind a proxy or NAT; refusing it outright would let one of them lock out
//!   the others, slowing it keeps a bystander's correct password working within seconds.
//! - Registrations per client address: 20 an hour.
//!
//! A success clears the e-mail's counters. Keys carry a hash of the e-mail, never the e-mail itself, so a key's
//! size does not depend on the input. Every count is also kept in this replica's memory, and an attempt is judged
//! by the higher of the two: when Redis is unavailable (or fails mid-burst) logins keep working and stay limited
//! (per replica, so up to N replicas × the limit while Redis is down).

use std::time::Duration;

use quickmart_shared::AppError;
use quickmart_shared::cache::{LimitStore, key_digest};

/// The window attempts are counted in.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Attempts allowed per client address and e-mail in a window.
const PER_ADDRESS_AND_EMAIL: u64 = 5;
/// Attempts allowed per e-mail, from all addresses, in a window.
const PER_EMAIL: u64 = 20;
/// Failures from one address after which its attempts are paced.
const PER_ADDRESS: u64 = 30;
/// The pace of a slowed address: one verification per turn.
const SLOWED_TURN: Duration = Duration::from_secs(10);
/// Longest wait for a turn; an attempt whose turn is further away is refused.
const SLOWED_MAX_WAIT: Duration = Duration::from_secs(30);
/// The window registrations are counted in, and how many one address may make in it.
const REGISTRATION_WINDOW: Duration = Duration::from_secs(60 * 60);
const REGISTRATIONS_PER_ADDRESS: u64 = 20;

fn email_digest(email: &str) -> String {
    key_digest(&email.trim().to_lowercase())
}

/// The counters one login attempt is judged by.
pub(crate) struct LoginLimits<'a> {
    cache: &'a LimitStore,
    email_key: String,
    pair_key: Option<String>,
    address_failures_key: Option<String>,
    address_turns_key: Option<String>,
}

impl<'a> LoginLimits<'a> {
    /// The counters of `email` and of the client at `client_ip` (when known).
    pub(crate) fn new(cache: &'a LimitStore, email: &str, client_ip: Option<&str>) -> Self {
        let email = email_digest(email);
        Self {
            cache,
            pair_key: client_ip.map(|ip| {
                format!(
                    "qm:v1:ratelimit:login:pair:{}",
                    key_digest(&format!("{ip}\0{email}"))
                )
            }),
            address_failures_key: client_ip
                .map(|ip| format!("qm:v1:ratelimit:login:ip:{}", key_digest(ip))),
            address_turns_key: client_ip
                .map(|ip| format!("qm:v1:ratelimit:login:turn:{}", key_digest(ip))),
            email_key: format!("qm:v1:ratelimit:login:email:{email}"),
        }
    }

    /// Reserves this attempt before the password is checked: waits for a turn when the address is slowed, then
    /// counts the attempt against the address-and-e-mail and e-mail limits, refusing with `RATE_LIMITED` (and
    /// the seconds to wait) when either is spent.
    pub(crate) async fn reserve(&self) -> Result<(), AppError> {
        if let (Some(failures), Some(turns)) = (&self.address_failures_key, &self.address_turns_key)
            && self
                .cache
                .get_count(failures)
                .await
                .is_some_and(|count| count >= PER_ADDRESS)
        {
            match self
                .cache
                .take_turn(turns, SLOWED_TURN, SLOWED_MAX_WAIT)
                .await
            {
                Some(Ok(wait)) => tokio::time::sleep(wait).await,
                Some(Err(retry_after)) => {
                    tracing::warn!(
                        "login attempts from one address are queued beyond the wait limit"
                    );
                    return Err(AppError::RateLimited {
                        retry_after_secs: retry_after.as_secs().max(1),
                    });
                }
                None => {}
            }
        }
        let counters = self
            .pair_key
            .iter()
            .map(|k| (k, PER_ADDRESS_AND_EMAIL))
            .chain([(&self.email_key, PER_EMAIL)]);
        for (key, limit) in counters {
            if let Some((count, retry_after_secs)) = self.cache.count_in_window(key, WINDOW).await
                && count > limit
            {
                tracing::warn!(limit, "login rate limit reached");
                return Err(AppError::RateLimited { retry_after_secs });
            }
        }
        Ok(())
    }

    /// Counts a failed attempt (a wrong password or a refusal) against the client's address.
    pub(crate) async fn record_failure(&self) {
        if let Some(key) = &self.address_failures_key {
            self.cache.count_in_window(key, WINDOW).await;
        }
    }

    /// Clears the e-mail's counters after a successful login.
    pub(crate) async fn record_success(&self) {
        let keys: Vec<String> = self
            .pair_key
            .iter()
            .cloned()
            .chain([self.email_key.clone()])
            .collect();
        self.cache.delete(&keys).await;
    }
}

/// Counts a registration from `client_ip` (when known); `RATE_LIMITED` past the hourly allowance.
pub(crate) async fn reserve_registration(
    cache: &LimitStore,
    client_ip: Option<&str>,
) -> Result<(), AppError> {
    let Some(ip) = client_ip else { return Ok(()) };
    let key = format!("qm:v1:ratelimit:register:ip:{}", key_digest(ip));
    match cache.count_in_window(&key, REGISTRATION_WINDOW).await {
        Some((count, retry_after_secs)) if count > REGISTRATIONS_PER_ADDRESS => {
            tracing::warn!("registration rate limit reached");
            Err(AppError::RateLimited { retry_after_secs })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickmart_shared::cache::Cache;

    #[test]
    fn keys_do_not_grow_with_the_input() {
        // Row 14 of the hardening issue: a 400 KB e-mail made a 458 KB Redis key.
        let cache = LimitStore::new(Cache::in_memory());
        let huge = format!("{}@example.com", "a".repeat(400_000));
        let limits = LoginLimits::new(&cache, &huge, Some("203.0.113.9"));
        for key in [
            Some(&limits.email_key),
            limits.pair_key.as_ref(),
            limits.address_failures_key.as_ref(),
        ] {
            assert!(key.is_some_and(|k| k.len() < 80), "{key:?}");
        }
        let a = LoginLimits::new(&cache, " Ann@Example.com", None);
        assert_eq!(
            a.email_key,
            LoginLimits::new(&cache, "ann@example.com", None).email_key
        );
    }

    /// Redis down (nothing listens on port 1): the sixth attempt is still refused, counted in memory; before, the
    /// limits switched off and every attempt reached the password check.
    #[tokio::test]
    async fn with_redis_down_the_limits_count_in_memory() {
        let dead = Cache::redis(
            &secrecy::SecretString::from("redis://127.0.0.1:1"),
            Duration::from_millis(100),
        )
        .expect("a client for a dead Redis");
        let store = LimitStore::new(dead);
        let limits = LoginLimits::new(&store, "ann@example.com", Some("203.0.113.9"));
        for attempt in 1..=PER_ADDRESS_AND_EMAIL {
            assert!(limits.reserve().await.is_ok(), "attempt {attempt}");
            limits.record_failure().await;
        }
        assert!(matches!(
            limits.reserve().await,
            Err(AppError::RateLimited { .. })
        ));
        // 8 × the registration limit at once: exactly the allowance passes.
        let results = futures::future::join_all(
            (0..REGISTRATIONS_PER_ADDRESS * 8)
                .map(|_| reserve_registration(&store, Some("198.51.100.4"))),
        )
        .await;
        let admitted = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            admitted,
            usize::try_from(REGISTRATIONS_PER_ADDRESS).unwrap_or(0)
        );
    }
}
