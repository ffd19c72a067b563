//! The Redis cache every service shares, cache-aside: subgraphs fill it, whoever changes data invalidates it.
//!
//! Entities are cached as versioned entries ([`Cache::read_through`], [`Cache::put_versioned`]): a write leaves a
//! tombstone of its new version, a fill never goes back in time, and readers may keep a near copy in the process,
//! kept coherent by an invalidation channel (docs/ARCHITECTURE.md, "Caching").
//!
//! The cache is never on the critical path: every call is bounded by a short timeout, and a failure is
//! logged and counted, then treated as a miss. After a failure the cache is skipped for a moment, so an
//! outage costs one timeout per second, not one per request.

mod limits;
mod near;
mod versioned;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

use bb8_redis::RedisConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppError;
pub use limits::{LimitStore, key_digest};
use near::NearCopy;
use versioned::{Stored, VERSIONED_PUT, now_ms, write_wins};

/// Where the cache is and which namespace a deployment uses in it.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `redis://…`, `memory://` or `none://` (`REDIS_URL`).
    pub url: SecretString,
    /// Prefix of every key (`CACHE_NAMESPACE`, default empty); every service of one deployment uses the same.
    pub namespace: String,
    /// How old a cached entity may be and still be served while its core is unavailable
    /// (`QUICKMART_CACHE_MAX_STALE`, seconds, default 600; 0 serves nothing stale).
    pub max_stale: Duration,
}

impl CacheSettings {
    /// Reads `REDIS_URL`, `CACHE_NAMESPACE` and `QUICKMART_CACHE_MAX_STALE`.
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        Ok(Self {
            url: env.redis_url()?,
            namespace: env.raw("CACHE_NAMESPACE").unwrap_or_default().to_owned(),
            max_stale: Duration::from_secs(env.parse_or("QUICKMART_CACHE_MAX_STALE", 600)?),
        })
    }

    /// Settings for a test: the local Redis, in a namespace of its own.
    pub fn isolated(url: &str) -> Self {
        Self {
            url: SecretString::from(url.to_owned()),
            namespace: format!("test-{}:", uuid::Uuid::new_v4().simple()),
            max_stale: Duration::from_secs(600),
        }
    }

    /// The cache client these settings describe, for a service that writes (invalidates) but reads no entity.
    pub fn connect(&self) -> Result<Cache, crate::server::StartError> {
        Cache::from_url(&self.url)
            .map(|cache| {
                let mut cache = cache.with_namespace(&self.namespace);
                cache.max_stale = self.max_stale;
                cache
            })
            .map_err(|e| {
                crate::server::StartError::Other(format!("REDIS_URL is not a valid Redis URL: {e}"))
            })
    }

    /// The cache client of a service that reads entities: with a near copy in the process, kept coherent by the
    /// invalidation channel (a task of the current runtime follows it).
    pub fn connect_with_near_copy(&self) -> Result<Cache, crate::server::StartError> {
        Ok(self.connect()?.with_near_copy())
    }
}

/// How long a cache call may take before it counts as a miss.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
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
    /// How old an entity may be when its core is unavailable ([`CacheSettings::max_stale`]).
    max_stale: Duration,
    /// Versioned entries kept in the process (readers only; Redis only).
    near: Option<Arc<NearCopy>>,
}

#[derive(Clone)]
enum Backend {
    Redis {
        pool: bb8::Pool<RedisConnectionManager>,
        /// For the invalidation channel's own connection.
        client: redis::Client,
    },
    Memory(Arc<Mutex<HashMap<String, (Instant, String)>>>),
    Disabled,
}

/// A Redis call, as `cache_errors_total` labels it.
#[derive(Debug, Clone, Copy)]
enum Operation {
    Mget,
    PutVersioned,
    Set,
    Del,
    Incr,
    TakeTurn,
}

impl Operation {
    const ALL: [Self; 6] = [
        Self::Mget,
        Self::PutVersioned,
        Self::Set,
        Self::Del,
        Self::Incr,
        Self::TakeTurn,
    ];

