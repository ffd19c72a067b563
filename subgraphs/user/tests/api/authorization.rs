//! Who may read and change which accounts.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, code, unique_email};

const USER: &str = "query($id: ID!) { user(id: $id) { id email role } }";
const USERS: &str = "query($first: Int, $after: String) { users(first: $first, after: $after) { totalCount \
                     edges { cursor node { email } } nodes { email } pageInfo { hasNextPage endCursor } } }";
const SET_ROLE: &str =
    "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id role } }";

#[tokio::test]
async fn customers_see_themselves_only_and_others_as_null() {
    let app = TestApp::spawn().await;
    let alice = app.register(&unique_email("alice")).await;
    let bob = app.register(&unique_email("bob")).await;
    let token = alice["accessToken"].as_str();

    let other = app.gql(USER, json!({"id": bob["user"]["id"]}), token).await;
    assert_eq!(other, json!({"data": {"user": null}}));
    let missing = app
        .gql(USER, json!({"id": uuid::Uuid::now_v7()}), token)
        .await;
    assert_eq!(missing, json!({"data": {"user": null}}));
    let own = app
        .gql(USER, json!({"id": alice["user"]["id"]}), token)
        .await;
    assert_eq!(own["data"]["user"]["email"], alice["user"]["email"]);
    let anonymous = app
        .gql(USER, json!({"id": alice["user"]["id"]}), None)
        .await;
    assert_eq!(anonymous, json!({"data": {"user": null}}));
    let malformed = app.gql(USER, json!({"id": "not-a-uuid"}), token).await;
    assert_eq!(
        (
            code(&malformed),
            malformed["errors"][0]["extensions"]["field"].as_str()
        ),
        (Some("BAD_USER_INPUT"), Some("id"))
    );

    // Entity references from other subgraphs follow the same rule.
    let entities =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }";
    let representations = json!({"r": [
        {"__typename": "User", "id": alice["user"]["id"]},
        {"__typename": "User", "id": bob["user"]["id"]},
    ]});
    let resolved = app.gql(entities, representations, token).await;
    assert_eq!(
        resolved["data"]["_entities"][0]["email"],
        alice["user"]["email"]
    );
    assert_eq!(resolved["data"]["_entities"][1], json!(null));
}

#[tokio::test]
async fn role_gated_operations_are_forbidden_to_customers_and_open_to_admins() {
    let app = TestApp::spawn().await;
    let customer = app.register(&unique_email("customer")).await;
    let token = customer["accessToken"].as_str();
    let id = &customer["user"]["id"];

    let listed = app.gql(USERS, json!({}), token).await;
    assert_eq!(
        (code(&listed), &listed["data"]),
        (Some("FORBIDDEN"), &json!(null))
    );
    let promoted = app
        .gql(SET_ROLE, json!({"id": id, "role": "ADMIN"}), token)
        .await;
    assert_eq!(code(&promoted), Some("FORBIDDEN"));
    assert_eq!(
        code(&app.gql(USERS, json!({}), None).await),
        Some("UNAUTHENTICATED")
    );

    let admin = app.admin_token().await;
    let other = app.gql(USER, json!({"id": id}), Some(&admin)).await;
    assert_eq!(other["data"]["user"]["role"].as_str(), Some("CUSTOMER"));
    let promoted = app
        .gql(SET_ROLE, json!({"id": id, "role": "ADMIN"}), Some(&admin))
        .await;
    assert_eq!(
        promoted["data"]["setUserRole"]["role"].as_str(),
        Some("ADMIN")
    );
    // The cached account was invalidated, and the next login carries the new role.
    let other = app.gql(USER, json!({"id": id}), Some(&admin)).await;
    assert_eq!(other["data"]["user"]["role"].as_str(), Some("ADMIN"));
    let relogin = app
        .login(customer["user"]["email"].as_str().expect("email"), PASSWORD)
        .await;
    assert_eq!(
        relogin["data"]["login"]["user"]["role"].as_str(),
        Some("ADMIN")
    );
    let as_new_admin = app
        .gql(
            USERS,
            json!({}),
            relogin["data"]["login"]["accessToken"].as_str(),
        )
        .await;
    assert_eq!(as_new_admin["data"]["users"]["totalCount"], json!(2));

    let unknown = app
        .gql(
            SET_ROLE,
            json!({"id": uuid::Uuid::now_v7(), "role": "ADMIN"}),
            Some(&admin),
        )
        .await;
    assert_eq!(code(&unknown), Some("NOT_FOUND"));
}

#[tokio::test]
async fn admins_page_through_users() {
    let app = TestApp::spawn().await;
    for label in ["one", "two", "three"] {
        app.register(&unique_email(label)).await;
    }
    let admin = app.admin_token().await;
    let first = app.gql(USERS, json!({"first": 3}), Some(&admin)).await;
    let page = &first["data"]["users"];
    assert_eq!(
        (
            page["totalCount"].as_i64(),
            page["pageInfo"]["hasNextPage"].as_bool()
        ),
        (Some(4), Some(true))
    );
    assert_eq!(page["edges"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["nodes"][0], page["edges"][0]["node"]);
    let after = page["pageInfo"]["endCursor"].clone();
    let second = app
        .gql(USERS, json!({"first": 3, "after": after}), Some(&admin))
        .await;
    let rest = &second["data"]["users"];
    assert_eq!(rest["pageInfo"]["hasNextPage"].as_bool(), Some(false));
    assert_eq!(
        rest["nodes"][0]["email"].as_str(),
        Some(app.core.admin_email.as_str())
    );

    for first in [0, 101] {
        let refused = app.gql(USERS, json!({"first": first}), Some(&admin)).await;
        assert_eq!(code(&refused), Some("BAD_USER_INPUT"));
        assert_eq!(
            refused["errors"][0]["extensions"]["field"].as_str(),
            Some("first")
        );
    }
    let garbage = app
        .gql(USERS, json!({"after": "garbage"}), Some(&admin))
        .await;
    assert_eq!(code(&garbage), Some("BAD_USER_INPUT"));
}

/// A write made straight at user-core (another subgraph replica, a script, an operator) is seen within the
/// invalidation window: the core leaves a tombstone and publishes it to every near copy. Before, the subgraph served the old role from its cache for up to 5 minutes.
#[tokio::test]
async fn a_role_set_directly_on_the_core_is_seen_at_once() {
    let app = TestApp::spawn().await;
    let alice = app.register(&unique_email("alice")).await;
    let id = alice["user"]["id"].as_str().expect("id").to_owned();
    let admin = app.admin_token().await;
    let before = app.gql(USER, json!({"id": id}), Some(&admin)).await;
    assert_eq!(before["data"]["user"]["role"], "CUSTOMER", "{before}");

    let response = reqwest::Client::new()
        .put(format!("{}/v1/users/{id}/role", app.core.url))
        .header("x-internal-token", crate::helpers::TOKEN)
        .json(&json!({"role": "ADMIN"}))
        .send()
        .await
        .expect("core answers");
    assert!(response.status().is_success(), "{}", response.status());

    // The subgraph hears of the write on the invalidation channel: within milliseconds, not at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let after = loop {
        let after = app.gql(USER, json!({"id": id}), Some(&admin)).await;
        if after["data"]["user"]["role"] == "ADMIN" || std::time::Instant::now() > deadline {
            break after;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(after["data"]["user"]["role"], "ADMIN", "{after}");
}
