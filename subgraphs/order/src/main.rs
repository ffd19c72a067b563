//! Runs the order subgraph alone (`quickmart up` runs it with the others).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quickmart_shared::server::main(
        order_subgraph::SERVICE,
        order_subgraph::LISTEN_VARIABLE,
        async |env| {
            let config = order_subgraph::Config::from_env(&env)?;
            Ok((config.listen_addr, order_subgraph::build(&config).await?))
        },
    )
    .await
}
