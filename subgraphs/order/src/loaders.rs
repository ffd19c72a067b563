//! Per-request batching: every order asked for while resolving one request (entity references) becomes one
//! lookup.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use order_core::api::OrderDto;
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use uuid::Uuid;

use crate::core::OrderCore;

/// Loads orders by id for one request, as the caller may see them.
pub struct OrderLoader {
    core: OrderCore,
    ctx: CallContext,
}

impl Loader<Uuid> for OrderLoader {
    type Value = OrderDto;
    type Error = Arc<AppError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, OrderDto>, Self::Error> {
        self.core.lookup(&self.ctx, ids).await.map_err(Arc::new)
    }
}

/// What one request shares between its resolvers.
pub struct RequestData {
    /// Batches order reads.
    pub orders: DataLoader<OrderLoader>,
    /// order-core.
    pub core: OrderCore,
}

impl RequestData {
    /// Fresh per-request data.
    pub fn new(core: OrderCore, ctx: CallContext) -> Self {
        Self { orders: DataLoader::new(OrderLoader { core: core.clone(), ctx }, tokio::spawn), core }
    }
}
