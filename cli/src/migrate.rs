//! `quickmart migrate`: creates (outside production) and migrates the databases, then exits; what the
//! Kubernetes migration Job runs before a rollout.

use quickmart_shared::config::Env;
use quickmart_shared::db::{DbSettings, ensure_database, run_migrations};
use secrecy::ExposeSecret;

use crate::services::Service;

/// Migrates the database of `only`, or of every core.
pub async fn migrate(env: &Env, only: Option<Service>) -> anyhow::Result<()> {
    let cores = [
        (
            Service::UserCore,
            "USER",
            "quickmart_user",
            user_core::MIGRATIONS,
        ),
        (
            Service::ProductCore,
            "PRODUCT",
            "quickmart_product",
            product_core::MIGRATIONS,
        ),
        (
            Service::OrderCore,
            "ORDER",
            "quickmart_order",
            order_core::MIGRATIONS,
        ),
    ];
    if let Some(service) = only
        && !service.is_core()
    {
        anyhow::bail!(
            "{} has no database; choose user-core, product-core or order-core",
            service.name()
        );
    }
    for (service, prefix, database, migrations) in cores {
        if only.is_some_and(|o| o != service) {
            continue;
        }
        let settings = DbSettings::from_env(env, prefix, database)?;
        let url = settings.url.expose_secret();
        if settings.create_if_missing {
            ensure_database(url).await?;
        }
        run_migrations(url, migrations).await?;
        println!("{}: migrations applied", service.name());
    }
    Ok(())
}
