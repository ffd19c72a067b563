//! Axum extractors whose rejections are QuickMart problem documents naming the offending field.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body; unparseable or mistyped JSON is a 400 naming the field.
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
            .map_err(|rejection| AppError::malformed(None, rejection.body_text()))?;
        let malformed = |path: String, message: String| {
            let field = (path != "." && !path.is_empty()).then_some(path);
            AppError::Malformed { field, message }
        };
        // Parsed once to a value, so every string is checked for control characters before any handler sees it.
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|error| malformed(String::new(), format!("invalid JSON body: {error}")))?;
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
