//! The fault suite (docs/ARCHITECTURE.md, "Faults"): the seven services as separate processes over a private
//! PostgreSQL and Redis (never the machine's shared ones), under a steady mixed load, while Redis stops and
//! starts, PostgreSQL stops and starts, and order-core is killed and started again. After each fault the store
//! must serve again within a generous deadline; during it, no answer other than `SERVICE_UNAVAILABLE` (or the
//! store's own `OUT_OF_STOCK`) may fail. At the end nothing is oversold or lost: no order twice for one key,
//! every reservation committed or released, stock + units sold = initial stock.
//!
//! Assertions are on counts and outcomes; the recovery times are printed, and written to
//! `$QUICKMART_FAULTS_REPORT` when it is set (`scripts/bench-faults.sh`).

mod load;
mod processes;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use quickmart::embedded::EmbeddedServers;
use quickmart_shared::ServiceId;
use quickmart_shared::service::DatabaseId;
use serde_json::{Value, json};

use crate::load::{Actors, Load};
use crate::processes::{ADMIN_EMAIL, ADMIN_PASSWORD, Services};

/// Units of each product at the start: few enough that the load sells out.
const INITIAL_STOCK: i64 = 40;
/// How long a service may take to serve again after its dependency is back.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);
/// How long each fault lasts.
const OUTAGE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_survives_its_dependencies_dying() {
    let state =
        std::env::temp_dir().join(format!("quickmart-fault-suite-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&state).expect("state folder");
    let mut servers = EmbeddedServers::default();
    let postgres = servers
        .start_postgres(&state)
        .await
        .expect("a private PostgreSQL");
    let redis = servers
        .start_redis()
        .await
        .expect("a private Redis")
        .expect("redis-server is installed");
    let mut services = Services::start(&postgres, &redis, &state).await;
    let gateway = services.gateway();
    let http = reqwest::Client::new();
    let ask = |token: Option<String>, query: &'static str, variables: Value| {
        let (http, gateway) = (http.clone(), gateway.clone());
        async move {
            let mut request = http
                .post(&gateway)
                .json(&json!({ "query": query, "variables": variables }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request
                .send()
                .await
                .expect("the gateway answers")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };

    let login =
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
    let admin = ask(
        None,
        login,
        json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
    )
    .await["data"]["login"]["accessToken"]
        .as_str()
        .expect("the admin signs in")
        .to_owned();
    let category = ask(
        Some(admin.clone()),
        "mutation { createCategory(input: { name: \"Faults\", slug: \"faults\" }) { id } }",
        json!({}),
    )
    .await["data"]["createCategory"]["id"]
        .clone();
    let mut products = Vec::new();
    for sku in ["F-1", "F-2", "F-3"] {
        let created = ask(
            Some(admin.clone()),
            "mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "sku": sku, "name": sku, "description": "fault suite", "price": 100,
                           "stock": INITIAL_STOCK, "categoryId": category } }),
        )
        .await;
        products.push(
            created["data"]["createProduct"]["id"]
                .as_str()
                .expect("product")
                .to_owned(),
        );
    }
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    let mut customers = Vec::new();
    for n in 0..3 {
        let registered = ask(
            None,
            register,
            json!({ "i": { "email": format!("buyer{n}@faults.test"), "password": "buyer-password-42", "name": "Buyer" } }),
        )
        .await;
        customers.push(
            registered["data"]["register"]["accessToken"]
                .as_str()
                .expect("a customer")
                .to_owned(),
        );
    }

    let load = Load::start(
        Actors {
            gateway: gateway.clone(),
            admin,
            customers: customers.clone(),
            products: products.clone(),
        },
        6,
    );
    let probe = || {
        let (ask, customer, product) = (&ask, customers[0].clone(), products[0].clone());
        async move {
            let read = ask(
                Some(customer),
                "query($id: ID!) { me { id } products(first: 1) { totalCount } product(id: $id) { id } }",
                json!({ "id": product }),
            )
            .await;
            read["errors"].is_null()
        }
    };
    let recovered_within = |what: &'static str| {
        let probe = &probe;
        async move {
            let back = Instant::now();
            while !probe().await {
                assert!(
                    back.elapsed() < RECOVERY_DEADLINE,
                    "no service {RECOVERY_DEADLINE:?} after {what}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            back.elapsed()
        }
    };
    tokio::time::sleep(Duration::from_secs(2)).await;

    load.phase("redis down");
    servers.pause_redis().await.expect("stop Redis");
    tokio::time::sleep(OUTAGE).await;
    servers.resume_redis().await.expect("start Redis");
    load.phase("redis back");
    let redis_recovery = recovered_within("Redis returned").await;

    load.phase("postgres down");
    servers.pause_postgres().await.expect("stop PostgreSQL");
    tokio::time::sleep(OUTAGE).await;
    servers.resume_postgres().await.expect("start PostgreSQL");
    load.phase("postgres back");
    let postgres_recovery = recovered_within("PostgreSQL returned").await;

    load.phase("order-core killed");
    services.kill(ServiceId::OrderCore).await;
    tokio::time::sleep(OUTAGE).await;
    let restarted = Instant::now();
    services.spawn(ServiceId::OrderCore).await;
    load.phase("order-core back");
    let order_core_recovery = restarted.elapsed() + recovered_within("order-core restarted").await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let record = load.finish().await;
    let report = format!(
        "fault suite: recovery after Redis {redis_recovery:?}, after PostgreSQL {postgres_recovery:?}, after an \
         order-core restart {order_core_recovery:?} (process start included); answers {:?}; {} orders, {} refused",
        record.outcomes,
        record.orders.len(),
        record.refused
    );
    println!("{report}");
    if let Ok(path) = std::env::var("QUICKMART_FAULTS_REPORT") {
        std::fs::write(path, format!("{report}\n")).expect("the report");
    }
    assert!(
        record.violations.is_empty(),
        "answers outside the rule:\n{}",
        record.violations.join("\n")
    );

    // Every key that got an order got the same one every time, and the database holds exactly those orders.
    let mut placed = HashSet::new();
    for (key, ids) in &record.orders {
        let first = &ids[0];
        assert!(
            ids.iter().all(|id| id == first),
            "key {key} got two orders: {ids:?}"
        );
        placed.insert(first.clone());
    }
    let settled = settle(&postgres, &products).await;
    assert_eq!(
        settled.orders, placed,
        "the orders in the database are the orders clients were given"
    );
    for (product, stock, committed) in &settled.stock {
        assert!(*stock >= 0, "{product} oversold: stock {stock}");
        assert_eq!(
            stock + committed,
            INITIAL_STOCK,
            "{product}: stock + units sold = initial stock"
        );
    }
    let sold: i64 = settled
        .stock
        .iter()
        .map(|(_, _, committed)| committed)
        .sum();
    assert_eq!(sold, placed.len() as i64, "one unit per order");

    drop(services);
    servers.stop().await;
    // The services' logs stay for a failed run (a panic skips this) or when asked for.
    if std::env::var_os("QUICKMART_FAULTS_KEEP_LOGS").is_none() {
        let _ = std::fs::remove_dir_all(&state);
    }
}

/// The databases once the background work has settled every placement.
struct Settled {
    /// Ids of the orders that exist (claims excluded).
    orders: HashSet<String>,
    /// Per product: its stock and the units committed to orders.
    stock: Vec<(String, i64, i64)>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Stock {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    stock: i64,
    #[diesel(sql_type = BigInt)]
    committed: i64,
}

/// Waits (within the reservation lifetime and then some) until no claim is left in `PLACING`, no order's
/// reservation is unconfirmed and no reservation is held, then reads what the databases hold.
async fn settle(postgres: &str, products: &[String]) -> Settled {
    let mut orders =
        AsyncPgConnection::establish(&format!("{postgres}/{}", DatabaseId::ORDER.name))
            .await
            .expect("the order database");
    let mut catalog =
        AsyncPgConnection::establish(&format!("{postgres}/{}", DatabaseId::PRODUCT.name))
            .await
            .expect("the product database");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let unsettled: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM orders WHERE status = 'PLACING' \
             OR (status <> 'CANCELLED' AND reservation_status <> 'COMMITTED')",
        )
        .get_result(&mut orders)
        .await
        .expect("count unsettled orders");
        let held: Count =
            diesel::sql_query("SELECT count(*) AS n FROM reservations WHERE status = 'HELD'")
                .get_result(&mut catalog)
                .await
                .expect("count held reservations");
        if unsettled.n == 0 && held.n == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} orders and {} reservations still unsettled after 60 s",
            unsettled.n,
            held.n
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ids: Vec<Id> = diesel::sql_query("SELECT id::text AS id FROM orders")
        .load(&mut orders)
        .await
        .expect("order ids");
    let committed_to_orders: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM orders WHERE reservation_status = 'COMMITTED'",
    )
    .get_result(&mut orders)
    .await
    .expect("count committed orders");
    let committed: Count =
        diesel::sql_query("SELECT count(*) AS n FROM reservations WHERE status = 'COMMITTED'")
            .get_result(&mut catalog)
            .await
            .expect("count committed reservations");
    assert_eq!(
        committed.n, committed_to_orders.n,
        "a committed reservation for every order, and no other"
    );
    let stock: Vec<Stock> = diesel::sql_query(
        "SELECT p.id::text AS id, p.stock::bigint AS stock, \
                COALESCE((SELECT sum(l.quantity) FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id \
                          WHERE l.product_id = p.id AND r.status = 'COMMITTED'), 0)::bigint AS committed \
         FROM products p",
    )
    .load(&mut catalog)
    .await
    .expect("stock");
    assert_eq!(stock.len(), products.len());
    Settled {
        orders: ids.into_iter().map(|row| row.id).collect(),
        stock: stock
            .into_iter()
            .map(|s| (s.id, s.stock, s.committed))
            .collect(),
    }
}
