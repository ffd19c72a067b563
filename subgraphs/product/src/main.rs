//! Runs the product subgraph alone (`quickmart up` runs it with the others).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quickmart_shared::server::main(
        product_subgraph::SERVICE,
        product_subgraph::LISTEN_VARIABLE,
        async |env| {
            let config = product_subgraph::Config::from_env(&env)?;
            Ok((config.listen_addr, product_subgraph::build(&config).await?))
        },
    )
    .await
}
