//! Persisted documents (docs/ARCHITECTURE.md, "Persisted documents"): a client may send the SHA-256 of a document
//! instead of its text, as `documentId: "sha256:<hex>"` or as Apollo's automatic persisted queries
//! (`extensions.persistedQuery.sha256Hash`).
//!
//! - Trusted documents come from a manifest in Apollo's `apollo-persisted-query-manifest` format, checked at start:
//!   each id must be its body's hash and each body must prepare. With `GATEWAY_PERSISTED_ONLY` nothing else runs.
//! - Otherwise a client registers a document by sending the hash with the text. It is stored only once it has
//!   parsed, validated and passed every limit, in Redis for `GATEWAY_APQ_TTL_SECS` and in a bounded in-process
//!   copy that also serves while Redis is down. Documents are named by their hash, so a copy is never stale.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use quickmart_shared::cache::Cache;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::GatewayError;
use crate::gateway::GraphQLRequest;

/// Registered documents kept in the process: at most this many bytes of text.
const LOCAL_BYTES: u64 = 32 * 1024 * 1024;

/// Where a request's document comes from.
#[derive(Debug)]
pub(crate) enum Document<'r> {
    /// The text the request carries (or none).
    Sent(Option<&'r str>),
    /// A persisted document, found by its hash.
    Stored(Arc<str>),
    /// Text sent with its hash: to be registered once it prepares.
    Register {
        /// The document.
        text: &'r str,
        /// Its SHA-256, lower-case hex.
        hash: String,
    },
}

impl Document<'_> {
    /// The document's text, if any.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Self::Sent(text) => *text,
            Self::Stored(text) => Some(text),
            Self::Register { text, .. } => Some(text),
        }
    }
}

/// Why a request's persisted document cannot be used; each is one client error code.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PersistedError {
    /// No document has this hash (the client may send it again with the text).
    #[error("PersistedQueryNotFound")]
    NotFound,
    /// The text's hash is not the hash sent with it.
    #[error("The document's SHA-256 is not the hash sent with it")]
    HashMismatch,
    /// Only the manifest's documents run here.
    #[error("This gateway runs only persisted documents: send a documentId from its manifest")]
    Required,
    /// The hash or the `persistedQuery` extension is malformed.
    #[error("{0}")]
    Malformed(&'static str),
}

/// The manifest and the registered documents.
pub(crate) struct PersistedDocuments {
    manifest: HashMap<String, Arc<str>>,
    only_manifest: bool,
    registered: Option<Registered>,
}

struct Registered {
    cache: Option<Cache>,
    local: moka::sync::Cache<String, Arc<str>>,
    ttl: Duration,
}

/// Apollo's `apollo-persisted-query-manifest` file.
#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

