//! Runs product-core alone (`quickmart up` runs it with the others).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quickmart_shared::server::main(
        product_core::SERVICE,
        product_core::LISTEN_VARIABLE,
        async |env| {
            let config = product_core::Config::from_env(&env)?;
            Ok((config.listen_addr, product_core::build(&config).await?))
        },
    )
    .await
}
