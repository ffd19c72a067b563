//! OpenTelemetry traces (docs/ARCHITECTURE.md, "Operations"): W3C trace context read from every request and sent
//! on every outbound call, and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, every span exported over OTLP/HTTP
//! (protobuf) to that collector, sampled as `OTEL_TRACES_SAMPLER` says.
//!
//! The spans: one per request served ([`crate::telemetry::instrument`]), one per call to a core
//! ([`crate::client`]), per subgraph fetch (the gateway), per database query ([`crate::db`]) and per Redis call
//! ([`crate::cache`]), each with a `quickmart.service` attribute naming the service that made it (under
//! `quickmart up` every service shares one process, and so one OpenTelemetry resource). The outbound spans are
//! created at DEBUG under [`SPAN_TARGET`] and reach only the exporter's layer: with export off they cost nothing.

use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The target of the outbound spans (calls, fetches, queries, Redis): only the exporter's layer enables it.
pub const SPAN_TARGET: &str = "quickmart::span";

/// Where and how much to export, from the standard OpenTelemetry variables.
#[derive(Debug, Clone)]
pub struct TraceSettings {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (the collector's OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces`), or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL). Unset: nothing is exported.
    pub endpoint: Option<String>,
    /// `OTEL_TRACES_SAMPLER` with `OTEL_TRACES_SAMPLER_ARG` (default `parentbased_always_on`).
    pub sampler: Sampler,
}

impl TraceSettings {
    /// Reads the settings from the process environment.
    pub fn from_process_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| {
            var("OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
        });
        Ok(Self {
            endpoint,
            sampler: sampler(
                var("OTEL_TRACES_SAMPLER").as_deref(),
                var("OTEL_TRACES_SAMPLER_ARG").as_deref(),
            )?,
        })
    }

    /// Export to `url` (the full `/v1/traces` URL), every span (tests).
    pub fn exporting_to(url: &str) -> Self {
        Self {
            endpoint: Some(url.to_owned()),
            sampler: Sampler::AlwaysOn,
        }
    }
}

/// The sampler the OpenTelemetry specification's `OTEL_TRACES_SAMPLER` names; a name or ratio it does not know is
/// an error, not a silent default.
fn sampler(name: Option<&str>, arg: Option<&str>) -> Result<Sampler, String> {
    let ratio = || -> Result<f64, String> {
        let Some(arg) = arg else { return Ok(1.0) };
        arg.trim()
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| {
                format!("OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got `{arg}`")
            })
    };
    Ok(match name.unwrap_or("parentbased_always_on") {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
        other => {
            return Err(format!(
                "OTEL_TRACES_SAMPLER `{other}` is not one of always_on, always_off, traceidratio, \
                 parentbased_always_on, parentbased_always_off, parentbased_traceidratio"
            ));
        }
    })
}

/// The exporting provider, kept so that [`shutdown`] can flush it as the process exits.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether spans are exported (an exporter layer is installed).
pub fn exporting() -> bool {
    PROVIDER.get().is_some()
}

/// The layer that turns spans into OpenTelemetry spans and exports them, when `settings` name an endpoint.
pub(crate) fn layer(
    settings: &TraceSettings,
) -> Result<
    Option<Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>>,
    String,
