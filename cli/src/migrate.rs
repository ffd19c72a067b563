//! `quickmart migrate`: creates (outside production) and migrates the databases, then exits; what the
//! Kubernetes migration Job runs before a rollout.

use quickmart_shared::config::Env;
use quickmart_shared::db::{DbSettings, ensure_database, run_migrations};
use secrecy::ExposeSecret;

use quickmart_shared::ServiceId;

/// Migrates the database of `only`, or of every core.
pub async fn migrate(env: &Env, only: Option<ServiceId>) -> anyhow::Result<()> {
    let cores = [
        (ServiceId::UserCore, user_core::MIGRATIONS),
        (ServiceId::ProductCore, product_core::MIGRATIONS),
        (ServiceId::OrderCore, order_core::MIGRATIONS),
    ];
    if let Some(service) = only
        && !service.is_core()
    {
        anyhow::bail!(
            "{service} has no database; choose one of {}",
            ServiceId::CORES.map(ServiceId::name).join(", ")
        );
    }
    for (service, migrations) in cores {
        let Some(database) = service.database() else {
            continue;
        };
        if only.is_some_and(|o| o != service) {
            continue;
        }
        let settings = DbSettings::from_env(env, database)?;
        let url = settings.url.expose_secret();
        if settings.create_if_missing {
            ensure_database(url).await?;
        }
        run_migrations(url, migrations).await?;
        println!("{}: migrations applied", service.name());
    }
    Ok(())
}
