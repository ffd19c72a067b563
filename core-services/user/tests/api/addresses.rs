//! Address books: validation, one default, the 20-address limit under concurrency, and owners' scoping.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestCore, status_and_json};

fn address(name: &str) -> Value {
    json!({"name": name, "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4LG", "country": "GB"})
}

async fn add(core: &TestCore, user: &str, body: Value) -> (u16, Value) {
    status_and_json(
        core.post(&format!("/v1/users/{user}/addresses"), body)
            .await,
    )
    .await
}

async fn book(core: &TestCore, user: &str) -> Vec<Value> {
    let (status, body) =
        status_and_json(core.get(&format!("/v1/users/{user}/addresses")).await).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().expect("items").clone()
}

fn defaults(book: &[Value]) -> Vec<String> {
    book.iter()
        .filter(|a| a["is_default"] == true)
        .map(|a| a["address"]["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn addresses_are_validated_like_shipping_addresses_and_the_first_is_the_default() {
    let core = TestCore::spawn().await;
    let user = core.create_user("book@example.com").await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let (status, body) = add(
        &core,
        &user,
        json!({"name": " ", "line1": "x", "city": "y", "postal_code": "", "country": "XX"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "postal_code", "country"]);
    assert!(book(&core, &user).await.is_empty(), "nothing half-written");

    let (status, first) = add(&core, &user, address(" Ada ")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (
            first["is_default"].as_bool(),
            first["address"]["name"].as_str()
        ),
        (Some(true), Some("Ada"))
    );
    let (_, second) = add(&core, &user, address("Charles")).await;
    assert_eq!(second["is_default"], false);

    // Replacing keeps the default flag and clears what the new address leaves out.
    let path = format!(
        "/v1/users/{user}/addresses/{}",
        first["id"].as_str().expect("id")
    );
    let mut with_line2 = address("Ada");
    with_line2["line2"] = json!("Flat 2");
    let response = core
        .request(Method::PUT, &path)
        .json(&with_line2)
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), 200);
    let response = core
        .request(Method::PUT, &path)
        .json(&address("Ada K."))
        .send()
        .await
        .expect("put");
    let (status, updated) = status_and_json(response).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["is_default"], true);
    assert_eq!(updated["address"].get("line2"), None);
    assert_eq!(defaults(&book(&core, &user).await), ["Ada K."]);
}

#[tokio::test]
async fn one_default_at_a_time_and_removing_it_promotes_the_oldest() {
    let core = TestCore::spawn().await;
    let user = core.create_user("defaults@example.com").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        ids.push(
            add(&core, &user, address(name)).await.1["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let set = |id: &str| {
        core.request(
            Method::PUT,
            &format!("/v1/users/{user}/addresses/{id}/default"),
        )
        .send()
    };
    // Eight concurrent switches between two addresses still leave exactly one default.
    let switches = join_all((0..8).map(|i| set(&ids[1 + i % 2]))).await;
    assert!(
        switches
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    assert_eq!(defaults(&book(&core, &user).await).len(), 1);

    let response = set(&ids[2]).await.expect("set");
    assert_eq!(response.status(), 200);
    let missing = set("0190a0a0-0000-7000-8000-000000000000")
        .await
        .expect("set");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        defaults(&book(&core, &user).await),
        ["C"],
        "a failed switch changes nothing"
    );

    let removed = core
        .request(
            Method::DELETE,
            &format!("/v1/users/{user}/addresses/{}", ids[2]),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(removed.status(), 204);
    assert_eq!(defaults(&book(&core, &user).await), ["A"]);
}

#[tokio::test]
async fn concurrent_additions_never_pass_twenty() {
    let core = TestCore::spawn().await;
    let user = core.create_user("full@example.com").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // 20 × 8 concurrent additions: exactly 20 land, the rest are CONFLICT.
    let results = join_all((0..160).map(|i| add(&core, &user, address(&format!("R{i}"))))).await;
    let created = results.iter().filter(|(status, _)| *status == 201).count();
    let refused = results
        .iter()
        .filter(|(status, body)| *status == 409 && body["code"] == "CONFLICT")
        .count();
    assert_eq!(
        (created, refused),
        (20, 140),
        "{:?}",
        results.iter().find(|r| r.0 != 201 && r.0 != 409)
    );
    let saved = book(&core, &user).await;
    assert_eq!(saved.len(), 20);
    assert_eq!(defaults(&saved).len(), 1);
}

#[tokio::test]
async fn another_users_address_is_not_found_and_stays_unchanged() {
    let core = TestCore::spawn().await;
    let owner = core.create_user("owner@example.com").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let other = core.create_user("other@example.com").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let id = add(&core, &owner, address("Mine")).await.1["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/v1/users/{other}/addresses/{id}");
    assert_eq!(core.get(&path).await.status(), 404);
    let put = core
        .request(Method::PUT, &path)
        .json(&address("Theirs"))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 404);
    let default = core
        .request(Method::PUT, &format!("{path}/default"))
        .send()
        .await
        .expect("put");
    assert_eq!(default.status(), 404);
    let delete = core
        .request(Method::DELETE, &path)
        .send()
        .await
        .expect("delete");
    assert_eq!(delete.status(), 404);
    let saved = book(&core, &owner).await;
    assert_eq!(
        (
            saved.len(),
            saved[0]["address"]["name"].as_str(),
            saved[0]["is_default"].as_bool()
        ),
        (1, Some("Mine"), Some(true))
    );
    assert!(book(&core, &other).await.is_empty());

    let (status, body) = add(
        &core,
        "0190a0a0-0000-7000-8000-000000000000",
        address("Ghost"),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, _) = add(&core, &owner, json!({"name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "GB", "extra": 1})).await;
    assert_eq!(
        status, 400,
        "unknown fields are refused as a malformed body"
    );
}
