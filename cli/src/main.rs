//! `quickmart`: run the whole system, one service, migrations, demo data, or regenerate the schema files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use quickmart::services;
use quickmart_shared::ServiceId;
use quickmart_shared::client::InternalClient;
use quickmart_shared::config::Env;

// One binary runs every service. A request allocates many small, short-lived buffers (headers, bodies,
// futures) on whichever worker runs it; glibc malloc's arenas were ~9% of the gateway's CPU under load (perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run one service: what each container, benchmark and the federation audit run.
    Serve {
        /// The service.
        #[arg(value_parser = service_parser())]
        service: ServiceId,
    },
    /// Create (outside production) and migrate the databases, then exit.
    Migrate {
        /// Only this core's database.
        #[arg(value_parser = service_parser())]
        service: Option<ServiceId>,
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

/// Accepts the names of the shared service table, and lists them in `--help`.
fn service_parser() -> impl clap::builder::TypedValueParser<Value = ServiceId> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ServiceId::ALL.map(ServiceId::name))
        .try_map(|name| name.parse::<ServiceId>())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Up { .. }) {
        quickmart_shared::telemetry::init_for_console();
    } else {
        quickmart_shared::telemetry::init();
    }
    let code = match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    };
    quickmart_shared::telemetry::flush_logs();
    code
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up { no_seed } => {
            quickmart::up::up(quickmart::up::UpOptions { seed: !no_seed }).await
        }
        Command::Serve { service } => {
            let env = Env::from_process()?;
            let addr = env.listen_addr(service)?;
            let router = services::build(service, &env).await?;
            let limits = services::server_limits(service, &env)?;
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
            let url = env.service_url(ServiceId::ProductCore)?;
            let client = InternalClient::new(
                ServiceId::ProductCore.name(),
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
