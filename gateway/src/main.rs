//! `quickmart-gateway --supergraph FILE [--listen ADDR]`: serves the federated graph.

use std::path::PathBuf;

use anyhow::{Context, bail};
use quickmart_gateway::{Gateway, GatewayConfig};
use quickmart_shared::{server, telemetry};

// A request allocates many small, short-lived buffers (headers, bodies, futures) on whichever
// worker runs it; glibc malloc's arenas were ~9% of the gateway's CPU under load (perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: quickmart-gateway --supergraph FILE [--listen 127.0.0.1:4000]
  env: SUPERGRAPH_PATH, GATEWAY_LISTEN_ADDR, GATEWAY_SUBGRAPH_<NAME>_URL, GATEWAY_MAX_*";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let mut config = GatewayConfig::from_env()?;
    let mut supergraph = std::env::var_os("SUPERGRAPH_PATH").map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--supergraph" => supergraph = args.next().map(PathBuf::from),
            "--listen" => {
                let addr = args.next().context("--listen needs an address")?;
                config.listen_addr = addr.parse().with_context(|| format!("--listen {addr}"))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let Some(supergraph) = supergraph else {
        bail!("no supergraph given\n{USAGE}");
    };
    let gateway = Gateway::from_supergraph_file(&supergraph, config.clone())?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set GATEWAY_LISTEN_ADDR or --listen)",
                config.listen_addr
            )
        })?;
    tracing::info!(addr = %config.listen_addr, subgraphs = ?gateway.subgraph_urls(), "gateway listening");
    let mut limits =
        server::ServerLimits::from_env(&quickmart_shared::config::Env::from_process()?)?;
    limits.max_body_bytes = config.max_body_bytes;
    server::serve(
        listener,
        gateway.router(),
        limits,
        server::shutdown_signal(),
    )
    .await?;
    Ok(())
}
