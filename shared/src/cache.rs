//! The Redis cache every service shares, cache-aside: subgraphs fill it, whoever changes data deletes keys.
//!
//! The cache is never on the critical path: every call is bounded by a short timeout, and a failure is
//! logged and counted, then treated as a miss. After a failure the cache is skipped for a moment, so an
//! outage costs one timeout per second, not one per request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bb8_redis::RedisConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the cache is and which namespace a deployment uses in it.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `redis://…`, `memory://` or `none://` (`REDIS_URL`).
    pub url: SecretString,
    /// Prefix of every key (`CACHE_NAMESPACE`, default empty); every service of one deployment uses the same.
    pub namespace: String,
}

impl CacheSettings {
    /// Reads `REDIS_URL` and `CACHE_NAMESPACE`.
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        Ok(Self {
            url: env.redis_url()?,
            namespace: env.raw("CACHE_NAMESPACE").unwrap_or_default().to_owned(),
        })
    }

    /// Settings for a test: the local Redis, in a namespace of its own.
    pub fn isolated(url: &str) -> Self {
        Self {
            url: SecretString::from(url.to_owned()),
            namespace: format!("test-{}:", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The cache client these settings describe.
    pub fn connect(&self) -> Result<Cache, crate::server::StartError> {
        Cache::from_url(&self.url)
            .map(|cache| cache.with_namespace(&self.namespace))
            .map_err(|e| {
                crate::server::StartError::Other(format!("REDIS_URL is not a valid Redis URL: {e}"))
            })
    }
}

/// How long a cache call may take before it counts as a miss.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
/// [`Cache::put_versioned`] in Redis: per key, compare the stored `v<version>:` prefix and write only when the
/// rule of [`versioned_write_wins`] says so, atomically (ARGV: ttl, then version and body per key).
static VERSIONED_PUT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        local written = 0
        for i, key in ipairs(KEYS) do
          local version = tonumber(ARGV[i * 2])
          local body = ARGV[i * 2 + 1]
          local write = true
          local current = redis.call('GET', key)
          if current then
            local stored, stored_body = string.match(current, '^v(%d+):(.*)$')
            if stored then
              stored = tonumber(stored)
              if body == '' then
                write = version >= stored
              else
                write = version > stored or (version == stored and stored_body == '')
              end
            end
          end
          if write then
            redis.call('SET', key, 'v' .. ARGV[i * 2] .. ':' .. body, 'PX', ARGV[1])
            written = written + 1
          end
        end
        return written
        ",
    )
});

/// Splits `v<version>:<body>`; the body of a tombstone is empty.
fn split_versioned(raw: &str) -> Option<(i64, &str)> {
    let rest = raw.strip_prefix('v')?;
    let (version, body) = rest.split_once(':')?;
    Some((version.parse().ok()?, body))
}

/// Whether a versioned write (`tombstone` or entry, at `version`) replaces what is stored (`(version, is a
/// tombstone)`, or nothing / another format).
fn versioned_write_wins(stored: Option<(i64, bool)>, version: i64, tombstone: bool) -> bool {
    match stored {
        None => true,
        Some((stored, _)) if tombstone => version >= stored,
        Some((stored, stored_is_tombstone)) => {
            version > stored || (version == stored && stored_is_tombstone)
        }
    }
}

/// Entries of the in-process map after which expired ones are pruned.
const MEMORY_PRUNE_AT: usize = 50_000;
/// Live entries of the in-process map after which it is cleared.
const MEMORY_MAX_ENTRIES: usize = 200_000;

/// How long the cache is skipped after a failure.
const BACKOFF: Duration = Duration::from_secs(1);

/// The cache client: Redis, an in-process map (when no Redis can be had locally), or nothing.
#[derive(Clone)]
pub struct Cache {
    backend: Backend,
    timeout: Duration,
    skip_until_ms: Arc<AtomicU64>,
    /// Prepended to every key, so deployments (or tests) sharing one Redis never see each other's entries.
    namespace: Arc<str>,
}

#[derive(Clone)]
enum Backend {
    Redis(bb8::Pool<RedisConnectionManager>),
    Memory(Arc<Mutex<HashMap<String, (Instant, String)>>>),
    Disabled,
}

