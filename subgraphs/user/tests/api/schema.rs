//! The checked-in SDL (`schema/user.graphql`) must match the code; `UPDATE_SCHEMA=1` rewrites it.

#[test]
fn the_checked_in_sdl_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/user.graphql");
    let sdl = user_subgraph::schema_sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &sdl).expect("write schema/user.graphql");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == sdl,
        "schema/user.graphql is stale; regenerate with UPDATE_SCHEMA=1 cargo test -p user-subgraph"
    );
}
