//! Category rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use quickmart_shared::AppError;
use quickmart_shared::db::is_unique_violation;
use uuid::Uuid;

use crate::api::CategoryDto;
use crate::domain::NewCategory;
use crate::schema::categories;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
struct CategoryRow {
    id: Uuid,
    name: String,
    slug: String,
    created_at: DateTime<Utc>,
}

impl From<CategoryRow> for CategoryDto {
    fn from(row: CategoryRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            created_at: row.created_at,
        }
    }
}

/// Every category, by name.
pub(crate) async fn list(conn: &mut AsyncPgConnection) -> Result<Vec<CategoryDto>, AppError> {
    let rows = categories::table
        .select(CategoryRow::as_select())
        .order((categories::name, categories::id))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One category.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<CategoryDto>, AppError> {
    let row = categories::table
        .find(id)
        .select(CategoryRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Into::into))
}

/// Inserts a category; a taken slug is `CONFLICT` on `slug`.
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    category: NewCategory,
) -> Result<CategoryDto, AppError> {
    let row = CategoryRow {
        id: Uuid::now_v7(),
        name: category.name,
        slug: category.slug,
        created_at: Utc::now(),
    };
    diesel::insert_into(categories::table)
        .values(&row)
        .returning(CategoryRow::as_returning())
        .get_result(conn)
        .await
        .map(Into::into)
        .map_err(|error| {
            if is_unique_violation(&error, "categories_slug_key") {
                AppError::conflict("slug", "a category with this slug exists already")
            } else {
                error.into()
            }
        })
}
