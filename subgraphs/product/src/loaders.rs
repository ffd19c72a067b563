//! Per-request batching: every product asked for while resolving one request becomes one lookup.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use product_contract::api::{CategoryDto, ProductDto};
use quickmart_shared::AppError;
use quickmart_shared::client::CallContext;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::catalog::Catalog;

/// Loads products by id for one request.
pub(crate) struct ProductLoader {
    core: Catalog,
    ctx: CallContext,
}

impl Loader<Uuid> for ProductLoader {
    type Value = ProductDto;
    type Error = Arc<AppError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, ProductDto>, Self::Error> {
        self.core
            .products_by_ids(&self.ctx, ids)
            .await
            .map_err(Arc::new)
    }
}

/// What one request shares between its resolvers: the product loader and the category list.
pub(crate) struct RequestData {
    /// Batches product reads.
    pub products: DataLoader<ProductLoader>,
    categories: OnceCell<Arc<Vec<CategoryDto>>>,
    /// The core, for calls that are not batched.
    pub core: Catalog,
    ctx: CallContext,
}

impl RequestData {
    /// Fresh per-request data.
    pub(crate) fn new(core: Catalog, ctx: CallContext) -> Self {
        let loader = ProductLoader {
            core: core.clone(),
            ctx: ctx.clone(),
        };
        Self {
            products: DataLoader::new(loader, tokio::spawn),
            categories: OnceCell::new(),
            core,
            ctx,
        }
    }

    /// One product, without the batching round (a root field names one id; batching it would only add a
    /// task hand-off and a timer to every read).
    pub(crate) async fn product(&self, id: Uuid) -> Result<Option<ProductDto>, AppError> {
        Ok(self
            .core
            .products_by_ids(&self.ctx, &[id])
            .await?
            .remove(&id))
    }

    /// The category list, read at most once per request.
    pub(crate) async fn categories(&self) -> Result<Arc<Vec<CategoryDto>>, AppError> {
        self.categories
            .get_or_try_init(|| async { self.core.categories(&self.ctx).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// One category by id.
    pub(crate) async fn category(&self, id: Uuid) -> Result<Option<CategoryDto>, AppError> {
        Ok(self
            .categories()
            .await?
            .iter()
            .find(|c| c.id == id)
            .cloned())
    }
}
