//! `quickmart compose` and `quickmart openapi`: the checked-in schema files, regenerated from the code or
//! checked against it (`--check`, used by the test command to catch drift).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use quickmart_shared::ServiceId;

/// The folder of the workspace this binary was built from (where `schema/` lives).
pub fn default_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// (service, SDL) of every subgraph.
fn subgraphs() -> [(ServiceId, String); 3] {
    [
        (ServiceId::UserSubgraph, user_subgraph::schema_sdl()),
        (ServiceId::ProductSubgraph, product_subgraph::schema_sdl()),
        (ServiceId::OrderSubgraph, order_subgraph::schema_sdl()),
    ]
}

/// Writes (or, with `check`, compares) every subgraph SDL, the supergraph composed from them, and the
/// supergraph's copy under `k8s/base/`.
pub fn compose(root: &Path, check: bool) -> anyhow::Result<()> {
    let schema_dir = root.join("schema");
    let scratch = std::env::temp_dir().join(format!(
        "quickmart-compose-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&scratch)?;
    let result = (|| {
        let mut outputs = Vec::new();
        let mut args = Vec::new();
        for (service, sdl) in subgraphs() {
            let name = service.subgraph_name().unwrap_or(service.name());
            let url = service.default_url();
            let file = scratch.join(format!("{name}.graphql"));
            std::fs::write(&file, &sdl)?;
            args.push(format!("{name}={url}={}", file.display()));
            outputs.push((schema_dir.join(format!("{name}.graphql")), sdl));
        }
        let supergraph = run_composition(&schema_dir, &scratch.join("supergraph.graphql"), &args)?;
        outputs.push((schema_dir.join("supergraph.graphql"), supergraph.clone()));
        outputs.push((root.join("k8s/base/supergraph.graphql"), supergraph));
        write_or_check(&outputs, check, "cargo run -p quickmart -- compose")
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn run_composition(schema_dir: &Path, out: &Path, args: &[String]) -> anyhow::Result<String> {
    if !schema_dir
        .join("node_modules/@theguild/federation-composition")
        .exists()
    {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(schema_dir)
            .stdout(Stdio::null())
            .status()
            .context("running npm (Node 20 and npm are needed to compose the supergraph)")?;
        if !status.success() {
            bail!("npm ci in {} failed", schema_dir.display());
        }
    }
    let status = std::process::Command::new("node")
        .arg(schema_dir.join("compose.mjs"))
        .arg("--out")
        .arg(out)
        .args(args)
        .status()
        .context("running node (Node 20 is needed to compose the supergraph)")?;
    if !status.success() {
        bail!("composition failed (errors above)");
    }
    Ok(std::fs::read_to_string(out)?)
}

/// (name, OpenAPI document) of every core.
fn documents() -> [(&'static str, utoipa::openapi::OpenApi); 3] {
    [
        (ServiceId::UserCore.name(), user_core::openapi()),
        (ServiceId::ProductCore.name(), product_core::openapi()),
        (ServiceId::OrderCore.name(), order_core::openapi()),
    ]
}

/// Writes (or, with `check`, compares) every core's OpenAPI document under `schema/openapi/`.
pub fn openapi(root: &Path, check: bool) -> anyhow::Result<()> {
    let dir = root.join("schema/openapi");
    let mut outputs = Vec::new();
    for (name, document) in documents() {
        let json = document
            .to_pretty_json()
            .context("serialising an OpenAPI document")?
            + "\n";
        outputs.push((dir.join(format!("{name}.json")), json));
    }
    write_or_check(&outputs, check, "cargo run -p quickmart -- openapi")
}

fn write_or_check(outputs: &[(PathBuf, String)], check: bool, fix: &str) -> anyhow::Result<()> {
    let mut stale = Vec::new();
    for (path, content) in outputs {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current == *content {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "these files differ from what the code produces: {}; regenerate them with `{fix}`",
            stale.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every core answers errors as RFC 9457 problem documents; its OpenAPI must say so on each one.
    #[test]
    fn every_error_response_is_documented_as_problem_json() {
        let mut undocumented = Vec::new();
        for (name, document) in documents() {
            let json = serde_json::to_value(&document).expect("OpenAPI serialises");
            let paths = json["paths"].as_object().expect("paths");
            for (path, operations) in paths {
                for (method, operation) in operations.as_object().into_iter().flatten() {
                    let responses = operation["responses"].as_object().into_iter().flatten();
                    for (status, response) in responses {
                        let is_error = status.starts_with('4') || status.starts_with('5');
                        if is_error && response["content"]["application/problem+json"].is_null() {
                            undocumented.push(format!("{name} {method} {path} {status}"));
                        }
                    }
                }
            }
        }
        assert!(
            undocumented.is_empty(),
            "not problem+json: {undocumented:#?}"
        );
    }
}
