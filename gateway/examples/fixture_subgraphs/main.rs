//! The gateway's fixture subgraphs as a program, for the benchmark and fixture refresh.
//!
//! `fixture_subgraphs sdl DIR` writes `DIR/<name>.graphql` for each subgraph;
//! `fixture_subgraphs serve BASE_PORT` serves users, products, inventory and orders on
//! `BASE_PORT`, `+1`, `+2`, `+3` (127.0.0.1) until Ctrl-C;
//! `fixture_subgraphs token STATE_DIR` prints an access token signed with the development key a gateway
//! started with `QUICKMART_STATE_DIR=STATE_DIR` verifies (the benchmark's `Authorization` runs).

mod subgraphs;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use anyhow::{Context, bail};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["sdl", dir] => {
            for (name, sdl) in subgraphs::sdls() {
                let path = std::path::Path::new(dir).join(format!("{name}.graphql"));
                std::fs::write(&path, sdl).with_context(|| path.display().to_string())?;
            }
            Ok(())
        }
        ["serve", base] => {
            let base: u16 = base.parse().context("BASE_PORT")?;
            let seq = subgraphs::Sequence::default();
            let hits = || Arc::new(AtomicUsize::new(0));
            let routers = [
                subgraphs::router(subgraphs::users(seq.clone()), hits()),
                subgraphs::router(subgraphs::products(seq), hits()),
                subgraphs::router(subgraphs::inventory(), hits()),
                subgraphs::router(subgraphs::orders(), hits()),
            ];
            let mut tasks = Vec::new();
            for (offset, router) in (0u16..).zip(routers) {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", base + offset)).await?;
                tasks.push(tokio::spawn(
                    async move { axum::serve(listener, router).await },
                ));
            }
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        ["token", state_dir] => {
            let env =
                quickmart_shared::config::Env::from_pairs([("QUICKMART_STATE_DIR", *state_dir)])?;
            let signer = quickmart_shared::auth::KeyMaterial::from_env(&env)?.signer()?;
            let actor = quickmart_shared::auth::Actor {
                id: uuid::Uuid::now_v7(),
                role: quickmart_shared::auth::Role::Customer,
            };
            println!("{}", signer.sign(actor, 0)?);
            Ok(())
        }
        _ => bail!("usage: fixture_subgraphs sdl DIR | serve BASE_PORT | token STATE_DIR"),
    }
}
