//! GraphiQL, served to browsers at `GET /graphql` from files built into the binary: no CDN at run time, so it
//! works offline and no third-party script runs on the API's origin. The vendored files, their versions and
//! checksums are in `gateway/assets/graphiql/` (`scripts/vendor-graphiql.sh`; docs/ARCHITECTURE.md,
//! "GraphiQL").

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};

/// Where the files are served; the version is in the path, so a new GraphiQL is never served from a stale cache.
const ASSETS: &str = "/graphiql/4.1.2";

/// Only same-origin scripts (the start-up script is a file, not inline), styles inline because GraphiQL sets
/// them at run time, and fonts and images as `data:` URIs because GraphiQL's stylesheet embeds its fonts so.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    worker-src 'self' blob:; frame-ancestors 'none'";

/// A file of the page, with its media type.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const FILES: [Asset; 5] = [
    Asset {
        name: "react.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        media_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "boot.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/boot.js"),
    },
];

/// The routes of GraphiQL's files.
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(&format!("{ASSETS}/{{name}}"), get(asset))
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(file) = FILES.iter().find(|file| file.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.media_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The GraphiQL page for the endpoint at `endpoint` (a same-origin path), with headers that keep other
/// origins' scripts and frames out.
pub(super) fn page(endpoint: &str) -> Response {
    let mut response = axum::response::Html(html(endpoint)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn html(endpoint: &str) -> String {
    // The endpoint goes into an attribute: drop what could end it.
    let endpoint: String = endpoint
        .chars()
        .filter(|c| !matches!(c, '"' | '<' | '>' | '&' | '\''))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>QuickMart GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{ASSETS}/graphiql.min.css">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{ASSETS}/react.production.min.js"></script>
  <script src="{ASSETS}/react-dom.production.min.js"></script>
  <script src="{ASSETS}/graphiql.min.js"></script>
  <script src="{ASSETS}/boot.js" data-endpoint="{endpoint}"></script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `src` and `href` of the page, in order.
    fn links(html: &str) -> Vec<&str> {
        html.split(['"'])
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|pair| pair[0].ends_with("src=") || pair[0].ends_with("href="))
            .map(|pair| pair[1])
            .collect()
    }

    #[test]
    fn the_page_links_only_files_it_serves() {
        let html = html("/graphql");
        let links = links(&html);
        assert_eq!(links.len(), FILES.len(), "{links:?}");
        for link in links {
            let name = link
                .strip_prefix(&format!("{ASSETS}/"))
                .unwrap_or_else(|| panic!("{link} is not one of GraphiQL's files"));
            assert!(FILES.iter().any(|file| file.name == name), "{link}");
        }
        assert!(
            !html.contains("<script>"),
            "no inline script: the CSP allows none"
        );
    }

    #[test]
    fn an_endpoint_cannot_end_its_attribute() {
        let html = html("/graphql\"><script>alert(1)</script>");
        assert!(!html.contains("<script>alert"), "{html}");
    }
}
