//! The `quickmart` binary itself: what its commands refuse before starting anything.

use std::process::Command;

/// `QUICKMART_ENV=prod` is production for `quickmart up` too (one definition, `Env`): it starts no embedded
/// PostgreSQL or Redis and fails naming the first setting production requires.
#[test]
fn up_in_production_starts_no_embedded_servers_and_names_what_is_missing() {
    let state = std::env::temp_dir().join(format!("quickmart-prod-{}", uuid::Uuid::new_v4()));
    for spelling in ["prod", "Production"] {
        let output = Command::new(env!("CARGO_BIN_EXE_quickmart"))
            .args(["up", "--no-seed"])
            .env("QUICKMART_ENV", spelling)
            .env("QUICKMART_STATE_DIR", &state)
            .env_remove("USER_DATABASE_URL")
            .env_remove("PRODUCT_DATABASE_URL")
            .env_remove("ORDER_DATABASE_URL")
            .output()
            .expect("run quickmart");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{spelling}: {stderr}");
        assert!(
            stderr.contains("USER_DATABASE_URL must be set"),
            "{spelling}: {stderr}"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("starting a private one"), "{stdout}");
        assert!(!state.exists(), "nothing is written to the state folder");
    }
}

/// `quickmart serve` accepts exactly the names of the service table.
#[test]
fn serve_refuses_an_unknown_service_listing_the_known_ones() {
    let output = Command::new(env!("CARGO_BIN_EXE_quickmart"))
        .args(["serve", "inventory-core"])
        .output()
        .expect("run quickmart");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    for name in quickmart_shared::ServiceId::ALL.map(quickmart_shared::ServiceId::name) {
        assert!(stderr.contains(name), "{name} missing from: {stderr}");
    }
}
