//! Gateway configuration: typed, from environment variables with working defaults.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use quickmart_shared::ServiceId;
use quickmart_shared::auth::{JwtVerifier, KeyMaterial};
use quickmart_shared::cache::CacheSettings;
use quickmart_shared::config::Env;
use secrecy::SecretString;

use crate::error::GatewayError;
use crate::limits::OperationLimits;

/// Everything the gateway can be configured with.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Where the binary listens (`GATEWAY_LISTEN_ADDR`, default `127.0.0.1:4000`).
    pub listen_addr: SocketAddr,
    /// Largest accepted request body (`GATEWAY_MAX_BODY_BYTES`, default 1 MiB).
    pub max_body_bytes: usize,
    /// Operation limits (`GATEWAY_MAX_TOKENS`, `GATEWAY_MAX_NESTING`, `GATEWAY_MAX_FRAGMENTS`,
    /// `GATEWAY_MAX_SPREAD_DEPTH`, `GATEWAY_MAX_SELECTIONS`, `GATEWAY_MAX_DEPTH`,
    /// `GATEWAY_MAX_INTROSPECTION_DEPTH`, `GATEWAY_MAX_ALIASES`, `GATEWAY_MAX_ROOT_FIELDS`, `GATEWAY_MAX_COST`,
    /// `GATEWAY_COST_LIST_SIZE`).
    pub limits: OperationLimits,
    /// Per-fetch timeout (`GATEWAY_SUBGRAPH_TIMEOUT_MS`, default 10 000).
    pub subgraph_timeout: Duration,
    /// Prepared operations kept (`GATEWAY_PLAN_CACHE_SIZE`, default 1 000).
    pub plan_cache_size: usize,
    /// Estimated bytes the plan cache may hold (`GATEWAY_PLAN_CACHE_BYTES`, default 64 MiB).
    pub plan_cache_bytes: usize,
    /// Documents longer than this are prepared every time, never cached
    /// (`GATEWAY_PLAN_CACHE_MAX_DOCUMENT_BYTES`, default 64 KiB).
    pub plan_cache_max_document_bytes: usize,
    /// Idle keep-alive connections kept per subgraph (`GATEWAY_POOL_IDLE_PER_HOST`, default 256).
    pub pool_idle_per_host: usize,
    /// Whether identical subgraph queries in flight at once share one request (`GATEWAY_DEDUPE`, default true).
    pub dedupe: bool,
    /// Whether browsers get GraphiQL at `GET /graphql` (`GATEWAY_GRAPHIQL`; default on, off in production).
    pub graphiql: bool,
    /// Whether `__schema` and `__type` are answered (`GATEWAY_INTROSPECTION`; default on, off in production).
    /// `__typename` is always answered.
    pub introspection: bool,
    /// Browser origins allowed to call `/graphql` cross-origin (`GATEWAY_CORS_ORIGINS`, comma-separated
    /// `scheme://host[:port]`, or `*` for any; empty, the default: none).
    pub cors_origins: Vec<String>,
    /// Trusted documents, in Apollo's `apollo-persisted-query-manifest` JSON (`GATEWAY_PERSISTED_MANIFEST`, a
    /// path; none by default).
    pub persisted_manifest: Option<PathBuf>,
    /// Run only the manifest's documents (`GATEWAY_PERSISTED_ONLY`, default false; needs the manifest).
    pub persisted_only: bool,
    /// How long a registered (APQ) document is kept (`GATEWAY_APQ_TTL_SECS`, default 86 400).
    pub apq_ttl: Duration,
    /// Where registered documents are shared between replicas (`REDIS_URL`, `CACHE_NAMESPACE`); `None` keeps
    /// them in the process only.
    pub cache: Option<CacheSettings>,
    /// Subgraph URL overrides by `join__Graph` value, uppercased
    /// (`GATEWAY_SUBGRAPH_<NAME>_URL`).
    pub subgraph_urls: HashMap<String, String>,
    /// Proxies whose `X-Forwarded-For` entries are believed (`GATEWAY_TRUSTED_PROXIES`, comma-separated CIDRs
    /// or addresses; empty: the TCP peer is the client).
    pub trusted_proxies: Vec<IpNet>,
    /// Sent to subgraphs with the client address, so they believe it (`INTERNAL_API_TOKEN`).
    pub internal_token: Option<SecretString>,
    /// Verifies tokens on operations the gateway answers without a subgraph (`JWT_PUBLIC_KEYS`, `JWT_ISSUER`);
    /// `None` checks nothing.
    pub jwt_verifier: Option<Arc<JwtVerifier>>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
            max_body_bytes: 1024 * 1024,
            limits: OperationLimits::default(),
            subgraph_timeout: Duration::from_secs(10),
            plan_cache_size: 1000,
            plan_cache_bytes: 64 * 1024 * 1024,
            plan_cache_max_document_bytes: 64 * 1024,
            pool_idle_per_host: 256,
            dedupe: true,
            graphiql: true,
            introspection: true,
            cors_origins: Vec::new(),
            persisted_manifest: None,
            persisted_only: false,
            apq_ttl: Duration::from_secs(24 * 60 * 60),
            cache: None,
            subgraph_urls: HashMap::new(),
            trusted_proxies: Vec::new(),
            internal_token: None,
            jwt_verifier: None,
        }
    }
}

