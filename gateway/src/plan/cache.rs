//! A bounded LRU of prepared operations keyed by document text and operation name.
//!
//! Keying by the raw text means a hit skips parsing, validation, normalization and planning
//! altogether; two spellings of one operation simply take two slots. The cache is bounded by entries
//! and by an estimate of the bytes each entry holds, and never keeps a document over a size cap: 200
//! distinct 1 MB documents must not pin 200 MB.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::PreparedOperation;

/// Heap an expanded selection costs once normalized and planned (AST node, plan node, projection entry),
/// measured generously; the document text is counted on top.
const BYTES_PER_SELECTION: usize = 512;

/// How much the cache may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanCacheLimits {
    /// Most entries.
    pub entries: usize,
    /// Most estimated bytes, all entries together.
    pub bytes: usize,
    /// Documents longer than this are never cached.
    pub max_document_bytes: usize,
}

/// The plan cache.
pub(crate) struct PlanCache {
    state: Mutex<State>,
    limits: PlanCacheLimits,
    hasher: std::collections::hash_map::RandomState,
}

struct State {
    entries: LruCache<u64, Entry>,
    bytes: usize,
}

struct Entry {
    query: Box<str>,
    operation_name: Option<Box<str>>,
    prepared: Arc<PreparedOperation>,
    bytes: usize,
}

impl PlanCache {
    /// An empty cache with these bounds.
    pub(crate) fn new(limits: PlanCacheLimits) -> Self {
        Self {
            state: Mutex::new(State {
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
            limits,
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    fn key(&self, query: &str, operation_name: Option<&str>) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        query.hash(&mut hasher);
        operation_name.hash(&mut hasher);
        hasher.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The prepared operation for this document, if cached.
    pub(crate) fn get(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Option<Arc<PreparedOperation>> {
        if query.len() > self.limits.max_document_bytes {
            return None;
        }
        let key = self.key(query, operation_name);
        let mut state = self.lock();
        let entry = state.entries.get(&key)?;
        // A 64-bit collision is unlikely but would serve a wrong plan: compare the text.
        (&*entry.query == query && entry.operation_name.as_deref() == operation_name)
            .then(|| entry.prepared.clone())
    }

    /// Remembers a prepared operation, evicting the least recently used until both bounds hold; a document
    /// over the size cap, or an entry larger than the whole budget, is not kept.
    pub(crate) fn insert(
        &self,
        query: &str,
        operation_name: Option<&str>,
        prepared: Arc<PreparedOperation>,
    ) {
        let bytes = query.len()
            + operation_name.map_or(0, str::len)
            + prepared
                .shape
                .selections
                .saturating_mul(BYTES_PER_SELECTION);
        if query.len() > self.limits.max_document_bytes || bytes > self.limits.bytes {
            return;
        }
        let key = self.key(query, operation_name);
        let entry = Entry {
            query: query.into(),
            operation_name: operation_name.map(Into::into),
            prepared,
            bytes,
        };
        let mut state = self.lock();
        if let Some(replaced) = state.entries.put(key, entry) {
            state.bytes -= replaced.bytes;
        }
        state.bytes += bytes;
        while state.entries.len() > self.limits.entries.max(1) || state.bytes > self.limits.bytes {
            match state.entries.pop_lru() {
                Some((_, evicted)) => state.bytes -= evicted.bytes,
                None => break,
            }
        }
        metrics::gauge!("gateway_plan_cache_bytes").set(state.bytes as f64);
    }

    /// Entries held and their estimated bytes.
    pub(crate) fn usage(&self) -> (usize, usize) {
        let state = self.lock();
        (state.entries.len(), state.bytes)
    }
}
