//! Binding, serving and graceful shutdown.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is taken or not ours.
    #[error("cannot listen on {addr} (is another process using the port? set {hint} to change it)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The environment variable that changes it.
        hint: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Binds `addr`, naming the variable that changes it when the port is taken.
pub async fn bind(addr: SocketAddr, hint: &str) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, hint: hint.to_owned(), source })
}

/// Serves `router` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}

/// Why a service could not start; each variant names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration is missing or malformed.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be prepared.
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] crate::auth::KeyError),
    /// Anything else that stops start-up, described.
    #[error("{0}")]
    Other(String),
    /// The server could not bind or failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Binds `addr` and serves `router` until Ctrl-C or SIGTERM.
pub async fn run(service: &str, addr: SocketAddr, listen_variable: &str, router: Router) -> Result<(), StartError> {
    let listener = bind(addr, listen_variable).await?;
    tracing::info!(service, %addr, "listening");
    serve(listener, router, shutdown_signal()).await?;
    Ok(())
}

/// The whole `main` of a service binary: logs, configuration from the environment, `start`, then serve until
/// a shutdown signal. A start-up failure prints one line naming what to fix and exits with status 1.
pub async fn main<F>(service: &str, listen_variable: &str, start: F) -> std::process::ExitCode
where
    F: AsyncFnOnce(crate::config::Env) -> Result<(SocketAddr, Router), StartError>,
{
    crate::telemetry::init();
    let outcome = async {
        let env = crate::config::Env::from_process()?;
        let (addr, router) = start(env).await?;
        run(service, addr, listen_variable, router).await
    }
    .await;
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let reason = crate::error::cause_chain(&error);
            tracing::error!(service, error = %reason, "could not start");
            eprintln!("{service}: {reason}");
            std::process::ExitCode::FAILURE
        }
    }
}
