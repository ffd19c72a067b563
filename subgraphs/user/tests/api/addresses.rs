//! The address book through GraphQL: each customer reads and changes only their own.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, unique_email};

const BOOK: &str = "{ me { addresses { id name line2 country } defaultAddress { id name } } }";
const ADD: &str =
    "mutation($input: AddressInput!) { addAddress(input: $input) { id name country } }";
const UPDATE: &str = "mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { id name } }";
const REMOVE: &str = "mutation($id: ID!) { removeAddress(id: $id) }";
const SET_DEFAULT: &str = "mutation($id: ID!) { setDefaultAddress(id: $id) { id name } }";

fn input(name: &str) -> Value {
    json!({"input": {"name": name, "line1": "1 Infinite Loop", "city": "Cupertino", "postalCode": "95014", "country": " us "}})
}

#[tokio::test]
async fn a_customer_keeps_an_address_book_with_one_default() {
    let app = TestApp::spawn().await;
    let alice = app.register(&unique_email("book")).await;
    let token = alice["accessToken"].as_str();

    let empty = app.gql(BOOK, json!({}), token).await;
    assert_eq!(
        empty,
        json!({"data": {"me": {"addresses": [], "defaultAddress": null}}})
    );

    let home = app.gql(ADD, input("Home"), token).await;
    assert_eq!(home["data"]["addAddress"]["country"], "US", "{home}");
    let home_id = home["data"]["addAddress"]["id"].clone();
    let work = app.gql(ADD, input("Work"), token).await;
    let work_id = work["data"]["addAddress"]["id"].clone();

    let book = app.gql(BOOK, json!({}), token).await;
    assert_eq!(book["data"]["me"]["defaultAddress"]["name"], "Home");
    assert_eq!(
        book["data"]["me"]["addresses"].as_array().map(Vec::len),
        Some(2)
    );

    let switched = app.gql(SET_DEFAULT, json!({"id": work_id}), token).await;
    assert_eq!(
        switched["data"]["setDefaultAddress"]["name"], "Work",
        "{switched}"
    );
    let mut renamed = input("Office");
    renamed["id"] = work_id.clone();
    let updated = app.gql(UPDATE, renamed, token).await;
    assert_eq!(
        updated["data"]["updateAddress"]["name"], "Office",
        "{updated}"
    );
    let removed = app.gql(REMOVE, json!({"id": work_id}), token).await;
    assert_eq!(removed, json!({"data": {"removeAddress": true}}));
    let book = app.gql(BOOK, json!({}), token).await;
    assert_eq!(
        book["data"]["me"]["defaultAddress"]["id"], home_id,
        "the oldest becomes the default"
    );

    let mut bad = input(" ");
    bad["input"]["postalCode"] = json!("");
    let invalid = app.gql(ADD, bad, token).await;
    assert_eq!(code(&invalid), Some("BAD_USER_INPUT"), "{invalid}");
    let fields: Vec<&str> = invalid["errors"][0]["extensions"]["fieldErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["input.name", "input.postalCode"], "{invalid}");

    let anonymous = app.gql(ADD, input("Nobody"), None).await;
    assert_eq!(code(&anonymous), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn another_customers_address_is_not_found_and_unchanged() {
    let app = TestApp::spawn().await;
    let alice = app.register(&unique_email("alice")).await;
    let mallory = app.register(&unique_email("mallory")).await;
    let (alice_token, mallory_token) = (
        alice["accessToken"].as_str(),
        mallory["accessToken"].as_str(),
    );
    let added = app.gql(ADD, input("Alice"), alice_token).await;
    let id = added["data"]["addAddress"]["id"].clone();

    let mut takeover = input("Mallory");
    takeover["id"] = id.clone();
    for (query, variables) in [
        (UPDATE, takeover),
        (REMOVE, json!({"id": id})),
        (SET_DEFAULT, json!({"id": id})),
    ] {
        let answer = app.gql(query, variables, mallory_token).await;
        assert_eq!(code(&answer), Some("NOT_FOUND"), "{answer}");
    }
    let theirs = app
        .gql(
            "query($id: ID!) { user(id: $id) { addresses { id } } }",
            json!({"id": alice["user"]["id"]}),
            mallory_token,
        )
        .await;
    assert_eq!(theirs, json!({"data": {"user": null}}));
    let book = app.gql(BOOK, json!({}), alice_token).await;
    assert_eq!(
        book["data"]["me"]["addresses"],
        json!([{"id": id, "name": "Alice", "line2": null, "country": "US"}])
    );
}

#[tokio::test]
async fn eight_times_the_limit_concurrently_saves_twenty() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("full")).await;
    let token = user["accessToken"].as_str();
    let answers = join_all((0..160).map(|i| app.gql(ADD, input(&format!("A{i}")), token))).await;
    let saved = answers
        .iter()
        .filter(|a| a["data"]["addAddress"].is_object())
        .count();
    let refused = answers
        .iter()
        .filter(|a| {
            code(a) == Some("CONFLICT") && a["errors"][0]["extensions"]["field"] == "addresses"
        })
        .count();
    assert_eq!((saved, refused), (20, 140));
    let book = app.gql(BOOK, json!({}), token).await;
    assert_eq!(
        book["data"]["me"]["addresses"].as_array().map(Vec::len),
        Some(20)
    );
}
