//! The GraphQL types of the product subgraph.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use product_contract::api::{CategoryDto, ProductDto, ProductSort as CoreSort};
use quickmart_shared::AppError;
use quickmart_shared::graphql::{Money, PageInfo, camel_case};

use crate::loaders::RequestData;

/// The per-request data of a resolver.
pub(crate) fn request_data<'a>(ctx: &Context<'a>) -> Result<&'a RequestData, AppError> {
    ctx.data::<RequestData>()
        .map_err(|_| AppError::internal("product request data missing"))
}

/// A product of the catalog.
pub(crate) struct Product(pub ProductDto);

#[Object]
impl Product {
    /// Product id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Stock-keeping unit.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Description (may be empty).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Price in minor units of the store currency.
    async fn price(&self) -> Result<Money, AppError> {
        Money::from_minor(self.0.price, &self.0.currency)
    }
    /// Units available.
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    /// Whether it is on sale.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Its category, if any.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>, AppError> {
        match self.0.category_id {
            Some(id) => Ok(request_data(ctx)?.category(id).await?.map(Category)),
            None => Ok(None),
        }
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A category of the catalog.
pub(crate) struct Category(pub CategoryDto);

#[Object]
impl Category {
    /// Category id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
}

/// Sort orders of `products`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
pub enum ProductSort {
    /// Most recently added first.
    #[default]
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
    /// Alphabetical.
    NameAsc,
}

impl From<ProductSort> for CoreSort {
    fn from(sort: ProductSort) -> Self {
        match sort {
            ProductSort::Newest => Self::Newest,
            ProductSort::PriceAsc => Self::PriceAsc,
            ProductSort::PriceDesc => Self::PriceDesc,
            ProductSort::NameAsc => Self::NameAsc,
        }
    }
}

/// Filters of `products`; all optional, combined with AND.
#[derive(Debug, Clone, Default, InputObject)]
pub(crate) struct ProductFilter {
    /// Full-text search over name and description.
    pub search: Option<String>,
    /// Only this category.
    pub category_id: Option<ID>,
    /// Lowest price in minor units, inclusive.
    pub min_price: Option<i32>,
    /// Highest price in minor units, inclusive.
    pub max_price: Option<i32>,
    /// Only products in stock (true) or out of stock (false).
    pub in_stock: Option<bool>,
    /// Include inactive products (ADMIN only).
    pub include_inactive: Option<bool>,
}

/// A page of products.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct ProductConnection {
    /// The products with their cursors.
    pub edges: Vec<ProductEdge>,
    /// Paging information.
    pub page_info: PageInfo,
    /// How many products match in all.
    pub total_count: i32,
}

#[ComplexObject]
impl ProductConnection {
    /// The products of this page.
    async fn nodes(&self) -> Vec<&Product> {
        self.edges.iter().map(|e| &e.node).collect()
    }
}

/// A product and its cursor.
#[derive(SimpleObject)]
pub(crate) struct ProductEdge {
    /// Pass as `after` to continue after this product.
    pub cursor: String,
    /// The product.
    pub node: Product,
}

/// Input of `createCategory`.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct CreateCategoryInput {
    /// Display name.
    pub name: String,
    /// Lower-case letters, digits and single dashes; unique.
    pub slug: String,
}

/// Input of `createProduct`.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct CreateProductInput {
    /// Stock-keeping unit; unique.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Price in minor units.
    pub price: i32,
    /// Must be the store currency when given.
    pub currency: Option<String>,
    /// Initial stock (default 0).
    pub stock: Option<i32>,
    /// Category id.
    pub category_id: Option<ID>,
}

/// Input of `updateProduct`: only the fields given change.
#[derive(Debug, Clone, InputObject)]
pub(crate) struct UpdateProductInput {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price in minor units.
    pub price: Option<i32>,
    /// New category id.
    pub category_id: Option<ID>,
    /// On sale or not.
    pub active: Option<bool>,
}

/// Renames the fields of a list error to the `products` arguments.
pub(crate) fn list_field(field: &str) -> String {
    match field {
        "limit" => "first".to_owned(),
        "after" | "sort" => field.to_owned(),
        other => format!("filter.{}", camel_case(other)),
    }
}

/// An error for an input that failed before reaching the core.
pub(crate) fn forbidden_inactive() -> AppError {
    AppError::Forbidden("only admins may list inactive products".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_fields_become_graphql_fields() {
        assert_eq!(list_field("min_price"), "filter.minPrice");
        assert_eq!(list_field("limit"), "first");
    }
}
