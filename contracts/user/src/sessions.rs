//! How every subgraph learns an account's current token version (the `sessions` feature): through the cache
//! (near copy, then Redis, then user-core; stale entries while user-core is unavailable), keyed like the user
//! subgraph's own user entries, so user-core's invalidation after a role, password or sign-out reaches it too.

use std::time::Duration;

use async_trait::async_trait;
use quickmart_shared::cache::{Cache, Keyspace};
use quickmart_shared::client::{CallContext, InternalClient};
use quickmart_shared::graphql::Sessions;
use quickmart_shared::server::StartError;
use quickmart_shared::{AppError, ServiceId};
use secrecy::SecretString;
use uuid::Uuid;

use crate::UserCoreClient;
use crate::api::UserDto;
use crate::cache::{USER_TTL, user_key};

/// How users are cached: by id, versioned.
pub const USERS: Keyspace<Uuid, UserDto> = Keyspace {
    name: "user",
    key: user_key,
    id: |user| user.id,
    version: |user| user.version,
    ttl: USER_TTL,
};

/// Token versions read from the cache, filled from user-core.
pub struct TokenVersions {
    core: UserCoreClient,
    cache: Cache,
}

/// Longest the check may wait for user-core (on a cache miss): it holds up every signed-in request.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

impl TokenVersions {
    /// Token versions from `cache`, asking `core` on a miss.
    pub fn new(core: UserCoreClient, cache: Cache) -> Self {
        Self { core, cache }
    }

    /// The check of a subgraph of another module: its own client of user-core at `user_core_url`.
    pub fn connect(
        user_core_url: &str,
        internal_token: SecretString,
        cache: Cache,
    ) -> Result<Self, StartError> {
        let client = InternalClient::new(
            ServiceId::UserCore.name(),
            user_core_url,
            internal_token,
            CHECK_TIMEOUT,
        )
        .map_err(|e| StartError::Other(format!("user-core client: {e}")))?;
        Ok(Self::new(UserCoreClient::new(client), cache))
    }
}

#[async_trait]
impl Sessions for TokenVersions {
    async fn current_version(&self, user: Uuid, ctx: &CallContext) -> Result<i64, AppError> {
        let found = self
            .cache
            .read_through(&[user], &USERS, |ids| self.core.lookup(ctx, ids))
            .await?;
        found
            .get(&user)
            .map(|user| user.token_version)
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "the account of this access token does not exist".to_owned(),
                )
            })
    }
}
