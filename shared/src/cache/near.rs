//! The near copy: versioned entries kept in the process in front of Redis, so a hot entity costs no round trip.
//!
//! It stays coherent across replicas through the invalidation channel: every tombstone written to Redis is also
//! published there, and every replica applies it to its copy by the same versioned rule. When the channel is not
//! subscribed (Redis went away, the connection dropped, or a ping went unanswered), messages may have been missed:
//! the copy is flushed, then neither read nor filled until the subscription is back (and flushed once more then,
//! for fills that raced the drop).

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use moka::ops::compute::Op;

use super::versioned::{Stored, write_wins};

/// How many entries the near copy holds at most (the least recently used go first).
const CAPACITY: u64 = 20_000;
/// How long an entry stays in the near copy, whatever its freshness (a bound on any coherence gap).
const LIFETIME: Duration = Duration::from_secs(60);
/// How often the subscription is pinged; an unanswered ping counts as a dropped channel.
pub(super) const PING_EVERY: Duration = Duration::from_secs(2);
/// How long a ping may take.
const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// How long to wait before subscribing again.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);

/// One entry of the near copy: what Redis stores, and the value decoded from it by the first read, so that a hot
/// entry is parsed once rather than on every read (parsing was a tenth of a page's cost when every read did it).
#[derive(Clone)]
pub(super) struct NearEntry {
    stored: Arc<str>,
    decoded: Arc<OnceLock<Box<dyn Any + Send + Sync>>>,
}

impl NearEntry {
    fn new(stored: Arc<str>) -> Self {
        Self {
            stored,
            decoded: Arc::new(OnceLock::new()),
        }
    }

    /// The stored form.
    pub(super) fn stored(&self) -> &str {
        &self.stored
    }

    /// `body` (a part of the stored form) decoded as `T`, decoding it only the first time; `None` when it is not
    /// a `T`. A read as another type than the first decodes afresh and keeps nothing.
    pub(super) fn decoded<T>(&self, body: &str) -> Option<T>
    where
        T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let decode = || serde_json::from_str::<T>(body).ok();
        let kept = self.decoded.get_or_init(|| Box::new(decode()));
        match kept.downcast_ref::<Option<T>>() {
            Some(value) => value.clone(),
            None => decode(),
        }
    }
}

/// The near copy of one process's cache client.
pub(super) struct NearCopy {
    entries: moka::sync::Cache<String, NearEntry>,
    subscribed: AtomicBool,
}

impl NearCopy {
    /// An empty copy, not yet subscribed (so not used until [`follow_invalidations`] subscribes).
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(LIFETIME)
                .build(),
            subscribed: AtomicBool::new(false),
        })
    }

    /// Whether the copy may be used: the invalidation channel is subscribed.
    pub(super) fn is_live(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// The entry of `key`, when the copy is live and holds it.
    pub(super) fn get(&self, key: &str) -> Option<NearEntry> {
        if !self.is_live() {
            return None;
        }
        self.entries.get(key)
    }

    /// Keeps `value` (a stored form) for `key` if it moves the key forward by the versioned rule.
    pub(super) fn offer(&self, key: &str, value: &str) {
        if !self.is_live() {
            return;
        }
        self.apply(key, value);
    }

    fn apply(&self, key: &str, value: &str) {
        let Some(new) = Stored::parse(value) else {
            return;
        };
        self.entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let current = current.map(moka::Entry::into_value);
                if write_wins(
                    current.as_ref().and_then(|c| Stored::parse(c.stored())),
                    new,
                ) {
                    Op::Put(NearEntry::new(Arc::from(value)))
                } else {
                    Op::Nop
                }
            });
    }

    /// Keeps a plain entry (one only deletes invalidate) as Redis holds it.
    pub(super) fn keep(&self, key: &str, value: &Arc<str>) {
        if self.is_live() {
            self.entries
                .insert(key.to_owned(), NearEntry::new(Arc::clone(value)));
        }
    }

    /// Drops `key` (an unversioned invalidation).
    pub(super) fn forget(&self, key: &str) {
        self.entries.invalidate(key);
    }

    /// Applies one message of the invalidation channel: `<key>\n<stored form>` for a tombstone, `<key>\n` for a
    /// delete.
    fn receive(&self, payload: &str) {
        match payload.split_once('\n') {
            Some((key, "")) => self.forget(key),
            Some((key, value)) => self.apply(key, value),
            None => {}
        }
    }

    fn set_subscribed(&self, subscribed: bool) {
        self.entries.invalidate_all();
        self.subscribed.store(subscribed, Ordering::Release);
        metrics::gauge!("cache_near_subscribed").set(if subscribed { 1.0 } else { 0.0 });
    }
}

/// Keeps `near` subscribed to `channel` for as long as the process runs, applying every message; while it is not
/// subscribed, `near` is flushed and bypassed.
pub(super) async fn follow_invalidations(
    client: redis::Client,
    channel: String,
    near: Arc<NearCopy>,
) {
    loop {
        match subscribe(&client, &channel).await {
            Ok((mut sink, mut stream)) => {
                near.set_subscribed(true);
                let mut pings = tokio::time::interval(PING_EVERY);
                pings.tick().await;
                let reason = loop {
                    tokio::select! {
                        message = stream.next() => match message {
                            Some(message) => {
                                if let Ok(payload) = message.get_payload::<String>() {
                                    near.receive(&payload);
                                }
                            }
                            None => break "the connection closed".to_owned(),
                        },
                        _ = pings.tick() => {
                            // Any answer will do: on a subscribed RESP2 connection Redis answers PING with
                            // the array `["pong", ""]`, not the simple string `PONG`.
                            match tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await {
                                Ok(Ok(_)) => {}
                                Ok(Err(error)) => break error.to_string(),
                                Err(_) => break format!("no answer to a ping within {PING_TIMEOUT:?}"),
                            }
                        }
                    }
                };
                near.set_subscribed(false);
                tracing::warn!(%reason, "cache invalidation channel dropped: near copy flushed and bypassed");
            }
            Err(error) => {
                tracing::debug!(%error, "cache invalidation channel: cannot subscribe yet");
            }
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<(redis::aio::PubSubSink, redis::aio::PubSubStream)> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub.split())
    };
    tokio::time::timeout(PING_TIMEOUT, connect)
        .await
        .unwrap_or_else(|_| {
            Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "subscribe timed out",
            )))
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    static DECODED: AtomicUsize = AtomicUsize::new(0);

    /// A value that counts how often it is decoded.
    #[derive(Debug, Clone, PartialEq)]
    struct Counted(u32);

    impl<'de> serde::Deserialize<'de> for Counted {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            DECODED.fetch_add(1, Ordering::SeqCst);
            u32::deserialize(deserializer).map(Counted)
        }
    }

    /// An entry is decoded by its first read only, by eight concurrent first readers too; a read as another type
    /// decodes afresh and still answers right; what does not decode stays `None`.
    #[test]
    fn an_entry_is_decoded_once() {
        let entry = NearEntry::new(Arc::from("7"));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| assert_eq!(entry.decoded::<Counted>("7"), Some(Counted(7))));
            }
        });
        assert_eq!(entry.decoded::<Counted>("7"), Some(Counted(7)));
        assert_eq!(DECODED.load(Ordering::SeqCst), 1);
        assert_eq!(entry.decoded::<u64>("7"), Some(7));
        let broken = NearEntry::new(Arc::from("[oops"));
        assert_eq!(broken.decoded::<u64>("[oops"), None);
    }
}
