//! Keyset pages of orders, newest first; claims never show.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, admin, customer, problem_field};

#[tokio::test(flavor = "multi_thread")]
async fn pages_walk_every_order_once_newest_first() {
    let app = TestApp::spawn().await;
    let product = app.create_product("L-1", 100, 100).await;
    let (ann, bob) = (customer(), customer());
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(app.placed(ann, &[(&product, 1)]).await["id"].clone());
    }
    app.placed(bob, &[(&product, 1)]).await;
    placed.reverse();

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map(|c| format!("&after={c}"))
            .unwrap_or_default();
        let (status, page) = app
            .call(
                Method::GET,
                &format!("/v1/orders?limit=2{cursor}"),
                Some(ann),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total_count"], json!(5));
        let items = page["items"].as_array().expect("items").clone();
        seen.extend(items.iter().map(|edge| edge["order"]["id"].clone()));
        if page["has_more"] == json!(false) {
            break;
        }
        after = items
            .last()
            .and_then(|edge| edge["cursor"].as_str())
            .map(str::to_owned);
    }
    assert_eq!(seen, placed, "Ann's orders, newest first, each once");

    let boss = admin();
    let (_, all) = app
        .call(Method::GET, "/v1/orders?limit=100", Some(boss), None)
        .await;
    assert_eq!(all["total_count"], json!(6));
    let (_, bobs) = app
        .call(
            Method::GET,
            &format!("/v1/orders?user_id={}", bob.id),
            Some(boss),
            None,
        )
        .await;
    assert_eq!(bobs["total_count"], json!(1));
    let first = placed[0].as_str().expect("id");
    app.set_status(boss, first, "CONFIRMED").await;
    let (_, confirmed) = app
        .call(Method::GET, "/v1/orders?status=CONFIRMED", Some(boss), None)
        .await;
    assert_eq!(
        (
            confirmed["total_count"].clone(),
            confirmed["items"][0]["order"]["id"].clone()
        ),
        (json!(1), json!(first))
    );

    // A claim whose placement is still running is never listed.
    app.execute(&format!(
        "INSERT INTO orders (id, user_id, status, currency, idempotency_key, request_hash, reservation_id) \
         VALUES (gen_random_uuid(), '{}', 'PLACING', 'USD', 'running', 'h', gen_random_uuid())",
        ann.id
    ))
    .await;
    let (_, page) = app
        .call(Method::GET, "/v1/orders?limit=100", Some(ann), None)
        .await;
    assert_eq!(page["total_count"], json!(5));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("after=garbage", "after"),
    ] {
        let (status, problem) = app
            .call(Method::GET, &format!("/v1/orders?{query}"), Some(ann), None)
            .await;
        assert_eq!(
            (status, problem_field(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, field)
        );
    }
    let (status, _) = app
        .call(Method::GET, "/v1/orders?status=PLACING", Some(ann), None)
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "PLACING is not a status clients can ask for"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_by_users_walk_each_buyer_with_one_call() {
    let app = TestApp::spawn().await;
    let product = app.create_product("L-3", 100, 100).await;
    let (ann, bob, cy) = (customer(), customer(), customer());
    let mut anns = Vec::new();
    for _ in 0..3 {
        anns.push(app.placed(ann, &[(&product, 1)]).await["id"].clone());
    }
    app.placed(bob, &[(&product, 1)]).await;
    anns.reverse();
    let boss = admin();
    let ids = json!([ann.id, bob.id, cy.id, ann.id]);

    let (status, body) = app
        .call(
            Method::POST,
            "/v1/orders/by-users",
            Some(boss),
            Some(json!({ "user_ids": ids, "limit": 2 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pages = body["pages"].as_array().expect("pages");
    let summary: Vec<_> = pages
        .iter()
        .map(|p| {
            (
                p["user_id"].clone(),
                p["items"].as_array().map(Vec::len),
                p["has_more"].clone(),
                p["total_count"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!(ann.id), Some(2), json!(true), json!(3)),
            (json!(bob.id), Some(1), json!(false), json!(1)),
            (json!(cy.id), Some(0), json!(false), json!(0)),
            (json!(ann.id), Some(2), json!(true), json!(3)),
        ],
        "a page per requested buyer, in request order"
    );
    let after = pages[0]["items"][1]["cursor"].as_str().expect("cursor");
    let (_, next) = app
        .call(
            Method::POST,
            "/v1/orders/by-users",
            Some(boss),
            Some(json!({ "user_ids": [ann.id], "limit": 2, "after": after })),
        )
        .await;
    let rest: Vec<_> = next["pages"][0]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["order"]["id"].clone())
        .collect();
    assert_eq!(rest, vec![anns[2].clone()]);
    assert_eq!(
        next["pages"][0]["total_count"],
        json!(3),
        "the count ignores the cursor, as GET /v1/orders does"
    );

    // A customer gets only their own page; others come back empty.
    let (_, mine) = app
        .call(
            Method::POST,
            "/v1/orders/by-users",
            Some(bob),
            Some(json!({ "user_ids": [ann.id, bob.id] })),
        )
        .await;
    assert_eq!(mine["pages"][0]["total_count"], json!(0));
    assert_eq!(mine["pages"][1]["total_count"], json!(1));

    // At most 100 buyers, at least one, and the usual page-size rule.
    let many: Vec<_> = (0..101).map(|_| uuid::Uuid::new_v4()).collect();
    for body in [
        json!({ "user_ids": many }),
        json!({ "user_ids": [] }),
        json!({ "user_ids": [ann.id], "limit": 0 }),
    ] {
        let (status, problem) = app
            .call(Method::POST, "/v1/orders/by-users", Some(boss), Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            ["user_ids", "limit"].contains(&problem_field(&problem)),
            "{problem}"
        );
    }
}

/// Every read of an order carries its lines, in the order they were placed, from the same statement as the order
/// itself; a page that shows no lines (`with_items=false`) gets empty `items`, and everything else as before.
#[tokio::test(flavor = "multi_thread")]
async fn every_read_carries_the_lines_in_place_order_unless_a_page_leaves_them_out() {
    let app = TestApp::spawn().await;
    let tea = app.create_product("LINES-TEA", 450, 100).await;
    let cup = app.create_product("LINES-CUP", 1200, 100).await;
    let pot = app.create_product("LINES-POT", 3000, 100).await;
    let ann = customer();
    let placed = app.placed(ann, &[(&pot, 1), (&tea, 3), (&cup, 2)]).await;
    let id = placed["id"].as_str().expect("id").to_owned();
    let lines = |order: &serde_json::Value| -> Vec<(String, i64, i64, i64)> {
        order["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|line| {
                (
                    line["sku"].as_str().unwrap_or_default().to_owned(),
                    line["quantity"].as_i64().unwrap_or_default(),
                    line["unit_price"].as_i64().unwrap_or_default(),
                    line["line_total"].as_i64().unwrap_or_default(),
                )
            })
            .collect()
    };
    let expected = vec![
        ("LINES-POT".to_owned(), 1, 3000, 3000),
        ("LINES-TEA".to_owned(), 3, 450, 1350),
        ("LINES-CUP".to_owned(), 2, 1200, 2400),
    ];
    assert_eq!(lines(&placed), expected, "{placed}");
    assert_eq!(placed["items"][0]["product_id"], json!(pot));
    assert!(placed["items"][0]["name"].is_string(), "{placed}");

    let (status, one) = app
        .call(Method::GET, &format!("/v1/orders/{id}"), Some(ann), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(lines(&one), expected, "{one}");

    let (status, page) = app.call(Method::GET, "/v1/orders", Some(ann), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(lines(&page["items"][0]["order"]), expected, "{page}");

    let (status, bare) = app
        .call(Method::GET, "/v1/orders?with_items=false", Some(ann), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{bare}");
    let listed = &bare["items"][0]["order"];
    assert_eq!(listed["id"], json!(id));
    assert_eq!(listed["items"], json!([]), "{bare}");
    assert_eq!(listed["total"], json!(6750));
    assert_eq!(bare["total_count"], json!(1));

    let (status, pages) = app
        .call(
            Method::POST,
            "/v1/orders/by-users",
            Some(admin()),
            Some(json!({ "user_ids": [ann.id], "limit": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pages}");
    assert_eq!(
        lines(&pages["pages"][0]["items"][0]["order"]),
        expected,
        "{pages}"
    );

    let (status, cancelled) = app.cancel(ann, &id).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(
        lines(&cancelled),
        expected,
        "a changed order still has its lines"
    );
}
