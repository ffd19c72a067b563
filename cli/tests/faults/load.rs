//! A steady mixed load through the gateway (browse, place, admin writes) that records every answer it got.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BROWSE: &str =
    "query($id: ID!) { products(first: 5) { totalCount } product(id: $id) { stock } }";
const PLACE: &str = "mutation($p: ID!, $k: String!) { placeOrder(input: { idempotencyKey: $k, items: [{ productId: $p, quantity: 1 }] }) { id } }";
const RENAME: &str =
    "mutation($id: ID!, $n: String!) { updateProduct(id: $id, input: { description: $n }) { id } }";

/// Error codes a client may see while a dependency is down, besides the store's own refusals.
const ALLOWED: [&str; 2] = ["SERVICE_UNAVAILABLE", "OUT_OF_STOCK"];

/// What the load saw.
#[derive(Default)]
pub(crate) struct Record {
    /// Answers by outcome (`ok`, an error code, `http <status>`, `transport`).
    pub outcomes: BTreeMap<String, u64>,
    /// Answers that break the rule (a 5xx other than 503, or an error code outside [`ALLOWED`]), with the phase.
    pub violations: Vec<String>,
    /// The order each idempotency key got, every time it got one.
    pub orders: HashMap<String, Vec<String>>,
    /// Keys that ended without an order (out of stock).
    pub refused: u64,
}

/// The running load.
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    record: Arc<Mutex<Record>>,
    phase: Arc<Mutex<String>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// Who the load acts as, and on what.
#[derive(Clone)]
pub(crate) struct Actors {
    pub gateway: String,
    pub admin: String,
    pub customers: Vec<String>,
    pub products: Vec<String>,
}

impl Load {
    /// Starts `workers` loops over `actors`.
    pub(crate) fn start(actors: Actors, workers: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let record = Arc::new(Mutex::new(Record::default()));
        let phase = Arc::new(Mutex::new("steady".to_owned()));
        let keys = Arc::new(AtomicU64::new(0));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        let workers = (0..workers)
            .map(|worker| {
                let (stop, record, phase, keys, http, actors) = (
                    stop.clone(),
                    record.clone(),
                    phase.clone(),
                    keys.clone(),
                    http.clone(),
                    actors.clone(),
                );
                tokio::spawn(async move {
                    let mut turn = worker;
                    while !stop.load(Ordering::Relaxed) {
                        turn += 1;
                        let product = &actors.products[turn % actors.products.len()];
                        let client = Client {
                            http: &http,
                            actors: &actors,
                            record: &record,
                            phase: &phase,
                        };
                        match turn % 4 {
                            0 | 1 => {
                                client.send(None, BROWSE, json!({ "id": product })).await;
                            }
                            2 => {
                                let key = format!("load-{}", keys.fetch_add(1, Ordering::Relaxed));
                                let customer = &actors.customers[turn % actors.customers.len()];
                                client.place(customer, product, &key).await;
                            }
                            _ => {
                                let variables =
                                    json!({ "id": product, "n": format!("revision {turn}") });
                                client.send(Some(&actors.admin), RENAME, variables).await;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            record,
            phase,
            workers,
        }
    }

    /// Names the phase that answers from now on belong to.
    pub(crate) fn phase(&self, name: &str) {
        *self.phase.lock().expect("lock") = name.to_owned();
    }

    /// Stops the load once every placement in flight has a definite answer; what it saw.
    pub(crate) async fn finish(self) -> Record {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.expect("a load worker");
        }
        Arc::try_unwrap(self.record)
            .map(|m| m.into_inner().expect("lock"))
            .unwrap_or_else(|_| panic!("load workers still hold the record"))
    }
}

struct Client<'a> {
    http: &'a reqwest::Client,
    actors: &'a Actors,
    record: &'a Mutex<Record>,
    phase: &'a Mutex<String>,
}

impl Client<'_> {
    /// Sends one operation and records how it ended; the answer when it was a GraphQL response.
    async fn send(&self, token: Option<&str>, query: &str, variables: Value) -> Option<Value> {
        let mut request = self
            .http
            .post(&self.actors.gateway)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (outcome, answer) = match request.send().await {
            Err(_) => ("transport".to_owned(), None),
            Ok(response) => {
                let status = response.status();
                let answer: Option<Value> = response.json().await.ok();
                let code = answer
                    .as_ref()
                    .and_then(|a| a["errors"][0]["extensions"]["code"].as_str())
                    .map(str::to_owned);
                match code {
                    Some(code) => (code, answer),
                    None if status.is_success() && answer.is_some() => ("ok".to_owned(), answer),
                    None => (format!("http {}", status.as_u16()), answer),
                }
            }
        };
        let mut record = self.record.lock().expect("lock");
        *record.outcomes.entry(outcome.clone()).or_default() += 1;
        let allowed = outcome == "ok" || ALLOWED.contains(&outcome.as_str());
        if !allowed {
            let phase = self.phase.lock().expect("lock").clone();
            record
                .violations
                .push(format!("{phase}: {outcome}: {answer:?}"));
        }
        answer
    }

    /// Places one order under `key`, retrying with the same key until the answer is definite (an order, or out
    /// of stock): a client that lost an answer tries again, and must not get a second order.
    async fn place(&self, customer: &str, product: &str, key: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            let answer = self
                .send(Some(customer), PLACE, json!({ "p": product, "k": key }))
                .await;
            let answer = answer.unwrap_or(Value::Null);
            if let Some(id) = answer["data"]["placeOrder"]["id"].as_str() {
                let mut record = self.record.lock().expect("lock");
                record
                    .orders
                    .entry(key.to_owned())
                    .or_default()
                    .push(id.to_owned());
                return;
            }
            if answer["errors"][0]["extensions"]["code"] == "OUT_OF_STOCK" {
                self.record.lock().expect("lock").refused += 1;
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("placement {key} had no definite answer within 90 s");
    }
}
