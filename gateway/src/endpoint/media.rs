//! The media type of a GraphQL response, chosen from the request's `Accept` as GraphQL over HTTP says: a client
//! that names `application/graphql-response+json` gets it, with request errors under their own 4xx status; every
//! other client gets `application/json`, where a well-formed request is answered 200 whatever its errors.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::gateway::GatewayResponse;
use crate::response::error::{ErrorCode, GraphQLError};

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The media type a GraphQL response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMedia {
    /// `application/json`: the type every GraphQL client understands.
    Json,
    /// `application/graphql-response+json`: the status code tells a request error from a result.
    GraphqlResponse,
}

impl ResponseMedia {
    /// The type `accept` asks for; `None` when it accepts neither. No `Accept` at all means `application/json`.
    pub(crate) fn negotiate(accept: Option<&str>) -> Option<Self> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Some(Self::Json);
        };
        // The quality of each type: the most specific range that matches it gives it (RFC 9110, 12.5.1).
        let mut graphql = Quality::default();
        let mut json = Quality::default();
        for item in accept.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let range = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match range.as_str() {
                GRAPHQL_RESPONSE => graphql.exact = Some(q),
                JSON => json.exact = Some(q),
                "application/*" => {
                    graphql.subtype_wildcard = Some(q);
                    json.subtype_wildcard = Some(q);
                }
                "*/*" => {
                    graphql.any = Some(q);
                    json.any = Some(q);
                }
                _ => {}
            }
        }
        let (graphql_q, json_q) = (graphql.value(), json.value());
        // Only a client that names the new type gets it; a wildcard gets the type every client reads.
        if graphql.exact.is_some() && graphql_q > 0.0 && graphql_q >= json_q {
            Some(Self::GraphqlResponse)
        } else if json_q > 0.0 {
            Some(Self::Json)
        } else {
            None
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json; charset=utf-8",
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        })
    }

    /// `response` as HTTP in this media type.
    pub(crate) fn respond(self, response: GatewayResponse) -> Response {
        let status = match self {
            Self::Json if response.document_error => StatusCode::OK,
            _ => response.status,
        };
        let mut http = (status, response.body).into_response();
        http.headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type());
        http
    }
}

/// The quality the ranges of one `Accept` give a type.
#[derive(Default)]
struct Quality {
    exact: Option<f32>,
    subtype_wildcard: Option<f32>,
    any: Option<f32>,
}

impl Quality {
    fn value(&self) -> f32 {
        self.exact
            .or(self.subtype_wildcard)
            .or(self.any)
            .unwrap_or(0.0)
    }
}

/// The response media type of this request; a request that accepts neither JSON type is refused with 406.
pub(crate) struct Accepts(pub ResponseMedia);

impl<S: Send + Sync> FromRequestParts<S> for Accepts {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        accepts(&parts.headers).map(Self).ok_or_else(not_acceptable)
    }
}

/// The response media type `headers` ask for; `None` when they accept neither.
pub(crate) fn accepts(headers: &HeaderMap) -> Option<ResponseMedia> {
    ResponseMedia::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

/// The 406 for a request whose `Accept` allows neither type.
pub(crate) fn not_acceptable() -> Response {
    ResponseMedia::Json.respond(GatewayResponse::request_error(
        StatusCode::NOT_ACCEPTABLE,
        &[GraphQLError::with_code(
            "Accept must allow application/graphql-response+json or application/json",
            ErrorCode::BadRequest,
        )],
    ))
}

#[cfg(test)]
mod tests {
    use super::ResponseMedia::{self, GraphqlResponse, Json};

    #[test]
    fn the_new_type_only_when_named() {
        for (accept, want) in [
            (None, Some(Json)),
            (Some(""), Some(Json)),
            (Some("*/*"), Some(Json)),
            (Some("application/*"), Some(Json)),
            (Some("application/json"), Some(Json)),
            (
                Some("application/graphql-response+json"),
                Some(GraphqlResponse),
            ),
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                Some(GraphqlResponse),
            ),
            (
                Some("application/json, application/graphql-response+json"),
                Some(GraphqlResponse),
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                Some(Json),
            ),
            (
                Some("text/html,application/xhtml+xml,*/*;q=0.8"),
                Some(Json),
            ),
            (Some("APPLICATION/JSON; charset=utf-8"), Some(Json)),
            (Some("text/html"), None),
            (Some("application/json;q=0"), None),
            (Some("application/graphql-response+json;q=0, */*;q=0"), None),
            (
                Some("application/graphql-response+json;q=0, */*"),
                Some(Json),
            ),
        ] {
            assert_eq!(ResponseMedia::negotiate(accept), want, "{accept:?}");
        }
    }
}
