//! Logs, request ids, trace context and Prometheus metrics for every service.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::SpanContext;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Header carrying the request id from the edge through every hop.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// W3C trace context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// What identifies one request across services.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// The request id: taken from `x-request-id` when the caller sent a sane one, generated otherwise.
    pub request_id: String,
    /// This hop's trace context: the request span's own when spans are exported; otherwise the caller's, or a
    /// new trace when the caller sent no valid `traceparent`.
    pub trace: SpanContext,
    /// The W3C `traceparent` of [`Self::trace`].
    pub traceparent: String,
    /// The service serving the request (the `quickmart.service` of the spans made for it).
    pub service: &'static str,
    /// The request's span: the parent of the calls made for it, from a spawned task too.
    pub span: tracing::Span,
}

impl RequestMeta {
    /// Reads the request id and trace context from incoming headers, generating what is missing or invalid.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let trace = crate::traces::extract(headers)
            .unwrap_or_else(|| crate::traces::new_span_context(None));
        Self::with_trace(headers, trace, "unknown", tracing::Span::none())
    }

    fn with_trace(
        headers: &HeaderMap,
        trace: SpanContext,
        service: &'static str,
        span: tracing::Span,
    ) -> Self {
        let request_id = headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map_or_else(new_request_id, str::to_owned);
        let traceparent = crate::traces::traceparent(&trace).unwrap_or_default();
        Self {
            request_id,
            trace,
            traceparent,
            service,
            span,
        }
    }

    /// The `traceparent` to send on an outgoing call: same trace, a new parent span id.
    pub fn child_traceparent(&self) -> String {
        crate::traces::traceparent(&crate::traces::new_span_context(Some(
            self.trace.trace_id(),
        )))
        .unwrap_or_default()
    }
}

// Generated on every request the edge serves, so it avoids `format!` and a getrandom system call per request
// (what `Uuid::now_v7` makes); the thread-local `rand` generator is seeded from the OS.
fn new_request_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        });
    let id =
        uuid::Builder::from_unix_timestamp_millis(millis, &rand::random::<[u8; 10]>()).into_uuid();
    id.simple()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

tokio::task_local! {
    static CURRENT_REQUEST: RequestMeta;
}

/// The service the current task works for: the one serving its request, or running its background job
/// (`quickmart.service`; `unknown` outside both).
pub fn current_service() -> &'static str {
    CURRENT_REQUEST
        .try_with(|meta| meta.service)
        .ok()
        .or_else(crate::background::job_service)
        .unwrap_or("unknown")
}

/// The request being served by the current task, if any.
pub fn current_request() -> Option<RequestMeta> {
    CURRENT_REQUEST.try_with(Clone::clone).ok()
}

/// Installs the global log subscriber (JSON, or human-readable with `LOG_FORMAT=pretty`; filtered by
/// `RUST_LOG`, default `info`) and the Prometheus recorder. Calling it again does nothing.
pub fn init() {
    install("info", false, None);
}

/// Like [`init`], exporting spans as `traces` say whatever the environment holds (tests of the export).
pub fn init_with_traces(traces: crate::traces::TraceSettings) {
    install("info", false, Some(traces));
}

/// Like [`init`], for a person at a console (`quickmart up`): human-readable lines unless `LOG_FORMAT=json`, and
/// only warnings unless `RUST_LOG` asks for more.
pub fn init_for_console() {
    install("warn", true, None);
}

/// Log lines waiting for the writer thread at most; past that, lines are dropped (and counted in
/// `log_lines_dropped_total`) rather than hold up requests behind a slow log pipe.
const LOG_BUFFER_LINES: usize = 64 * 1024;

/// The writer thread's guard: dropping it writes out what is still buffered ([`flush_logs`]).
static LOG_WRITER: std::sync::Mutex<Option<tracing_appender::non_blocking::WorkerGuard>> =
    std::sync::Mutex::new(None);

/// Exports the spans and writes out the log lines still buffered; call it once, as the process exits.
pub fn flush_logs() {
    crate::traces::shutdown();
    let guard = LOG_WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    drop(guard);
}

