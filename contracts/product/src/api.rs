//! The REST contract of product-core: request and response bodies. OpenAPI derives come with the `openapi`
//! feature, which product-core enables and clients need not.

use chrono::{DateTime, Utc};
use quickmart_shared::AppError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A category of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryDto {
    /// Category id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
    /// When it was created.
    #[serde(with = "quickmart_shared::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /v1/categories`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCategory {
    /// Display name (1–100 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, format = "nonblank-line")
    )]
    pub name: String,
    /// Lower-case letters, digits and single dashes; unique.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")
    )]
    pub slug: String,
}

/// A product as the core stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductDto {
    /// Product id.
    pub id: Uuid,
    /// Stock-keeping unit; unique.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Description (may be empty).
    pub description: String,
    /// Price in minor units of `currency`.
    pub price: i64,
    /// The store currency.
    pub currency: String,
    /// Units available to reserve.
    pub stock: i32,
    /// Whether it is on sale.
    pub active: bool,
    /// Its category, if any.
    pub category_id: Option<Uuid>,
    /// When it was created.
    #[serde(with = "quickmart_shared::timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "quickmart_shared::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change to the product (stock included); caches use it never to go back in time.
    #[serde(default)]
    pub version: i64,
}

/// Body of `POST /v1/products`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// Stock-keeping unit (1–64 letters, digits, `-`, `_`, `.`); unique.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub sku: String,
    /// Display name (1–200 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, format = "nonblank-line")
    )]
    pub name: String,
    /// Description (up to 5000 characters).
    #[cfg_attr(feature = "openapi", schema(max_length = 5000))]
    #[serde(default)]
    pub description: String,
    /// Price in minor units (0 to 2147483647).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 2147483647))]
    pub price: i64,
    /// Must be the store currency when given.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Z]{3}$"))]
    #[serde(default)]
    pub currency: Option<String>,
    /// Initial stock (≥ 0).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 2147483647))]
    #[serde(default)]
    pub stock: i64,
    /// Category id, if any.
    #[serde(default)]
    pub category_id: Option<Uuid>,
    /// On sale right away (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// Body of `PATCH /v1/products/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    /// New name.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, format = "nonblank-line")
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[cfg_attr(feature = "openapi", schema(max_length = 5000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New price in minor units.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 2147483647))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    /// New category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    /// On sale or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// The schema of [`StockAdjustment::delta`]: a non-zero change within the range of stock.
#[cfg(feature = "openapi")]
fn stock_delta_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::{ObjectBuilder, OneOfBuilder, Type};
    let range = |low: i64, high: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(low))
            .maximum(Some(high))
    };
    let max = i64::from(i32::MAX);
    OneOfBuilder::new()
        .description(Some(
            "Units to add (positive) or remove (negative), never zero; stock never goes below zero.",
        ))
        .item(range(-max, -1))
        .item(range(1, max))
        .build()
        .into()
}

/// Body of `POST /v1/products/{id}/stock-adjustments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    /// Units to add (positive) or remove (negative), never zero; stock never goes below zero.
    #[cfg_attr(feature = "openapi", schema(schema_with = stock_delta_schema))]
    pub delta: i64,
}

/// Body of `POST /v1/products/lookup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LookupProducts {
    /// Up to 1000 ids; unknown ones are left out of the answer.
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub ids: Vec<Uuid>,
}

/// Answer of `POST /v1/products/lookup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductList {
    /// The products found.
    pub items: Vec<ProductDto>,
}

/// Sort orders of the product list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Most recently created first.
    #[default]
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
    /// Alphabetical.
    NameAsc,
}

impl ProductSort {
    /// Every sort order.
    pub const ALL: [Self; 4] = [Self::Newest, Self::PriceAsc, Self::PriceDesc, Self::NameAsc];

    /// The query-string spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
            Self::NameAsc => "name_asc",
        }
    }
}

/// Query of `GET /v1/products`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ProductQuery {
    /// Full-text search over name and description.
    #[cfg_attr(feature = "openapi", param(max_length = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Only this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    /// Lowest price, inclusive.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 2147483647))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<i64>,
    /// Highest price, inclusive.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 2147483647))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<i64>,
    /// `true`: only products with stock; `false`: only those without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    /// Include inactive products (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_inactive: Option<bool>,
    /// `newest` (default), `price_asc`, `price_desc` or `name_asc`. Text on the wire, so that an unknown value
    /// is reported with the other invalid fields (422) rather than as a malformed query (400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<ProductSort>))]
    pub sort: Option<String>,
    /// Page size, 1–100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Whether to count every match for `total_count` (default true); `false` skips that count, the costliest
    /// part of a page, for a caller that shows no total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_total: Option<bool>,
    /// Cursor of the last item of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One page of products.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductPage {
    /// The products with their cursors, in order.
    pub items: Vec<ProductEdge>,
    /// Whether another page follows.
    pub has_more: bool,
    /// How many products match the filter in all; absent when the request said `with_total=false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}

/// A product and its position in the list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductEdge {
    /// Pass as `after` to continue after this product.
    pub cursor: String,
    /// The product.
    pub product: ProductDto,
}

/// One line of a reservation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReservationLineRequest {
    /// The product.
    pub product_id: Uuid,
    /// Units to hold (≥ 1).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub quantity: i64,
}

/// Body of `POST /v1/reservations`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateReservation {
    /// Client-chosen id: repeating a request with the same id and lines returns the first reservation, so a
    /// retry after a lost answer holds stock only once.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// The lines; each product at most once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub lines: Vec<ReservationLineRequest>,
    /// Seconds before an uncommitted reservation is released (default: the service's TTL, 15 minutes).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3600))]
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
}

/// Lifecycle of a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    /// Stock is held until committed or expired.
    Held,
    /// The order was placed; stock stays taken until released.
    Committed,
    /// The stock went back on the shelf.
    Released,
}

impl ReservationStatus {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "HELD",
            Self::Committed => "COMMITTED",
            Self::Released => "RELEASED",
        }
    }

    /// Parses the database spelling.
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value {
            "HELD" => Ok(Self::Held),
            "COMMITTED" => Ok(Self::Committed),
            "RELEASED" => Ok(Self::Released),
            other => Err(AppError::internal(format!(
                "unknown reservation status {other}"
            ))),
        }
    }
}

/// A reserved line with the snapshots taken at reservation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReservationLineDto {
    /// The product.
    pub product_id: Uuid,
    /// Its SKU then.
    pub sku: String,
    /// Its name then.
    pub name: String,
    /// Its price then, in minor units.
    pub unit_price: i64,
    /// Units held.
    pub quantity: i32,
}

/// A reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReservationDto {
    /// Reservation id.
    pub id: Uuid,
    /// Where it is in its lifecycle.
    pub status: ReservationStatus,
    /// When an uncommitted reservation is released.
    #[serde(with = "quickmart_shared::timestamp")]
    pub expires_at: DateTime<Utc>,
    /// The store currency of the prices.
    pub currency: String,
    /// The lines, in request order.
    pub lines: Vec<ReservationLineDto>,
}
