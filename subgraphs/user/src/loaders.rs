//! Per-request batching: users by id, batched per request and cached in Redis (cache-aside; user-core deletes
//! the keys after every write).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use user_contract::api::UserDto;
use user_contract::cache::{USER_TTL, user_key};
use uuid::Uuid;

use crate::accounts::Accounts;

/// Loads users by id: from the cache first, the misses in one call to user-core.
pub(crate) struct UserLoader {
    accounts: Accounts,
    ctx: CallContext,
}

impl Loader<Uuid> for UserLoader {
    type Value = UserDto;
    // DataLoader errors must be `Clone`.
    type Error = Arc<AppError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, UserDto>, Self::Error> {
        let cache = &self.accounts.cache;
        let cache_keys: Vec<String> = ids.iter().map(|id| user_key(*id)).collect();
        let cached = cache.get_many_versioned::<UserDto>(&cache_keys).await;
        let mut found: HashMap<Uuid, UserDto> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (id, hit) in ids.iter().zip(cached) {
            match hit {
                Some(user) => {
                    found.insert(*id, user);
                }
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            let loaded = self
                .accounts
                .core
                .lookup(&self.ctx, missing)
                .await
                .map_err(Arc::new)?;
            // A compare-and-set on the version: a copy read before a concurrent change never replaces that
            // change's invalidation.
            let entries: Vec<(String, i64, Option<&UserDto>)> = loaded
                .iter()
                .map(|u| (user_key(u.id), u.version, Some(u)))
                .collect();
            cache.put_versioned(&entries, USER_TTL).await;
            found.extend(loaded.into_iter().map(|u| (u.id, u)));
        }
        Ok(found)
    }
}

/// What one request shares between its resolvers: the user loader, and user-core for calls that are not
/// batched.
pub(crate) struct RequestData {
    /// Batches user reads.
    users: DataLoader<UserLoader>,
    /// user-core, the cache and the signer.
    pub(crate) accounts: Accounts,
    /// The request's caller, request id and trace, for every call to user-core.
    pub(crate) ctx: CallContext,
}

impl RequestData {
    /// Fresh per-request data.
    pub(crate) fn new(accounts: Accounts, ctx: CallContext) -> Self {
        let loader = UserLoader {
            accounts: accounts.clone(),
            ctx: ctx.clone(),
        };
        Self {
            users: DataLoader::new(loader, tokio::spawn),
            accounts,
            ctx,
        }
    }

    /// A user by id, through the request's loader (and the cache behind it).
    pub(crate) async fn user(&self, id: Uuid) -> Result<Option<UserDto>, AppError> {
        self.users.load_one(id).await.map_err(AppError::unshare)
    }
}
