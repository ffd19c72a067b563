//! Cache keys and lifetimes of product-core's entities, defined once so the subgraph that fills an entry and
//! the core that invalidates it never disagree.

use std::time::Duration;

use uuid::Uuid;

/// A product by id.
pub fn product_key(id: Uuid) -> String {
    format!("qm:v1:product:{id}")
}

/// The list of all categories.
pub fn categories_key() -> String {
    "qm:v1:categories".to_owned()
}

/// Products: every write invalidates them, so the lifetime only bounds memory.
pub const PRODUCT_TTL: Duration = Duration::from_secs(300);
/// Categories change rarely and are invalidated by `POST /v1/categories`.
pub const CATEGORIES_TTL: Duration = Duration::from_secs(600);
