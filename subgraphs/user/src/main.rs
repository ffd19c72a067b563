//! The user-subgraph binary: configuration from the environment, then serve until SIGTERM.

use quickmart_shared::config::Env;
use quickmart_shared::server::{StartError, run};

#[tokio::main]
async fn main() -> Result<(), StartError> {
    quickmart_shared::telemetry::init();
    let config = user_subgraph::Config::from_env(&Env::from_process()?)?;
    let router = user_subgraph::build(&config).await?;
    run(user_subgraph::SERVICE, config.listen_addr, user_subgraph::LISTEN_VARIABLE, router).await
}