/// Why a cache call failed (only ever logged and counted).
#[derive(Debug, thiserror::Error)]
enum CacheError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("pool: {0}")]
    Pool(#[from] bb8::RunError<redis::RedisError>),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("skipped after a recent failure")]
    BackingOff,
}

impl Cache {
    /// A Redis-backed cache; connections are made lazily, so a Redis that is down does not block start-up.
    pub fn redis(url: &SecretString, timeout: Duration) -> Result<Self, redis::RedisError> {
        let manager = RedisConnectionManager::new(url.expose_secret())?;
        let pool = bb8::Pool::builder()
            .max_size(32)
            .connection_timeout(timeout)
            .retry_connection(false)
            .build_unchecked(manager);
        Ok(Self::with_backend(Backend::Redis(pool), timeout))
    }

    /// An in-process cache for a single-process development setup without Redis.
    pub fn in_memory() -> Self {
        Self::with_backend(Backend::Memory(Arc::default()), DEFAULT_TIMEOUT)
    }

    /// The cache named by a URL: `redis://…`, `memory://` (one in-process map shared by every service of the
    /// process, so invalidations reach every reader), or `none://`.
    pub fn from_url(url: &SecretString) -> Result<Self, redis::RedisError> {
        static PROCESS_MEMORY: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
        match url.expose_secret() {
            "memory://" => Ok(PROCESS_MEMORY.get_or_init(Self::in_memory).clone()),
            "none://" => Ok(Self::disabled()),
            _ => Self::redis(url, DEFAULT_TIMEOUT),
        }
    }

    /// No cache at all: every read misses.
    pub fn disabled() -> Self {
        Self::with_backend(Backend::Disabled, DEFAULT_TIMEOUT)
    }

    fn with_backend(backend: Backend, timeout: Duration) -> Self {
        Self {
            backend,
            timeout,
            skip_until_ms: Arc::new(AtomicU64::new(0)),
            namespace: Arc::from(""),
        }
    }

