//! Queries and admin mutations through HTTP, with the refusals.

use insta::assert_json_snapshot;
use serde_json::{Value, json};

use crate::helpers::{TestStack, error_code};

const CREATE_CATEGORY: &str =
    "mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id name slug } }";
const CREATE_PRODUCT: &str = "mutation($input: CreateProductInput!) {
    createProduct(input: $input) { id sku name description price { amount currency } stock active category { slug } } }";

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_builds_the_catalog_and_anyone_browses_it() {
    let stack = TestStack::spawn().await;
    let admin = Some(stack.admin.as_str());
    let category = stack
        .graphql(
            admin,
            CREATE_CATEGORY,
            json!({ "input": { "name": "Books", "slug": "books" } }),
        )
        .await;
    let category_id = category["data"]["createCategory"]["id"]
        .as_str()
        .expect("category id")
        .to_owned();
    for (sku, name, price, stock) in [
        ("B-1", "Dune", 1999, 3),
        ("B-2", "Emma", 999, 0),
        ("B-3", "Ulysses", 2999, 7),
    ] {
        let created = stack
            .graphql(
                admin,
                CREATE_PRODUCT,
                json!({ "input": { "sku": sku, "name": name, "description": "A novel", "price": price, "stock": stock,
                                   "categoryId": category_id } }),
            )
            .await;
        assert!(created["errors"].is_null(), "{created}");
    }

    let browse = "query($filter: ProductFilter, $after: String) {
        products(filter: $filter, sort: PRICE_ASC, first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor }
          nodes { sku name price { amount currency } stock category { name slug } } } }";
    let first_page = stack
        .graphql(None, browse, json!({ "filter": { "inStock": true } }))
        .await;
    assert_json_snapshot!(first_page, { ".data.products.pageInfo.endCursor" => "[cursor]" }, @r#"
    {
      "data": {
        "products": {
          "nodes": [
            {
              "category": {
                "name": "Books",
                "slug": "books"
              },
              "name": "Dune",
              "price": {
                "amount": 1999,
                "currency": "USD"
              },
              "sku": "B-1",
              "stock": 3
            },
            {
              "category": {
                "name": "Books",
                "slug": "books"
              },
              "name": "Ulysses",
              "price": {
                "amount": 2999,
                "currency": "USD"
              },
              "sku": "B-3",
              "stock": 7
            }
          ],
          "pageInfo": {
            "endCursor": "[cursor]",
            "hasNextPage": false
          },
          "totalCount": 2
        }
      }
    }
    "#);
    let all = stack.graphql(None, browse, json!({})).await;
    assert_eq!(
        all["data"]["products"]["pageInfo"]["hasNextPage"],
        json!(true)
    );
    let after = all["data"]["products"]["pageInfo"]["endCursor"].clone();
    let second = stack.graphql(None, browse, json!({ "after": after })).await;
    assert_eq!(second["data"]["products"]["nodes"][0]["sku"], json!("B-3"));

    let search = stack
        .graphql(
            None,
            "{ products(filter: { search: \"ulysses\" }) { nodes { sku } } categories { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(
        search["data"],
        json!({ "products": { "nodes": [{ "sku": "B-3" }] }, "categories": [{ "slug": "books" }] })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_mutations_need_an_admin() {
    let stack = TestStack::spawn().await;
    let input = json!({ "input": { "name": "Toys", "slug": "toys" } });
    let anonymous = stack.graphql(None, CREATE_CATEGORY, input.clone()).await;
    assert_eq!(
        (error_code(&anonymous), &anonymous["data"]),
        ("UNAUTHENTICATED", &Value::Null)
    );
    let customer = stack
        .graphql(Some(&stack.customer), CREATE_CATEGORY, input.clone())
        .await;
    assert_eq!(error_code(&customer), "FORBIDDEN");
    let admin = stack
        .graphql(Some(&stack.admin), CREATE_CATEGORY, input)
        .await;
    assert_eq!(admin["data"]["createCategory"]["slug"], json!("toys"));

    let product = stack.seed_product("T-1", 100, 1).await;
    let adjust = "mutation($id: ID!) { adjustStock(productId: $id, delta: 5) { stock } }";
    let refused = stack
        .graphql(Some(&stack.customer), adjust, json!({ "id": product }))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let inactive = stack
        .graphql(
            Some(&stack.customer),
            "{ products(filter: { includeInactive: true }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&inactive), "FORBIDDEN");
    let bad_token = stack
        .graphql(Some("not.a.token"), "{ categories { id } }", json!({}))
        .await;
    assert_eq!(error_code(&bad_token), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_names_the_field() {
    let stack = TestStack::spawn().await;
    let admin = Some(stack.admin.as_str());
    let negative = stack
        .graphql(
            admin,
            CREATE_PRODUCT,
            json!({ "input": { "sku": "N-1", "name": "x", "price": -1 } }),
        )
        .await;
    assert_eq!(
        (
            error_code(&negative),
            &negative["errors"][0]["extensions"]["field"]
        ),
        ("BAD_USER_INPUT", &json!("price"))
    );
    let euro = stack
        .graphql(
            admin,
            CREATE_PRODUCT,
            json!({ "input": { "sku": "N-2", "name": "x", "price": 1, "currency": "EUR" } }),
        )
        .await;
    assert_eq!(euro["errors"][0]["extensions"]["field"], json!("currency"));
    let empty = stack
        .graphql(
            admin,
            CREATE_PRODUCT,
            json!({ "input": { "sku": "N-3", "name": " ", "price": 1 } }),
        )
        .await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], json!("name"));
    stack
        .graphql(
            admin,
            CREATE_PRODUCT,
            json!({ "input": { "sku": "DUP", "name": "x", "price": 1 } }),
        )
        .await;
    let duplicate = stack
        .graphql(
            admin,
            CREATE_PRODUCT,
            json!({ "input": { "sku": "DUP", "name": "y", "price": 1 } }),
        )
        .await;
    assert_eq!(
        (
            error_code(&duplicate),
            &duplicate["errors"][0]["extensions"]["field"]
        ),
        ("CONFLICT", &json!("sku"))
    );
    let too_many = stack
        .graphql(None, "{ products(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        (
            error_code(&too_many),
            &too_many["errors"][0]["extensions"]["field"]
        ),
        ("BAD_USER_INPUT", &json!("first"))
    );
    let price_range = stack
        .graphql(
            None,
            "{ products(filter: { minPrice: -5 }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        price_range["errors"][0]["extensions"]["field"],
        json!("filter.minPrice")
    );
    let bad_id = stack
        .graphql(None, "{ product(id: \"nope\") { id } }", json!({}))
        .await;
    assert_eq!(
        (
            error_code(&bad_id),
            &bad_id["errors"][0]["extensions"]["field"]
        ),
        ("BAD_USER_INPUT", &json!("id"))
    );

    let product = stack.seed_product("S-1", 100, 2).await;
    let below = stack
        .graphql(
            admin,
            "mutation($id: ID!) { adjustStock(productId: $id, delta: -3) { stock } }",
            json!({ "id": product }),
        )
        .await;
    assert_eq!(
        (
            error_code(&below),
            &below["errors"][0]["extensions"]["field"]
        ),
        ("BAD_USER_INPUT", &json!("delta"))
    );
    let missing = stack
        .graphql(
            None,
            "{ product(id: \"0190a0a0-0000-7000-8000-000000000000\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(missing, json!({ "data": { "product": null } }));
}

/// A role taken away on user-core (by any replica, or straight at its API) ends the rights of the access tokens
/// minted before: this subgraph refuses the old admin token within the invalidation window, not 15 minutes
/// later. A validly signed token for an account that does not exist is refused too.
#[tokio::test]
async fn tokens_of_ended_sessions_are_refused() {
    let stack = TestStack::spawn().await;
    let input = json!({ "input": { "name": "Toys", "slug": "toys" } });
    let before = stack
        .graphql(Some(&stack.admin), CREATE_CATEGORY, input.clone())
        .await;
    assert_eq!(
        before["data"]["createCategory"]["slug"],
        json!("toys"),
        "{before}"
    );

    let response = reqwest::Client::new()
        .put(format!(
            "{}/v1/users/{}/role",
            stack.users.url, stack.admin_id
        ))
        .header("x-internal-token", crate::helpers::TOKEN)
        .json(&json!({"role": "CUSTOMER"}))
        .send()
        .await
        .expect("user-core answers");
    assert!(response.status().is_success(), "{}", response.status());
    let again = json!({ "input": { "name": "Games", "slug": "games" } });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let after = loop {
        let after = stack
            .graphql(Some(&stack.admin), CREATE_CATEGORY, again.clone())
            .await;
        if !after["errors"].is_null() || std::time::Instant::now() > deadline {
            break after;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(error_code(&after), "UNAUTHENTICATED", "{after}");

    let stranger = stack
        .signer
        .sign(
            quickmart_shared::auth::Actor {
                id: uuid::Uuid::now_v7(),
                role: quickmart_shared::auth::Role::Admin,
            },
            0,
        )
        .expect("token");
    let refused = stack.graphql(Some(&stranger), CREATE_CATEGORY, again).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
}

/// Counting every match is the costliest part of a page: product-core counts only when `totalCount` is selected.
#[tokio::test]
async fn the_total_is_counted_only_when_selected() {
    let stack = TestStack::spawn().await;
    for n in 0..3 {
        stack.seed_product(&format!("C-{n}"), 100, 1).await;
    }
    stack.reset_core_requests();
    let page = stack
        .graphql(None, "{ products(first: 2) { nodes { sku } } }", json!({}))
        .await;
    assert_eq!(
        page["data"]["products"]["nodes"].as_array().map(Vec::len),
        Some(2),
        "{page}"
    );
    let counted = stack
        .graphql(None, "{ products(first: 2) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        counted["data"]["products"]["totalCount"],
        json!(3),
        "{counted}"
    );
    let requests = stack.core_requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[0].contains("with_total=false"), "{requests:?}");
    assert!(requests[1].contains("with_total=true"), "{requests:?}");
}

/// A body that is not one GraphQL request in JSON (not JSON, or a batch) is a 400 with
/// a GraphQL error naming the problem; the same subgraph goes on answering the next request.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_one_graphql_request_is_refused() {
    let stack = TestStack::spawn().await;
    let url = format!("{}/graphql", stack.subgraph_url);
    for body in [
        "not json".to_owned(),
        json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]).to_string(),
    ] {
        let response = stack
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("a GraphQL error document");
        assert_eq!(error_code(&answer), "BAD_USER_INPUT", "{body}: {answer}");
    }
    let answer = stack.graphql(None, "{ __typename }", json!({})).await;
    assert_eq!(answer["data"]["__typename"], "Query");
}

/// A text that validated once runs without the validation rules after, but only as it validated: without
/// variables. The same text with variables that break it is still refused, and an invalid text stays invalid.
#[tokio::test(flavor = "multi_thread")]
async fn a_text_that_validated_once_is_trusted_only_without_variables() {
    let stack = TestStack::spawn().await;
    stack.seed_product("V-1", 500, 1).await;
    let query = "query($n: Int = 2) { products(first: $n) { nodes { sku } } }";
    let first = stack.graphql(None, query, json!({})).await;
    let second = stack.graphql(None, query, json!({})).await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(first, second);
    let broken = stack.graphql(None, query, json!({ "n": "many" })).await;
    assert!(broken["data"].is_null(), "{broken}");
    assert!(!broken["errors"].is_null(), "{broken}");
    for _ in 0..2 {
        let invalid = stack
            .graphql(None, "{ products { nodes { nope } } }", json!({}))
            .await;
        assert!(invalid["data"].is_null(), "{invalid}");
        assert!(!invalid["errors"].is_null(), "{invalid}");
    }
}
