//! A bounded LRU of prepared operations keyed by document text and operation name.
//!
//! Keying by the raw text means a hit skips parsing, validation, normalization and planning
//! altogether; two spellings of one operation simply take two slots.

use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::PreparedOperation;

/// The plan cache.
pub struct PlanCache {
    entries: Mutex<LruCache<u64, Entry>>,
    hasher: std::collections::hash_map::RandomState,
}

struct Entry {
    query: Box<str>,
    operation_name: Option<Box<str>>,
    prepared: Arc<PreparedOperation>,
}

impl PlanCache {
    /// A cache holding at most `capacity` operations (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self { entries: Mutex::new(LruCache::new(capacity)), hasher: std::collections::hash_map::RandomState::new() }
    }

    fn key(&self, query: &str, operation_name: Option<&str>) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        query.hash(&mut hasher);
        operation_name.hash(&mut hasher);
        hasher.finish()
    }

    /// The prepared operation for this document, if cached.
    pub fn get(&self, query: &str, operation_name: Option<&str>) -> Option<Arc<PreparedOperation>> {
        let key = self.key(query, operation_name);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&key)?;
        // A 64-bit collision is unlikely but would serve a wrong plan: compare the text.
        (&*entry.query == query && entry.operation_name.as_deref() == operation_name).then(|| entry.prepared.clone())
    }

    /// Remembers a prepared operation.
    pub fn insert(&self, query: &str, operation_name: Option<&str>, prepared: Arc<PreparedOperation>) {
        let key = self.key(query, operation_name);
        let entry = Entry { query: query.into(), operation_name: operation_name.map(Into::into), prepared };
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).put(key, entry);
    }
}
