//! Taking payment (docs/ARCHITECTURE.md, "Checkout and payments"): a provider behind [`PaymentProvider`], and the
//! built-in `test` provider, whose tokens behave like a card processor's test cards.

use std::sync::Arc;

use quickmart_shared::AppError;
use uuid::Uuid;

use crate::api::PaymentMethod;

/// The test provider's name.
pub const TEST_PROVIDER: &str = "test";
/// Longest payment token accepted.
const MAX_TOKEN_LENGTH: usize = 200;

/// A payment token as the buyer's front end made it: 1–200 visible ASCII characters, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentToken(String);

impl std::fmt::Debug for PaymentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentToken(..)")
    }
}

impl PaymentToken {
    /// Validates a token, naming `field`.
    pub fn parse(token: &str, field: &str) -> Result<Self, AppError> {
        if token.is_empty()
            || token.len() > MAX_TOKEN_LENGTH
            || !token.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(AppError::invalid(
                field,
                format!(
                    "must be a payment token of 1 to {MAX_TOKEN_LENGTH} visible ASCII characters"
                ),
            ));
        }
        Ok(Self(token.to_owned()))
    }

    /// The token, for the provider only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What a provider answered to an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// Authorized and captured: the money is taken.
    Captured {
        /// The provider's id for the payment.
        reference: String,
    },
    /// Accepted; the outcome comes later, by webhook.
    Pending {
        /// The provider's id for the payment, which the webhook names.
        reference: String,
    },
    /// Refused; nothing was taken.
    Declined {
        /// A stable word for why (`card_declined`, `insufficient_funds`).
        reason: String,
    },
}

/// One payment to authorize.
#[derive(Debug)]
pub struct PaymentRequest<'a> {
    /// The order it pays for; also the idempotency key sent to the provider, so a retried call charges once.
    pub order_id: Uuid,
    /// The order's total, in minor units.
    pub amount: i64,
    /// The store currency.
    pub currency: &'a str,
    /// The buyer's token.
    pub token: &'a PaymentToken,
}

/// A payment provider. Implementations must be idempotent per `order_id`.
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    /// Its name, as buyers send it and payments record it.
    fn name(&self) -> &'static str;

    /// Authorizes and captures `request.amount`, or says why not. `Err` means the provider could not be asked
    /// (unavailable): nothing is known to be taken.
    fn authorize<'a>(
        &'a self,
        request: PaymentRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<Authorization, AppError>>;

    /// Gives back `amount` of the payment `reference`. Idempotent per reference: a repeated call refunds once.
    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
    ) -> futures::future::BoxFuture<'a, Result<(), AppError>>;
}

/// The built-in provider for development and tests: the token decides the outcome, and no money moves.
#[derive(Debug, Default)]
pub struct TestProvider;

impl PaymentProvider for TestProvider {
    fn name(&self) -> &'static str {
        TEST_PROVIDER
    }

    fn authorize<'a>(
        &'a self,
        request: PaymentRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<Authorization, AppError>> {
        let reference = format!("test_{}", request.order_id.simple());
        let outcome = match request.token.expose() {
            "tok_success" => Ok(Authorization::Captured { reference }),
            "tok_delayed" => Ok(Authorization::Pending { reference }),
            "tok_decline" => Ok(Authorization::Declined {
                reason: "card_declined".to_owned(),
            }),
            "tok_insufficient_funds" => Ok(Authorization::Declined {
                reason: "insufficient_funds".to_owned(),
            }),
            _ => Err(AppError::invalid(
                "payment.token",
                "the test provider knows tok_success, tok_decline, tok_insufficient_funds and tok_delayed",
            )),
        };
        Box::pin(std::future::ready(outcome))
    }

    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
    ) -> futures::future::BoxFuture<'a, Result<(), AppError>> {
        tracing::info!(reference, amount, "test provider: refunded");
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The provider a buyer's payment method names, with its validated token.
pub fn choose(
    provider: &Arc<dyn PaymentProvider>,
    method: &PaymentMethod,
) -> Result<PaymentToken, AppError> {
    if method.provider != provider.name() {
        return Err(AppError::invalid(
            "payment.provider",
            format!("this store takes payments through `{}`", provider.name()),
        ));
    }
    PaymentToken::parse(&method.token, "payment.token")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(token: &str) -> Result<Authorization, AppError> {
        let token = PaymentToken::parse(token, "t")?;
        futures::executor::block_on(TestProvider.authorize(PaymentRequest {
            order_id: Uuid::nil(),
            amount: 100,
            currency: "USD",
            token: &token,
        }))
    }

    #[test]
    fn the_test_tokens_behave_like_test_cards() {
        assert!(matches!(
            outcome("tok_success"),
            Ok(Authorization::Captured { .. })
        ));
        assert!(matches!(
            outcome("tok_delayed"),
            Ok(Authorization::Pending { .. })
        ));
        assert_eq!(
            outcome("tok_insufficient_funds").ok(),
            Some(Authorization::Declined {
                reason: "insufficient_funds".to_owned()
            })
        );
        assert!(matches!(
            outcome("tok_decline"),
            Ok(Authorization::Declined { .. })
        ));
        assert!(
            outcome("4242424242424242").is_err(),
            "a card number is no token"
        );
    }

    #[test]
    fn tokens_are_bounded_and_never_printed() {
        for bad in ["", "has space", &"t".repeat(201), "tok\n"] {
            assert!(PaymentToken::parse(bad, "t").is_err(), "{bad:?}");
        }
        let token = PaymentToken::parse("tok_success", "t").expect("token");
        assert!(!format!("{token:?}").contains("tok_success"));
    }
}
