//! Runs the user subgraph alone (`quickmart up` runs it with the others).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quickmart_shared::server::main(
        user_subgraph::SERVICE,
        user_subgraph::LISTEN_VARIABLE,
        async |env| {
            let config = user_subgraph::Config::from_env(&env)?;
            Ok((config.listen_addr, user_subgraph::build(&config).await?))
        },
    )
    .await
}
