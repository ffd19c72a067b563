//! product-core as the subgraph uses it: the contract's typed client, with cache-aside reads of products by id
//! and of the category list.

use std::collections::HashMap;

use product_contract::ProductCoreClient;
use product_contract::api::{
    CategoryDto, CreateCategory, CreateProduct, ProductDto, ProductPage, ProductQuery,
    UpdateProduct,
};
use product_contract::cache::{CATEGORIES_TTL, PRODUCT_TTL, categories_key, product_key};
use quickmart_shared::AppError;
use quickmart_shared::cache::{Cache, Keyspace};
use quickmart_shared::client::{CallContext, InternalClient};
use uuid::Uuid;

/// How products are cached.
const PRODUCTS: Keyspace<Uuid, ProductDto> = Keyspace {
    name: "product",
    key: product_key,
    id: |product| product.id,
    version: |product| product.version,
    ttl: PRODUCT_TTL,
};

/// product-core, as the subgraph sees it.
#[derive(Clone)]
pub(crate) struct Catalog {
    client: ProductCoreClient,
    cache: Cache,
}

impl Catalog {
    /// A client over `client` that caches reads in `cache`.
    pub(crate) fn new(client: InternalClient, cache: Cache) -> Self {
        Self {
            client: ProductCoreClient::new(client),
            cache,
        }
    }

    /// Products by id, from the cache where possible and from one core call for the rest.
    pub(crate) async fn products_by_ids(
        &self,
        ctx: &CallContext,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ProductDto>, AppError> {
        self.cache
            .read_through(ids, &PRODUCTS, |missing| async {
                Ok(self.client.lookup(ctx, missing).await?.items)
            })
            .await
    }

    /// A page of products (lists are not cached: filters make them too varied to be worth it).
    pub(crate) async fn list_products(
        &self,
        ctx: &CallContext,
        query: &ProductQuery,
    ) -> Result<ProductPage, AppError> {
        self.client.list(ctx, query).await
    }

    /// Every category, from the cache (its near copy first) where possible.
    pub(crate) async fn categories(&self, ctx: &CallContext) -> Result<Vec<CategoryDto>, AppError> {
        let key = categories_key();
        if let Some(categories) = self.cache.get_json_near(&key).await {
            return Ok(categories);
        }
        let categories = self.client.categories(ctx).await?;
        self.cache.set_json(&key, &categories, CATEGORIES_TTL).await;
        Ok(categories)
    }

    /// Creates a category. product-core drops the cached list everywhere; this replica drops its near copy at
    /// once too, so the writer's next read has the new category without waiting for the invalidation channel.
    pub(crate) async fn create_category(
        &self,
        ctx: &CallContext,
        input: &CreateCategory,
    ) -> Result<CategoryDto, AppError> {
        let created = self.client.create_category(ctx, input).await?;
        self.cache.delete(&[categories_key()]).await;
        Ok(created)
    }

    /// Creates a product.
    pub(crate) async fn create_product(
        &self,
        ctx: &CallContext,
        input: &CreateProduct,
    ) -> Result<ProductDto, AppError> {
        self.client.create_product(ctx, input).await
    }

    /// Changes a product (product-core invalidates its cache entry; the new copy is cached at once).
    pub(crate) async fn update_product(
        &self,
        ctx: &CallContext,
        id: Uuid,
        input: &UpdateProduct,
    ) -> Result<ProductDto, AppError> {
        let product = self.client.update_product(ctx, id, input).await?;
        self.remember(&product).await;
        Ok(product)
    }

    /// Adjusts a product's stock (product-core invalidates its cache entry; the new copy is cached at once).
    pub(crate) async fn adjust_stock(
        &self,
        ctx: &CallContext,
        id: Uuid,
        delta: i64,
    ) -> Result<ProductDto, AppError> {
        let product = self.client.adjust_stock(ctx, id, delta).await?;
        self.remember(&product).await;
        Ok(product)
    }

    /// Caches a copy the core just returned from a write, so the writer reads its own change through this
    /// replica without waiting for the invalidation channel (the versioned rule keeps a newer write's state).
    async fn remember(&self, product: &ProductDto) {
        let entry = [(product_key(product.id), product.version, Some(product))];
        self.cache.put_versioned(&entry, PRODUCT_TTL).await;
    }
}
