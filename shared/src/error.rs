//! The one error type of QuickMart, with stable codes, rendered as RFC 9457 problem+json by the REST cores
//! and as GraphQL errors with `extensions.code` by the subgraphs (see [`crate::graphql::annotate_errors`]).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Media type of RFC 9457 problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Stable, machine-readable error codes shared by REST problem documents and GraphQL errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No valid credentials.
    Unauthenticated,
    /// Valid credentials, not allowed.
    Forbidden,
    /// Malformed or invalid input, naming the field.
    BadUserInput,
    /// No such resource (or not visible to the caller).
    NotFound,
    /// Conflicts with existing state.
    Conflict,
    /// Not enough stock.
    OutOfStock,
    /// Not allowed in the resource's current state.
    InvalidState,
    /// Too many attempts.
    RateLimited,
    /// The payment was declined; nothing was ordered or charged.
    PaymentDeclined,
    /// A dependency is unavailable.
    ServiceUnavailable,
    /// An unexpected failure.
    InternalServerError,
    /// The gateway: the document does not parse.
    GraphqlParseFailed,
    /// The gateway: the document does not validate against the API schema.
    GraphqlValidationFailed,
    /// The gateway: an operation limit (tokens, depth, cost, …) is exceeded.
    OperationLimitExceeded,
    /// The request body is over the size limit.
    PayloadTooLarge,
    /// The gateway: a subgraph did not answer in time.
    SubrequestTimeout,
    /// The gateway: a subgraph could not be reached or answered with something unusable.
    SubrequestFailed,
    /// The gateway: the HTTP request is not a GraphQL request.
    BadRequest,
    /// The gateway: a mutation over GET.
    MethodNotAllowed,
    /// The gateway: `__schema` or `__type` asked while introspection is switched off.
    IntrospectionDisabled,
    /// The gateway: no persisted document has the hash sent (send it again with the document).
    PersistedQueryNotFound,
    /// The gateway: the document's SHA-256 is not the hash sent with it.
    PersistedQueryHashMismatch,
    /// The gateway: only persisted documents run, and the request sent another.
    PersistedDocumentRequired,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::OutOfStock => "OUT_OF_STOCK",
            Self::InvalidState => "INVALID_STATE",
            Self::RateLimited => "RATE_LIMITED",
            Self::PaymentDeclined => "PAYMENT_DECLINED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::OperationLimitExceeded => "OPERATION_LIMIT_EXCEEDED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::SubrequestTimeout => "SUBREQUEST_TIMEOUT",
            Self::SubrequestFailed => "SUBREQUEST_FAILED",
            Self::BadRequest => "BAD_REQUEST",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::PersistedDocumentRequired => "PERSISTED_DOCUMENT_REQUIRED",
        }
    }
}

/// One invalid input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Path of the field in the request, e.g. `price` or `lines[1].quantity`.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

/// Collects field errors while validating a whole input, so the caller sees every problem at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Records that `field` is invalid.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records the field errors `error` carries.
    pub fn absorb(&mut self, error: AppError) {
        self.0.extend(error.field_errors());
    }

    /// `BAD_USER_INPUT` with every recorded field, for a caller that already knows one was invalid.
    pub fn into_error(self) -> AppError {
        AppError::Invalid(self.0)
    }

    /// `Ok(value)` when nothing was recorded, `BAD_USER_INPUT` with every recorded field otherwise.
    pub fn finish<T>(self, value: T) -> Result<T, AppError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}

/// Boxed cause of an internal error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every error a QuickMart service can answer with.
///
/// Client errors carry a message meant for the caller; [`AppError::Internal`] carries a cause that is
/// logged once and never shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials: a missing, invalid or expired token.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials, but the role does not allow the operation.
    #[error("{0}")]
    Forbidden(String),
    /// The request could not be understood (HTTP 400): unparseable JSON, a malformed id.
    #[error("{message}")]
    Malformed {
        /// The offending field, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The request was understood but its values are invalid (HTTP 422).
    #[error("{}", summarize(.0))]
    Invalid(Vec<FieldError>),
    /// The resource does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing state (a duplicate, an idempotency key reused).
    #[error("{message}")]
    Conflict {
        /// The field that conflicts, when one does.
        field: Option<String>,
        /// What conflicts.
        message: String,
    },
    /// A product has less stock than requested.
    #[error("product {product_id} does not have enough stock")]
    OutOfStock {
        /// The product that is short.
        product_id: Uuid,
    },
    /// The operation is not allowed in the resource's current state.
    #[error("{0}")]
    InvalidState(String),
    /// Too many attempts; try again after `retry_after_secs`.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// The payment provider declined the payment (HTTP 402); nothing was ordered or charged.
    #[error("the payment was declined ({reason}); try another payment method")]
    PaymentDeclined {
        /// The provider's reason, as a stable word (`card_declined`, `insufficient_funds`, …).
        reason: String,
    },
    /// The request body is over the server's limit (HTTP 413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A dependency (database, another service) is unavailable.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A bug or an unexpected failure; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

fn summarize(errors: &[FieldError]) -> String {
    match errors {
        [] => "invalid input".to_owned(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more)",
            first.field,
            first.message,
            rest.len()
        ),
    }
}