impl PersistedDocuments {
    /// From the configuration: the manifest at `manifest` (if any), registration through `cache` unless
    /// `only_manifest`.
    pub(crate) fn new(
        manifest: Option<&Path>,
        only_manifest: bool,
        cache: Option<Cache>,
        ttl: Duration,
    ) -> Result<Self, GatewayError> {
        let manifest = match manifest {
            Some(path) => load_manifest(path)?,
            None if only_manifest => {
                return Err(GatewayError::Config {
                    name: "GATEWAY_PERSISTED_ONLY",
                    reason: "needs GATEWAY_PERSISTED_MANIFEST: with no manifest nothing could run"
                        .to_owned(),
                });
            }
            None => HashMap::new(),
        };
        let registered = (!only_manifest).then(|| Registered {
            cache,
            local: moka::sync::Cache::builder()
                .weigher(|key: &String, text: &Arc<str>| {
                    u32::try_from(key.len() + text.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(LOCAL_BYTES)
                .time_to_live(ttl)
                .build(),
            ttl,
        });
        Ok(Self {
            manifest,
            only_manifest,
            registered,
        })
    }

    /// The manifest's documents, to check at start that each prepares.
    pub(crate) fn manifest(&self) -> impl Iterator<Item = (&str, &str)> {
        self.manifest
            .iter()
            .map(|(id, body)| (id.as_str(), &**body))
    }

    /// Where `request`'s document comes from.
    pub(crate) async fn resolve<'r>(
        &self,
        request: &'r GraphQLRequest,
    ) -> Result<Document<'r>, PersistedError> {
        let text = request.query.as_deref().filter(|q| !q.trim().is_empty());
        let Some(hash) = requested_hash(request)? else {
            return match text {
                Some(text)
                    if self.only_manifest && !self.manifest.contains_key(&sha256_hex(text)) =>
                {
                    Err(PersistedError::Required)
                }
                _ => Ok(Document::Sent(text)),
            };
        };
        if let Some(text) = text {
            if sha256_hex(text) != hash {
                return Err(PersistedError::HashMismatch);
            }
            if self.manifest.contains_key(&hash) {
                return Ok(Document::Sent(Some(text)));
            }
            return match self.registered {
                Some(_) => Ok(Document::Register { text, hash }),
                None => Err(PersistedError::Required),
            };
        }
        if let Some(body) = self.manifest.get(&hash) {
            return Ok(Document::Stored(body.clone()));
        }
        let registered = self.registered.as_ref().ok_or(PersistedError::NotFound)?;
        if let Some(body) = registered.local.get(&hash) {
            return Ok(Document::Stored(body));
        }
        let Some(cache) = &registered.cache else {
            return Err(PersistedError::NotFound);
        };
        match cache.get_json::<String>(&cache_key(&hash)).await {
            // Redis holds what a replica stored; it is checked like anything else from outside.
            Some(body) if sha256_hex(&body) == hash => {
                let body: Arc<str> = body.into();
                registered.local.insert(hash, body.clone());
                Ok(Document::Stored(body))
            }
            _ => Err(PersistedError::NotFound),
        }
    }

    /// Stores a document that has prepared, under its hash.
    pub(crate) async fn register(&self, hash: String, text: &str) {
        let Some(registered) = &self.registered else {
            return;
        };
        if let Some(cache) = &registered.cache {
            cache
                .set_json(&cache_key(&hash), &text, registered.ttl)
                .await;
        }
        registered.local.insert(hash, text.into());
    }
}

/// The hash the request names, lower-case hex; `None` when it names none.
fn requested_hash(request: &GraphQLRequest) -> Result<Option<String>, PersistedError> {
    if let Some(id) = &request.document_id {
        return id
            .strip_prefix("sha256:")
            .and_then(parse_hex)
            .map(Some)
            .ok_or(PersistedError::Malformed(
                "documentId must be `sha256:` and 64 hexadecimal digits",
            ));
    }
    let Some(persisted) = request
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("persistedQuery"))
    else {
        return Ok(None);
    };
    if persisted.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(PersistedError::Malformed(
            "persistedQuery.version must be 1",
        ));
    }
    persisted
        .get("sha256Hash")
        .and_then(Value::as_str)
        .and_then(parse_hex)
        .map(Some)
        .ok_or(PersistedError::Malformed(
            "persistedQuery.sha256Hash must be 64 hexadecimal digits",
        ))
}

