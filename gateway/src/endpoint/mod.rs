//! The HTTP endpoint: `/graphql` (POST JSON, GET queries, GraphiQL), health and metrics.

mod graphiql;
mod headers;
pub(crate) mod ops;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::gateway::{Gateway, GatewayResponse, GraphQLRequest, RequestMethod};
use crate::response::error::{ErrorCode, GraphQLError};

/// The client's socket address, when the server was started with connect info.
pub(crate) struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// The headers subgraphs receive for this request (see [`headers::forwarded`]), built from the
/// request's own header map rather than from a cloned copy of it.
pub(crate) struct Forwarded(pub HeaderMap);

impl FromRequestParts<Gateway> for Forwarded {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        gateway: &Gateway,
    ) -> Result<Self, Self::Rejection> {
        let ClientAddr(client) = ClientAddr::from_request_parts(parts, gateway).await?;
        Ok(Self(gateway.forwarded_headers(&parts.headers, client)))
    }
}

impl Gateway {
    /// The headers subgraphs receive for a request with these headers from `client`.
    fn forwarded_headers(&self, incoming: &HeaderMap, client: Option<SocketAddr>) -> HeaderMap {
        let config = self.config();
        headers::forwarded(
            incoming,
            client,
            &config.trusted_proxies,
            config.internal_token.as_ref(),
        )
    }
}

impl Gateway {
    /// The gateway's routes: `/graphql`, GraphiQL's files when it is on, `/healthz`, `/readyz`, `/metrics`.
    pub fn router(&self) -> Router {
        let limit = self.config().max_body_bytes;
        let mut graphql = Router::new()
            .route("/graphql", get(get_graphql).post(post_graphql))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self.clone());
        if self.config().graphiql {
            graphql = graphql.merge(graphiql::routes());
        }
        quickmart_shared::telemetry::instrument(graphql.merge(ops::routes()), "gateway")
    }
}

/// Whether a POST declares a JSON body. Anything else (`text/plain`, a form, no type at all) is refused
/// before the body is read: those are what a browser sends cross-site without a CORS preflight, so a page on
/// any origin could otherwise make its visitors run mutations (the CSRF prevention of Apollo Router and Hive
/// Router).
pub(crate) struct JsonBody(bool);

impl<S: Send + Sync> FromRequestParts<S> for JsonBody {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let essence = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim);
        Ok(Self(essence.is_some_and(|media| {
            media.eq_ignore_ascii_case("application/json")
                || media.eq_ignore_ascii_case("application/graphql-response+json")
        })))
    }
}

async fn post_graphql(
    State(gateway): State<Gateway>,
    JsonBody(json): JsonBody,
    Forwarded(forwarded): Forwarded,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !json {
        return json_response(GatewayResponse::request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &[GraphQLError::with_code(
                "POST bodies must be `Content-Type: application/json`",
                ErrorCode::BadRequest,
            )],
        ));
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return json_response(GatewayResponse::request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &[GraphQLError::with_code(
                    format!(
                        "Request body is larger than {} bytes",
                        gateway.config().max_body_bytes
                    ),
                    ErrorCode::PayloadTooLarge,
                )],
            ));
        }
        Err(_) => return bad_request("Could not read the request body"),
    };
    let request: GraphQLRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => return bad_request("The request body is not a JSON GraphQL request"),
    };
    json_response(
        gateway
            .execute(request, RequestMethod::Post, &forwarded)
            .await,
    )
}

async fn get_graphql(
    State(gateway): State<Gateway>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    // `application/x-www-form-urlencoded`, decoded by the url crate's `form_urlencoded` (malformed escapes
    // stay as written and invalid UTF-8 becomes U+FFFD, so the document then fails to parse or validate).
    let params: Vec<(String, String)> = raw
        .as_deref()
        .map(|raw| {
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let query = param("query");
    if query.is_none() && wants_html && gateway.config().graphiql {
        return graphiql::page("/graphql");
    }
    let variables = match param("variables").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => match serde_json::from_str(&raw) {
            Ok(v) => Some(v),
            Err(_) => return bad_request("`variables` is not valid JSON"),
        },
    };
    let request = GraphQLRequest {
        query,
        operation_name: param("operationName"),
        variables,
        extensions: None,
    };
    let forwarded = gateway.forwarded_headers(&headers, client);
    json_response(
        gateway
            .execute(request, RequestMethod::Get, &forwarded)
            .await,
    )
}

fn bad_request(message: &str) -> Response {
    json_response(GatewayResponse::request_error(
        StatusCode::BAD_REQUEST,
        &[GraphQLError::with_code(message, ErrorCode::BadRequest)],
    ))
}

fn json_response(response: GatewayResponse) -> Response {
    let mut http = (response.status, response.body).into_response();
    http.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    http
}
