//! The typed client of product-core: one method per route its callers use, over the shared internal client.

use quickmart_shared::AppError;
use quickmart_shared::client::{CallContext, InternalClient};
use uuid::Uuid;

use crate::api::{
    CategoryDto, CreateCategory, CreateProduct, CreateReservation, LookupProducts, ProductDto,
    ProductList, ProductPage, ProductQuery, ReservationDto, StockAdjustment, UpdateProduct,
};

/// product-core over REST.
#[derive(Debug, Clone)]
pub struct ProductCoreClient {
    client: InternalClient,
}

impl ProductCoreClient {
    /// A client over `client` (its base URL, internal token and timeout).
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// The products with these ids (unknown ones are left out); a read, so retried when the answer is lost.
    pub async fn lookup(&self, ctx: &CallContext, ids: Vec<Uuid>) -> Result<ProductList, AppError> {
        self.client
            .post("/v1/products/lookup")
            .idempotent()
            .json(&LookupProducts { ids })?
            .send(ctx)
            .await
    }

    /// A page of products.
    pub async fn list(
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

    /// Every category, by name.
    pub async fn categories(&self, ctx: &CallContext) -> Result<Vec<CategoryDto>, AppError> {
        self.client.get("/v1/categories").send(ctx).await
    }

    /// Creates a category.
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

    /// Changes a product.
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

    /// Adds `delta` units (negative: removes them).
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

    /// Holds stock for every line or none; repeating a request with the same id holds it once, so it is retried.
    pub async fn reserve(
        &self,
        ctx: &CallContext,
        request: &CreateReservation,
    ) -> Result<ReservationDto, AppError> {
        self.client
            .post("/v1/reservations")
            .json(request)?
            .idempotent()
            .send(ctx)
            .await
    }

    /// Commits a reservation (idempotent).
    pub async fn commit(
        &self,
        ctx: &CallContext,
        reservation_id: Uuid,
    ) -> Result<ReservationDto, AppError> {
        self.client
            .post(&format!("/v1/reservations/{reservation_id}/commit"))
            .idempotent()
            .send(ctx)
            .await
    }

    /// Releases a reservation, restocking it once however often this is called (idempotent).
    pub async fn release(&self, ctx: &CallContext, reservation_id: Uuid) -> Result<(), AppError> {
        self.client
            .post(&format!("/v1/reservations/{reservation_id}/release"))
            .idempotent()
            .send_empty(ctx)
            .await
    }
}
