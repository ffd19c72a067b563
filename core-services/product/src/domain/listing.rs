//! The product list's filter, sort and page.

use quickmart_shared::pagination::PageSize;
use quickmart_shared::{AppError, FieldErrors};
use uuid::Uuid;

use super::MAX_INT;
use super::ProductCursor;
use crate::api::{ProductQuery, ProductSort};

/// A valid product list request.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// Full-text query (websearch syntax), if any.
    pub search: Option<String>,
    /// Only this category.
    pub category_id: Option<Uuid>,
    /// Lowest price, inclusive.
    pub min_price: Option<i64>,
    /// Highest price, inclusive.
    pub max_price: Option<i64>,
    /// Only with (or without) stock.
    pub in_stock: Option<bool>,
    /// Include inactive products.
    pub include_inactive: bool,
    /// Sort order.
    pub sort: ProductSort,
    /// Page size.
    pub page_size: PageSize,
    /// Continue after this position.
    pub after: Option<ProductCursor>,
    /// Whether to count every match.
    pub with_total: bool,
}

impl ListFilter {
    /// Validates a query.
    pub fn parse(query: ProductQuery) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let sort = match query.sort.as_deref().map(|spelling| {
            ProductSort::ALL
                .into_iter()
                .find(|sort| sort.as_str() == spelling)
                .ok_or(())
        }) {
            None => ProductSort::default(),
            Some(Ok(sort)) => sort,
            Some(Err(())) => {
                problems.add(
                    "sort",
                    "must be one of newest, price_asc, price_desc, name_asc",
                );
                ProductSort::default()
            }
        };
        let page_size = PageSize::new(query.limit, "limit").unwrap_or_else(|error| {
            problems.absorb(error);
            PageSize::new(None, "limit")
                .unwrap_or_else(|_| unreachable!("the default page size is valid"))
        });
        for (field, price) in [
            ("min_price", query.min_price),
            ("max_price", query.max_price),
        ] {
            if price.is_some_and(|p| !(0..=MAX_INT).contains(&p)) {
                problems.add(field, format!("must be between 0 and {MAX_INT}"));
            }
        }
        if let (Some(min), Some(max)) = (query.min_price, query.max_price)
            && min > max
        {
            problems.add("max_price", "must not be below min_price");
        }
        let search = query
            .search
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
            problems.add("search", "must be at most 200 characters");
        }
        let after = match query
            .after
            .as_deref()
            .map(|c| ProductCursor::decode(c, sort, "after"))
            .transpose()
        {
            Ok(after) => after,
            Err(error) => {
                problems.absorb(error);
                None
            }
        };
        problems.finish(Self {
            search,
            category_id: query.category_id,
            min_price: query.min_price,
            max_price: query.max_price,
            in_stock: query.in_stock,
            include_inactive: query.include_inactive.unwrap_or(false),
            sort,
            page_size,
            after,
            with_total: query.with_total.unwrap_or(true),
        })
    }
}
