//! Runs order-core alone (`quickmart up` runs it with the others).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quickmart_shared::server::main(
        order_core::SERVICE,
        order_core::LISTEN_VARIABLE,
        async |env| {
            let config = order_core::Config::from_env(&env)?;
            Ok((config.listen_addr, order_core::build(&config).await?))
        },
    )
    .await
}