fn install(
    default_filter: &str,
    pretty_by_default: bool,
    traces: Option<crate::traces::TraceSettings>,
) {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
        let pretty = match std::env::var("LOG_FORMAT") {
            Ok(format) => format.eq_ignore_ascii_case("pretty"),
            Err(_) => pretty_by_default,
        };
        // Requests only format their line; a thread of its own writes it out, so a log line costs no system call
        // on a request's thread and a slow stdout never blocks one (tracing-appender, lossy past the buffer).
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .buffered_lines_limit(LOG_BUFFER_LINES)
            .lossy(true)
            .thread_name("log-writer")
            .finish(std::io::stdout());
        let dropped = writer.error_counter();
        let logs: Box<dyn Layer<Registry> + Send + Sync> = if pretty {
            tracing_subscriber::fmt::layer()
                .compact()
                .with_writer(writer)
                .with_filter(filter)
                .boxed()
        } else {
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                // The request span is enough: the list of every enclosing span repeated it.
                .with_span_list(false)
                .with_writer(writer)
                .with_filter(filter)
                .boxed()
        };
        // Spans are exported only with an OTLP endpoint; a setting that cannot be honoured stops the process
        // here, at start, rather than run without the traces someone asked for.
        let settings = traces.map_or_else(crate::traces::TraceSettings::from_process_env, Ok);
        let traces = match settings.and_then(|settings| crate::traces::layer(&settings)) {
            Ok(layer) => layer,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(2);
            }
        };
        let mut layers = vec![logs];
        layers.extend(traces);
        // A test binary may have installed a subscriber already; keeping that one is right.
        let installed = tracing_subscriber::registry().with(layers).try_init();
        metrics_handle();
        if installed.is_ok() {
            *LOG_WRITER
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(guard);
            let _ = std::thread::Builder::new()
                .name("log-drops".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        metrics::counter!("log_lines_dropped_total")
                            .absolute(dropped.dropped_lines() as u64);
                    }
                });
        }
    });
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        const LATENCY_BUCKETS: &[f64] = &[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
        ];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        // Another recorder may already be installed (a test harness); then render from a detached one.
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        };
        // Histograms keep every sample until upkeep drains them into buckets; `install_recorder` starts no
        // upkeep task, so without this thread memory grew with each request between two scrapes.
        let upkeep = handle.clone();
        let _ = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        handle
    })
}

/// Sets gauges from live state just before `/metrics` is rendered; returns `false` once its source is gone.
type Sampler = Box<dyn Fn() -> bool + Send + Sync>;

static SAMPLERS: std::sync::Mutex<Vec<Sampler>> = std::sync::Mutex::new(Vec::new());

/// Runs `sampler` before every scrape of `/metrics`, until it returns `false` (its source was dropped).
pub fn sample_on_scrape(sampler: impl Fn() -> bool + Send + Sync + 'static) {
    SAMPLERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Box::new(sampler));
}

/// The Prometheus text of every metric, after the samplers of [`sample_on_scrape`] have run.
pub fn render_metrics() -> String {
    SAMPLERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain(|sample| sample());
    metrics_handle().render()
}

/// Wraps every route of `router` with request ids, trace context, a span per request and HTTP metrics
/// (`http_requests_total`, `http_request_duration_seconds`, by service, method, route and status).
pub fn instrument(router: Router, service: &'static str) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| observe(service, request, next),
    ))
}

