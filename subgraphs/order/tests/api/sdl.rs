//! The checked-in SDL matches the code (`UPDATE_SCHEMA=1` rewrites it).

#[test]
fn checked_in_sdl_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/order.graphql");
    let generated = order_subgraph::schema_sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).expect("write schema/order.graphql");
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema/order.graphql is stale: run `UPDATE_SCHEMA=1 cargo test -p order-subgraph`"
    );
}
