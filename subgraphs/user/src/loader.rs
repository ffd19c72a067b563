//! Users by id, batched per request and cached in Redis (cache-aside; mutations here delete the keys).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use user_contract::api::UserDto;
use user_contract::cache::{USER_TTL, user_key};
use uuid::Uuid;

use crate::Services;

/// Loads users by id: from the cache first, the misses in one call to user-core.
pub struct UserLoader {
    services: Arc<Services>,
    call: CallContext,
}

impl UserLoader {
    /// A loader calling user-core on behalf of one request.
    pub(crate) fn new(services: Arc<Services>, call: CallContext) -> Self {
        Self { services, call }
    }
}

impl Loader<Uuid> for UserLoader {
    type Value = UserDto;
    // DataLoader errors must be `Clone`.
    type Error = Arc<AppError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, UserDto>, Self::Error> {
        let cache = &self.services.cache;
        let cache_keys: Vec<String> = ids.iter().map(|id| user_key(*id)).collect();
        let cached = cache.get_many_json::<UserDto>(&cache_keys).await;
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
                .services
                .core
                .lookup(&self.call, missing)
                .await
                .map_err(Arc::new)?;
            let entries: Vec<(String, &UserDto)> =
                loaded.iter().map(|u| (user_key(u.id), u)).collect();
            cache.set_many_json(&entries, USER_TTL).await;
            found.extend(loaded.into_iter().map(|u| (u.id, u)));
        }
        Ok(found)
    }
}