    const fn as_str(self) -> &'static str {
        match self {
            Self::Mget => "mget",
            Self::PutVersioned => "put_versioned",
            Self::Set => "set",
            Self::Del => "del",
            Self::Incr => "incr",
            Self::TakeTurn => "take_turn",
        }
    }
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
        let client = redis::Client::open(url.expose_secret())?;
        Ok(Self::with_backend(Backend::Redis { pool, client }, timeout))
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
        // Every error counter exists from the start, at zero: a rate over it is then 0, not absent, and the
        // alert on it (k8s/components/monitoring) names a series every scrape has.
        crate::telemetry::metrics_handle();
        for operation in Operation::ALL {
            for kind in ["failed", "skipped"] {
                metrics::counter!("cache_errors_total", "operation" => operation.as_str(), "kind" => kind)
                    .increment(0);
            }
        }
        Self {
            backend,
            timeout,
            skip_until_ms: Arc::new(AtomicU64::new(0)),
            namespace: Arc::from(""),
            max_stale: Duration::ZERO,
            near: None,
        }
    }

    /// The same cache with a near copy in front of Redis (no-op for other backends, whose reads cost no round
    /// trip). Spawns the task that follows the invalidation channel, so it must run inside a Tokio runtime.
    pub fn with_near_copy(mut self) -> Self {
        if let Backend::Redis { client, .. } = &self.backend {
            let near = NearCopy::new();
            tokio::spawn(near::follow_invalidations(
                client.clone(),
                self.invalidation_channel(),
                Arc::clone(&near),
            ));
            self.near = Some(near);
        }
        self
    }

    /// Whether reads are served from the near copy right now (it exists and its channel is subscribed).
    pub fn near_copy_is_live(&self) -> bool {
        self.near.as_ref().is_some_and(|near| near.is_live())
    }

    fn invalidation_channel(&self) -> String {
        format!("{}qm:invalidations", self.namespace)
    }

    /// The same cache with every key prefixed by `namespace` (`CACHE_NAMESPACE`; empty by default). Call it
    /// before [`Self::with_near_copy`]: the invalidation channel is in the namespace too.
    pub fn with_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Arc::from(namespace);
        self
    }

    /// The same cache serving entities up to `max_stale` old while their core is unavailable.
    pub fn with_max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
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

    /// Reads one JSON value that changes only through [`Self::delete`] (a list, never a counter): from the near
    /// copy when it holds it, else from Redis, keeping what it read in the near copy. Every replica's copy drops
    /// it when any replica deletes it; the copy's lifetime bounds how long a fill that raced a delete survives,
    /// well inside the entry's own lifetime in Redis.
    pub async fn get_json_near<T>(&self, key: &str) -> Option<T>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let key = self.key(key);
        if let Some(entry) = self.near.as_ref().and_then(|near| near.get(&key)) {
            let decoded = entry.decoded(entry.stored());
            count_read(
                &key,
                if decoded.is_some() {
                    "near_hit"
                } else {
                    "miss"
                },
            );
            return decoded;
        }
        let raw = self
            .fetch_raw(std::slice::from_ref(&key))
            .await
            .into_iter()
            .next()
            .flatten()
            .map(Arc::<str>::from);
        if let (Some(near), Some(raw)) = (&self.near, &raw) {
            near.keep(&key, raw);
        }
        let decoded = raw.and_then(|raw| serde_json::from_str(&raw).ok());
        count_read(&key, if decoded.is_some() { "hit" } else { "miss" });
        decoded
    }

    /// Reads many JSON values in one round trip, in the order of `keys`.
    pub async fn get_many_json<T: DeserializeOwned>(&self, keys: &[String]) -> Vec<Option<T>> {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let raw = self.fetch_raw(&keys).await;
        let mut tally = ReadTally::default();
        raw.iter()
            .zip(&keys)
            .map(|(value, key)| {
                let decoded = value
                    .as_deref()
                    .and_then(|raw| serde_json::from_str(raw).ok());
                tally.add(key, if decoded.is_some() { "hit" } else { "miss" });
                decoded
            })
            .collect()
    }

    /// Reads many versioned entries (written by [`Self::put_versioned`]) written at most `max_age` ago, from the
    /// near copy where it holds them and from Redis (one round trip) for the rest; a tombstone, an older entry,
    /// an entry of another format or a miss is `None`.
    pub async fn get_many_versioned<T>(&self, keys: &[String], max_age: Duration) -> Vec<Option<T>>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let decode = |raw: &str| -> Option<T> {
            let body = Stored::parse(raw)?.body_within(max_age)?;
            serde_json::from_str(body).ok()
        };
        let near_decode = |entry: near::NearEntry| -> Option<T> {
            let body = Stored::parse(entry.stored())?.body_within(max_age)?;
            entry.decoded(body)
        };
        let mut tally = ReadTally::default();
        let mut found: Vec<Option<T>> = Vec::with_capacity(keys.len());
        let mut remote: Vec<usize> = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let near = self.near.as_ref().and_then(|near| near.get(key));
            match near.and_then(near_decode) {
                Some(value) => {
                    tally.add(key, "near_hit");
                    found.push(Some(value));
                }
                None => {
                    remote.push(index);
                    found.push(None);
                }
            }
        }
        if remote.is_empty() {
            return found;
        }
        let remote_keys: Vec<String> = remote.iter().map(|&i| keys[i].clone()).collect();
        let raw = self.fetch_raw(&remote_keys).await;
        for ((index, key), value) in remote.into_iter().zip(&remote_keys).zip(raw) {
            if let (Some(near), Some(value)) = (&self.near, value.as_deref()) {
                near.offer(key, value);
            }
            found[index] = value.as_deref().and_then(decode);
            tally.add(
                key,
                if found[index].is_some() {
                    "hit"
                } else {
                    "miss"
                },
            );
        }
        found
    }

    /// Entities by id through the cache: entries of `keyspace` younger than its lifetime, then the rest from
    /// `fetch` in one call, filled back by [`Self::put_versioned`]. When `fetch` fails with
    /// `SERVICE_UNAVAILABLE` and entries up to the stale limit cover every id it was asked for, those are served
    /// instead (and counted in `cache_stale_served_total`): an outage of the core degrades reads, it does not
    /// fail them.
    pub async fn read_through<Id, T, Fut>(
        &self,
        ids: &[Id],
        keyspace: &Keyspace<Id, T>,
        fetch: impl FnOnce(Vec<Id>) -> Fut,
    ) -> Result<HashMap<Id, T>, AppError>
    where
        Id: Copy + Eq + Hash,
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<T>, AppError>>,
    {
        let keys: Vec<String> = ids.iter().map(|id| (keyspace.key)(*id)).collect();
        let cached: Vec<Option<T>> = self.get_many_versioned(&keys, keyspace.ttl).await;
        let mut found: HashMap<Id, T> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (id, hit) in ids.iter().zip(cached) {
            match hit {
                Some(entity) => {
                    found.insert(*id, entity);
                }
                None => missing.push(*id),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        match fetch(missing.clone()).await {
            Ok(fetched) => {
                let entries: Vec<(String, i64, Option<&T>)> = fetched
                    .iter()
                    .map(|entity| {
                        let key = (keyspace.key)((keyspace.id)(entity));
                        (key, (keyspace.version)(entity), Some(entity))
                    })
                    .collect();
                self.put_versioned(&entries, keyspace.ttl).await;
                found.extend(
                    fetched
                        .into_iter()
                        .map(|entity| ((keyspace.id)(&entity), entity)),
                );
                Ok(found)
            }
            Err(error @ AppError::ServiceUnavailable(_)) if !self.max_stale.is_zero() => {
                let keys: Vec<String> = missing.iter().map(|id| (keyspace.key)(*id)).collect();
                let stale: Vec<Option<T>> = self.get_many_versioned(&keys, self.max_stale).await;
                if stale.iter().any(Option::is_none) {
                    return Err(error);
                }
                metrics::counter!("cache_stale_served_total", "keyspace" => keyspace.name)
                    .increment(stale.len() as u64);
                // Counted, not logged above debug: in an outage this happens on every read, and the core's
                // outage is logged where it is seen.
                tracing::debug!(
                    keyspace = keyspace.name,
                    served = stale.len(),
                    "core unavailable: served cached entries past their lifetime"
                );
                found.extend(missing.into_iter().zip(stale.into_iter().flatten()));
                Ok(found)
            }
            Err(error) => Err(error),
        }
    }

    /// The raw values of full keys, in one round trip; a failure reads as all misses.
    async fn fetch_raw(&self, keys: &[String]) -> Vec<Option<String>> {
        if keys.is_empty() {
            return Vec::new();
        }
        match &self.backend {
            Backend::Disabled => vec![None; keys.len()],
            Backend::Memory(map) => {
                let now = Instant::now();
                let map = lock(map);
                keys.iter()
                    .map(|k| {
                        map.get(k)
                            .filter(|(exp, _)| *exp > now)
                            .map(|(_, v)| v.clone())
                    })
                    .collect()
            }
            Backend::Redis { pool, .. } => {
                let result = self
                    .guarded(Operation::Mget, async {
                        let mut conn = pool.get().await?;
                        let mut cmd = redis::cmd("MGET");
                        cmd.arg(keys);
                        Ok(cmd.query_async::<Vec<Option<String>>>(&mut *conn).await?)
                    })
                    .await;
                self.observe_failure(Operation::Mget, result)
                    .unwrap_or_else(|| vec![None; keys.len()])
            }
        }
    }

    /// Writes versioned entries (`Some(value)`) or tombstones (`None`) in one round trip, never going back in
    /// time (docs/ARCHITECTURE.md, "Caching"): a tombstone replaces anything of its version or older; an entry
    /// replaces only an older version, or the tombstone of its own version. So a reader that read the database
    /// before a write cannot put its old copy back after the writer's invalidation, however the two interleave,
    /// and a reader that read after it can fill at once. Tombstones also go out on the invalidation channel, so
    /// every replica's near copy drops the old entry. Entries are kept in Redis for the stale limit when it is
    /// longer than `ttl`, for [`Self::read_through`] to serve in an outage.
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
                Some((self.key(key), *version, Stored::encode(*version, &body)))
            })
            .collect();
        if encoded.is_empty() {
            return;
        }
        let entry_ttl = ttl.max(self.max_stale);
        let written: Vec<bool> = match &self.backend {
            Backend::Disabled => return,
            Backend::Memory(map) => {
                let now = Instant::now();
                let mut map = lock(map);
                encoded
                    .iter()
                    .map(|(key, _, value)| {
                        let Some(new) = Stored::parse(value) else {
                            return false;
                        };
                        let current = map
                            .get(key)
                            .filter(|(exp, _)| *exp > now)
                            .and_then(|(_, raw)| Stored::parse(raw));
                        let wins = write_wins(current, new);
                        if wins {
                            let lifetime = if new.is_tombstone() { ttl } else { entry_ttl };
                            map.insert(key.clone(), (now + lifetime, value.clone()));
                        }
                        wins
                    })
                    .collect()
            }
            Backend::Redis { pool, .. } => {
                let result = self
                    .guarded(Operation::PutVersioned, async {
                        let mut conn = pool.get().await?;
                        let mut invocation = VERSIONED_PUT.prepare_invoke();
                        invocation
                            .arg(millis(entry_ttl))
                            .arg(millis(ttl))
                            .arg(self.invalidation_channel());
                        for (key, version, value) in &encoded {
                            invocation.key(key).arg(*version).arg(value);
                        }
                        Ok(invocation.invoke_async::<Vec<u8>>(&mut *conn).await?)
                    })
                    .await;
                match self.observe_failure(Operation::PutVersioned, result) {
                    Some(written) => written.into_iter().map(|w| w == 1).collect(),
                    None => return,
                }
            }
        };
        // This replica's own copy follows at once, not when the channel's echo arrives: a client that changed
        // an entity and reads it back through the same replica sees its change.
        if let Some(near) = &self.near {
            for ((key, _, value), written) in encoded.iter().zip(written) {
                if written || Stored::parse(value).is_some_and(|s| s.is_tombstone()) {
                    near.offer(key, value);
                }
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
                let mut map = lock(map);
                if map.len() > MEMORY_PRUNE_AT {
                    let now = Instant::now();
                    map.retain(|_, (exp, _)| *exp > now);
                }
                for (key, json) in encoded {
                    map.insert(key, (expires, json));
                }
            }
            Backend::Redis { pool, .. } => {
                let result = self
                    .guarded(Operation::Set, async {
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
                self.observe_failure(Operation::Set, result);
            }
        }
    }

    /// Deletes keys (after the change they describe has committed), in every replica's near copy too.
    pub async fn delete(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let keys = keys.as_slice();
        if let Some(near) = &self.near {
            keys.iter().for_each(|key| near.forget(key));
        }
        match &self.backend {
            Backend::Disabled => {}
            Backend::Memory(map) => {
                let mut map = lock(map);
                for key in keys {
                    map.remove(key);
                }
            }
            Backend::Redis { pool, .. } => {
                let result = self
                    .guarded(Operation::Del, async {
                        let mut conn = pool.get().await?;
                        let mut pipe = redis::pipe();
                        pipe.cmd("DEL").arg(keys).ignore();
                        let channel = self.invalidation_channel();
                        for key in keys {
                            pipe.cmd("PUBLISH")
                                .arg(&channel)
                                .arg(format!("{key}\n"))
                                .ignore();
                        }
                        pipe.query_async::<()>(&mut *conn).await?;
                        Ok(())
                    })
                    .await;
                self.observe_failure(Operation::Del, result);
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
                let mut map = lock(map);
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
            Backend::Redis { pool, .. } => {
                let result = self
                    .guarded(Operation::Incr, async {
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
                self.observe_failure(Operation::Incr, result)
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
                let mut map = lock(map);
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
            Backend::Redis { pool, .. } => {
                const TAKE_TURN: &str = "local t = redis.call('TIME') \
                    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
                    local turn = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0')) \
                    local wait = turn - now \
                    if wait > tonumber(ARGV[2]) then return -(wait - tonumber(ARGV[2])) - 1 end \
                    redis.call('SET', KEYS[1], turn + tonumber(ARGV[1]), 'PX', wait + tonumber(ARGV[1])) \
                    return wait";
                let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                let result = self
                    .guarded(Operation::TakeTurn, async {
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
                self.observe_failure(Operation::TakeTurn, result)
                    .map(|answer| {
                        if answer >= 0 {
                            Ok(Duration::from_millis(answer.unsigned_abs()))
                        } else {
                            Err(Duration::from_millis((answer + 1).unsigned_abs()))
                        }
                    })
            }
        }
    }

    /// Runs a Redis call within the timeout, unless a recent failure says to skip it; a span per call (exported
    /// only; crate::traces).
    async fn guarded<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        if now_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return Err(CacheError::BackingOff);
        }
        let span = tracing::debug_span!(
            target: crate::traces::SPAN_TARGET,
            "redis",
            otel.name = format!("redis {}", operation.as_str()),
            otel.kind = "client",
            quickmart.service = crate::telemetry::current_service(),
            db.system.name = "redis",
            db.operation.name = operation.as_str(),
            otel.status_code = tracing::field::Empty,
        );
        let result = match tokio::time::timeout(self.timeout, call)
            .instrument(span.clone())
            .await
        {
            Ok(result) => result,
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        };
        if result.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        result
    }

    fn observe_failure<T>(&self, operation: Operation, result: Result<T, CacheError>) -> Option<T> {
        let operation = operation.as_str();
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

/// The in-process map, even after a panic while it was held (its entries are only ever whole).
fn lock(
    map: &Mutex<HashMap<String, (Instant, String)>>,
) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, String)>> {
    map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How a kind of entity is cached: its key, its id and version, its lifetime.
pub struct Keyspace<Id, T> {
    /// The name in metrics (`product`, `user`).
    pub name: &'static str,
    /// The cache key of an id.
    pub key: fn(Id) -> String,
    /// The id of an entity.
    pub id: fn(&T) -> Id,
    /// The version of an entity (its `version` column).
    pub version: fn(&T) -> i64,
    /// How long an entry is served while its core answers (invalidation keeps it fresh; this bounds memory).
    pub ttl: Duration,
}

fn count_read(key: &str, outcome: &'static str) {
    add_reads(keyspace(key).to_owned(), outcome, 1);
}

/// Adds `reads` to `cache_requests_total` for one keyspace and outcome: the one place the series is written.
fn add_reads(keyspace: String, outcome: &'static str, reads: u64) {
    metrics::counter!("cache_requests_total", "keyspace" => keyspace, "outcome" => outcome)
        .increment(reads);
}

/// The reads of one batch, counted per keyspace and outcome and added to `cache_requests_total` when dropped:
/// a labelled counter costs a registry lookup, and one per key was a fortieth of an `_entities` call.
#[derive(Default)]
struct ReadTally(Vec<(String, &'static str, u64)>);

impl ReadTally {
    fn add(&mut self, key: &str, outcome: &'static str) {
        let space = keyspace(key);
        match self
            .0
            .iter_mut()
            .find(|(counted, counted_outcome, _)| counted == space && *counted_outcome == outcome)
        {
            Some((_, _, reads)) => *reads += 1,
            None => self.0.push((space.to_owned(), outcome, 1)),
        }
    }
}

impl Drop for ReadTally {
    fn drop(&mut self) {
        for (space, outcome, reads) in self.0.drain(..) {
            add_reads(space, outcome, reads);
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn keyspace(key: &str) -> &str {
    key.split(':')
        .skip_while(|part| *part != "v1")
        .nth(1)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_reads_is_counted_once_per_keyspace_and_outcome() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let mut tally = ReadTally::default();
            for key in [
                "qm:v1:product:1",
                "qm:v1:product:2",
                "test-ns:qm:v1:product:3",
            ] {
                tally.add(key, "hit");
            }
            tally.add("qm:v1:product:4", "miss");
            tally.add("qm:v1:user:5", "near_hit");
        });
        let text = handle.render();
        for line in [
            r#"cache_requests_total{keyspace="product",outcome="hit"} 3"#,
            r#"cache_requests_total{keyspace="product",outcome="miss"} 1"#,
            r#"cache_requests_total{keyspace="user",outcome="near_hit"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }

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

    const TEST_TIMEOUT: Duration = Duration::from_secs(5);

    /// The measured race: a reader misses and reads the database (version 5), a writer commits version 6 and
    /// invalidates, then the reader fills its old copy. The old copy must never come back, in either backend; a
    /// reader of the new version fills at once, and 8 × concurrent stale fills lose to one fresh one.
    #[tokio::test]
    async fn a_stale_fill_never_replaces_an_invalidation() {
        let redis = Cache::redis(
            &SecretString::from(crate::config::DEV_REDIS_URL),
            // These tests are about versions, not time: a first connection on a loaded machine may take longer
            // than the production timeout, and a timed-out read is a miss the assertions would misread.
            TEST_TIMEOUT,
        )
        .expect("url")
        .with_namespace(&format!("test-{}:", uuid::Uuid::new_v4().simple()));
        for cache in [Cache::in_memory(), redis] {
            let key = "qm:v1:product:race".to_owned();
            let ttl = Duration::from_secs(60);
            let read = |cache: Cache| {
                let key = key.clone();
                async move {
                    cache
                        .get_many_versioned::<String>(&[key], ttl)
                        .await
                        .remove(0)
                }
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

    fn local_redis() -> Cache {
        Cache::redis(
            &SecretString::from(crate::config::DEV_REDIS_URL),
            // These tests are about versions, not time: a first connection on a loaded machine may take longer
            // than the production timeout, and a timed-out read is a miss the assertions would misread.
            TEST_TIMEOUT,
        )
        .expect("url")
    }

    async fn until(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "{what}: not within 10 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Two caches with near copies over one Redis and one fresh namespace, both subscribed.
    async fn two_replicas() -> (Cache, Cache) {
        let namespace = format!("test-{}:", uuid::Uuid::new_v4().simple());
        let writer = local_redis().with_namespace(&namespace).with_near_copy();
        let reader = local_redis().with_namespace(&namespace).with_near_copy();
        until("subscribed", || {
            writer.near_copy_is_live() && reader.near_copy_is_live()
        })
        .await;
        (writer, reader)
    }

    /// Deletes `key` in Redis behind the cache's back: nothing is published, so near copies keep it.
    async fn delete_in_redis_only(cache: &Cache, key: &str) {
        let Backend::Redis { pool, .. } = &cache.backend else {
            unreachable!()
        };
        let mut conn = pool.get().await.expect("redis");
        redis::cmd("DEL")
            .arg(cache.key(key))
            .query_async::<i64>(&mut *conn)
            .await
            .expect("del");
    }

    /// Two replicas with near copies on one Redis: what one reads stays in its process (it survives the Redis
    /// entry going away behind the cache's back), and a write on the other replica evicts it within the
    /// invalidation window; a stale fill offered after that eviction does not bring it back.
    #[tokio::test]
    async fn a_write_on_one_replica_evicts_the_near_copy_of_another() {
        let (writer, reader) = two_replicas().await;
        let (key, ttl) = ("qm:v1:product:near".to_owned(), Duration::from_secs(60));
        let read = || reader.get_many_versioned::<String>(std::slice::from_ref(&key), ttl);

        reader
            .put_versioned(&[(key.clone(), 5, Some("stock 945"))], ttl)
            .await;
        assert_eq!(read().await.remove(0).as_deref(), Some("stock 945"));
        delete_in_redis_only(&reader, &key).await;
        assert_eq!(
            read().await.remove(0).as_deref(),
            Some("stock 945"),
            "served from the near copy"
        );

        writer
            .put_versioned::<&str>(&[(key.clone(), 6, None)], ttl)
            .await;
        let deadline = Instant::now() + Duration::from_secs(2);
        while read().await.remove(0).is_some() {
            assert!(
                Instant::now() < deadline,
                "the other replica still serves the old copy"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let stale = Stored::encode(5, "\"stock 945\"");
        reader
            .near
            .as_ref()
            .expect("near")
            .offer(&reader.key(&key), &stale);
        assert_eq!(
            read().await.remove(0),
            None,
            "the stale fill lost to the tombstone"
        );
    }

    /// A plain entry read through the near copy stays in the process (it survives the Redis entry going away
    /// behind the cache's back), and a delete on another replica drops it within the invalidation window.
    #[tokio::test]
    async fn a_delete_on_one_replica_drops_a_plain_entry_near_another() {
        let (writer, reader) = two_replicas().await;
        let key = "qm:v1:categories".to_owned();
        let read = || reader.get_json_near::<Vec<String>>(&key);
        assert_eq!(read().await, None, "nothing cached yet");
        writer
            .set_json(&key, &vec!["Books".to_owned()], Duration::from_secs(60))
            .await;
        assert_eq!(read().await, Some(vec!["Books".to_owned()]));
        delete_in_redis_only(&reader, &key).await;
        assert_eq!(
            read().await,
            Some(vec!["Books".to_owned()]),
            "served from the near copy"
        );

        writer.delete(std::slice::from_ref(&key)).await;
        let deadline = Instant::now() + Duration::from_secs(2);
        while read().await.is_some() {
            assert!(
                Instant::now() < deadline,
                "the other replica still serves the deleted list"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The channel is pinged every 2 s; every answer Redis gives keeps it live. (A ping read as a string failed
    /// on each answer, so every near copy was flushed and bypassed every 2 s.)
    #[tokio::test]
    async fn the_channel_stays_live_across_pings() {
        let namespace = format!("test-{}:", uuid::Uuid::new_v4().simple());
        let cache = local_redis().with_namespace(&namespace).with_near_copy();
        until("subscribed", || cache.near_copy_is_live()).await;
        let (key, ttl) = ("qm:v1:product:pinged".to_owned(), Duration::from_secs(60));
        cache
            .put_versioned(&[(key.clone(), 1, Some("kept"))], ttl)
            .await;
        let deadline = Instant::now() + super::near::PING_EVERY * 3;
        while Instant::now() < deadline {
            assert!(cache.near_copy_is_live(), "the channel dropped at a ping");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let near = cache.near.as_ref().expect("near");
        assert!(
            near.get(&cache.key(&key)).is_some(),
            "the near copy was flushed while the channel was up"
        );
    }

    /// A private Redis that the test stops and starts again on the same port.
    struct PrivateRedis {
        port: u16,
        dir: std::path::PathBuf,
        child: Option<tokio::process::Child>,
    }

    impl PrivateRedis {
        async fn start() -> Self {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let dir = std::env::temp_dir()
                .join(format!("quickmart-redis-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let mut redis = Self {
                port,
                dir,
                child: None,
            };
            redis.resume().await;
            redis
        }

        fn url(&self) -> SecretString {
            SecretString::from(format!("redis://127.0.0.1:{}", self.port))
        }

        async fn resume(&mut self) {
            let child = tokio::process::Command::new("redis-server")
                .args([
                    "--port",
                    &self.port.to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(&self.dir)
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("redis-server is installed");
            self.child = Some(child);
            let address = format!("127.0.0.1:{}", self.port);
            let deadline = Instant::now() + Duration::from_secs(10);
            while tokio::net::TcpStream::connect(&address).await.is_err() {
                assert!(Instant::now() < deadline, "redis-server did not start");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }

        async fn stop(&mut self) {
            if let Some(mut child) = self.child.take() {
                child.kill().await.expect("kill redis-server");
            }
        }
    }

    impl Drop for PrivateRedis {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// When the invalidation channel drops, messages may be lost: the near copy is flushed and bypassed until it
    /// is subscribed again, and comes back empty.
    #[tokio::test]
    async fn a_dropped_channel_flushes_and_bypasses_the_near_copy() {
        let mut redis = PrivateRedis::start().await;
        let cache = Cache::redis(&redis.url(), DEFAULT_TIMEOUT)
            .expect("url")
            .with_near_copy();
        until("subscribed", || cache.near_copy_is_live()).await;
        let (key, ttl) = ("qm:v1:product:drop".to_owned(), Duration::from_secs(60));
        cache
            .put_versioned(&[(key.clone(), 1, Some("one"))], ttl)
            .await;
        let near = cache.near.as_ref().expect("near");
        assert!(near.get(&key).is_some());

        redis.stop().await;
        until("unsubscribed", || !cache.near_copy_is_live()).await;
        assert!(near.get(&key).is_none(), "bypassed");
        assert_eq!(
            cache
                .get_many_versioned::<String>(std::slice::from_ref(&key), ttl)
                .await
                .remove(0),
            None
        );

        redis.resume().await;
        until("subscribed again", || cache.near_copy_is_live()).await;
        assert!(
            near.get(&key).is_none(),
            "flushed: what it held may have missed an invalidation"
        );
    }

    /// While a core is unavailable, entries past their lifetime but within the stale limit are served (all the
    /// ids asked for, or none); a tombstone is never served, and any other error is not covered up.
    #[tokio::test]
    async fn an_unavailable_core_is_covered_by_stale_entries() {
        const SHORT: Keyspace<u32, String> = Keyspace {
            name: "test",
            key: |id| format!("qm:v1:test:{id}"),
            id: |value| value.len() as u32,
            version: |_| 1,
            ttl: Duration::from_millis(1),
        };
        let down = |_: Vec<u32>| async {
            Err::<Vec<String>, _>(AppError::ServiceUnavailable("down".into()))
        };
        for cache in [
            Cache::in_memory(),
            local_redis().with_namespace(&format!("test-{}:", uuid::Uuid::new_v4().simple())),
        ] {
            let cache = cache.with_max_stale(Duration::from_secs(60));
            cache
                .put_versioned(
                    &[
                        ((SHORT.key)(1), 1, Some("a")),
                        ((SHORT.key)(2), 1, Some("bb")),
                    ],
                    SHORT.ttl,
                )
                .await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            let served = cache
                .read_through(&[1, 2], &SHORT, down)
                .await
                .expect("served stale");
            assert_eq!(served.get(&2).map(String::as_str), Some("bb"));
            assert!(
                cache.read_through(&[1, 3], &SHORT, down).await.is_err(),
                "3 is not cached"
            );
            let not_found =
                |_: Vec<u32>| async { Err::<Vec<String>, _>(AppError::NotFound("gone".into())) };
            assert!(cache.read_through(&[1], &SHORT, not_found).await.is_err());
            cache
                .put_versioned::<&str>(&[((SHORT.key)(1), 2, None)], SHORT.ttl)
                .await;
            assert!(
                cache.read_through(&[1], &SHORT, down).await.is_err(),
                "a tombstone is not served"
            );
            let strict = cache.clone().with_max_stale(Duration::ZERO);
            assert!(
                strict.read_through(&[2], &SHORT, down).await.is_err(),
                "no stale limit, nothing stale"
            );
        }
    }
}