impl GatewayConfig {
    /// Reads the configuration through the shared reader; a malformed value fails naming it.
    pub fn from_env(env: &Env) -> Result<Self, GatewayError> {
        let defaults = Self::default();
        let mut limits = defaults.limits;
        for (name, slot) in [
            ("GATEWAY_MAX_TOKENS", &mut limits.max_tokens),
            ("GATEWAY_MAX_NESTING", &mut limits.max_nesting),
            ("GATEWAY_MAX_FRAGMENTS", &mut limits.max_fragments),
            ("GATEWAY_MAX_SPREAD_DEPTH", &mut limits.max_spread_depth),
            ("GATEWAY_MAX_SELECTIONS", &mut limits.max_selections),
            ("GATEWAY_MAX_DEPTH", &mut limits.max_depth),
            (
                "GATEWAY_MAX_INTROSPECTION_DEPTH",
                &mut limits.max_introspection_depth,
            ),
            ("GATEWAY_MAX_ALIASES", &mut limits.max_aliases),
            ("GATEWAY_MAX_ROOT_FIELDS", &mut limits.max_root_fields),
            ("GATEWAY_MAX_COST", &mut limits.max_cost),
            ("GATEWAY_COST_LIST_SIZE", &mut limits.default_list_size),
        ] {
            *slot = env.parse_or(name, *slot)?;
        }
        let subgraph_urls = env
            .with_prefix("GATEWAY_SUBGRAPH_")
            .filter_map(|(rest, url)| {
                let graph = rest.strip_suffix("_URL")?;
                (!graph.is_empty()).then(|| (graph.to_owned(), url.to_owned()))
            })
            .collect();
        Ok(Self {
            listen_addr: env.listen_addr(ServiceId::Gateway)?,
            max_body_bytes: env.parse_or("GATEWAY_MAX_BODY_BYTES", defaults.max_body_bytes)?,
            limits,
            subgraph_timeout: Duration::from_millis(env.parse_or(
                "GATEWAY_SUBGRAPH_TIMEOUT_MS",
                u64::try_from(defaults.subgraph_timeout.as_millis()).unwrap_or(u64::MAX),
            )?),
            plan_cache_size: env.parse_or("GATEWAY_PLAN_CACHE_SIZE", defaults.plan_cache_size)?,
            plan_cache_bytes: env
                .parse_or("GATEWAY_PLAN_CACHE_BYTES", defaults.plan_cache_bytes)?,
            plan_cache_max_document_bytes: env.parse_or(
                "GATEWAY_PLAN_CACHE_MAX_DOCUMENT_BYTES",
                defaults.plan_cache_max_document_bytes,
            )?,
            pool_idle_per_host: env
                .parse_or("GATEWAY_POOL_IDLE_PER_HOST", defaults.pool_idle_per_host)?,
            dedupe: env.flag("GATEWAY_DEDUPE", defaults.dedupe)?,
            // A production API shows neither its tool nor its whole schema unless the operator asks.
            graphiql: env.flag("GATEWAY_GRAPHIQL", !env.is_production())?,
            introspection: env.flag("GATEWAY_INTROSPECTION", !env.is_production())?,
            cors_origins: parse_origins(env.raw("GATEWAY_CORS_ORIGINS").unwrap_or(""))?,
            persisted_manifest: env
                .raw("GATEWAY_PERSISTED_MANIFEST")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
            persisted_only: env.flag("GATEWAY_PERSISTED_ONLY", defaults.persisted_only)?,
            apq_ttl: Duration::from_secs(
                env.parse_or("GATEWAY_APQ_TTL_SECS", defaults.apq_ttl.as_secs())?,
            ),
            cache: Some(CacheSettings::from_env(env)?),
            subgraph_urls,
            trusted_proxies: parse_networks(env.raw("GATEWAY_TRUSTED_PROXIES").unwrap_or(""))?,
            internal_token: Some(env.internal_token()?),
            jwt_verifier: Some(Arc::new(KeyMaterial::from_env(env)?.verifier()?)),
        })
    }

