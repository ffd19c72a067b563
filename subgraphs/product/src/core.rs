//! The typed client of product-core, with cache-aside reads of products by id and of the category list.

use std::collections::HashMap;

use product_core::api::{
    CategoryDto, CreateCategory, CreateProduct, LookupProducts, ProductDto, ProductList,
    ProductPage, ProductQuery, StockAdjustment, UpdateProduct,
};
use quickmart_shared::AppError;
use quickmart_shared::cache::{Cache, keys, ttl};
use quickmart_shared::client::{CallContext, InternalClient};
use uuid::Uuid;

/// product-core, as the subgraph sees it.
#[derive(Clone)]
pub struct ProductCore {
    client: InternalClient,
    cache: Cache,
}

impl ProductCore {
    /// A client over `client` that caches reads in `cache`.
    pub fn new(client: InternalClient, cache: Cache) -> Self {
        Self { client, cache }
    }

    /// Products by id, from the cache where possible and from one core call for the rest.
    pub async fn products_by_ids(
        &self,
        ctx: &CallContext,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ProductDto>, AppError> {
        let cache_keys: Vec<String> = ids.iter().map(|id| keys::product(*id)).collect();
        let cached: Vec<Option<ProductDto>> = self.cache.get_many_json(&cache_keys).await;
        let mut found: HashMap<Uuid, ProductDto> =
            cached.into_iter().flatten().map(|p| (p.id, p)).collect();
        let missing: Vec<Uuid> = ids
            .iter()
            .filter(|id| !found.contains_key(id))
            .copied()
            .collect();
        if !missing.is_empty() {
            let fetched: ProductList = self
                .client
                .post("/v1/products/lookup")
                .idempotent()
                .json(&LookupProducts { ids: missing })?
                .send(ctx)
                .await?;
            let entries: Vec<(String, &ProductDto)> = fetched
                .items
                .iter()
                .map(|p| (keys::product(p.id), p))
                .collect();
            self.cache.set_many_json(&entries, ttl::PRODUCT).await;
            found.extend(fetched.items.into_iter().map(|p| (p.id, p)));
        }
        Ok(found)
    }

    /// A page of products (lists are not cached: filters make them too varied to be worth it).
    pub async fn list_products(
        &self,
        ctx: &CallContext,
        query: &ProductQuery,
    ) -> Result<ProductPage, AppError> {
        self.client
            .get("/v1/products")
            .query(query)?
            .send(ctx)
            .await
    }

    /// Every category, from the cache where possible.
    pub async fn categories(&self, ctx: &CallContext) -> Result<Vec<CategoryDto>, AppError> {
        let key = keys::categories();
        if let Some(categories) = self.cache.get_json(&key).await {
            return Ok(categories);
        }
        let categories: Vec<CategoryDto> = self.client.get("/v1/categories").send(ctx).await?;
        self.cache
            .set_json(&key, &categories, ttl::CATEGORIES)
            .await;
        Ok(categories)
    }

    /// Creates a category (product-core drops the cached list).
    pub async fn create_category(
        &self,
        ctx: &CallContext,
        input: &CreateCategory,
    ) -> Result<CategoryDto, AppError> {
        self.client
            .post("/v1/categories")
            .json(input)?
            .send(ctx)
            .await
    }

    /// Creates a product.
    pub async fn create_product(
        &self,
        ctx: &CallContext,
        input: &CreateProduct,
    ) -> Result<ProductDto, AppError> {
        self.client
            .post("/v1/products")
            .json(input)?
            .send(ctx)
            .await
    }

    /// Changes a product (product-core drops its cache entry).
    pub async fn update_product(
        &self,
        ctx: &CallContext,
        id: Uuid,
        input: &UpdateProduct,
    ) -> Result<ProductDto, AppError> {
        self.client
            .patch(&format!("/v1/products/{id}"))
            .json(input)?
            .send(ctx)
            .await
    }

    /// Adjusts a product's stock (product-core drops its cache entry).
    pub async fn adjust_stock(
        &self,
        ctx: &CallContext,
        id: Uuid,
        delta: i64,
    ) -> Result<ProductDto, AppError> {
        self.client
            .post(&format!("/v1/products/{id}/stock-adjustments"))
            .json(&StockAdjustment { delta })?
            .send(ctx)
            .await
    }
}
