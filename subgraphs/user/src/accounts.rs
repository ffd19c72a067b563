//! What every request of the user subgraph shares for the life of the process: user-core, the cache (user
//! entries and rate-limit counters) and the access-token signer.

use std::sync::Arc;

use quickmart_shared::auth::JwtSigner;
use quickmart_shared::cache::Cache;
use user_contract::UserCoreClient;
use user_contract::api::UserDto;
use user_contract::cache::{USER_TTL, user_key};

use quickmart_shared::cache::LimitStore;

/// user-core, the cache and the signer; cheap to clone (one per request).
#[derive(Clone)]
pub(crate) struct Accounts {
    /// user-core's API.
    pub(crate) core: UserCoreClient,
    /// User entries (versioned, with a near copy).
    pub(crate) cache: Cache,
    /// Login and registration counters (Redis, or this replica's memory while Redis is down).
    pub(crate) limits: LimitStore,
    /// Mints access tokens.
    pub(crate) signer: Arc<JwtSigner>,
}

impl Accounts {
    /// Caches a copy user-core just returned from a write, so the writer reads its own change through this
    /// replica without waiting for the invalidation channel (the versioned rule keeps a newer write's state).
    pub(crate) async fn remember(&self, user: &UserDto) {
        let entry = [(user_key(user.id), user.version, Some(user))];
        self.cache.put_versioned(&entry, USER_TTL).await;
    }
}
