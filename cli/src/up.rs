//! `quickmart up`: the whole system in one process, with databases, demo data and the URLs to open.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::{DEV_INTERNAL_TOKEN, DEV_POSTGRES_URL};
use secrecy::SecretString;

use crate::embedded::{EmbeddedServers, answers};
use crate::services::Service;
use crate::stack::Stack;

/// Options of `quickmart up`.
pub struct UpOptions {
    /// Seed the demo catalog.
    pub seed: bool,
}

/// Runs every service until Ctrl-C or SIGTERM.
pub async fn up(options: UpOptions) -> anyhow::Result<()> {
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    let production = vars
        .get("QUICKMART_ENV")
        .is_some_and(|v| v.eq_ignore_ascii_case("production"));
    let mut embedded = EmbeddedServers::default();
    if !production {
        let state_dir = PathBuf::from(
            vars.get("QUICKMART_STATE_DIR")
                .cloned()
                .unwrap_or_else(|| ".quickmart".into()),
        );
        prepare_postgres(&mut vars, &mut embedded, &state_dir).await?;
        prepare_redis(&mut vars, &mut embedded).await?;
    }
    let outcome = run(vars, options).await;
    embedded.stop().await;
    outcome
}

async fn run(vars: HashMap<String, String>, options: UpOptions) -> anyhow::Result<()> {
    let mut stack = Stack::start(vars.clone()).await?;
    stack.wait_until_ready(Duration::from_secs(60)).await?;
    if options.seed {
        let token = SecretString::from(
            vars.get("INTERNAL_API_TOKEN")
                .cloned()
                .unwrap_or_else(|| DEV_INTERNAL_TOKEN.into()),
        );
        let client = InternalClient::new(
            "product-core",
            &stack.url(Service::ProductCore),
            token,
            Duration::from_secs(10),
        )?;
        let report = crate::seed::seed(&client)
            .await
            .context("seeding the demo catalog")?;
        if report.products_created > 0 {
            println!(
                "Seeded {} categories and {} products.",
                report.categories_created, report.products_created
            );
        }
    }
    print_banner(&stack, &vars);
    tokio::select! {
        () = quickmart_shared::server::shutdown_signal() => {}
        reason = stack.stopped() => {
            if let Some(reason) = reason {
                eprintln!("error: {reason}");
            }
        }
    }
    println!("Shutting down…");
    stack.shutdown().await;
    Ok(())
}

fn print_banner(stack: &Stack, vars: &HashMap<String, String>) {
    let admin_email = vars
        .get("QUICKMART_ADMIN_EMAIL")
        .map_or("admin@quickmart.local", String::as_str);
    let default_password = !vars.contains_key("QUICKMART_ADMIN_PASSWORD");
    println!();
    println!("QuickMart is running.");
    println!();
    println!(
        "  GraphiQL (the one endpoint)  {}/graphql",
        stack.url(Service::Gateway)
    );
    for (service, name) in [
        (Service::UserCore, "user-core"),
        (Service::ProductCore, "product-core"),
        (Service::OrderCore, "order-core"),
    ] {
        println!("  {name:<13} Swagger UI    {}/docs", stack.url(service));
    }
    println!(
        "  Metrics                      {}/metrics  (every service serves /metrics, /healthz, /readyz)",
        stack.url(Service::Gateway)
    );
    println!();
    if default_password {
        println!("  Admin login: {admin_email} / quickmart-admin");
        println!("  (development default: set QUICKMART_ADMIN_PASSWORD for anything shared)");
    } else {
        println!("  Admin login: {admin_email} / the password in QUICKMART_ADMIN_PASSWORD");
    }
    println!();
    println!("Press Ctrl-C to stop.");
}

const DATABASE_VARIABLES: [(&str, &str); 3] = [
    ("USER_DATABASE_URL", "quickmart_user"),
    ("PRODUCT_DATABASE_URL", "quickmart_product"),
    ("ORDER_DATABASE_URL", "quickmart_order"),
];

/// Uses the configured databases, else the local server, else a private cluster started here.
async fn prepare_postgres(
    vars: &mut HashMap<String, String>,
    embedded: &mut EmbeddedServers,
    state_dir: &std::path::Path,
) -> anyhow::Result<()> {
    if DATABASE_VARIABLES
        .iter()
        .any(|(name, _)| vars.contains_key(*name))
    {
        return Ok(());
    }
    let probe = tokio::time::timeout(
        Duration::from_secs(3),
        AsyncPgConnection::establish(&format!("{DEV_POSTGRES_URL}/postgres")),
    )
    .await;
    if matches!(probe, Ok(Ok(_))) {
        return Ok(());
    }
    println!("No PostgreSQL answers at {DEV_POSTGRES_URL}: starting a private one.");
    let server = embedded.start_postgres(state_dir).await?;
    for (name, database) in DATABASE_VARIABLES {
        vars.insert(name.to_owned(), format!("{server}/{database}"));
    }
    Ok(())
}

/// Uses `REDIS_URL`, else the local server, else a private `redis-server`, else an in-process cache.
async fn prepare_redis(
    vars: &mut HashMap<String, String>,
    embedded: &mut EmbeddedServers,
) -> anyhow::Result<()> {
    if vars.contains_key("REDIS_URL") || answers("127.0.0.1:6379") {
        return Ok(());
    }
    match embedded.start_redis().await? {
        Some(url) => {
            println!("No Redis answers at 127.0.0.1:6379: started a private one at {url}.");
            vars.insert("REDIS_URL".into(), url);
        }
        None => {
            println!(
                "No Redis answers at 127.0.0.1:6379 and none is installed: using an in-process cache."
            );
            vars.insert("REDIS_URL".into(), "memory://".into());
        }
    }
    Ok(())
}
