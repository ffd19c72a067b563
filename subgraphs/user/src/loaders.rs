//! Per-request batching: users by id, batched per request and cached (versioned entries; user-core leaves a
//! tombstone after every write).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use user_contract::api::UserDto;
use user_contract::sessions::USERS;
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
        self.accounts
            .cache
            .read_through(ids, &USERS, |missing| {
                self.accounts.core.lookup(&self.ctx, missing)
            })
            .await
            .map_err(Arc::new)
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
