//! In-flight deduplication: identical subgraph queries that are in flight at once share one request.
//!
//! "Identical" is strict: the same subgraph (each client has its own table), the same body (operation and
//! variables, byte for byte) and the same forwarded headers, `Authorization` and the client address included, so
//! two callers who could get different answers never share one. Only the request id and trace context are left
//! out: they name a request, they do not change its answer. Mutations are never shared. The shared request runs
//! as a task of its own, so a caller that hangs up does not cancel it for the others; everyone who waited gets
//! the same answer, failures included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use http::{HeaderMap, HeaderName, StatusCode};

use crate::response::error::{ErrorCode, GraphQLError};

/// What a subgraph fetch ends with.
pub(crate) type Answer = Result<(StatusCode, Bytes), GraphQLError>;

/// Headers that differ per request without changing its answer.
const NOT_IN_KEY: [HeaderName; 3] = [
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
];

/// The fetches of one subgraph in flight, by key.
pub(crate) struct InFlight {
    fetches: Mutex<HashMap<Vec<u8>, Shared<BoxFuture<'static, Answer>>>>,
    shared: metrics::Counter,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight").finish_non_exhaustive()
    }
}

impl InFlight {
    /// An empty table for `subgraph` (the label of `gateway_subgraph_fetches_shared_total`).
    pub(crate) fn new(subgraph: &str) -> Arc<Self> {
        Arc::new(Self {
            fetches: Mutex::new(HashMap::new()),
            shared: metrics::counter!(
                "gateway_subgraph_fetches_shared_total",
                "subgraph" => subgraph.to_owned()
            ),
        })
    }

    fn fetches(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Shared<BoxFuture<'static, Answer>>>> {
        self.fetches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer of the fetch `key` names: joined when one is in flight, else started with `start` (as a task
    /// of its own) for this caller and whoever asks the same while it runs.
    pub(crate) async fn share(
        self: &Arc<Self>,
        key: Vec<u8>,
        start: impl FnOnce() -> BoxFuture<'static, Answer>,
    ) -> Answer {
        let answer = {
            let mut fetches = self.fetches();
            if let Some(running) = fetches.get(&key) {
                self.shared.increment(1);
                running.clone()
            } else {
                let (table, finished) = (Arc::clone(self), key.clone());
                let fetch = start();
                let task = tokio::spawn(async move {
                    let answer = fetch.await;
                    table.fetches().remove(&finished);
                    answer
                });
                let answer = async move {
                    task.await.unwrap_or_else(|_| {
                        Err(GraphQLError::with_code(
                            "The subgraph request was abandoned",
                            ErrorCode::InternalServerError,
                        ))
                    })
                }
                .boxed()
                .shared();
                fetches.insert(key, answer.clone());
                answer
            }
        };
        answer.await
    }

    /// How many fetches are in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.fetches().len()
    }
}

/// The key of a fetch: every forwarded header that can change the answer (sorted, so their order does not
/// matter), then the body.
pub(crate) fn key(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .filter(|(name, _)| !NOT_IN_KEY.contains(name))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    pairs.sort_unstable();
    let mut key = Vec::with_capacity(body.len() + 256);
    for (name, value) in pairs {
        key.extend_from_slice(name.as_bytes());
        key.push(b':');
        // A length prefix, so no value can be crafted to look like another header or the body.
        key.extend_from_slice(&(value.len() as u32).to_le_bytes());
        key.extend_from_slice(value);
    }
    key.push(0xff);
    key.extend_from_slice(body);
    key
}