fn parse_hex(hex: &str) -> Option<String> {
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The SHA-256 of `text`, lower-case hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn cache_key(hash: &str) -> String {
    format!("qm:apq:v1:{hash}")
}

fn load_manifest(path: &Path) -> Result<HashMap<String, Arc<str>>, GatewayError> {
    let invalid = |reason: String| GatewayError::Config {
        name: "GATEWAY_PERSISTED_MANIFEST",
        reason,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "{} is not a persisted query manifest: {e}",
            path.display()
        ))
    })?;
    if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
        return Err(invalid(format!(
            "{} has format {:?} version {}; expected apollo-persisted-query-manifest version 1",
            path.display(),
            manifest.format,
            manifest.version
        )));
    }
    let mut documents = HashMap::with_capacity(manifest.operations.len());
    for operation in manifest.operations {
        let id = parse_hex(&operation.id)
            .filter(|id| *id == sha256_hex(&operation.body))
            .ok_or_else(|| {
                invalid(format!(
                    "operation {:?}: the id is not the SHA-256 of its body",
                    operation.id
                ))
            })?;
        documents.insert(id, Arc::from(operation.body));
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(value: Value) -> GraphQLRequest {
        serde_json::from_value(value).expect("a request")
    }

    const QUERY: &str = "{ __typename }";

    fn documents(only_manifest: bool, manifest: &[&str]) -> PersistedDocuments {
        let mut documents =
            PersistedDocuments::new(None, false, None, Duration::from_secs(60)).expect("documents");
        documents.manifest = manifest
            .iter()
            .map(|body| (sha256_hex(body), Arc::from(*body)))
            .collect();
        if only_manifest {
            documents.only_manifest = true;
            documents.registered = None;
        }
        documents
    }

    #[tokio::test]
    async fn register_then_hit_then_mismatch() {
        let documents = documents(false, &[]);
        let hash = sha256_hex(QUERY);
        let by_hash = request(
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
        );
        assert_eq!(
            documents.resolve(&by_hash).await.unwrap_err(),
            PersistedError::NotFound
        );
        let with_text = request(json!({
            "query": QUERY, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash.to_uppercase() } }
        }));
        let Ok(Document::Register {
            hash: registered, ..
        }) = documents.resolve(&with_text).await
        else {
            panic!("registers")
        };
        documents.register(registered, QUERY).await;
        assert_eq!(
            documents.resolve(&by_hash).await.expect("hit").text(),
            Some(QUERY)
        );
        let by_id = request(json!({ "documentId": format!("sha256:{hash}") }));
        assert_eq!(
            documents.resolve(&by_id).await.expect("hit").text(),
            Some(QUERY)
        );
        let wrong = request(json!({
            "query": "{ me { id } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } }
        }));
        assert_eq!(
            documents.resolve(&wrong).await.unwrap_err(),
            PersistedError::HashMismatch
        );
    }

    #[tokio::test]
    async fn malformed_hashes_are_refused() {
        let documents = documents(false, &[]);
        for bad in [
            json!({ "documentId": "md5:abc" }),
            json!({ "documentId": format!("sha256:{}", "g".repeat(64)) }),
            json!({ "documentId": format!("sha256:{}", "a".repeat(63)) }),
            json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": "a".repeat(64) } } }),
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": 5 } } }),
        ] {
            assert!(
                matches!(
                    documents.resolve(&request(bad.clone())).await,
                    Err(PersistedError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn manifest_only_runs_nothing_else() {
        let documents = documents(true, &[QUERY]);
        let known = request(json!({ "documentId": format!("sha256:{}", sha256_hex(QUERY)) }));
        assert_eq!(
            documents.resolve(&known).await.expect("known").text(),
            Some(QUERY)
        );
        assert_eq!(
            documents
                .resolve(&request(json!({ "query": QUERY })))
                .await
                .expect("its text")
                .text(),
            Some(QUERY)
        );
        let other = "{ me { id } }";
        assert_eq!(
            documents
                .resolve(&request(json!({ "query": other })))
                .await
                .unwrap_err(),
            PersistedError::Required
        );
        let unknown = request(json!({ "documentId": format!("sha256:{}", sha256_hex(other)) }));
        assert_eq!(
            documents.resolve(&unknown).await.unwrap_err(),
            PersistedError::NotFound
        );
        let registering = request(json!({
            "query": other, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(other) } }
        }));
        assert_eq!(
            documents.resolve(&registering).await.unwrap_err(),
            PersistedError::Required
        );
    }

    #[test]
    fn a_manifest_whose_id_is_not_its_hash_is_refused() {
        let dir = std::env::temp_dir().join(format!("manifest-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("manifest.json");
        let write = |operations: Value| {
            std::fs::write(
                &path,
                json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations })
                    .to_string(),
            )
            .expect("write");
        };
        write(json!([{ "id": sha256_hex(QUERY), "name": "T", "type": "query", "body": QUERY }]));
        assert_eq!(load_manifest(&path).expect("loads").len(), 1);
        write(
            json!([{ "id": sha256_hex("{ other }"), "name": "T", "type": "query", "body": QUERY }]),
        );
        assert!(load_manifest(&path).is_err());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
