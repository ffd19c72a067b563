//! Preparation cost of adversarial documents as they grow: `cargo bench -p quickmart-gateway --bench prepare`.
//!
//! Prints, per family and size, the time to prepare (or refuse) one document and that time per KB. The
//! limits make every family linear: the per-KB figure stays flat as the document grows to the body limit.

use std::time::{Duration, Instant};

use quickmart_gateway::{Gateway, GatewayConfig};

const SUPERGRAPH: &str = include_str!("../tests/fixtures/supergraph.graphql");

/// A document of about `bytes` bytes in each adversarial family.
fn families(bytes: usize) -> Vec<(&'static str, String)> {
    let fragments = bytes / 32;
    let chain: String = (0..fragments)
        .map(|i| format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1))
        .collect();
    let fan_out: String = (0..9)
        .map(|i| {
            format!(
                "fragment T{i} on __Type {{ a: ofType {{ ...T{0} }} b: ofType {{ ...T{0} }} }}\n",
                i + 1
            )
        })
        .collect();
    vec![
        (
            "repeated field",
            format!("{{ me {{ {} }} }}", "name ".repeat(bytes / 5)),
        ),
        (
            "nested repeats",
            format!(
                "{{ {} }}",
                "me { orders { user { name } } } ".repeat(bytes / 32)
            ),
        ),
        (
            "fragment chain",
            format!("{{ ...F0 }}\n{chain}fragment F{fragments} on Query {{ __typename }}"),
        ),
        ("deep braces", "{".repeat(bytes)),
        (
            "deep lists",
            format!("{{ product(upc: {}) {{ upc }} }}", "[".repeat(bytes)),
        ),
        (
            "aliases",
            format!(
                "{{ me {{ {} }} }}",
                (0..bytes / 12)
                    .map(|i| format!("a{i}: name "))
                    .collect::<String>()
            ),
        ),
        (
            "introspection fan-out",
            format!(
                "{{ __schema {{ types {{ ...T0 }} }} }}\n{fan_out}fragment T9 on __Type {{ name }}"
            ),
        ),
        (
            "comment padding",
            format!("{{ me {{ name }} }} #{}", "x".repeat(bytes)),
        ),
        (
            "long string",
            format!("{{ product(upc: \"{}\") {{ upc }} }}", "x".repeat(bytes)),
        ),
    ]
}

fn main() {
    let gateway = Gateway::from_supergraph_sdl(SUPERGRAPH, GatewayConfig::default())
        .expect("the fixture supergraph loads");
    println!(
        "{:<24} {:>9} {:>12} {:>10}  outcome",
        "family", "KB", "µs/document", "µs/KB"
    );
    for bytes in [16 * 1024, 64 * 1024, 256 * 1024, 1000 * 1024] {
        for (family, document) in families(bytes) {
            let kb = document.len() as f64 / 1024.0;
            let mut runs = 0u32;
            let mut outcome = String::new();
            let started = Instant::now();
            while runs < 3 || started.elapsed() < Duration::from_millis(300) {
                outcome = match gateway.check_document(&document, None) {
                    Ok(()) => "admitted".to_owned(),
                    Err(errors) => errors
                        .first()
                        .and_then(|e| {
                            e.extensions
                                .get("limit")
                                .or_else(|| e.extensions.get("code"))
                        })
                        .map_or_else(String::new, ToString::to_string),
                };
                runs += 1;
            }
            let per_document = started.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
            println!(
                "{family:<24} {kb:>9.0} {per_document:>12.0} {:>10.2}  {outcome}",
                per_document / kb
            );
        }
    }
}