async fn observe(service: &'static str, mut request: Request, next: Next) -> Response {
    let incoming = crate::traces::extract(request.headers());
    // MatchedPath and Method clone without allocating (an Arc and, for standard methods, a tag).
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route_str = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = method_label(request.method());
    let span = tracing::info_span!(
        "request",
        service,
        quickmart.service = service,
        request_id = tracing::field::Empty,
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
        method,
        route = %route_str,
        otel.name = tracing::field::Empty,
        otel.kind = "server",
    );
    if let Some(parent) = &incoming {
        crate::traces::set_parent(&span, parent);
    }
    let trace = crate::traces::span_context(&span)
        .or(incoming)
        .unwrap_or_else(|| crate::traces::new_span_context(None));
    let meta = RequestMeta::with_trace(request.headers(), trace, service, span.clone());
    span.record("request_id", meta.request_id.as_str());
    span.record("trace_id", tracing::field::display(meta.trace.trace_id()));
    span.record("span_id", tracing::field::display(meta.trace.span_id()));
    if crate::traces::exporting() {
        span.record("otel.name", format!("{method} {route_str}"));
    }
    // Handlers that forward headers (the gateway) then pass on the id and trace context even when the client
    // sent none. Headers already carrying the accepted values are left as they are.
    let request_id = HeaderValue::from_str(&meta.request_id).ok();
    let headers = request.headers_mut();
    if let Some(value) = &request_id
        && headers.get(REQUEST_ID_HEADER) != Some(value)
    {
        headers.insert(REQUEST_ID_HEADER, value.clone());
    }
    if headers
        .get(TRACEPARENT_HEADER)
        .is_none_or(|v| v.as_bytes() != meta.traceparent.as_bytes())
        && let Ok(value) = HeaderValue::from_str(&meta.traceparent)
    {
        headers.insert(TRACEPARENT_HEADER, value);
    }
    request.extensions_mut().insert(meta.clone());
    let started = Instant::now();
    let mut response = CURRENT_REQUEST
        .scope(meta, next.run(request))
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let (requests, duration) = http_metrics(service, method, route_str, status);
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
    if let Some(value) = request_id {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let quiet = matches!(route_str, "/healthz" | "/readyz" | "/metrics");
    span.in_scope(|| {
        let millis = elapsed.as_secs_f64() * 1000.0;
        if quiet {
            tracing::debug!(status, latency_ms = millis, "request served");
        } else {
            tracing::info!(status, latency_ms = millis, "request served");
        }
    });
    response
}

/// The `method` label of a request: a standard method's name, `other` for any method a client made up (each
/// would otherwise create a label set of its own, without bound and without authentication).
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::CONNECT => "CONNECT",
        http::Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The `http_requests_total` counter and `http_request_duration_seconds` histogram of one label set.
///
/// Registered once per label set and then reused: registering on every request hashed four labels and
/// allocated a String for each, a measurable share of a gateway request. A service has a handful of label
/// sets (routes × methods × statuses); past [`MAX_CACHED_LABEL_SETS`] the handles are looked up afresh each
/// time rather than cached without bound.
fn http_metrics(
    service: &'static str,
    method: &'static str,
    route: &str,
    status: u16,
) -> (metrics::Counter, metrics::Histogram) {
    struct Cached {
        service: &'static str,
        method: &'static str,
        route: Box<str>,
        status: u16,
        requests: metrics::Counter,
        duration: metrics::Histogram,
    }
    const MAX_CACHED_LABEL_SETS: usize = 256;
    static CACHE: std::sync::RwLock<Vec<Cached>> = std::sync::RwLock::new(Vec::new());
    let find = |cache: &[Cached]| {
        cache
            .iter()
            .find(|c| {
                c.status == status
                    && c.service == service
                    && c.method == method
                    && &*c.route == route
            })
            .map(|c| (c.requests.clone(), c.duration.clone()))
    };
    if let Some(found) = find(
        &CACHE
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    ) {
        return found;
    }
    // A handle registered before the recorder exists would stay a no-op forever once cached.
    metrics_handle();
    let labels = [
        ("service", service.to_owned()),
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    let requests = metrics::counter!("http_requests_total", &labels);
    let duration = metrics::histogram!("http_request_duration_seconds", &labels);
    let mut cache = CACHE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() < MAX_CACHED_LABEL_SETS && find(&cache).is_none() {
        cache.push(Cached {
            service,
            method,
            route: route.into(),
            status,
            requests: requests.clone(),
            duration: duration.clone(),
        });
    }
    (requests, duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invented_methods_share_one_metrics_label() {
        // Row 13 of the hardening issue: every invented method used to create a label set of its own.
        use tower::ServiceExt;
        let router = instrument(
            Router::new().route("/healthz", axum::routing::get(|| async { "ok" })),
            "method-probe",
        );
        for i in 0..50 {
            let request = http::Request::builder()
                .method(
                    http::Method::from_bytes(format!("QM{i}XYZ").as_bytes())
                        .expect("a method token"),
                )
                .uri("/healthz")
                .body(axum::body::Body::empty())
                .expect("request");
            router.clone().oneshot(request).await.expect("response");
        }
        let rendered = metrics_handle().render();
        let probe: Vec<&str> = rendered
            .lines()
            .filter(|l| {
                l.starts_with("http_requests_total") && l.contains("service=\"method-probe\"")
            })
            .collect();
        assert!(probe.iter().all(|l| !l.contains("QM")), "{probe:?}");
        assert!(
            probe.iter().any(|l| l.contains("method=\"other\"")),
            "{probe:?}"
        );
    }

    /// A log line written while a request is served names its trace and span (JSON logs carry the request span's
    /// fields), so logs and traces join on `trace_id`.
    #[tokio::test]
    async fn log_lines_carry_the_trace_id_and_span_id() {
        use tower::ServiceExt;
        #[derive(Clone, Default)]
        struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().map_or(Ok(0), |mut out| {
                    out.extend_from_slice(buf);
                    Ok(buf.len())
                })
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let router = instrument(
            Router::new().route(
                "/work",
                axum::routing::get(|| async {
                    tracing::info!("working");
                    "ok"
                }),
            ),
            "trace-probe",
        );
        let request = http::Request::builder()
            .uri("/work")
            .header(
                TRACEPARENT_HEADER,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .body(axum::body::Body::empty())
            .expect("request");
        router.oneshot(request).await.expect("response");
        let output = String::from_utf8(captured.0.lock().map(|o| o.clone()).unwrap_or_default())
            .expect("utf-8");
        let line = output
            .lines()
            .find(|l| l.contains("working"))
            .unwrap_or_else(|| panic!("no log line in {output}"));
        assert!(
            line.contains(r#""trace_id":"4bf92f3577b34da6a3ce929d0e0e4736""#),
            "{line}"
        );
        assert!(line.contains(r#""span_id":""#), "{line}");
    }

    #[test]
    fn a_sampler_runs_on_every_scrape_until_its_source_is_gone() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let source = Arc::new(AtomicUsize::new(0));
        let weak = Arc::downgrade(&source);
        sample_on_scrape(move || {
            weak.upgrade()
                .map(|s| s.fetch_add(1, Ordering::Relaxed))
                .is_some()
        });
        render_metrics();
        render_metrics();
        assert_eq!(source.load(Ordering::Relaxed), 2);
        let before = SAMPLERS.lock().map(|s| s.len()).unwrap_or_default();
        drop(source);
        render_metrics();
        let after = SAMPLERS.lock().map(|s| s.len()).unwrap_or_default();
        assert_eq!(
            after + 1,
            before,
            "the sampler of a dropped source is forgotten"
        );
    }

    #[test]
    fn keeps_a_sane_request_id_and_replaces_a_hostile_one() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("abc-123"));
        assert_eq!(RequestMeta::from_headers(&headers).request_id, "abc-123");
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("has space"));
        assert_ne!(RequestMeta::from_headers(&headers).request_id, "has space");
    }

    #[test]
    fn generates_a_uuid_v7_request_id_and_a_valid_traceparent() {
        let meta = RequestMeta::from_headers(&HeaderMap::new());
        let id = uuid::Uuid::parse_str(&meta.request_id).expect("a uuid");
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(meta.request_id.len(), 32);
        let mut headers = HeaderMap::new();
        headers.insert(
            TRACEPARENT_HEADER,
            HeaderValue::from_str(&meta.traceparent).expect("a header value"),
        );
        let read = crate::traces::extract(&headers).expect("a valid traceparent");
        assert_eq!(
            (read.trace_id(), read.span_id()),
            (meta.trace.trace_id(), meta.trace.span_id())
        );
        assert_ne!(
            RequestMeta::from_headers(&HeaderMap::new()).traceparent,
            meta.traceparent
        );
    }

    #[test]
    fn propagates_the_trace_id_with_a_new_parent() {
        let mut headers = HeaderMap::new();
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        headers.insert(TRACEPARENT_HEADER, HeaderValue::from_static(incoming));
        let meta = RequestMeta::from_headers(&headers);
        assert_eq!(meta.traceparent, incoming);
        let child = meta.child_traceparent();
        assert!(child.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        headers.insert(
            TRACEPARENT_HEADER,
            HeaderValue::from_str(&child).expect("a header value"),
        );
        assert!(crate::traces::extract(&headers).is_some(), "{child}");
        assert_ne!(child, incoming);
    }
}
