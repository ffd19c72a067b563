//! Which client headers reach the subgraphs.
//!
//! An allow-list rather than a deny-list: hop-by-hop headers (`connection`, `te`,
//! `transfer-encoding`, …) and anything else the client sent can never leak through.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, HeaderValue, header};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The headers to send to every subgraph for this client request.
pub fn forwarded(incoming: &HeaderMap, client: Option<SocketAddr>) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(4);
    for name in [header::AUTHORIZATION, X_REQUEST_ID, TRACEPARENT] {
        if let Some(value) = incoming.get(&name) {
            out.insert(name, value.clone());
        }
    }
    let previous =
        incoming.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let chain = match (previous, client) {
        (Some(previous), Some(client)) => Some(format!("{previous}, {}", client.ip())),
        (None, Some(client)) => Some(client.ip().to_string()),
        (Some(previous), None) => Some(previous.to_owned()),
        (None, None) => None,
    };
    if let Some(value) = chain.and_then(|c| HeaderValue::from_str(&c).ok()) {
        out.insert(X_FORWARDED_FOR, value);
    }
    out
}
