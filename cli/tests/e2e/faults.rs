//! Dependency faults, with a private PostgreSQL the test may stop (never the machine's shared one).

use std::time::Duration;

use quickmart::embedded::EmbeddedServers;
use serde_json::{Value, json};

use crate::helpers::TestSystem;

const BROWSE: &str = "{ products(first: 5) { totalCount } }";

/// With the database down, every uncached read fails fast as `SERVICE_UNAVAILABLE` naming the module (it used to
/// hold each request for the gateway's 10 s and end in `SUBREQUEST_TIMEOUT`); once the database is back, reads
/// succeed again without restarting anything.
#[tokio::test]
async fn a_database_outage_fails_fast_and_recovers_by_itself() {
    let state = std::env::temp_dir().join(format!("quickmart-faults-{}", uuid::Uuid::new_v4()));
    let mut servers = EmbeddedServers::default();
    let server = servers
        .start_postgres(&state)
        .await
        .expect("a private PostgreSQL");
    let system = TestSystem::start_on(&server).await;
    system.ok(None, BROWSE, json!({})).await;

    servers.pause_postgres().await.expect("stop PostgreSQL");
    // 3 × 8 at once: the breaker's threshold, eight times over.
    let answers =
        futures::future::join_all((0..24).map(|_| system.graphql(None, BROWSE, json!({})))).await;
    for answer in &answers {
        let error = &answer["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{answer:#}"
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("product service"), "{message}");
        assert!(
            !message.contains("database") && !message.contains("-core"),
            "{message}"
        );
    }

    servers
        .resume_postgres()
        .await
        .expect("start PostgreSQL again");
    let mut recovered = false;
    for _ in 0..150 {
        let answer: Value = system.graphql(None, BROWSE, json!({})).await;
        if answer["errors"].is_null() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(system);
    servers.stop().await;
    let _ = std::fs::remove_dir_all(&state);
    assert!(
        recovered,
        "reads never recovered after PostgreSQL came back"
    );
}
