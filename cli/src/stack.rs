//! Every service in one process: the launcher of `quickmart up` and of the end-to-end tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use quickmart_shared::config::Env;
use quickmart_shared::server::{StartError, bind, serve};
use tokio::sync::watch;
use tokio::task::JoinSet;

use quickmart_shared::ServiceId;

use crate::services;

/// The running services.
pub struct Stack {
    /// Where each service listens.
    pub addrs: BTreeMap<ServiceId, SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(ServiceId, Result<(), quickmart_shared::server::ServeError>)>,
}

impl Stack {
    /// Binds every service's listen address (`<PREFIX>_LISTEN_ADDR`, port 0 for a random one), points the
    /// services at each other, builds them (cores first: migrations, admin bootstrap) and serves them.
    pub async fn start(mut env: Env) -> Result<Self, StartError> {
        let mut listeners = BTreeMap::new();
        for service in ServiceId::ALL {
            let addr = env.listen_addr(service)?;
            listeners.insert(service, bind(addr, &service.listen_variable()).await?);
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
        for service in ServiceId::ALL {
            if service != ServiceId::Gateway {
                env.set(
                    service.url_variable(),
                    service.url_at(&addrs[&service].to_string()),
                );
            }
        }

        let (shutdown, signal) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for service in ServiceId::ALL {
            let router = services::build(service, &env).await?;
            let limits = services::server_limits(service, &env)?;
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
    pub fn url(&self, service: ServiceId) -> String {
        format!("http://{}", self.addrs[&service])
    }

    /// Waits until every service answers `/readyz`, or fails after `timeout`.
    pub async fn wait_until_ready(&self, timeout: std::time::Duration) -> Result<(), StartError> {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + timeout;
        for service in ServiceId::ALL {
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
