//! The order lifecycle's rules, which only order-core enforces: a status's database spelling, and which moves
//! are legal.

use quickmart_shared::AppError;

use crate::api::OrderStatus;

/// Parses the database spelling (`PLACING` is not a visible status).
pub(crate) fn parse_status(value: &str) -> Result<OrderStatus, AppError> {
    match value {
        "PENDING" => Ok(OrderStatus::Pending),
        "CONFIRMED" => Ok(OrderStatus::Confirmed),
        "SHIPPED" => Ok(OrderStatus::Shipped),
        "DELIVERED" => Ok(OrderStatus::Delivered),
        "CANCELLED" => Ok(OrderStatus::Cancelled),
        other => Err(AppError::internal(format!(
            "order status {other} is not visible"
        ))),
    }
}

/// Whether the lifecycle allows going from `from` to `to`: PENDING → CONFIRMED → SHIPPED → DELIVERED, and
/// PENDING or CONFIRMED → CANCELLED.
pub(crate) fn can_become(from: OrderStatus, to: OrderStatus) -> bool {
    matches!(
        (from, to),
        (OrderStatus::Pending, OrderStatus::Confirmed)
            | (OrderStatus::Confirmed, OrderStatus::Shipped)
            | (OrderStatus::Shipped, OrderStatus::Delivered)
            | (
                OrderStatus::Pending | OrderStatus::Confirmed,
                OrderStatus::Cancelled
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_transitions_are_legal() {
        use OrderStatus::{Cancelled, Confirmed, Delivered, Pending, Shipped};
        let all = [Pending, Confirmed, Shipped, Delivered, Cancelled];
        let legal: Vec<_> = all
            .iter()
            .flat_map(|from| all.iter().map(move |to| (*from, *to)))
            .filter(|(f, t)| can_become(*f, *t))
            .collect();
        assert_eq!(
            legal,
            vec![
                (Pending, Confirmed),
                (Pending, Cancelled),
                (Confirmed, Shipped),
                (Confirmed, Cancelled),
                (Shipped, Delivered)
            ]
        );
    }
}
