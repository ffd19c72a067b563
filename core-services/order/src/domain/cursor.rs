//! The keyset cursor of the order list: opaque to clients, decoded only here.

use chrono::{DateTime, Utc};
use quickmart_shared::AppError;
use quickmart_shared::pagination::{decode_cursor, encode_cursor};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::OrderDto;

/// A keyset position in the order list (newest first). The wire keys are one letter to keep cursors short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCursor {
    /// Creation time of the last order seen.
    #[serde(rename = "c")]
    #[serde(with = "quickmart_shared::timestamp")]
    pub created_at: DateTime<Utc>,
    /// Its id.
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl OrderCursor {
    /// The position of `order`.
    pub fn of(order: &OrderDto) -> Self {
        Self {
            created_at: order.created_at,
            id: order.id,
        }
    }

    /// Encodes the position as an opaque cursor.
    pub fn encode(&self) -> String {
        encode_cursor(self)
    }

    /// Decodes a cursor made by [`Self::encode`]; anything else is `BAD_USER_INPUT` naming `field`.
    pub fn decode(cursor: &str, field: &str) -> Result<Self, AppError> {
        decode_cursor(cursor, field)
    }
}
