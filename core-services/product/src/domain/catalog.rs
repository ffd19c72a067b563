//! Categories, products and stock changes.

use quickmart_shared::{AppError, FieldErrors};
use uuid::Uuid;

use super::MAX_INT;
use crate::api::{CreateCategory, CreateProduct, StockAdjustment, UpdateProduct};

/// A valid new category.
#[derive(Debug, Clone)]
pub struct NewCategory {
    /// Trimmed display name.
    pub name: String,
    /// Validated slug.
    pub slug: String,
}

impl NewCategory {
    /// Validates `input`.
    pub fn parse(input: CreateCategory) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let name = checked_name(&mut problems, &input.name, 100);
        // Identifiers are taken as sent: a slug with spaces around it is not the slug.
        let slug = input.slug;
        let valid_slug = !slug.is_empty()
            && slug.len() <= 64
            && slug.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !valid_slug {
            problems
                .add("slug", "must be lower-case letters and digits separated by single dashes, at most 64 characters");
        }
        problems.finish(Self { name, slug })
    }
}

/// A valid new product.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// Validated SKU.
    pub sku: String,
    /// Trimmed name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price in minor units.
    pub price: i64,
    /// Initial stock.
    pub stock: i32,
    /// Category, if any.
    pub category_id: Option<Uuid>,
    /// On sale.
    pub active: bool,
}

impl NewProduct {
    /// Validates `input` for a store selling in `currency`.
    pub fn parse(input: CreateProduct, currency: &str) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let sku = input.sku;
        if sku.is_empty()
            || sku.len() > 64
            || !sku
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            problems.add("sku", "must be 1 to 64 letters, digits, `-`, `_` or `.`");
        }
        let name = checked_name(&mut problems, &input.name, 200);
        check_description(&mut problems, &input.description);
        check_price(&mut problems, "price", input.price);
        if let Some(given) = input.currency.as_deref()
            && given != currency
        {
            problems.add("currency", format!("the store sells in {currency} only"));
        }
        if !(0..=MAX_INT).contains(&input.stock) {
            problems.add("stock", format!("must be between 0 and {MAX_INT}"));
        }
        problems.finish(Self {
            sku,
            name,
            description: input.description,
            price: input.price,
            stock: i32::try_from(input.stock).unwrap_or_default(),
            category_id: input.category_id,
            active: input.active.unwrap_or(true),
        })
    }
}

/// Valid changes to a product.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    pub price: Option<i64>,
    /// New category.
    pub category_id: Option<Uuid>,
    /// New on-sale flag.
    pub active: Option<bool>,
}

impl ProductChanges {
    /// Validates `input`.
    pub fn parse(input: UpdateProduct) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let name = input
            .name
            .map(|name| checked_name(&mut problems, &name, 200));
        if let Some(description) = &input.description {
            check_description(&mut problems, description);
        }
        if let Some(price) = input.price {
            check_price(&mut problems, "price", price);
        }
        problems.finish(Self {
            name,
            description: input.description,
            price: input.price,
            category_id: input.category_id,
            active: input.active,
        })
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.price.is_none()
            && self.category_id.is_none()
            && self.active.is_none()
    }
}

/// A valid stock change.
#[derive(Debug, Clone, Copy)]
pub struct StockDelta(pub i32);

impl StockDelta {
    /// Validates `input`: non-zero and within the range of stock.
    pub fn parse(input: &StockAdjustment) -> Result<Self, AppError> {
        match i32::try_from(input.delta) {
            Ok(0) => Err(AppError::invalid("delta", "must not be zero")),
            Ok(delta) if delta != i32::MIN => Ok(Self(delta)),
            _ => Err(AppError::invalid(
                "delta",
                format!("must be between -{MAX_INT} and {MAX_INT}"),
            )),
        }
    }
}

/// The trimmed `name` (empty when invalid, with the problem recorded).
fn checked_name(problems: &mut FieldErrors, name: &str, max: usize) -> String {
    quickmart_shared::text::required_line(name, max).unwrap_or_else(|reason| {
        problems.add("name", reason);
        String::new()
    })
}

fn check_description(problems: &mut FieldErrors, description: &str) {
    if description.chars().count() > 5000 {
        problems.add("description", "must be at most 5000 characters");
    }
}

fn check_price(problems: &mut FieldErrors, field: &str, price: i64) {
    if !(0..=MAX_INT).contains(&price) {
        problems.add(
            field,
            format!("must be between 0 and {MAX_INT} minor units"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(price: i64, currency: Option<&str>, name: &str) -> CreateProduct {
        CreateProduct {
            sku: "SKU-1".into(),
            name: name.into(),
            description: String::new(),
            price,
            currency: currency.map(str::to_owned),
            stock: 1,
            category_id: None,
            active: None,
        }
    }

    fn fields(error: AppError) -> Vec<String> {
        error.field_errors().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = NewProduct::parse(product(-1, Some("EUR"), "  "), "USD").expect_err("invalid");
        assert_eq!(fields(error), ["name", "price", "currency"]);
    }

    #[test]
    fn prices_must_fit_a_graphql_int() {
        assert!(NewProduct::parse(product(MAX_INT, Some("USD"), "ok"), "USD").is_ok());
        assert!(NewProduct::parse(product(MAX_INT + 1, None, "ok"), "USD").is_err());
    }

    #[test]
    fn slugs_are_kebab_case() {
        let parse = |slug: &str| {
            NewCategory::parse(CreateCategory {
                name: "Books".into(),
                slug: slug.into(),
            })
        };
        assert!(parse("sci-fi-2").is_ok());
        for bad in ["", "Sci-Fi", "a--b", "-a", "a b"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
