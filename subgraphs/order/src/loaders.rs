//! Per-request batching: every order asked for while resolving one request (entity references) becomes one
//! lookup, and every `User.orders` page asked for at one level of a request becomes one `by-users` call.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use order_contract::api::{OrderDto, OrderPage, OrdersByUsers};
use quickmart_shared::AppError;
use quickmart_shared::cache::LimitStore;
use quickmart_shared::client::CallContext;
use uuid::Uuid;

use order_contract::OrderCoreClient;

/// Loads orders by id for one request, as the caller may see them.
pub(crate) struct OrderLoader {
    core: OrderCoreClient,
    ctx: CallContext,
}

impl Loader<Uuid> for OrderLoader {
    type Value = OrderDto;
    type Error = Arc<AppError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, OrderDto>, Self::Error> {
        self.core.lookup(&self.ctx, ids).await.map_err(Arc::new)
    }
}

/// One buyer's page of `User.orders`, as the field's arguments ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct UserOrdersKey {
    /// The buyer.
    pub user_id: Uuid,
    /// Page size.
    pub limit: i64,
    /// Cursor to continue after.
    pub after: Option<String>,
}

/// Loads `User.orders` pages for one request: one order-core call per distinct page shape (normally one).
pub(crate) struct UserOrdersLoader {
    core: OrderCoreClient,
    ctx: CallContext,
}

/// Most buyers order-core takes in one `by-users` call.
const USERS_PER_CALL: usize = 100;

impl Loader<UserOrdersKey> for UserOrdersLoader {
    type Value = OrderPage;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[UserOrdersKey],
    ) -> Result<HashMap<UserOrdersKey, OrderPage>, Self::Error> {
        let mut shapes: HashMap<(i64, Option<&str>), Vec<Uuid>> = HashMap::new();
        for key in keys {
            shapes
                .entry((key.limit, key.after.as_deref()))
                .or_default()
                .push(key.user_id);
        }
        let mut pages = HashMap::with_capacity(keys.len());
        for ((limit, after), user_ids) in shapes {
            for chunk in user_ids.chunks(USERS_PER_CALL) {
                let query = OrdersByUsers {
                    user_ids: chunk.to_vec(),
                    status: None,
                    limit: Some(limit),
                    after: after.map(str::to_owned),
                };
                let found = self
                    .core
                    .pages_by_users(&self.ctx, &query)
                    .await
                    .map_err(Arc::new)?;
                for page in found.pages {
                    let key = UserOrdersKey {
                        user_id: page.user_id,
                        limit,
                        after: after.map(str::to_owned),
                    };
                    pages.insert(key, page.page);
                }
            }
        }
        Ok(pages)
    }
}

/// What one request shares between its resolvers.
pub(crate) struct RequestData {
    /// Batches order reads.
    pub orders: DataLoader<OrderLoader>,
    /// Batches `User.orders` pages.
    pub user_orders: DataLoader<UserOrdersLoader>,
    /// order-core.
    pub core: OrderCoreClient,
    /// The guest-cart rate-limit counters.
    pub limits: LimitStore,
}

impl RequestData {
    /// Fresh per-request data.
    pub(crate) fn new(core: OrderCoreClient, limits: LimitStore, ctx: CallContext) -> Self {
        Self {
            orders: DataLoader::new(
                OrderLoader {
                    core: core.clone(),
                    ctx: ctx.clone(),
                },
                tokio::spawn,
            ),
            user_orders: DataLoader::new(
                UserOrdersLoader {
                    core: core.clone(),
                    ctx,
                },
                tokio::spawn,
            ),
            core,
            limits,
        }
    }
}
