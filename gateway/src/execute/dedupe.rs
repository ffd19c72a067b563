//! In-flight deduplication: identical subgraph queries that are in flight at once share one request.
//!
//! "Identical" is strict: the same subgraph (each client has its own table), the same body (operation and
//! variables, byte for byte) and the same forwarded headers, `Authorization` and the client address included, so
//! two callers who could get different answers never share one. Only the request id and trace context are left
//! out: they name a request, they do not change its answer. Mutations are never shared. The shared request runs
//! as a task of its own, so a caller that hangs up does not cancel it for the others; everyone who waited gets
//! the same answer, failures included. A shared answer is parsed once, by the first caller who reads it, and the
//! others take a copy of the parsed response: copying it costs a fraction of parsing it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use http::{HeaderMap, HeaderName, StatusCode};

use super::fetch::SubgraphResponse;
use crate::response::error::{ErrorCode, GraphQLError};

/// What a subgraph fetch ends with.
pub(crate) type Answer = Result<(StatusCode, Bytes), GraphQLError>;

/// Headers that differ per request without changing its answer.
const NOT_IN_KEY: [HeaderName; 3] = [
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
];

/// A fetch every caller who asked for it while it ran sees.
pub(crate) struct SharedAnswer {
    /// The subgraph's status and body, or why there is none.
    pub answer: Answer,
    /// How many callers joined the one who started the fetch. Final once the answer is out: the fetch leaves
    /// the table before it finishes, so no one can join after.
    joined: Arc<AtomicUsize>,
    parsed: OnceLock<Result<SubgraphResponse, GraphQLError>>,
}

impl SharedAnswer {
    /// The answer read with `parse`: a caller who shared it with no one parses it for itself; otherwise it is
    /// parsed once and each caller gets a copy.
    pub(crate) fn parsed(
        &self,
        parse: impl FnOnce(&Answer) -> Result<SubgraphResponse, GraphQLError>,
    ) -> Result<SubgraphResponse, GraphQLError> {
        if self.joined.load(Ordering::Acquire) == 0 {
            return parse(&self.answer);
        }
        self.parsed.get_or_init(|| parse(&self.answer)).clone()
    }
}

/// A fetch in flight, and how many callers joined it.
type Running = (
    Shared<BoxFuture<'static, Arc<SharedAnswer>>>,
    Arc<AtomicUsize>,
);

/// The fetches of one subgraph in flight, by key, with how many callers joined each.
pub(crate) struct InFlight {
    fetches: Mutex<HashMap<Vec<u8>, Running>>,
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

    fn fetches(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Running>> {
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
    ) -> Arc<SharedAnswer> {
        let answer = {
            let mut fetches = self.fetches();
            if let Some((running, joined)) = fetches.get(&key) {
                self.shared.increment(1);
                joined.fetch_add(1, Ordering::AcqRel);
                running.clone()
            } else {
                let (table, finished) = (Arc::clone(self), key.clone());
                let joined = Arc::new(AtomicUsize::new(0));
                let fetch = start();
                let task = tokio::spawn(async move {
                    let answer = fetch.await;
                    table.fetches().remove(&finished);
                    answer
                });
                let counted = Arc::clone(&joined);
                let answer = async move {
                    let answer = task.await.unwrap_or_else(|_| {
                        Err(GraphQLError::with_code(
                            "The subgraph request was abandoned",
                            ErrorCode::InternalServerError,
                        ))
                    });
                    Arc::new(SharedAnswer {
                        answer,
                        joined: counted,
                        parsed: OnceLock::new(),
                    })
                }
                .boxed()
                .shared();
                fetches.insert(key, (answer.clone(), joined));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(joined: usize) -> SharedAnswer {
        SharedAnswer {
            answer: Ok((StatusCode::OK, Bytes::from_static(br#"{"data":{"n":1}}"#))),
            joined: Arc::new(AtomicUsize::new(joined)),
            parsed: OnceLock::new(),
        }
    }

    fn parse_counting(
        parses: &AtomicUsize,
    ) -> impl Fn(&Answer) -> Result<SubgraphResponse, GraphQLError> {
        move |answer| {
            parses.fetch_add(1, Ordering::Relaxed);
            let (_, bytes) = answer.as_ref().map_err(Clone::clone)?;
            Ok(serde_json::from_slice(bytes).expect("a response"))
        }
    }

    /// Shared by several callers, an answer is parsed once and each caller gets all of it; a caller who shared
    /// it with no one parses it itself and nothing is kept.
    #[test]
    fn a_shared_answer_is_parsed_once() {
        let parses = AtomicUsize::new(0);
        let shared = answer(3);
        for _ in 0..4 {
            let response = shared.parsed(parse_counting(&parses)).expect("parsed");
            assert_eq!(response.data, Some(serde_json::json!({ "n": 1 })));
        }
        assert_eq!(parses.load(Ordering::Relaxed), 1);

        let parses = AtomicUsize::new(0);
        let alone = answer(0);
        alone.parsed(parse_counting(&parses)).expect("parsed");
        assert_eq!(parses.load(Ordering::Relaxed), 1);
        assert!(
            alone.parsed.get().is_none(),
            "a lone caller's answer is not kept"
        );
    }
}
