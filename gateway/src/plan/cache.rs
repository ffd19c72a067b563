//! A bounded LRU of prepared operations keyed by document text and operation name.
//!
//! A client's text is one key: a hit skips parsing, validation, normalization and planning altogether,
//! and two spellings of one operation simply take two slots. An operation's lifted shape
//! ([`super::literals`]) is another kind of key, in the same LRU under the same bounds: a text seen for the
//! first time is parsed and validated, but planned only if its shape is new. The kinds never answer for each
//! other, so a client sending a shape's text is validated like any other text. The cache is bounded by
//! entries and by an estimate of the bytes each entry holds, and never keeps a document over a size cap: 200
//! distinct 1 MB documents must not pin 200 MB.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use hive_router_query_planner::planner::plan_nodes::QueryPlan;
use lru::LruCache;
use serde_json::{Map, Value};

use super::PreparedOperation;

/// Heap an expanded selection costs once normalized and planned (AST node, plan node, projection entry),
/// measured generously; the document text is counted on top.
const BYTES_PER_SELECTION: usize = 512;

/// Heap a lifted literal costs beyond its text (a map entry and a JSON value), measured generously.
const BYTES_PER_LITERAL: usize = 128;

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KeyKind {
    /// A document as a client sent it.
    Text,
    /// An operation's shape: the printed document with its literal arguments lifted into variables.
    Shape,
}

/// A cached preparation: the operation's shape, prepared, and the literals this text lifted out of it.
#[derive(Debug)]
pub(crate) struct Planned {
    /// The prepared operation, shared by every text of the same shape.
    pub operation: Arc<PreparedOperation>,
    /// This text's own plan when it has lifted literals: the shape's, with them written back into the subgraph
    /// operations.
    pub plan: Option<QueryPlan>,
    /// Variables to add to the client's: the literal arguments lifted out of this text (empty for a shape).
    pub literals: Map<String, Value>,
    /// Whether the cost is within the budget whatever the request's variables: the text declares none of its
    /// own, so its lifted literals settled it when it was prepared.
    pub cost_settled: bool,
}

impl Planned {
    /// A preparation with nothing lifted.
    pub(crate) fn new(operation: Arc<PreparedOperation>) -> Self {
        Self {
            operation,
            plan: None,
            literals: Map::new(),
            cost_settled: false,
        }
    }

    /// The plan to run; `None` when nothing needs a subgraph.
    pub(crate) fn plan(&self) -> Option<&QueryPlan> {
        self.plan.as_ref().or(self.operation.plan.as_ref())
    }
}

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
    kind: KeyKind,
    query: Box<str>,
    operation_name: Option<Box<str>>,
    planned: Arc<Planned>,
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

    fn key(&self, kind: KeyKind, query: &str, operation_name: Option<&str>) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        kind.hash(&mut hasher);
        query.hash(&mut hasher);
        operation_name.hash(&mut hasher);
        hasher.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The preparation cached for this text or shape, if any.
    pub(crate) fn get(
        &self,
        kind: KeyKind,
        query: &str,
        operation_name: Option<&str>,
    ) -> Option<Arc<Planned>> {
        if query.len() > self.limits.max_document_bytes {
            return None;
        }
        let key = self.key(kind, query, operation_name);
        let mut state = self.lock();
        let entry = state.entries.get(&key)?;
        // A 64-bit collision is unlikely but would serve a wrong plan: compare the text.
        (entry.kind == kind
            && &*entry.query == query
            && entry.operation_name.as_deref() == operation_name)
            .then(|| entry.planned.clone())
    }

    /// Remembers a prepared operation, evicting the least recently used until both bounds hold; a document
    /// over the size cap, or an entry larger than the whole budget, is not kept.
    pub(crate) fn insert(
        &self,
        kind: KeyKind,
        query: &str,
        operation_name: Option<&str>,
        planned: Arc<Planned>,
    ) {
        // Texts of one shape share its prepared operation, but each is charged for it in full: what the cache
        // holds stays bounded even after the shape's own entry is evicted. Literals come out of the text, so
        // their values are charged as a second copy of it.
        let literals = if planned.literals.is_empty() {
            0
        } else {
            query.len() + planned.literals.len() * BYTES_PER_LITERAL
        };
        let bytes = query.len()
            + literals
            + operation_name.map_or(0, str::len)
            + planned
                .operation
                .shape
                .selections
                .saturating_mul(BYTES_PER_SELECTION);
        if query.len() > self.limits.max_document_bytes || bytes > self.limits.bytes {
            return;
        }
        let key = self.key(kind, query, operation_name);
        let entry = Entry {
            kind,
            query: query.into(),
            operation_name: operation_name.map(Into::into),
            planned,
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
