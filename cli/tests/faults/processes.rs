//! The seven services as separate `quickmart serve` processes, over a private PostgreSQL and Redis, so a test
//! can kill one and start it again on the same port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use quickmart_shared::ServiceId;
use quickmart_shared::auth::generate_key_pair;
use secrecy::ExposeSecret;
use tokio::process::{Child, Command};

pub(crate) const ADMIN_EMAIL: &str = "admin@faults.test";
pub(crate) const ADMIN_PASSWORD: &str = "faults-admin-password-1";
pub(crate) const INTERNAL_TOKEN: &str = "faults-internal-token";

/// The running services, one process each.
pub(crate) struct Services {
    env: Vec<(String, String)>,
    ports: BTreeMap<ServiceId, u16>,
    children: BTreeMap<ServiceId, Child>,
    logs: PathBuf,
}

impl Services {
    /// Starts every service (cores first) against `postgres` (a server URL) and `redis`, logging into `state`.
    pub(crate) async fn start(postgres: &str, redis: &str, state: &Path) -> Self {
        let (private, public) = generate_key_pair().expect("keys");
        let mut ports = BTreeMap::new();
        for service in ServiceId::ALL {
            let port = loop {
                let port = free_port();
                if !ports.values().any(|taken| *taken == port) {
                    break port;
                }
            };
            ports.insert(service, port);
        }
        let mut env: Vec<(String, String)> = vec![
            ("REDIS_URL".into(), redis.into()),
            ("INTERNAL_API_TOKEN".into(), INTERNAL_TOKEN.into()),
            ("JWT_PRIVATE_KEY".into(), private.expose_secret().to_owned()),
            ("JWT_PUBLIC_KEYS".into(), public),
            ("QUICKMART_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
            ("QUICKMART_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("QUICKMART_STATE_DIR".into(), state.display().to_string()),
            // Settle quickly after a fault: reservations of placements a killed order-core left behind expire
            // within the test, and the background work runs every second.
            ("RESERVATION_TTL_SECS".into(), "15".into()),
            ("RESERVATION_SWEEP_INTERVAL_SECS".into(), "1".into()),
            ("ORDER_RECONCILE_INTERVAL_SECS".into(), "1".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        for service in ServiceId::ALL {
            let address = format!("127.0.0.1:{}", ports[&service]);
            env.push((service.listen_variable(), address.clone()));
            if service != ServiceId::Gateway {
                env.push((service.url_variable(), service.url_at(&address)));
            }
            if let Some(database) = service.database() {
                env.push((
                    format!("{}_DATABASE_URL", database.env_prefix),
                    format!("{postgres}/{}", database.name),
                ));
            }
        }
        let mut services = Self {
            env,
            ports,
            children: BTreeMap::new(),
            logs: state.to_owned(),
        };
        for service in ServiceId::CORES {
            services.spawn(service).await;
        }
        for service in ServiceId::ALL {
            if !ServiceId::CORES.contains(&service) {
                services.spawn(service).await;
            }
        }
        services
    }

    /// The gateway's GraphQL endpoint.
    pub(crate) fn gateway(&self) -> String {
        format!(
            "http://127.0.0.1:{}/graphql",
            self.ports[&ServiceId::Gateway]
        )
    }

    /// Starts `service` and waits until it is ready.
    pub(crate) async fn spawn(&mut self, service: ServiceId) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{}.log", service.name())))
            .expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_quickmart"))
            .args(["serve", service.name()])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(log.try_clone().expect("a log file"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("quickmart serve");
        self.children.insert(service, child);
        self.wait_ready(service).await;
    }

    /// Kills `service` at once, as a crash would.
    pub(crate) async fn kill(&mut self, service: ServiceId) {
        if let Some(mut child) = self.children.remove(&service) {
            child.kill().await.expect("kill");
        }
    }

    async fn wait_ready(&mut self, service: ServiceId) {
        let url = format!("http://127.0.0.1:{}/readyz", self.ports[&service]);
        let deadline = Instant::now() + Duration::from_secs(60);
        let log = self.logs.join(format!("{}.log", service.name()));
        loop {
            // A service that exited (its port taken, say) must not pass for ready because something else
            // answers on that port.
            if let Some(child) = self.children.get_mut(&service)
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "{} exited ({status}); see {}",
                    service.name(),
                    log.display()
                );
            }
            if let Ok(response) = reqwest::get(&url).await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become ready; see {}",
                service.name(),
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A free port below the kernel's ephemeral range (32768 and up by default), from which every `bind(0)` and every
/// outgoing connection of the other tests takes its port: one picked there could be taken by another test before
/// the service binds it (it was, under the whole suite), and a service started again needs the same port.
fn free_port() -> u16 {
    loop {
        let port = 20_000 + (uuid::Uuid::new_v4().as_u128() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
