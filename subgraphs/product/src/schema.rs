//! Queries, mutations and entity resolvers.

use async_graphql::{Context, EmptySubscription, ID, Object, Schema};
use product_contract::api::{CreateCategory, CreateProduct, ProductQuery, UpdateProduct};
use quickmart_shared::AppError;
use quickmart_shared::graphql::{
    AdminOnly, PageInfo, camel_case, parse_id, request_context, total_count, wants_total,
};
use quickmart_shared::pagination::PageSize;

use crate::types::{
    Category, CreateCategoryInput, CreateProductInput, Product, ProductConnection, ProductEdge,
    ProductFilter, ProductSort, UpdateProductInput, forbidden_inactive, list_field, request_data,
};

/// The product subgraph's schema.
pub type ProductSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema (no data attached: per-request data comes with each request).
pub fn build_schema() -> ProductSchema {
    schema_validating(async_graphql::ValidationMode::Strict)
}

/// Builds the schema with `mode` (the subgraph runs a text that validated once with `ValidationMode::Fast`).
pub fn schema_validating(mode: async_graphql::ValidationMode) -> ProductSchema {
    quickmart_shared::graphql::subgraph_schema(Query, Mutation, EmptySubscription)
        .validation_mode(mode)
        .finish()
}

/// Root queries.
pub struct Query;

#[Object]
impl Query {
    /// One product, active or not (so past orders still resolve).
    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>, AppError> {
        let id = parse_id(&id, "id")?;
        Ok(request_data(ctx)?.product(id).await?.map(Product))
    }

    /// A page of products: active ones only, unless an admin sets `filter.includeInactive`.
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        #[graphql(default)] sort: ProductSort,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ProductConnection, AppError> {
        let filter = filter.unwrap_or_default();
        let request = request_context(ctx)?;
        if filter.include_inactive == Some(true) && !request.caller.is_admin() {
            return Err(forbidden_inactive());
        }
        let page_size = PageSize::new(first.map(i64::from), "first")?;
        let category_id = filter
            .category_id
            .as_ref()
            .map(|id| parse_id(id, "filter.categoryId"))
            .transpose()?;
        let core_sort: product_contract::api::ProductSort = sort.into();
        let query = ProductQuery {
            search: filter.search,
            category_id,
            min_price: filter.min_price.map(i64::from),
            max_price: filter.max_price.map(i64::from),
            in_stock: filter.in_stock,
            include_inactive: filter.include_inactive,
            sort: Some(core_sort.as_str().to_owned()),
            limit: Some(i64::from(page_size.get())),
            after,
            with_total: Some(wants_total(ctx)),
        };
        let core = &request_data(ctx)?.core;
        let page = core
            .list_products(&request.call_context(), &query)
            .await
            .map_err(|e| e.map_fields(list_field))?;
        let edges: Vec<ProductEdge> = page
            .items
            .into_iter()
            .map(|e| ProductEdge {
                cursor: e.cursor,
                node: Product(e.product),
            })
            .collect();
        Ok(ProductConnection {
            page_info: PageInfo {
                has_next_page: page.has_more,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: total_count(page.total_count),
        })
    }

    /// Every category, by name.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>, AppError> {
        Ok(request_data(ctx)?
            .categories()
            .await?
            .iter()
            .cloned()
            .map(Category)
            .collect())
    }

    /// Resolves `Product` entity references (batched: N references are one core call).
    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Product>> {
        let Ok(id) = uuid::Uuid::parse_str(&id) else {
            return Ok(None);
        };
        Ok(request_data(ctx)?.products.load_one(id).await?.map(Product))
    }

    /// Resolves `Category` entity references.
    #[graphql(entity)]
    async fn find_category_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Category>, AppError> {
        let Ok(id) = uuid::Uuid::parse_str(&id) else {
            return Ok(None);
        };
        Ok(request_data(ctx)?.category(id).await?.map(Category))
    }
}

/// Root mutations (all for admins).
pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates a category.
    #[graphql(guard = "AdminOnly")]
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        input: CreateCategoryInput,
    ) -> Result<Category, AppError> {
        let call = request_context(ctx)?.call_context();
        let created = request_data(ctx)?
            .core
            .create_category(
                &call,
                &CreateCategory {
                    name: input.name,
                    slug: input.slug,
                },
            )
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        Ok(Category(created))
    }

    /// Creates a product.
    #[graphql(guard = "AdminOnly")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> Result<Product, AppError> {
        let call = request_context(ctx)?.call_context();
        let body = CreateProduct {
            sku: input.sku,
            name: input.name,
            description: input.description.unwrap_or_default(),
            price: i64::from(input.price),
            currency: input.currency,
            stock: i64::from(input.stock.unwrap_or(0)),
            category_id: input
                .category_id
                .as_ref()
                .map(|id| parse_id(id, "categoryId"))
                .transpose()?,
            active: None,
        };
        let created = request_data(ctx)?
            .core
            .create_product(&call, &body)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        Ok(Product(created))
    }

    /// Changes the given fields of a product.
    #[graphql(guard = "AdminOnly")]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProductInput,
    ) -> Result<Product, AppError> {
        let call = request_context(ctx)?.call_context();
        let id = parse_id(&id, "id")?;
        let body = UpdateProduct {
            name: input.name,
            description: input.description,
            price: input.price.map(i64::from),
            category_id: input
                .category_id
                .as_ref()
                .map(|id| parse_id(id, "categoryId"))
                .transpose()?,
            active: input.active,
        };
        let updated = request_data(ctx)?
            .core
            .update_product(&call, id, &body)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        Ok(Product(updated))
    }

    /// Adds to or removes from a product's stock; below zero is `BAD_USER_INPUT`.
    #[graphql(guard = "AdminOnly")]
    async fn adjust_stock(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        delta: i32,
    ) -> Result<Product, AppError> {
        let call = request_context(ctx)?.call_context();
        let id = parse_id(&product_id, "productId")?;
        let updated = request_data(ctx)?
            .core
            .adjust_stock(&call, id, i64::from(delta))
            .await?;
        Ok(Product(updated))
    }
}