> {
    use opentelemetry_otlp::WithExportConfig as _;
    use tracing_subscriber::Layer as _;
    let Some(endpoint) = &settings.endpoint else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint.clone())
        .build()
        .map_err(|e| format!("the OTLP exporter for {endpoint}: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("quickmart")
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(settings.sampler.clone())
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("quickmart");
    if PROVIDER.set(provider).is_err() {
        return Ok(None);
    }
    // The request spans, and the outbound spans of SPAN_TARGET; nothing of the dependencies'.
    let spans = tracing_subscriber::filter::Targets::new()
        .with_target("quickmart_shared::telemetry", tracing::Level::INFO)
        .with_target(SPAN_TARGET, tracing::Level::DEBUG);
    Ok(Some(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_filter(spans)
            .boxed(),
    ))
}

/// Exports what is still buffered; call it once, as the process exits.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        eprintln!("warning: exporting the last spans failed: {error}");
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Collects the one header the W3C propagator writes (and `tracestate`, which ours never carries).
#[derive(Default)]
struct Traceparent(Option<String>);

impl Injector for Traceparent {
    fn set(&mut self, key: &str, value: String) {
        if key == crate::telemetry::TRACEPARENT_HEADER {
            self.0 = Some(value);
        }
    }
}

/// The remote span context of a request's `traceparent`, when it holds a valid one.
pub fn extract(headers: &HeaderMap) -> Option<SpanContext> {
    // The propagator reads ids of any length as numbers; the specification fixes their widths (32 and 16 hex
    // digits), and a header of another shape is not this hop's to repair.
    let value = headers
        .get(crate::telemetry::TRACEPARENT_HEADER)?
        .to_str()
        .ok()?;
    let mut fields = value.split('-').map(str::len);
    if !(fields.next() == Some(2) && fields.next() == Some(32) && fields.next() == Some(16)) {
        return None;
    }
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let remote = cx.span().span_context().clone();
    remote.is_valid().then_some(remote)
}

/// The `traceparent` of a span context.
pub fn traceparent(span_context: &SpanContext) -> Option<String> {
    let cx = opentelemetry::Context::new().with_remote_span_context(span_context.clone());
    let mut out = Traceparent::default();
    TraceContextPropagator::new().inject_context(&cx, &mut out);
    out.0
}

/// A new span context in `trace` (a fresh trace when `None`), sampled; for a hop that exports no span of its own.
pub fn new_span_context(trace: Option<TraceId>) -> SpanContext {
    let trace_id = trace.unwrap_or_else(|| TraceId::from(rand::random::<u128>() | 1));
    let span_id = SpanId::from(rand::random::<u64>() | 1);
    SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    )
}

/// The span context of a tracing span, when the exporter's layer gave it one.
pub fn span_context(span: &tracing::Span) -> Option<SpanContext> {
    if !exporting() || span.is_none() {
        return None;
    }
    let cx = span.context();
    let context = cx.span().span_context().clone();
    context.is_valid().then_some(context)
}

/// Makes `parent` (a request's remote context) the parent of `span`.
pub fn set_parent(span: &tracing::Span, parent: &SpanContext) {
    if exporting() {
        let _ =
            span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent.clone()));
    }
}

/// The `traceparent` header value for an outbound call made within `span`: the span's own context when it is
/// exported, otherwise a new child of `fallback` (the request's trace), so the trace id travels either way.
pub fn outbound_traceparent(span: &tracing::Span, fallback: &SpanContext) -> Option<HeaderValue> {
    let context = span_context(span).unwrap_or_else(|| new_span_context(Some(fallback.trace_id())));
    traceparent(&context).and_then(|v| HeaderValue::from_str(&v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_valid_traceparent_and_refuses_broken_ones() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let context = extract(&headers).expect("a valid context");
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(
            traceparent(&context).as_deref(),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
        for broken in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "has space",
        ] {
            headers.insert("traceparent", HeaderValue::from_static(broken));
            assert!(extract(&headers).is_none(), "{broken}");
        }
    }

    #[test]
    fn a_child_keeps_the_trace_and_takes_a_new_span_id() {
        let parent = new_span_context(None);
        let child = new_span_context(Some(parent.trace_id()));
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.span_id(), parent.span_id());
        let value = outbound_traceparent(&tracing::Span::none(), &parent).expect("a header");
        let value = value.to_str().expect("ascii");
        assert!(
            value.starts_with(&format!("00-{}-", parent.trace_id())),
            "{value}"
        );
        assert!(value.ends_with("-01") && value.len() == 55, "{value}");
    }

    #[test]
    fn the_sampler_follows_the_specifications_names_and_refuses_others() {
        assert!(matches!(sampler(None, None), Ok(Sampler::ParentBased(_))));
        assert!(matches!(
            sampler(Some("traceidratio"), Some("0.25")),
            Ok(Sampler::TraceIdRatioBased(r)) if (r - 0.25).abs() < f64::EPSILON
        ));
        assert!(sampler(Some("traceidratio"), Some("1.5")).is_err());
        assert!(sampler(Some("traceidratio"), Some("half")).is_err());
        assert!(sampler(Some("sometimes"), None).is_err());
    }
}
