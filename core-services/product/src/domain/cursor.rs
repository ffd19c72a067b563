//! Keyset cursors of the product list: opaque to clients, decoded only here.

use chrono::{DateTime, Utc};
use quickmart_shared::AppError;
use quickmart_shared::pagination::{decode_cursor, encode_cursor};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::{ProductDto, ProductSort};

/// A keyset position in the product list, tied to one sort order. The wire keys are one letter to keep cursors
/// short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "s")]
pub enum ProductCursor {
    /// Position under [`ProductSort::Newest`].
    #[serde(rename = "n")]
    Newest {
        /// Creation time of the last product seen.
        #[serde(rename = "c")]
        #[serde(with = "quickmart_shared::timestamp")]
        created_at: DateTime<Utc>,
        /// Its id.
        #[serde(rename = "i")]
        id: Uuid,
    },
    /// Position under either price order.
    #[serde(rename = "p")]
    Price {
        /// Price of the last product seen.
        #[serde(rename = "p")]
        price: i64,
        /// Its id.
        #[serde(rename = "i")]
        id: Uuid,
    },
    /// Position under [`ProductSort::NameAsc`].
    #[serde(rename = "a")]
    Name {
        /// Name of the last product seen.
        #[serde(rename = "n")]
        name: String,
        /// Its id.
        #[serde(rename = "i")]
        id: Uuid,
    },
}

impl ProductCursor {
    /// The position of `product` under `sort`.
    pub fn of(sort: ProductSort, product: &ProductDto) -> Self {
        match sort {
            ProductSort::Newest => Self::Newest {
                created_at: product.created_at,
                id: product.id,
            },
            ProductSort::PriceAsc | ProductSort::PriceDesc => Self::Price {
                price: product.price,
                id: product.id,
            },
            ProductSort::NameAsc => Self::Name {
                name: product.name.clone(),
                id: product.id,
            },
        }
    }

    /// Encodes the position as an opaque cursor.
    pub fn encode(&self) -> String {
        encode_cursor(self)
    }

    /// Decodes a cursor, refusing one made under another sort order.
    pub fn decode(cursor: &str, sort: ProductSort, field: &str) -> Result<Self, AppError> {
        let position: Self = decode_cursor(cursor, field)?;
        let matches = matches!(
            (&position, sort),
            (Self::Newest { .. }, ProductSort::Newest)
                | (
                    Self::Price { .. },
                    ProductSort::PriceAsc | ProductSort::PriceDesc
                )
                | (Self::Name { .. }, ProductSort::NameAsc)
        );
        if matches {
            Ok(position)
        } else {
            Err(AppError::invalid(field, "was made for another sort order"))
        }
    }
}
