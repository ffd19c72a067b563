//! Logging and the Prometheus recorder (a local stand-in for `quickmart_shared::telemetry`).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Installs JSON logs (`LOG_FORMAT=pretty` for humans; `RUST_LOG`, default `info`) and the
/// Prometheus recorder. Safe to call more than once.
pub fn init() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let pretty = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("pretty"));
        // Another subscriber (a test harness, the one-process launcher) may already be set.
        let _ = if pretty {
            tracing_subscriber::fmt().with_env_filter(filter).compact().try_init()
        } else {
            tracing_subscriber::fmt().with_env_filter(filter).json().try_init()
        };
        metrics_handle();
    });
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Someone else installed a recorder: render from a detached one rather than fail.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}
