//! `quickmart`: run the whole system, one service, migrations, demo data, or regenerate the schema files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use quickmart::services::{self, Service};
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::Env;

#[derive(Parser)]
#[command(
    name = "quickmart",
    version,
    about = "QuickMart: an e-commerce backend (GraphQL federation over REST cores)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in one process (gateway :4000, subgraphs :4001-4003, cores :8081-8083), with databases,
    /// migrations and demo data; prints the URLs to open.
    Up {
        /// Do not seed the demo catalog.
        #[arg(long)]
        no_seed: bool,
    },
    /// Run one service (what each container runs).
    Serve {
        /// The service.
        service: Service,
    },
    /// Create (outside production) and migrate the databases, then exit.
    Migrate {
        /// Only this core's database.
        service: Option<Service>,
    },
    /// Seed the demo catalog through product-core (`PRODUCT_CORE_URL`); running it again changes nothing.
    Seed,
    /// Regenerate the subgraph SDLs and the supergraph in schema/ (and its copy in k8s/base/).
    Compose {
        /// Fail when the checked-in files differ from the code instead of rewriting them.
        #[arg(long)]
        check: bool,
        /// The repository root.
        #[arg(long, default_value_os_t = quickmart::schemas::default_root())]
        root: PathBuf,
    },
    /// Regenerate each core's OpenAPI document in schema/openapi/.
    Openapi {
        /// Fail when the checked-in files differ from the code instead of rewriting them.
        #[arg(long)]
        check: bool,
        /// The repository root.
        #[arg(long, default_value_os_t = quickmart::schemas::default_root())]
        root: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Up { .. }) {
        quickmart_shared::telemetry::init_for_console();
    } else {
        quickmart_shared::telemetry::init();
    }
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up { no_seed } => {
            quickmart::up::up(quickmart::up::UpOptions { seed: !no_seed }).await
        }
        Command::Serve { service } => {
            let vars = std::env::vars().collect();
            let env = Env::from_pairs(std::env::vars())?;
            let addr = env.listen_addr(service.env_prefix(), service.default_port())?;
            let router = services::build(service, &vars).await?;
            let limits = services::server_limits(service, &vars)?;
            quickmart_shared::server::run(
                service.name(),
                addr,
                &service.listen_variable(),
                router,
                limits,
            )
            .await?;
            Ok(())
        }
        Command::Migrate { service } => {
            quickmart::migrate::migrate(&Env::from_process()?, service).await
        }
        Command::Seed => {
            let env = Env::from_process()?;
            let url = env
                .raw("PRODUCT_CORE_URL")
                .unwrap_or("http://127.0.0.1:8082")
                .to_owned();
            let client = InternalClient::new(
                "product-core",
                &url,
                env.internal_token()?,
                Duration::from_secs(10),
            )?;
            let report = quickmart::seed::seed(&client).await?;
            println!(
                "categories created: {}, products created: {}, already there: {}",
                report.categories_created, report.products_created, report.products_existing
            );
            Ok(())
        }
        Command::Compose { check, root } => quickmart::schemas::compose(&root, check),
        Command::Openapi { check, root } => quickmart::schemas::openapi(&root, check),
    }
}
