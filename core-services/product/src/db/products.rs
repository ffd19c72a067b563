//! Product rows: reads with filters and keyset pages, writes, and stock adjustments.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use quickmart_shared::db::{is_foreign_key_violation, is_unique_violation};
use uuid::Uuid;

use crate::api::{ProductDto, ProductSort};
use crate::domain::ProductCursor;
use crate::domain::{ListFilter, NewProduct, ProductChanges, StockDelta};
use crate::schema::products;

/// A product row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct ProductRow {
    id: Uuid,
    sku: String,
    name: String,
    description: String,
    price: i64,
    stock: i32,
    active: bool,
    category_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl ProductRow {
    /// The row as the API shows it.
    pub fn into_dto(self, currency: &str) -> ProductDto {
        ProductDto {
            id: self.id,
            sku: self.sku,
            name: self.name,
            description: self.description,
            price: self.price,
            currency: currency.to_owned(),
            stock: self.stock,
            active: self.active,
            category_id: self.category_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = products)]
struct ProductChangeset {
    name: Option<String>,
    description: Option<String>,
    price: Option<i64>,
    category_id: Option<Uuid>,
    active: Option<bool>,
    updated_at: DateTime<Utc>,
}

/// One product.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<ProductRow>, AppError> {
    Ok(products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The products with these ids (unknown ids are skipped).
pub(crate) async fn find_many(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<ProductRow>, AppError> {
    Ok(products::table
        .filter(products::id.eq_any(ids))
        .select(ProductRow::as_select())
        .load(conn)
        .await?)
}

fn filtered(filter: &ListFilter) -> products::BoxedQuery<'static, Pg> {
    let mut query = products::table.into_boxed();
    if !filter.include_inactive {
        query = query.filter(products::active.eq(true));
    }
    if let Some(search) = &filter.search {
        query = query.filter(
            sql::<Bool>("search_document @@ websearch_to_tsquery('english', ")
                .bind::<Text, _>(search.clone())
                .sql(")"),
        );
    }
    if let Some(category) = filter.category_id {
        query = query.filter(products::category_id.eq(category));
    }
    if let Some(min) = filter.min_price {
        query = query.filter(products::price.ge(min));
    }
    if let Some(max) = filter.max_price {
        query = query.filter(products::price.le(max));
    }
    match filter.in_stock {
        Some(true) => query = query.filter(products::stock.gt(0)),
        Some(false) => query = query.filter(products::stock.eq(0)),
        None => {}
    }
    query
}

/// One page of the filtered, sorted list, one row longer than the page when another page follows; and the
/// number of matching products, when the filter asks for it.
pub(crate) async fn page(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
) -> Result<(Vec<ProductRow>, Option<i64>), AppError> {
    use products::dsl::{created_at, id, name, price};
    let mut query = filtered(filter).select(ProductRow::as_select());
    query = match (filter.sort, &filter.after) {
        (
            ProductSort::Newest,
            Some(ProductCursor::Newest {
                created_at: c,
                id: i,
            }),
        ) => query.filter(created_at.lt(*c).or(created_at.eq(*c).and(id.lt(*i)))),
        (ProductSort::PriceAsc, Some(ProductCursor::Price { price: p, id: i })) => {
            query.filter(price.gt(*p).or(price.eq(*p).and(id.gt(*i))))
        }
        (ProductSort::PriceDesc, Some(ProductCursor::Price { price: p, id: i })) => {
            query.filter(price.lt(*p).or(price.eq(*p).and(id.lt(*i))))
        }
        (ProductSort::NameAsc, Some(ProductCursor::Name { name: n, id: i })) => {
            query.filter(name.gt(n.clone()).or(name.eq(n.clone()).and(id.gt(*i))))
        }
        _ => query,
    };
    query = match filter.sort {
        ProductSort::Newest => query.order((created_at.desc(), id.desc())),
        ProductSort::PriceAsc => query.order((price.asc(), id.asc())),
        ProductSort::PriceDesc => query.order((price.desc(), id.desc())),
        ProductSort::NameAsc => query.order((name.asc(), id.asc())),
    };
    let rows = query
        .limit(filter.page_size.limit_plus_one())
        .load(conn)
        .await?;
    let total = if filter.with_total {
        Some(filtered(filter).count().get_result(conn).await?)
    } else {
        None
    };
    Ok((rows, total))
}

/// The current version of each of `ids` that exists (for the cache's tombstones).
pub(crate) async fn versions(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, AppError> {
    Ok(products::table
        .filter(products::id.eq_any(ids))
        .select((products::id, products::version))
        .load(conn)
        .await?)
}

/// Inserts a product; a taken SKU is `CONFLICT` on `sku`, an unknown category `BAD_USER_INPUT` on `category_id`.
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    product: NewProduct,
) -> Result<ProductRow, AppError> {
    let now = Utc::now();
    let row = ProductRow {
        id: Uuid::now_v7(),
        sku: product.sku,
        name: product.name,
        description: product.description,
        price: product.price,
        stock: product.stock,
        active: product.active,
        category_id: product.category_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(products::table)
        .values(&row)
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|error| {
            if is_unique_violation(&error, "products_sku_key") {
                AppError::conflict("sku", "a product with this SKU exists already")
            } else if is_foreign_key_violation(&error, "products_category_id_fkey") {
                AppError::invalid("category_id", "no such category")
            } else {
                error.into()
            }
        })
}

/// Applies `changes`; `None` when the product does not exist.
pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    product_id: Uuid,
    changes: ProductChanges,
) -> Result<Option<ProductRow>, AppError> {
    if changes.is_empty() {
        return find(conn, product_id).await;
    }
    let changeset = ProductChangeset {
        name: changes.name,
        description: changes.description,
        price: changes.price,
        category_id: changes.category_id,
        active: changes.active,
        updated_at: Utc::now(),
    };
    diesel::update(products::table.find(product_id))
        .set(&changeset)
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(|error| {
            if is_foreign_key_violation(&error, "products_category_id_fkey") {
                AppError::invalid("category_id", "no such category")
            } else {
                error.into()
            }
        })
}

/// Adds `delta` to the stock in one conditional update, so concurrent adjustments never take it below zero.
pub(crate) async fn adjust_stock(
    conn: &mut AsyncPgConnection,
    product_id: Uuid,
    StockDelta(delta): StockDelta,
) -> Result<ProductRow, AppError> {
    use products::dsl::{id, stock, updated_at};
    // Bounds on the current stock under which the result stays within 0..=i32::MAX.
    let (lowest, highest) = if delta < 0 {
        (-delta, i32::MAX)
    } else {
        (0, i32::MAX - delta)
    };
    let updated = diesel::update(
        products::table
            .filter(id.eq(product_id))
            .filter(stock.between(lowest, highest)),
    )
    .set((stock.eq(stock + delta), updated_at.eq(Utc::now())))
    .returning(ProductRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(row) => Ok(row),
        None => match find(conn, product_id).await? {
            None => Err(AppError::NotFound(format!("no product {product_id}"))),
            Some(current) if delta < 0 => Err(AppError::invalid(
                "delta",
                format!("would take the stock below zero (it is {})", current.stock),
            )),
            Some(_) => Err(AppError::invalid(
                "delta",
                "would take the stock above the largest allowed value",
            )),
        },
    }
}
