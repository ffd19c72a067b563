//! Counters for rate limits, kept in Redis and in this replica's memory, so that a limit holds while Redis is
//! down (per replica then) and a Redis that fails in the middle of a burst cannot split the count.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Cache;

/// A short, fixed-size digest of untrusted text (an e-mail, a client address) for a key, so that a key's size
/// does not depend on the input.
pub fn key_digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the counters live: Redis (shared by every replica), or this replica's memory while Redis is down.
#[derive(Clone)]
pub struct LimitStore {
    shared: Cache,
    local: Cache,
}

impl LimitStore {
    /// Counters in `shared`, falling back to a private in-process map.
    pub fn new(shared: Cache) -> Self {
        Self {
            shared,
            local: Cache::in_memory(),
        }
    }

    /// The store to read a count from now: the shared one unless it is failing.
    fn current(&self) -> &Cache {
        if self.shared.is_unavailable() {
            &self.local
        } else {
            &self.shared
        }
    }

    /// Counts one event in both stores and judges by the higher count: the local one knows every event this
    /// replica saw, the shared one every replica's. The count and the seconds left in the window, as
    /// [`Cache::count_in_window`].
    pub async fn count_in_window(&self, key: &str, window: Duration) -> Option<(u64, u64)> {
        let local = self.local.count_in_window(key, window).await;
        let shared = self.shared.count_in_window(key, window).await;
        match (shared, local) {
            (Some(shared), Some(local)) => Some(if shared.0 >= local.0 { shared } else { local }),
            (shared, local) => shared.or(local),
        }
    }

    /// The higher of the two stores' counts under `key`.
    pub async fn get_count(&self, key: &str) -> Option<u64> {
        let local = self.local.get_json::<u64>(key).await;
        let shared = self.shared.get_json::<u64>(key).await;
        shared.max(local)
    }

    /// Paces events on `key` as [`Cache::take_turn`], in the shared store unless it is failing.
    pub async fn take_turn(
        &self,
        key: &str,
        turn: Duration,
        max_wait: Duration,
    ) -> Option<Result<Duration, Duration>> {
        match self.current().take_turn(key, turn, max_wait).await {
            None if self.shared.is_unavailable() => self.local.take_turn(key, turn, max_wait).await,
            taken => taken,
        }
    }

    /// Forgets `keys` in both stores.
    pub async fn delete(&self, keys: &[String]) {
        self.shared.delete(keys).await;
        self.local.delete(keys).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_digest_has_one_size_whatever_the_input() {
        assert_eq!(key_digest("").len(), 32);
        assert_eq!(key_digest(&"a".repeat(400_000)).len(), 32);
        assert_ne!(key_digest("203.0.113.9"), key_digest("203.0.113.10"));
    }

    #[tokio::test]
    async fn the_local_count_holds_while_the_shared_store_is_disabled() {
        let limits = LimitStore::new(Cache::disabled());
        for expected in 1..=3 {
            let (count, _) = limits
                .count_in_window("k", Duration::from_secs(60))
                .await
                .expect("the local store counts");
            assert_eq!(count, expected);
        }
    }
}