    /// The same cache with every key prefixed by `namespace` (`CACHE_NAMESPACE`; empty by default).
    pub fn with_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Arc::from(namespace);
        self
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    /// Whether the cache cannot be used right now: disabled, or skipped after a recent failure. A caller that must
    /// not lose counts (rate limits) falls back to something local while this holds.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.backend, Backend::Disabled)
            || now_ms() < self.skip_until_ms.load(Ordering::Relaxed)
    }

    /// Reads one JSON value; `None` on a miss, on an undecodable entry, or when the cache fails.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get_many_json(&[key.to_owned()])
            .await
            .into_iter()
            .next()
            .flatten()
    }

    /// Reads many JSON values in one round trip, in the order of `keys`.
    pub async fn get_many_json<T: DeserializeOwned>(&self, keys: &[String]) -> Vec<Option<T>> {
        self.get_many_decoded(keys, |raw| serde_json::from_str(raw).ok())
            .await
    }

    /// Reads many versioned entries (written by [`Self::put_versioned`]) in one round trip; a tombstone, an
    /// entry of another format or a miss is `None`.
    pub async fn get_many_versioned<T: DeserializeOwned>(&self, keys: &[String]) -> Vec<Option<T>> {
        self.get_many_decoded(keys, |raw| {
            let (_, body) = split_versioned(raw)?;
            if body.is_empty() {
                return None;
            }
            serde_json::from_str(body).ok()
        })
        .await
    }

    async fn get_many_decoded<T>(
        &self,
        keys: &[String],
        decode: impl Fn(&str) -> Option<T>,
    ) -> Vec<Option<T>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let keys = keys.as_slice();
        let raw: Vec<Option<String>> = match &self.backend {
            Backend::Disabled => vec![None; keys.len()],
            Backend::Memory(map) => {
                let now = Instant::now();
                let map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                keys.iter()
                    .map(|k| {
                        map.get(k)
                            .filter(|(exp, _)| *exp > now)
                            .map(|(_, v)| v.clone())
                    })
                    .collect()
            }
            Backend::Redis(pool) => {
                let result = self
                    .guarded(async {
                        let mut conn = pool.get().await?;
                        let mut cmd = redis::cmd("MGET");
                        cmd.arg(keys);
                        Ok(cmd.query_async::<Vec<Option<String>>>(&mut *conn).await?)
                    })
                    .await;
                self.observe_failure("mget", result)
                    .unwrap_or_else(|| vec![None; keys.len()])
            }
        };
        raw.into_iter()
            .zip(keys)
            .map(|(value, key)| {
                let decoded = value.as_deref().and_then(&decode);
                let outcome = if decoded.is_some() { "hit" } else { "miss" };
                metrics::counter!("cache_requests_total", "keyspace" => keyspace(key), "outcome" => outcome)
                    .increment(1);
                decoded
            })
            .collect()
    }

    /// Writes versioned entries (`Some(value)`) or tombstones (`None`) in one round trip, never going back in
    /// time (docs/ARCHITECTURE.md, "Rules of the domain"): a tombstone replaces anything of its version or older;
    /// an entry replaces only an older version, or the tombstone of its own version. So a reader that read the
    /// database before a write cannot put its old copy back after the writer's invalidation, however the two
    /// interleave, and a reader that read after it can fill at once.
    pub async fn put_versioned<T: Serialize>(
        &self,
        entries: &[(String, i64, Option<T>)],
        ttl: Duration,
    ) {
        let encoded: Vec<(String, i64, String)> = entries
            .iter()
            .filter_map(|(key, version, value)| {
                let body = match value {
                    Some(value) => serde_json::to_string(value).ok()?,
                    None => String::new(),
                };
                Some((self.key(key), *version, body))
            })
            .collect();
        if encoded.is_empty() {
            return;
        }
        match &self.backend {
            Backend::Disabled => {}
            Backend::Memory(map) => {
                let expires = Instant::now() + ttl;
                let now = Instant::now();
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (key, version, body) in encoded {
                    let current = map
                        .get(&key)
                        .filter(|(exp, _)| *exp > now)
                        .and_then(|(_, raw)| split_versioned(raw))
                        .map(|(stored, body)| (stored, body.is_empty()));
                    if versioned_write_wins(current, version, body.is_empty()) {
                        map.insert(key, (expires, format!("v{version}:{body}")));
                    }
                }
            }
            Backend::Redis(pool) => {
                let result = self
                    .guarded(async {
                        let mut conn = pool.get().await?;
                        let mut invocation = VERSIONED_PUT.prepare_invoke();
                        invocation.arg(ttl.as_millis() as u64);
                        for (key, version, body) in &encoded {
                            invocation.key(key).arg(*version).arg(body);
                        }
                        invocation.invoke_async::<i64>(&mut *conn).await?;
                        Ok(())
                    })
                    .await;
                self.observe_failure("put_versioned", result);
            }
        }
    }

    /// Writes one JSON value with a time-to-live.
    pub async fn set_json<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) {
        self.set_many_json(&[(key.to_owned(), value)], ttl).await;
    }

    /// Writes many JSON values with one time-to-live, in one round trip.
    pub async fn set_many_json<T: Serialize>(&self, entries: &[(String, T)], ttl: Duration) {
        let encoded: Vec<(String, String)> = entries
            .iter()
            .filter_map(|(key, value)| {
                serde_json::to_string(value)
                    .ok()
                    .map(|json| (self.key(key), json))
            })
            .collect();
        if encoded.is_empty() {
            return;
        }
        match &self.backend {
            Backend::Disabled => {}
            Backend::Memory(map) => {
                let expires = Instant::now() + ttl;
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if map.len() > MEMORY_PRUNE_AT {
                    let now = Instant::now();
                    map.retain(|_, (exp, _)| *exp > now);
                }
                for (key, json) in encoded {
                    map.insert(key, (expires, json));
                }
            }
            Backend::Redis(pool) => {
                let result = self
                    .guarded(async {
                        let mut conn = pool.get().await?;
                        let mut pipe = redis::pipe();
                        for (key, json) in &encoded {
                            pipe.cmd("SET")
                                .arg(key)
                                .arg(json)
                                .arg("PX")
                                .arg(ttl.as_millis() as u64)
                                .ignore();
                        }
                        pipe.query_async::<()>(&mut *conn).await?;
                        Ok(())
                    })
                    .await;
                self.observe_failure("set", result);
            }
        }
    }

    /// Deletes keys (after the change they describe has committed).
    pub async fn delete(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let keys = keys.as_slice();
        match &self.backend {
            Backend::Disabled => {}
            Backend::Memory(map) => {
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for key in keys {
                    map.remove(key);
                }
            }
            Backend::Redis(pool) => {
                let result = self
                    .guarded(async {
                        let mut conn = pool.get().await?;
                        let mut cmd = redis::cmd("DEL");
                        cmd.arg(keys);
                        cmd.query_async::<i64>(&mut *conn).await?;
                        Ok(())
                    })
                    .await;
                self.observe_failure("del", result);
            }
        }
    }

    /// Counts one event in a fixed window starting at the first event: returns the count so far and the
    /// seconds left in the window, or `None` when the cache is unavailable (callers then fail open).
    pub async fn count_in_window(&self, key: &str, window: Duration) -> Option<(u64, u64)> {
        let key = &self.key(key);
        match &self.backend {
            Backend::Disabled => None,
            Backend::Memory(map) => {
                let now = Instant::now();
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if map.len() >= MEMORY_PRUNE_AT {
                    map.retain(|_, (exp, _)| *exp > now);
                    // A flood of distinct live keys resets the in-process counters rather than exhaust memory.
                    if map.len() >= MEMORY_MAX_ENTRIES {
                        tracing::warn!(entries = map.len(), "in-process cache full: cleared");
                        map.clear();
                    }
                }
                let entry = map
                    .entry(key.to_owned())
                    .or_insert_with(|| (now + window, "0".to_owned()));
                if entry.0 <= now {
                    *entry = (now + window, "0".to_owned());
                }
                let count = entry.1.parse::<u64>().unwrap_or(0) + 1;
                entry.1 = count.to_string();
                Some((
                    count,
                    entry.0.saturating_duration_since(now).as_secs().max(1),
                ))
            }
            Backend::Redis(pool) => {
                let result = self
                    .guarded(async {
                        let mut conn = pool.get().await?;
                        let (count, ttl): (u64, i64) = redis::pipe()
                            .atomic()
                            .cmd("INCR")
                            .arg(key)
                            .cmd("EXPIRE")
                            .arg(key)
                            .arg(window.as_secs())
                            .arg("NX")
                            .ignore()
                            .cmd("TTL")
                            .arg(key)
                            .query_async(&mut *conn)
                            .await?;
                        Ok((count, u64::try_from(ttl).unwrap_or(window.as_secs()).max(1)))
                    })
                    .await;
                self.observe_failure("incr", result)
            }
        }
    }

    /// Paces events on `key`, first come, first served: each caller's turn comes `interval` after the previous
    /// caller's. `Ok(wait)` is how long to wait for the turn taken; `Err(retry_after)` means the turn would be
    /// more than `max_wait` away and none was taken. `None` when the cache is unavailable (callers fail open).
    /// The clock is Redis's, so every replica paces against the same one.
    pub async fn take_turn(
        &self,
        key: &str,
        interval: Duration,
        max_wait: Duration,
    ) -> Option<Result<Duration, Duration>> {
        let key = &self.key(key);
        match &self.backend {
            Backend::Disabled => None,
            Backend::Memory(map) => {
                let now = Instant::now();
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // The entry's expiry is the next free turn: once it has passed, the next caller goes at once.
                let turn = map
                    .get(key)
                    .map_or(now, |(next_free, _)| (*next_free).max(now));
                let wait = turn - now;
                if wait > max_wait {
                    return Some(Err(wait - max_wait));
                }
                map.insert(key.to_owned(), (turn + interval, String::new()));
                Some(Ok(wait))
            }
            Backend::Redis(pool) => {
                const TAKE_TURN: &str = "local t = redis.call('TIME') \
                    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
                    local turn = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0')) \
                    local wait = turn - now \
                    if wait > tonumber(ARGV[2]) then return -(wait - tonumber(ARGV[2])) - 1 end \
                    redis.call('SET', KEYS[1], turn + tonumber(ARGV[1]), 'PX', wait + tonumber(ARGV[1])) \
                    return wait";
                let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                let result = self
                    .guarded(async {
                        let mut conn = pool.get().await?;
                        let answer: i64 = redis::cmd("EVAL")
                            .arg(TAKE_TURN)
                            .arg(1)
                            .arg(key)
                            .arg(millis(interval))
                            .arg(millis(max_wait))
                            .query_async(&mut *conn)
                            .await?;
                        Ok(answer)
                    })
                    .await;
                self.observe_failure("take_turn", result).map(|answer| {
                    if answer >= 0 {
                        Ok(Duration::from_millis(answer.unsigned_abs()))
                    } else {
                        Err(Duration::from_millis((answer + 1).unsigned_abs()))
                    }
                })
            }
        }
    }

    /// Runs a Redis call within the timeout, unless a recent failure says to skip it.
    async fn guarded<T>(
        &self,
        call: impl Future<Output = Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        if now_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return Err(CacheError::BackingOff);
        }
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        }
    }

    fn observe_failure<T>(
        &self,
        operation: &'static str,
        result: Result<T, CacheError>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(CacheError::BackingOff) => {
                metrics::counter!("cache_errors_total", "operation" => operation, "kind" => "skipped").increment(1);
                None
            }
            Err(error) => {
                let was_healthy = self
                    .skip_until_ms
                    .swap(now_ms() + BACKOFF.as_millis() as u64, Ordering::Relaxed)
                    == 0;
                metrics::counter!("cache_errors_total", "operation" => operation, "kind" => "failed").increment(1);
                if was_healthy {
                    tracing::warn!(operation, error = %error, "cache unavailable; serving without it");
                } else {
                    tracing::debug!(operation, error = %error, "cache still unavailable");
                }
                None
            }
        }
    }
}

