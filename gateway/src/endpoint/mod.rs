//! The HTTP endpoint: `/graphql` (POST JSON, GET queries, GraphiQL), health and metrics.

mod graphiql;
mod headers;
mod media;
pub(crate) mod ops;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde_json::Value;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::gateway::{Gateway, GatewayResponse, GraphQLRequest, RequestMethod};
use crate::response::error::{ErrorCode, GraphQLError};
use media::{Accepts, ResponseMedia};

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
        // Compressed only when the client asks, and only past a size where it pays.
        let mut graphql = graphql.layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
        );
        if let Some(cors) = cors_layer(&self.config().cors_origins) {
            graphql = graphql.layer(cors);
        }
        quickmart_shared::telemetry::instrument(graphql.merge(ops::routes()), "gateway")
    }
}

/// Cross-origin access for the configured browser origins, or none. Preflights are answered for them; another
/// origin gets no `Access-Control-Allow-Origin`, so its browser refuses the call.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("traceparent"),
                HeaderName::from_static("tracestate"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(std::time::Duration::from_secs(600)),
    )
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
    Accepts(media): Accepts,
    JsonBody(json): JsonBody,
    Forwarded(forwarded): Forwarded,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !json {
        return media.respond(GatewayResponse::request_error(
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
            return media.respond(GatewayResponse::request_error(
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
        Err(_) => return bad_request(media, "Could not read the request body"),
    };
    let request: GraphQLRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => return bad_request(media, "The request body is not a JSON GraphQL request"),
    };
    if !matches!(
        request.extensions,
        None | Some(Value::Null | Value::Object(_))
    ) {
        return bad_request(media, "`extensions` must be an object");
    }
    media.respond(
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
    let Some(media) = media::accepts(&headers) else {
        return media::not_acceptable();
    };
    let json_param = |name: &str| -> Result<Option<Value>, String> {
        match param(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(&raw)
                .map(Some)
                .map_err(|_| format!("`{name}` is not valid JSON")),
        }
    };
    let variables = match json_param("variables") {
        Ok(variables) => variables,
        Err(message) => return bad_request(media, &message),
    };
    let extensions = match json_param("extensions") {
        Ok(extensions @ (None | Some(Value::Null | Value::Object(_)))) => extensions,
        Ok(Some(_)) => return bad_request(media, "`extensions` must be an object"),
        Err(message) => return bad_request(media, &message),
    };
    let request = GraphQLRequest {
        query,
        operation_name: param("operationName"),
        document_id: param("documentId"),
        variables,
        extensions,
    };
    let forwarded = gateway.forwarded_headers(&headers, client);
    media.respond(
        gateway
            .execute(request, RequestMethod::Get, &forwarded)
            .await,
    )
}

fn bad_request(media: ResponseMedia, message: &str) -> Response {
    media.respond(GatewayResponse::request_error(
        StatusCode::BAD_REQUEST,
        &[GraphQLError::with_code(message, ErrorCode::BadRequest)],
    ))
}
