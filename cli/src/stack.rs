//! Every service in one process: the launcher of `quickmart up` and of the end-to-end tests.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use quickmart_shared::server::{StartError, bind, serve};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::services::{self, Service};

/// The running services.
pub struct Stack {
    /// Where each service listens.
    pub addrs: BTreeMap<Service, SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(Service, Result<(), quickmart_shared::server::ServeError>)>,
}

impl Stack {
    /// Binds every service's listen address (`<PREFIX>_LISTEN_ADDR`, port 0 for a random one), points the
    /// services at each other, builds them (cores first: migrations, admin bootstrap) and serves them.
    pub async fn start(mut vars: HashMap<String, String>) -> Result<Self, StartError> {
        let mut listeners = BTreeMap::new();
        for service in Service::ALL {
            let variable = service.listen_variable();
            let addr = match vars.get(&variable) {
                Some(value) => value.parse().map_err(|e| {
                    StartError::Config(quickmart_shared::config::ConfigError::Malformed {
                        name: variable.clone(),
                        reason: format!("{e}"),
                    })
                })?,
                None => SocketAddr::from(([127, 0, 0, 1], service.default_port())),
            };
            listeners.insert(service, bind(addr, &variable).await?);
        }
        let mut addrs = BTreeMap::new();
        for (service, listener) in &listeners {
            addrs.insert(
                *service,
                listener
                    .local_addr()
                    .map_err(quickmart_shared::server::ServeError::Io)?,
            );
        }
        // In one process the services always talk to each other, whatever URLs the environment names.
        let url = |service: Service| format!("http://{}", addrs[&service]);
        vars.insert("USER_CORE_URL".into(), url(Service::UserCore));
        vars.insert("PRODUCT_CORE_URL".into(), url(Service::ProductCore));
        vars.insert("ORDER_CORE_URL".into(), url(Service::OrderCore));
        vars.insert(
            "GATEWAY_SUBGRAPH_USER_URL".into(),
            format!("{}/graphql", url(Service::UserSubgraph)),
        );
        vars.insert(
            "GATEWAY_SUBGRAPH_PRODUCT_URL".into(),
            format!("{}/graphql", url(Service::ProductSubgraph)),
        );
        vars.insert(
            "GATEWAY_SUBGRAPH_ORDER_URL".into(),
            format!("{}/graphql", url(Service::OrderSubgraph)),
        );

        let (shutdown, signal) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for service in Service::ALL {
            let router = services::build(service, &vars).await?;
            let limits = services::server_limits(service, &vars)?;
            let Some(listener) = listeners.remove(&service) else {
                continue;
            };
            let mut signal = signal.clone();
            tasks.spawn(async move {
                let stopped = async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                };
                (service, serve(listener, router, limits, stopped).await)
            });
        }
        Ok(Self {
            addrs,
            shutdown,
            tasks,
        })
    }

    /// The base URL of a service.
    pub fn url(&self, service: Service) -> String {
        format!("http://{}", self.addrs[&service])
    }

    /// Waits until every service answers `/readyz`, or fails after `timeout`.
    pub async fn wait_until_ready(&self, timeout: std::time::Duration) -> Result<(), StartError> {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + timeout;
        for service in Service::ALL {
            let url = format!("{}/readyz", self.url(service));
            loop {
                if client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    return Err(StartError::Other(format!(
                        "{} did not become ready at {url}",
                        service.name()
                    )));
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Completes when any service stops by itself (an error), with its name and cause.
    pub async fn stopped(&mut self) -> Option<String> {
        match self.tasks.join_next().await? {
            Ok((service, Ok(()))) => Some(format!("{} stopped", service.name())),
            Ok((service, Err(error))) => Some(format!("{} failed: {error}", service.name())),
            Err(error) => Some(format!("a service task failed: {error}")),
        }
    }

    /// Stops every service gracefully, letting in-flight requests finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}
