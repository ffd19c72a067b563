//! Runs the user-core alone (`quickmart up` runs it with the others).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quickmart_shared::server::main(
        user_core::SERVICE,
        user_core::LISTEN_VARIABLE,
        async |env| {
            let config = user_core::Config::from_env(&env)?;
            Ok((config.listen_addr, user_core::build(&config).await?))
        },
    )
    .await
}
