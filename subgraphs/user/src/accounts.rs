//! What every request of the user subgraph shares for the life of the process: user-core, the cache (user
//! entries and rate-limit counters) and the access-token signer.

use std::sync::Arc;

use quickmart_shared::auth::JwtSigner;
use quickmart_shared::cache::Cache;
use user_contract::UserCoreClient;

use crate::rate_limit::LimitStore;

/// user-core, the cache and the signer; cheap to clone (one per request).
#[derive(Clone)]
pub(crate) struct Accounts {
    /// user-core's API.
    pub(crate) core: UserCoreClient,
    /// User entries (cache-aside).
    pub(crate) cache: Cache,
    /// Login and registration counters (Redis, or this replica's memory while Redis is down).
    pub(crate) limits: LimitStore,
    /// Mints access tokens.
    pub(crate) signer: Arc<JwtSigner>,
}