    /// The URL override for a `join__Graph` value, if one is configured.
    pub fn subgraph_url(&self, graph_id: &str) -> Option<String> {
        self.subgraph_urls.get(&graph_id.to_uppercase()).cloned()
    }
}

/// `https://shop.example.com, http://localhost:5173`: origins as browsers send them (no path, no trailing
/// slash), or `*` alone.
fn parse_origins(value: &str) -> Result<Vec<String>, GatewayError> {
    let origins: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let malformed = |reason: String| GatewayError::Config {
        name: "GATEWAY_CORS_ORIGINS",
        reason,
    };
    if origins.iter().any(|o| o == "*") {
        return if origins.len() == 1 {
            Ok(origins)
        } else {
            Err(malformed(
                "`*` allows every origin; list none beside it".to_owned(),
            ))
        };
    }
    for origin in &origins {
        let (scheme, rest) = origin
            .split_once("://")
            .ok_or_else(|| malformed(format!("{origin:?} is not scheme://host[:port]")))?;
        let host_ok = !rest.is_empty()
            && !rest.contains(['/', '?', '#', '@', ' '])
            && http::HeaderValue::from_str(origin).is_ok();
        if !matches!(scheme, "http" | "https") || !host_ok {
            return Err(malformed(format!(
                "{origin:?} is not an origin (http or https, a host, an optional port, no path)"
            )));
        }
    }
    Ok(origins)
}

/// `10.0.0.0/8, 192.168.1.7`: networks, or single addresses as /32 (/128).
fn parse_networks(value: &str) -> Result<Vec<IpNet>, GatewayError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<IpNet>()
                .or_else(|_| v.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| GatewayError::Config {
                    name: "GATEWAY_TRUSTED_PROXIES",
                    reason: format!("{v:?} is not a CIDR or address"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_origins;

    #[test]
    fn cors_origins_are_origins_or_one_star() {
        assert_eq!(parse_origins("").expect("empty"), Vec::<String>::new());
        assert_eq!(
            parse_origins(" https://shop.example.com , http://localhost:5173").expect("two"),
            ["https://shop.example.com", "http://localhost:5173"]
        );
        assert_eq!(parse_origins("*").expect("any"), ["*"]);
        for bad in [
            "*, https://a.example",
            "shop.example.com",
            "https://shop.example.com/",
            "https://shop.example.com/path",
            "ftp://shop.example.com",
            "https://",
            "https://user@shop.example.com",
        ] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
    }
}