fn keyspace(key: &str) -> String {
    key.split(':')
        .skip_while(|part| *part != "v1")
        .nth(1)
        .unwrap_or("other")
        .to_owned()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_round_trip_and_delete() {
        let cache = Cache::in_memory();
        cache
            .set_json("qm:v1:product:1", &vec![1, 2, 3], Duration::from_secs(5))
            .await;
        assert_eq!(
            cache.get_json::<Vec<i32>>("qm:v1:product:1").await,
            Some(vec![1, 2, 3])
        );
        cache.delete(&["qm:v1:product:1".to_owned()]).await;
        assert_eq!(cache.get_json::<Vec<i32>>("qm:v1:product:1").await, None);
    }

    #[tokio::test]
    async fn a_dead_redis_is_a_fast_miss() {
        let cache =
            Cache::redis(&SecretString::from("redis://127.0.0.1:1"), DEFAULT_TIMEOUT).expect("url");
        let started = Instant::now();
        for _ in 0..5 {
            assert_eq!(cache.get_json::<String>("qm:v1:product:x").await, None);
            cache
                .set_json("qm:v1:product:x", &"v", Duration::from_secs(1))
                .await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(
            cache.count_in_window("k", Duration::from_secs(60)).await,
            None
        );
    }

    #[tokio::test]
    async fn namespaces_keep_entries_apart() {
        let shared = Cache::in_memory();
        let (a, b) = (
            shared.clone().with_namespace("a:"),
            shared.with_namespace("b:"),
        );
        a.set_json("qm:v1:categories", &1, Duration::from_secs(5))
            .await;
        assert_eq!(a.get_json::<i32>("qm:v1:categories").await, Some(1));
        assert_eq!(b.get_json::<i32>("qm:v1:categories").await, None);
    }

    #[tokio::test]
    async fn turns_are_paced_first_come_first_served() {
        let redis = CacheSettings::isolated("redis://127.0.0.1:6379")
            .connect()
            .expect("the local Redis");
        for cache in [Cache::in_memory(), redis] {
            let (interval, max_wait) = (Duration::from_secs(10), Duration::from_secs(25));
            let key = format!("pace-{}", uuid::Uuid::new_v4());
            let turns: Vec<_> = futures::future::join_all(
                (0..5).map(|_| cache.take_turn(&key, interval, max_wait)),
            )
            .await;
            let mut waits: Vec<u64> = turns
                .iter()
                .filter_map(|t| t.and_then(Result::ok))
                .map(|w| (w.as_millis() as u64 + 500) / 1000)
                .collect();
            waits.sort_unstable();
            // Three turns fit within 25 s (now, +10 s, +20 s); the other two are refused without taking one.
            assert_eq!(waits, vec![0, 10, 20], "{turns:?}");
            assert_eq!(
                turns.iter().filter(|t| matches!(t, Some(Err(_)))).count(),
                2
            );
        }
    }

    #[tokio::test]
    async fn windows_count_events() {
        let cache = Cache::in_memory();
        assert_eq!(
            cache
                .count_in_window("k", Duration::from_secs(60))
                .await
                .map(|c| c.0),
            Some(1)
        );
        assert_eq!(
            cache
                .count_in_window("k", Duration::from_secs(60))
                .await
                .map(|c| c.0),
            Some(2)
        );
    }

    /// The measured race: a reader misses and reads the database (version 5), a writer commits version 6 and
    /// invalidates, then the reader fills its old copy. The old copy must never come back, in either backend; a
    /// reader of the new version fills at once, and 8 × concurrent stale fills lose to one fresh one.
    #[tokio::test]
    async fn a_stale_fill_never_replaces_an_invalidation() {
        let redis = Cache::redis(
            &SecretString::from(crate::config::DEV_REDIS_URL),
            DEFAULT_TIMEOUT,
        )
        .expect("url")
        .with_namespace(&format!("test-{}:", uuid::Uuid::new_v4().simple()));
        for cache in [Cache::in_memory(), redis] {
            let key = "qm:v1:product:race".to_owned();
            let ttl = Duration::from_secs(60);
            let read = |cache: Cache| {
                let key = key.clone();
                async move { cache.get_many_versioned::<String>(&[key]).await.remove(0) }
            };
            cache
                .put_versioned(&[(key.clone(), 5, Some("stock 945"))], ttl)
                .await;
            assert_eq!(read(cache.clone()).await.as_deref(), Some("stock 945"));
            cache
                .put_versioned::<&str>(&[(key.clone(), 6, None)], ttl)
                .await;
            assert_eq!(read(cache.clone()).await, None, "a tombstone is a miss");
            cache
                .put_versioned(&[(key.clone(), 5, Some("stock 945"))], ttl)
                .await;
            assert_eq!(read(cache.clone()).await, None, "the stale fill lost");
            // Eight stale fills and one fresh one, at once: whatever the order, the fresh one stays.
            let fills = (0..9).map(|n| {
                let cache = cache.clone();
                let key = key.clone();
                let (version, value) = if n == 4 {
                    (6, "stock 944")
                } else {
                    (5, "stock 945")
                };
                async move {
                    cache
                        .put_versioned(&[(key, version, Some(value))], ttl)
                        .await;
                }
            });
            futures::future::join_all(fills).await;
            assert_eq!(read(cache.clone()).await.as_deref(), Some("stock 944"));
            // An older tombstone (a write that committed earlier) does not hide the newer entry.
            cache
                .put_versioned::<&str>(&[(key.clone(), 4, None)], ttl)
                .await;
            assert_eq!(read(cache.clone()).await.as_deref(), Some("stock 944"));
        }
    }

    #[test]
    fn the_versioned_rule() {
        assert!(versioned_write_wins(None, 1, false));
        assert!(versioned_write_wins(Some((5, false)), 6, false));
        assert!(!versioned_write_wins(Some((5, false)), 5, false));
        assert!(versioned_write_wins(Some((5, true)), 5, false));
        assert!(!versioned_write_wins(Some((6, true)), 5, false));
        assert!(versioned_write_wins(Some((5, false)), 5, true));
        assert!(!versioned_write_wins(Some((6, false)), 5, true));
        assert_eq!(split_versioned("v12:{}"), Some((12, "{}")));
        assert_eq!(split_versioned("v12:"), Some((12, "")));
        assert_eq!(split_versioned("{\"id\":1}"), None);
    }
}
