//! The seven services of QuickMart and how to build each one's router from configuration.

use axum::Router;
use quickmart_shared::ServiceId;
use quickmart_shared::config::Env;
use quickmart_shared::server::{ServerLimits, StartError};

/// The supergraph composed by `quickmart compose`, built into the binary so `quickmart up` works anywhere.
pub const SUPERGRAPH: &str = include_str!("../../schema/supergraph.graphql");

/// Builds the router of `service` from `env` (the environment, plus whatever the launcher set).
pub async fn build(service: ServiceId, env: &Env) -> Result<Router, StartError> {
    match service {
        ServiceId::UserCore => user_core::build(&user_core::Config::from_env(env)?).await,
        ServiceId::ProductCore => product_core::build(&product_core::Config::from_env(env)?).await,
        ServiceId::OrderCore => order_core::build(&order_core::Config::from_env(env)?).await,
        ServiceId::UserSubgraph => {
            user_subgraph::build(&user_subgraph::Config::from_env(env)?).await
        }
        ServiceId::ProductSubgraph => {
            product_subgraph::build(&product_subgraph::Config::from_env(env)?).await
        }
        ServiceId::OrderSubgraph => {
            order_subgraph::build(&order_subgraph::Config::from_env(env)?).await
        }
        ServiceId::Gateway => build_gateway(env),
    }
}

/// The connection limits `service` is served under: the `HTTP_*` settings, with the gateway's own body limit.
pub fn server_limits(service: ServiceId, env: &Env) -> Result<ServerLimits, StartError> {
    let mut limits = ServerLimits::from_env(env)?;
    if service == ServiceId::Gateway {
        let config = quickmart_gateway::GatewayConfig::from_env(env)
            .map_err(|e| StartError::Other(format!("gateway configuration: {e}")))?;
        limits.max_body_bytes = config.max_body_bytes;
    }
    Ok(limits)
}

fn build_gateway(env: &Env) -> Result<Router, StartError> {
    let config = quickmart_gateway::GatewayConfig::from_env(env)
        .map_err(|e| StartError::Other(format!("gateway configuration: {e}")))?;
    let supergraph = match env.raw("SUPERGRAPH_PATH") {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| StartError::Other(format!("SUPERGRAPH_PATH: cannot read {path}: {e}")))?,
        None => SUPERGRAPH.to_owned(),
    };
    let gateway = quickmart_gateway::Gateway::from_supergraph_sdl(&supergraph, config)
        .map_err(|e| StartError::Other(format!("supergraph: {e}")))?;
    Ok(gateway.router())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read(relative: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(relative);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// The Dockerfile, the Kubernetes manifests and the README repeat the service table for their readers;
    /// this keeps them in step with it.
    #[test]
    fn every_copy_of_the_service_table_agrees() {
        let dockerfile = read("Dockerfile");
        let readme = read("README.md");
        let expose = dockerfile
            .lines()
            .find_map(|line| line.strip_prefix("EXPOSE "))
            .expect("the Dockerfile exposes ports");
        let mut exposed: Vec<&str> = expose.split_whitespace().collect();
        let mut ports: Vec<String> = ServiceId::ALL.map(|s| s.default_port().to_string()).into();
        exposed.sort_unstable();
        ports.sort_unstable();
        assert_eq!(exposed, ports, "Dockerfile EXPOSE");
        for service in ServiceId::ALL {
            let (name, port) = (service.name(), service.default_port());
            let listen = format!("{}=0.0.0.0:{port}", service.listen_variable());
            assert!(dockerfile.contains(&listen), "Dockerfile lacks {listen}");
            let manifest = read(&format!("k8s/base/services/{name}.yaml"));
            for expected in [
                format!(r#"args: ["serve", "{name}"]"#),
                format!("containerPort: {port}"),
                format!(r#"prometheus.io/port: "{port}""#),
            ] {
                assert!(manifest.contains(&expected), "{name}.yaml lacks {expected}");
            }
            let row = format!("`{}` {port}", service.env_prefix());
            assert!(readme.contains(&row), "README lacks {row}");
        }
        let manifests =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../k8s/base/services"))
                .expect("k8s/base/services")
                .count();
        assert_eq!(manifests, ServiceId::ALL.len(), "one manifest per service");
    }
}
