//! A validated placement request and its hash.

use quickmart_shared::AppError;
use quickmart_shared::error::FieldErrors;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::PlaceOrder;
use quickmart_shared::address::PostalAddress;

/// Most lines one order may hold.
pub const MAX_LINES: usize = 100;
/// Most units of one product one line may hold.
pub const MAX_QUANTITY: i64 = 1000;

/// One requested line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: Uuid,
    /// Units (1–1000).
    pub quantity: i32,
}

/// A valid order request: 1 to 100 lines in request order, each product once (a repeated product is refused,
/// not merged, so the order always mirrors the request line for line), 1 to 1000 units each; and an optional
/// valid shipping address.
#[derive(Debug, Clone)]
pub struct NewOrder {
    lines: Vec<OrderLine>,
    shipping_address: Option<PostalAddress>,
}

impl NewOrder {
    /// Validates `input`, reporting every invalid field at once.
    pub fn parse(input: PlaceOrder) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        if input.items.is_empty() || input.items.len() > MAX_LINES {
            problems.add(
                "items",
                format!("must hold between 1 and {MAX_LINES} lines"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (index, item) in input.items.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                problems.add(
                    format!("items[{index}].quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
            }
            if !seen.insert(item.product_id) {
                problems.add(
                    format!("items[{index}].product_id"),
                    "appears on an earlier line; put all units of a product on one line",
                );
            }
        }
        let shipping_address = match input
            .shipping_address
            .map(|a| PostalAddress::parse(a, "shipping_address"))
        {
            Some(Ok(address)) => Some(address),
            Some(Err(error)) => {
                problems.absorb(error);
                None
            }
            None => None,
        };
        let lines = input
            .items
            .iter()
            .map(|item| OrderLine {
                product_id: item.product_id,
                quantity: i32::try_from(item.quantity).unwrap_or(0),
            })
            .collect();
        problems.finish(Self {
            lines,
            shipping_address,
        })
    }

    /// The lines, in request order.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    /// The shipping address, if given.
    pub fn shipping_address(&self) -> Option<&PostalAddress> {
        self.shipping_address.as_ref()
    }

    /// A stable hash of the whole request, so a retry is told apart from a different request reusing its key.
    pub fn request_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for line in &self.lines {
            hasher.update(line.product_id.as_bytes());
            hasher.update(line.quantity.to_be_bytes());
        }
        match &self.shipping_address {
            None => hasher.update([0]),
            Some(address) => {
                hasher.update([1]);
                // Length-prefixed, so that no two different addresses hash the same bytes.
                for part in address.parts() {
                    hasher.update((part.len() as u64).to_be_bytes());
                    hasher.update(part.as_bytes());
                }
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PlaceOrderItem;

    fn order(items: &[(Uuid, i64)]) -> PlaceOrder {
        PlaceOrder {
            items: items
                .iter()
                .map(|(product_id, quantity)| PlaceOrderItem {
                    product_id: *product_id,
                    quantity: *quantity,
                })
                .collect(),
            shipping_address: None,
        }
    }

    fn fields(error: AppError) -> Vec<String> {
        error.field_errors().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn lines_are_bounded_and_unique() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(NewOrder::parse(order(&[(a, 1), (b, 1000)])).is_ok());
        assert_eq!(
            fields(NewOrder::parse(order(&[])).expect_err("empty")),
            ["items"]
        );
        assert_eq!(
            fields(NewOrder::parse(order(&[(a, 0), (b, 1001), (a, 1)])).expect_err("bad")),
            [
                "items[0].quantity",
                "items[1].quantity",
                "items[2].product_id"
            ]
        );
        let many: Vec<_> = (0..101).map(|_| (Uuid::now_v7(), 1)).collect();
        assert_eq!(
            fields(NewOrder::parse(order(&many)).expect_err("too many")),
            ["items"]
        );
    }

    #[test]
    fn the_hash_covers_lines_and_address() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let hash = |input: PlaceOrder| NewOrder::parse(input).expect("valid").request_hash();
        assert_eq!(
            hash(order(&[(a, 1), (b, 2)])),
            hash(order(&[(a, 1), (b, 2)]))
        );
        assert_ne!(
            hash(order(&[(a, 1), (b, 2)])),
            hash(order(&[(a, 1), (b, 3)]))
        );
        let mut with_address = order(&[(a, 1), (b, 2)]);
        with_address.shipping_address = Some(crate::api::AddressDto {
            name: "Ada".into(),
            line1: "1 Main St".into(),
            line2: None,
            city: "Berlin".into(),
            postal_code: "10115".into(),
            country: "DE".into(),
        });
        assert_ne!(hash(order(&[(a, 1), (b, 2)])), hash(with_address));
    }
}
