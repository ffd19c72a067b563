//! `quickmart up`: the whole system in one process, with databases, demo data and the URLs to open.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::{DEV_POSTGRES_URL, DEV_REDIS_URL, Env};

use crate::embedded::{EmbeddedServers, answers};
use crate::stack::Stack;
use quickmart_shared::ServiceId;

/// Options of `quickmart up`.
pub struct UpOptions {
    /// Seed the demo catalog.
    pub seed: bool,
}

/// Runs every service until Ctrl-C or SIGTERM.
pub async fn up(options: UpOptions) -> anyhow::Result<()> {
    let mut env = Env::from_process()?;
    let mut embedded = EmbeddedServers::default();
    // Production never gets embedded servers: its databases and cache must be configured (and are checked).
    if !env.is_production() {
        let state_dir = PathBuf::from(env.raw("QUICKMART_STATE_DIR").unwrap_or(".quickmart"));
        prepare_postgres(&mut env, &mut embedded, &state_dir).await?;
        prepare_redis(&mut env, &mut embedded).await?;
    }
    let outcome = run(env, options).await;
    embedded.stop().await;
    outcome
}

async fn run(env: Env, options: UpOptions) -> anyhow::Result<()> {
    let mut stack = Stack::start(env.clone()).await?;
    stack.wait_until_ready(Duration::from_secs(60)).await?;
    if options.seed {
        let client = InternalClient::new(
            ServiceId::ProductCore.name(),
            &stack.url(ServiceId::ProductCore),
            env.internal_token()?,
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
    print_banner(&stack, &env);
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

fn print_banner(stack: &Stack, env: &Env) {
    let admin_email = env
        .raw("QUICKMART_ADMIN_EMAIL")
        .unwrap_or("admin@quickmart.local");
    let default_password = env.raw("QUICKMART_ADMIN_PASSWORD").is_none();
    println!();
    println!("QuickMart is running.");
    println!();
    println!(
        "  GraphiQL (the one endpoint)  {}/graphql",
        stack.url(ServiceId::Gateway)
    );
    for service in ServiceId::CORES {
        println!(
            "  {:<13} Swagger UI    {}/docs",
            service.name(),
            stack.url(service)
        );
    }
    println!(
        "  Metrics                      {}/metrics  (every service serves /metrics, /healthz, /readyz)",
        stack.url(ServiceId::Gateway)
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

/// Uses the configured databases, else the local server, else a private cluster started here.
async fn prepare_postgres(
    env: &mut Env,
    embedded: &mut EmbeddedServers,
    state_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let databases = ServiceId::CORES.into_iter().filter_map(ServiceId::database);
    if databases
        .clone()
        .any(|db| env.contains(&format!("{}_DATABASE_URL", db.env_prefix)))
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
    for db in databases {
        env.set(
            format!("{}_DATABASE_URL", db.env_prefix),
            format!("{server}/{}", db.name),
        );
    }
    Ok(())
}

/// Uses `REDIS_URL`, else the local server, else a private `redis-server`, else an in-process cache.
async fn prepare_redis(env: &mut Env, embedded: &mut EmbeddedServers) -> anyhow::Result<()> {
    let local = DEV_REDIS_URL.trim_start_matches("redis://");
    if env.contains("REDIS_URL") || answers(local) {
        return Ok(());
    }
    match embedded.start_redis().await? {
        Some(url) => {
            println!("No Redis answers at {local}: started a private one at {url}.");
            env.set("REDIS_URL", url);
        }
        None => {
            println!(
                "No Redis answers at {local} and none is installed: using an in-process cache."
            );
            env.set("REDIS_URL", "memory://");
        }
    }
    Ok(())
}
