//! The checked-in SDL matches the code (`UPDATE_SCHEMA=1` rewrites it).

#[test]
fn checked_in_sdl_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/product.graphql");
    let generated = product_subgraph::schema_sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).expect("write schema/product.graphql");
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema/product.graphql is stale: run `UPDATE_SCHEMA=1 cargo test -p product-subgraph`"
    );
}
