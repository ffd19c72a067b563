//! Axum extractors whose rejections are QuickMart problem documents naming the offending field.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON object body; unparseable or mistyped JSON, or a body that is not an object, is a 400 naming the
/// field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(AppError::malformed(
                None,
                "expected a JSON body with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                // A body that streams in past the server's limit (one that declares it is refused earlier).
                if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::body_too_large()
                } else {
                    AppError::malformed(None, rejection.body_text())
                }
            })?;
        let malformed = |path: String, message: String| {
            let field = (path != "." && !path.is_empty()).then_some(path);
            AppError::Malformed { field, message }
        };
        // Parsed once to a value, so every string is checked for control characters before any handler sees it.
        let mut value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|error| malformed(String::new(), format!("invalid JSON body: {error}")))?;
        // Every body of the API is an object, and serde would otherwise take an array for a struct, field by
        // field in order (`[null, null]` for a PATCH).
        if !value.is_object() {
            return Err(malformed(
                String::new(),
                "the body must be a JSON object".to_owned(),
            ));
        }
        if let Some(path) = crate::text::first_refused(&value) {
            return Err(AppError::invalid(
                if path.is_empty() {
                    "body".to_owned()
                } else {
                    path
                },
                crate::text::CONTROL_CHARACTERS,
            ));
        }
        integral_numbers_as_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|error| {
                malformed(
                    error.path().to_string(),
                    format!("invalid JSON body: {}", error.inner()),
                )
            })
    }
}

/// Rewrites every number with a zero fraction (`3.0`, `1e2`) that fits an `i64` as that integer: JSON Schema
/// (and so the OpenAPI documents) counts them as integers, and serde would refuse them for an integer field.
/// Iterative, like [`crate::text::first_refused`], so no nesting overflows the stack.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    // The float nearest 2^63: every integral float below it converts to i64 exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Number(number) if number.is_f64() => {
                if let Some(float) = number.as_f64()
                    && float.fract() == 0.0
                    && (-LIMIT..LIMIT).contains(&float)
                {
                    #[allow(clippy::cast_possible_truncation)]
                    // integral and in range, checked above
                    let integer = float as i64;
                    *number = integer.into();
                }
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            Value::Object(map) => pending.extend(map.values_mut()),
            _ => {}
        }
    }
}

/// Path parameters; a malformed one (say, a bad UUID) is a 400 naming it.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                let field = match error.kind() {
                    axum::extract::path::ErrorKind::ParseErrorAtKey { key, .. }
                    | axum::extract::path::ErrorKind::InvalidUtf8InPathParam { key } => {
                        Some(key.clone())
                    }
                    _ => None,
                };
                Err(AppError::Malformed {
                    field,
                    message: error.body_text(),
                })
            }
            Err(other) => Err(AppError::malformed(None, other.body_text())),
        }
    }
}

/// Query-string parameters; a value of the wrong type is a 400 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if crate::text::multi_line(&key).is_err() || crate::text::multi_line(&value).is_err() {
                return Err(AppError::invalid(
                    key.into_owned(),
                    crate::text::CONTROL_CHARACTERS,
                ));
            }
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let field = (path != ".").then_some(path);
                AppError::Malformed {
                    field,
                    message: format!("invalid query string: {}", error.inner()),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn a_body_that_streams_past_the_limit_is_413_not_malformed() {
        #[derive(serde::Deserialize)]
        struct Anything {}
        let body = http_body_util::Limited::new(
            http_body_util::Full::new(Bytes::from(vec![b' '; 64])),
            16,
        );
        let request = http::Request::builder()
            .method("POST")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::new(body))
            .expect("request");
        let refused = ApiJson::<Anything>::from_request(request, &())
            .await
            .err()
            .expect("refused");
        assert_eq!(refused.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn integral_numbers_are_integers_at_any_depth_and_others_stay_as_they_are() {
        let mut body: serde_json::Value = serde_json::from_str(
            r#"{"price": 1500.0, "lines": [{"quantity": 1e2}], "ratio": 0.5, "huge": 1e19, "low": -9.223372036854775808e18}"#,
        )
        .expect("json");
        integral_numbers_as_integers(&mut body);
        assert_eq!(
            body,
            json!({ "price": 1500, "lines": [{ "quantity": 100 }], "ratio": 0.5, "huge": 1e19, "low": i64::MIN })
        );
    }
}
