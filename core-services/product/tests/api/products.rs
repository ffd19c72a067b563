//! Categories, products, listing and stock adjustments.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem_field};

#[tokio::test(flavor = "multi_thread")]
async fn catalog_happy_path() {
    let app = TestApp::spawn().await;
    let books = app.create_category("books").await;
    let (status, listed) = app.get("/v1/categories").await;
    assert_eq!(
        (status, listed[0]["slug"].clone()),
        (StatusCode::OK, json!("books"))
    );
    let (status, one) = app
        .get(&format!(
            "/v1/categories/{}",
            books["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        (status, one["name"].clone()),
        (StatusCode::OK, json!("BOOKS"))
    );

    let (status, created) = app
        .post(
            "/v1/products",
            json!({ "sku": "BK-1", "name": "Dune", "description": "Desert planet", "price": 1999, "currency": "USD",
                    "stock": 5, "category_id": books["id"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (
            created["price"].clone(),
            created["currency"].clone(),
            created["active"].clone()
        ),
        (json!(1999), json!("USD"), json!(true))
    );
    let id = created["id"].as_str().expect("id").to_owned();

    let (status, fetched) = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!((status, fetched.clone()), (StatusCode::OK, created.clone()));

    let (status, updated) = app
        .send(
            Method::PATCH,
            &format!("/v1/products/{id}"),
            Some(json!({ "name": "Dune Messiah", "price": 2500 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (
            updated["name"].clone(),
            updated["price"].clone(),
            updated["sku"].clone()
        ),
        (json!("Dune Messiah"), json!(2500), json!("BK-1"))
    );

    let (status, adjusted) = app
        .post(
            &format!("/v1/products/{id}/stock-adjustments"),
            json!({ "delta": -2 }),
        )
        .await;
    assert_eq!(
        (status, adjusted["stock"].clone()),
        (StatusCode::OK, json!(3))
    );

    let other = app.create_product("BK-2", 100, 1).await;
    let (status, found) = app
        .post(
            "/v1/products/lookup",
            json!({ "ids": [id, other["id"], "0190a0a0-0000-7000-8000-000000000000"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["items"].as_array().map(Vec::len), Some(2));
}

/// What the OpenAPI document states is what the core does (docs/ARCHITECTURE.md, "OpenAPI documents"): each
/// row was a Schemathesis finding before the documents and the checks were made to agree.
#[tokio::test(flavor = "multi_thread")]
async fn requests_are_taken_exactly_as_the_document_states() {
    let app = TestApp::spawn().await;
    let product = |extra: &[(&str, Value)]| {
        let mut body = json!({ "sku": "S-1", "name": "Thing", "price": 100, "stock": 1 });
        for (key, value) in extra {
            body[*key] = value.clone();
        }
        body
    };
    // JSON Schema counts 1500.0 as an integer, so the core does too.
    let (status, created) = app
        .post("/v1/products", product(&[("price", json!(1500.0))]))
        .await;
    assert_eq!(
        (status, created["price"].clone()),
        (StatusCode::CREATED, json!(1500))
    );
    // Bodies are closed (`additionalProperties: false`): a misspelt field is refused, not ignored.
    let (status, problem) = app
        .post(
            "/v1/products",
            product(&[("sku", json!("S-2")), ("prise", json!(5))]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("prise"),
        "{problem}"
    );
    // An array is not an object, though serde would read one field by field.
    let id = created["id"].as_str().expect("id");
    let (status, _) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/v1/products/{id}"),
            Some(json!([null, null])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // `maxLength` counts what is sent: 200 characters plus the spaces around them are too many.
    let padded = format!(" {} ", "n".repeat(200));
    let (status, problem) = app
        .post(
            "/v1/products",
            product(&[("sku", json!("S-3")), ("name", json!(padded))]),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "name")
    );
    // Identifiers are taken as sent: the pattern has no room for spaces, and neither has the core.
    let (status, problem) = app
        .post("/v1/products", product(&[("sku", json!(" S-4"))]))
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "sku")
    );
    // Zero is no stock adjustment (the document's `oneOf` leaves it out).
    let (status, problem) = app
        .post(
            &format!("/v1/products/{id}/stock-adjustments"),
            json!({ "delta": 0 }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "delta")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_problem_naming_the_field() {
    let app = TestApp::spawn().await;
    let valid = json!({ "sku": "S-1", "name": "Thing", "price": 100, "stock": 1 });
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    for (body, field) in [
        (with("price", json!(-1)), "price"),
        (with("price", json!(3_000_000_000_i64)), "price"),
        (with("currency", json!("EUR")), "currency"),
        (with("name", json!("   ")), "name"),
        (with("stock", json!(-5)), "stock"),
        (with("sku", json!("has space")), "sku"),
    ] {
        let (status, problem) = app.post("/v1/products", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            (problem["code"].as_str(), problem_field(&problem)),
            (Some("BAD_USER_INPUT"), field)
        );
        assert_eq!(problem["status"], json!(422));
    }

    let (status, problem) = app
        .post("/v1/products", with("price", json!("cheap")))
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::BAD_REQUEST, "price")
    );
    let (status, _) = app.get("/v1/products/not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, problem) = app.get("/v1/products?limit=101").await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "limit")
    );
    let (status, problem) = app.get("/v1/products?sort=cheapest").await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "sort")
    );
    let (status, problem) = app.get("/v1/products?after=garbage").await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "after")
    );
    let (status, problem) = app
        .post(
            "/v1/categories",
            json!({ "name": "X", "slug": "Not A Slug" }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "slug")
    );

    let response = app
        .http
        .post(format!("{}/v1/products", app.base))
        .header("x-internal-token", crate::helpers::TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicts_missing_things_and_tokens() {
    let app = TestApp::spawn().await;
    app.create_product("DUP-1", 100, 1).await;
    let (status, problem) = app
        .post(
            "/v1/products",
            json!({ "sku": "DUP-1", "name": "Again", "price": 1 }),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str(), problem_field(&problem)),
        (StatusCode::CONFLICT, Some("CONFLICT"), "sku")
    );
    app.create_category("toys").await;
    let (status, _) = app
        .post("/v1/categories", json!({ "name": "Toys", "slug": "toys" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let unknown = "0190a0a0-0000-7000-8000-000000000000";
    let (status, problem) = app.get(&format!("/v1/products/{unknown}")).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/v1/products/{unknown}"),
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = app
        .post(
            "/v1/products",
            json!({ "sku": "C-1", "name": "x", "price": 1, "category_id": unknown }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "category_id")
    );

    let no_token = app
        .http
        .get(format!("{}/v1/products", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .http
        .get(format!("{}/v1/products", app.base))
        .header("x-internal-token", "nope")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let problem: Value = wrong.json().await.expect("problem");
    assert_eq!(problem["code"], json!("UNAUTHENTICATED"));
    for open in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs/"] {
        let response = app
            .http
            .get(format!("{}{open}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{open}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_never_goes_below_zero() {
    let app = TestApp::spawn().await;
    let id = app.create_product("ST-1", 100, 3).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, problem) = app
        .post(
            &format!("/v1/products/{id}/stock-adjustments"),
            json!({ "delta": -4 }),
        )
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "delta")
    );
    assert_eq!(app.stock_of(&id).await, 3);
    let (status, _) = app
        .post(
            &format!("/v1/products/{id}/stock-adjustments"),
            json!({ "delta": 0 }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app
        .post(
            &format!("/v1/products/{id}/stock-adjustments"),
            json!({ "delta": -3 }),
        )
        .await;
    assert_eq!((status, body["stock"].clone()), (StatusCode::OK, json!(0)));
}

fn skus(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["product"]["sku"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_filters_sorts_and_pages() {
    let app = TestApp::spawn().await;
    let games = app.create_category("games").await;
    for (sku, name, description, price, stock) in [
        (
            "G-1",
            "Chess set",
            "Carved wood pieces and a board",
            3000,
            5,
        ),
        ("G-2", "Go board", "Kaya wood board with stones", 9000, 0),
        ("G-3", "Card deck", "Plastic cards", 500, 10),
        ("G-4", "Puzzle", "A thousand pieces", 1500, 2),
    ] {
        let (status, body) = app
            .post(
                "/v1/products",
                json!({ "sku": sku, "name": name, "description": description, "price": price,
                                           "stock": stock, "category_id": games["id"] }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let hidden = app.create_product("G-5", 100, 1).await;
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/v1/products/{}", hidden["id"].as_str().expect("id")),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, page) = app.get("/v1/products?sort=price_asc").await;
    assert_eq!(skus(&page), ["G-3", "G-4", "G-1", "G-2"]);
    assert_eq!(page["total_count"], json!(4));
    // A caller that shows no total does not pay for the count.
    let (_, page) = app
        .get("/v1/products?sort=price_asc&with_total=false")
        .await;
    assert_eq!(skus(&page), ["G-3", "G-4", "G-1", "G-2"]);
    assert!(page.get("total_count").is_none(), "{page}");
    let (_, page) = app
        .get("/v1/products?sort=price_asc&include_inactive=true")
        .await;
    assert_eq!(skus(&page), ["G-5", "G-3", "G-4", "G-1", "G-2"]);
    let (_, page) = app.get("/v1/products?search=wood&sort=name_asc").await;
    assert_eq!(skus(&page), ["G-1", "G-2"]);
    let (_, page) = app
        .get("/v1/products?in_stock=true&min_price=1000&max_price=5000&sort=price_desc")
        .await;
    assert_eq!(skus(&page), ["G-1", "G-4"]);
    let (_, page) = app
        .get(&format!(
            "/v1/products?category_id={}",
            games["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(skus(&page), ["G-4", "G-3", "G-2", "G-1"]);

    for sort in ["newest", "price_asc", "price_desc", "name_asc"] {
        let (_, all) = app.get(&format!("/v1/products?sort={sort}")).await;
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = after
                .as_ref()
                .map(|c| format!("&after={c}"))
                .unwrap_or_default();
            let (status, page) = app
                .get(&format!("/v1/products?sort={sort}&limit=1{query}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            paged.extend(skus(&page));
            if page["has_more"] != json!(true) {
                break;
            }
            after = page["items"][0]["cursor"].as_str().map(str::to_owned);
        }
        assert_eq!(paged, skus(&all), "{sort}");
    }
    let (_, newest) = app.get("/v1/products?limit=1").await;
    let cursor = newest["items"][0]["cursor"].as_str().expect("cursor");
    let (status, problem) = app
        .get(&format!("/v1/products?sort=price_asc&after={cursor}"))
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "after")
    );
}

#[tokio::test]
async fn control_characters_are_bad_input_naming_the_field_never_a_500() {
    // Row 12 of the hardening issue: PostgreSQL refuses NUL in text, which surfaced as INTERNAL_SERVER_ERROR.
    let app = TestApp::spawn().await;
    let product = |name: &str, description: &str| json!({ "sku": format!("NUL-{}", uuid::Uuid::new_v4().simple()), "name": name, "description": description, "price": 100, "stock": 1 });
    for (body, field) in [
        (product("Tea\u{0}", "fine"), "name"),
        (product("Tea\nPot", "fine"), "name"),
        (product("Tea", "bad \u{0} byte"), "description"),
        (product("Tea", "C1 \u{85} too"), "description"),
    ] {
        let (status, problem) = app.post("/v1/products", body).await;
        assert_eq!(
            (status, problem_field(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, field),
            "{problem}"
        );
        assert_eq!(problem["code"], "BAD_USER_INPUT");
    }
    // A multi-line description keeps its TABs and line breaks.
    let (status, _) = app
        .post(
            "/v1/products",
            product("Teapot", "line one\n\tline two\r\n"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = app.get("/v1/products?search=te%00a").await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "search"),
        "{problem}"
    );
    let forged = quickmart_shared::pagination::encode_cursor(
        &json!({ "s": "a", "n": "x\u{0}", "i": uuid::Uuid::nil() }),
    );
    let (status, problem) = app
        .get(&format!("/v1/products?sort=name_asc&after={forged}"))
        .await;
    assert_eq!(
        (status, problem_field(&problem)),
        (StatusCode::UNPROCESSABLE_ENTITY, "after"),
        "{problem}"
    );
}
