//! Which client headers reach the subgraphs, and who the client is.
//!
//! An allow-list rather than a deny-list: hop-by-hop headers (`connection`, `te`,
//! `transfer-encoding`, …) and anything else the client sent can never leak through. The client's
//! address is derived here, once, and sent with the internal token: subgraphs never read
//! `X-Forwarded-For`, which any client can write.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, HeaderName, HeaderValue, header};
use ipnet::IpNet;
use quickmart_shared::internal::{CLIENT_IP_HEADER, INTERNAL_TOKEN_HEADER};
use secrecy::{ExposeSecret, SecretString};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const CLIENT_IP: HeaderName = HeaderName::from_static(CLIENT_IP_HEADER);
const INTERNAL_TOKEN: HeaderName = HeaderName::from_static(INTERNAL_TOKEN_HEADER);

/// The headers to send to every subgraph for this client request.
pub(super) fn forwarded(
    incoming: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted_proxies: &[IpNet],
    internal_token: Option<&SecretString>,
) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(5);
    for name in [header::AUTHORIZATION, X_REQUEST_ID, TRACEPARENT] {
        if let Some(value) = incoming.get(&name) {
            out.insert(name, value.clone());
        }
    }
    let chain = incoming.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok());
    if let (Some(client), Some(token)) = (
        client_address(chain, peer.map(|p| p.ip()), trusted_proxies),
        internal_token,
    ) && let (Ok(client), Ok(token)) = (
        HeaderValue::from_str(&client.to_string()),
        HeaderValue::from_str(token.expose_secret()),
    ) {
        out.insert(CLIENT_IP, client);
        let mut token = token;
        token.set_sensitive(true);
        out.insert(INTERNAL_TOKEN, token);
    }
    out
}

/// The client's address: the rightmost `X-Forwarded-For` entry not written by a trusted proxy, walking left
/// only from a trusted peer. With no trusted proxies (the default) it is the TCP peer, whatever the header says.
pub(super) fn client_address(
    chain: Option<&str>,
    peer: Option<IpAddr>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer?;
    if !is_trusted(&client) {
        return Some(client);
    }
    for entry in chain.unwrap_or_default().rsplit(',') {
        let entry = entry.trim();
        let Some(ip) = entry
            .parse::<IpAddr>()
            .ok()
            .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        else {
            // A malformed entry ends what can be believed; the last address before it stands.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("cidr")).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        assert_eq!(
            client_address(Some("203.0.113.9"), ip("10.1.2.3"), &[]),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let ingress = nets(&["10.0.0.0/8"]);
        // A client cannot dodge its bucket by prepending entries: only what the ingress appended counts.
        let chain = "198.51.100.1, 203.0.113.9";
        assert_eq!(
            client_address(Some(chain), ip("10.0.0.5"), &ingress),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(Some("203.0.113.9, 10.0.0.7"), ip("10.0.0.5"), &ingress),
            ip("203.0.113.9")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_address(Some("203.0.113.9"), ip("192.0.2.1"), &ingress),
            ip("192.0.2.1")
        );
        // All trusted: the leftmost stands; garbage stops the walk.
        assert_eq!(
            client_address(Some("10.0.0.9"), ip("10.0.0.5"), &ingress),
            ip("10.0.0.9")
        );
        assert_eq!(
            client_address(Some("203.0.113.9, junk"), ip("10.0.0.5"), &ingress),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(Some("[2001:db8::1]:443"), ip("10.0.0.5"), &ingress),
            ip("2001:db8::1")
        );
    }
}