impl AppError {
    /// A validation failure of one field (HTTP 422, `BAD_USER_INPUT`).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A request that could not be parsed (HTTP 400, `BAD_USER_INPUT`).
    pub fn malformed(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Malformed {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// A conflict on one field (HTTP 409).
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A request body over the server's limit (HTTP 413, `PAYLOAD_TOO_LARGE`).
    pub fn body_too_large() -> Self {
        Self::PayloadTooLarge("the body is over the size limit".to_owned())
    }

    /// An internal error with its cause.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// Turns a DataLoader's shared error (loaders' errors must be `Clone`) back into an owned one.
    pub fn unshare(error: std::sync::Arc<Self>) -> Self {
        std::sync::Arc::try_unwrap(error)
            .unwrap_or_else(|shared| Self::from_problem(shared.to_problem()))
    }

    /// Renames the fields this error names (a core's `min_price` becomes a subgraph's `filter.minPrice`).
    pub fn map_fields(self, rename: impl Fn(&str) -> String) -> Self {
        match self {
            Self::Malformed { field, message } => Self::Malformed {
                field: field.map(|f| rename(&f)),
                message,
            },
            Self::Conflict { field, message } => Self::Conflict {
                field: field.map(|f| rename(&f)),
                message,
            },
            Self::Invalid(errors) => Self::Invalid(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: rename(&e.field),
                        message: e.message,
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Malformed { .. } | Self::Invalid(_) => ErrorCode::BadUserInput,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::OutOfStock { .. } => ErrorCode::OutOfStock,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::PaymentDeclined { .. } => ErrorCode::PaymentDeclined,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::ServiceUnavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    /// The HTTP status a REST core answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::InvalidState(_) | Self::OutOfStock { .. } => {
                StatusCode::CONFLICT
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PaymentDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The field errors this error carries (empty when it concerns no field).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            Self::Malformed {
                field: Some(field),
                message,
            }
            | Self::Conflict {
                field: Some(field),
                message,
            } => {
                vec![FieldError {
                    field: field.clone(),
                    message: message.clone(),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The message a client may see: the error's own words, or an opaque one for internal errors.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => {
                "An internal error occurred; quote the request id when reporting it.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// Logs the error where it is handled: internal errors with their whole cause chain, unavailable
    /// dependencies as warnings, client errors at debug level.
    pub fn log(&self) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause_chain(cause.as_ref()), "internal error");
            }
            Self::ServiceUnavailable(message) => tracing::warn!(%message, "dependency unavailable"),
            other => {
                tracing::debug!(code = other.code().as_str(), message = %other, "client error");
            }
        }
    }

    /// Rebuilds an error from a problem document another QuickMart service answered with.
    pub fn from_problem(problem: Problem) -> Self {
        let field = problem.errors.first().map(|e| e.field.clone());
        match problem.code {
            ErrorCode::Unauthenticated => Self::Unauthenticated(problem.detail),
            ErrorCode::Forbidden => Self::Forbidden(problem.detail),
            ErrorCode::BadUserInput if problem.status == 400 => Self::Malformed {
                field,
                message: problem.detail,
            },
            ErrorCode::BadUserInput if problem.errors.is_empty() => {
                Self::Invalid(vec![FieldError {
                    field: "input".to_owned(),
                    message: problem.detail,
                }])
            }
            ErrorCode::BadUserInput => Self::Invalid(problem.errors),
            ErrorCode::NotFound => Self::NotFound(problem.detail),
            ErrorCode::Conflict => Self::Conflict {
                field,
                message: problem.detail,
            },
            ErrorCode::OutOfStock => match problem.product_id {
                Some(product_id) => Self::OutOfStock { product_id },
                None => Self::internal(format!(
                    "OUT_OF_STOCK problem without productId: {}",
                    problem.detail
                )),
            },
            ErrorCode::InvalidState => Self::InvalidState(problem.detail),
            ErrorCode::RateLimited => Self::RateLimited {
                retry_after_secs: problem.retry_after.unwrap_or(60),
            },
            ErrorCode::ServiceUnavailable => Self::ServiceUnavailable(problem.detail),
            ErrorCode::PaymentDeclined => Self::PaymentDeclined {
                reason: problem.reason.unwrap_or_else(|| "declined".to_owned()),
            },
            ErrorCode::PayloadTooLarge => Self::PayloadTooLarge(problem.detail),
            ErrorCode::InternalServerError => Self::internal(format!(
                "upstream internal error (request {})",
                problem.request_id.unwrap_or_default()
            )),
            // Codes only the gateway produces; a core never answers with them, so one means a broken peer.
            ErrorCode::GraphqlParseFailed
            | ErrorCode::GraphqlValidationFailed
            | ErrorCode::OperationLimitExceeded
            | ErrorCode::SubrequestTimeout
            | ErrorCode::SubrequestFailed
            | ErrorCode::BadRequest
            | ErrorCode::MethodNotAllowed
            | ErrorCode::IntrospectionDisabled
            | ErrorCode::PersistedQueryNotFound
            | ErrorCode::PersistedQueryHashMismatch
            | ErrorCode::PersistedDocumentRequired => Self::internal(format!(
                "unexpected {} problem from a core: {}",
                problem.code.as_str(),
                problem.detail
            )),
        }
    }

    /// The RFC 9457 problem document for this error.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let code = self.code();
        Problem {
            type_uri: format!(
                "urn:quickmart:problem:{}",
                code.as_str().to_ascii_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.public_message(),
            code,
            errors: self.field_errors(),
            product_id: match self {
                Self::OutOfStock { product_id } => Some(*product_id),
                _ => None,
            },
            retry_after: match self {
                Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            },
            reason: match self {
                Self::PaymentDeclined { reason } => Some(reason.clone()),
                _ => None,
            },
            request_id: crate::telemetry::current_request().map(|r| r.request_id),
        }
    }
}

/// Joins an error and its sources into one line for the logs.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// An RFC 9457 problem document, with QuickMart's extension members.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type (the HTTP reason phrase).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The stable QuickMart error code.
    pub code: ErrorCode,
    /// Invalid fields, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The product that is short, for `OUT_OF_STOCK`.
    #[serde(rename = "productId", default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Uuid>,
    /// Seconds to wait before retrying, for `RATE_LIMITED`.
    #[serde(
        rename = "retryAfter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after: Option<u64>,
    /// Why the payment was declined, for `PAYMENT_DECLINED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The request id to quote when reporting the problem.
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let problem = self.to_problem();
        let mut response = (self.status(), Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

#[cfg(feature = "db")]
impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        if crate::db::is_connection_lost(&error) {
            tracing::warn!(error = %error, "database connection lost during a query");
            return Self::ServiceUnavailable("the database is unavailable".to_owned());
        }
        Self::internal(error)
    }
}

#[cfg(feature = "db")]
impl From<crate::db::PoolError> for AppError {
    fn from(error: crate::db::PoolError) -> Self {
        if !matches!(error, crate::db::PoolError::BreakerOpen) {
            tracing::warn!(error = %error, "database pool unavailable");
        }
        Self::ServiceUnavailable("the database is unavailable".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_round_trips_to_the_same_error_code_and_fields() {
        let original = AppError::Invalid(vec![FieldError {
            field: "price".into(),
            message: "must be ≥ 0".into(),
        }]);
        let problem = original.to_problem();
        assert_eq!(problem.status, 422);
        let rebuilt = AppError::from_problem(problem);
        assert_eq!(rebuilt.code(), ErrorCode::BadUserInput);
        assert_eq!(rebuilt.field_errors(), original.field_errors());
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let error = AppError::internal("password=hunter2 in SQL");
        assert!(!error.public_message().contains("hunter2"));
        assert!(
            !serde_json::to_string(&error.to_problem())
                .unwrap_or_default()
                .contains("hunter2")
        );
    }

    #[test]
    fn out_of_stock_carries_the_product() {
        let id = Uuid::now_v7();
        let problem = AppError::OutOfStock { product_id: id }.to_problem();
        assert_eq!(problem.product_id, Some(id));
        assert!(
            matches!(AppError::from_problem(problem), AppError::OutOfStock { product_id } if product_id == id)
        );
    }
}
