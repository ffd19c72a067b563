//! Hostile documents: each is refused (or answered) with bounded work, and the gateway keeps serving.
//! The rows cited are those of the hardening issue's table.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::harness::TestGraph;

/// GraphiQL's schema query: `getIntrospectionQuery()` of graphql-js 16.11 with every option GraphiQL sets.
const INTROSPECTION: &str = include_str!("../fixtures/introspection.graphql");

/// Asserts a refusal by `limit` with the measured `value` over `max`.
fn assert_limit(status: u16, body: &Value, limit: &str) {
    assert_eq!(status, 400, "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "OPERATION_LIMIT_EXCEEDED", "{body}");
    assert_eq!(extensions["limit"], limit, "{body}");
    assert!(
        extensions["value"].as_u64() > extensions["max"].as_u64(),
        "{body}"
    );
}

/// `fragment F0 on Query { ...F1 } … fragment Fn on Query { __typename }`, spread by the operation: a chain
/// of `n + 1` spreads.
fn fragment_chain(n: usize, under_schema: bool) -> String {
    let mut document = if under_schema {
        String::from("{ __schema { queryType { ...F0 } } }\n")
    } else {
        String::from("{ ...F0 }\n")
    };
    let on = if under_schema { "__Type" } else { "Query" };
    for i in 0..n {
        document.push_str(&format!("fragment F{i} on {on} {{ ...F{} }}\n", i + 1));
    }
    document.push_str(&format!("fragment F{n} on {on} {{ __typename }}\n"));
    document
}

#[tokio::test]
async fn a_chain_of_ten_thousand_fragments_is_refused_and_the_gateway_lives() {
    // Row 1: the gateway used to recurse once per fragment and abort on stack overflow.
    let graph = TestGraph::start().await;
    for under_schema in [false, true] {
        let (status, body) = graph
            .post(&fragment_chain(10_000, under_schema), json!(null))
            .await;
        assert_limit(status, &body, "tokens");
    }
    // With the token limit out of the way, the fragment count and then the spread depth refuse it.
    let graph = TestGraph::start_with(|c| c.limits.max_tokens = 1_000_000, &[]).await;
    for under_schema in [false, true] {
        let (status, body) = graph
            .post(&fragment_chain(10_000, under_schema), json!(null))
            .await;
        assert_limit(status, &body, "fragments");
        let (status, body) = graph
            .post(&fragment_chain(20, under_schema), json!(null))
            .await;
        assert_limit(status, &body, "spreadDepth");
        let body = graph.query(&fragment_chain(19, under_schema)).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    assert_eq!(
        graph.query("{ __typename }").await,
        json!({ "data": { "__typename": "Query" } })
    );
}

#[tokio::test]
async fn brackets_nested_past_the_parser_stack_are_refused() {
    let graph = TestGraph::start().await;
    let (status, body) = graph.post(&"{".repeat(200_000), json!(null)).await;
    assert_limit(status, &body, "tokens");
    let graph = TestGraph::start_with(|c| c.limits.max_tokens = 1_000_000, &[]).await;
    for document in [
        "{".repeat(200_000),
        format!("{{ product(upc: {}) {{ upc }} }}", "[".repeat(100_000)),
        {
            // Inline fragments add nesting without adding field depth.
            let inner = (0..60).fold(String::from("__typename"), |inner, _| {
                format!("... on Query {{ {inner} }}")
            });
            format!("{{ {inner} }}")
        },
    ] {
        let (status, body) = graph.post(&document, json!(null)).await;
        assert_limit(status, &body, "nesting");
    }
}

#[tokio::test]
async fn nested_introspection_fragments_are_refused_by_their_expansion() {
    // Row 2: nine fragments on __Type, each spreading the next under six fields, expand to 6^9 selections.
    let graph = TestGraph::start().await;
    let mut document = String::from("{ __schema { types { ...T0 } } }\n");
    for i in 0..9 {
        let next = format!("...T{}", i + 1);
        document.push_str(&format!(
            "fragment T{i} on __Type {{ ofType {{ {next} }} interfaces {{ {next} }} possibleTypes {{ {next} }} \
             fields {{ type {{ {next} }} }} inputFields {{ type {{ {next} }} }} enumValues {{ name }} }}\n"
        ));
    }
    document.push_str("fragment T9 on __Type { name }\n");
    let (status, body) = graph.post(&document, json!(null)).await;
    assert_limit(status, &body, "selections");
    assert_eq!(
        graph.gateway.plan_cache_usage().0,
        0,
        "a refused document is never cached"
    );
}

#[tokio::test]
async fn introspection_has_its_own_depth_bound_and_graphiql_passes() {
    let graph = TestGraph::start().await;
    let body = graph.query(INTROSPECTION).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let of_types = |n: usize| {
        (0..n).fold(String::from("name"), |inner, _| {
            format!("ofType {{ {inner} }}")
        })
    };
    // 15 levels: __schema types fields type ofType×10 name.
    let body = graph
        .query(&format!(
            "{{ __schema {{ types {{ fields {{ type {{ {} }} }} }} }} }}",
            of_types(10)
        ))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let (status, body) = graph
        .post(
            &format!(
                "{{ __schema {{ types {{ fields {{ type {{ {} }} }} }} }} }}",
                of_types(11)
            ),
            json!(null),
        )
        .await;
    assert_limit(status, &body, "introspectionDepth");
}

#[tokio::test]
async fn repeated_fields_are_bounded_by_the_expanded_selection_count() {
    // Row 3: one field repeated 8 000 times cost seconds, quadratically, in validation.
    let graph = TestGraph::start().await;
    let (status, body) = graph
        .post(
            &format!("{{ me {{ {} }} }}", "name ".repeat(8_000)),
            json!(null),
        )
        .await;
    assert_limit(status, &body, "selections");
    // Just under the limit it is admitted, merged into one field, and fetched once.
    graph.take_hits();
    let body = graph
        .query(&format!("{{ me {{ {} }} }}", "name ".repeat(4_990)))
        .await;
    assert_eq!(body, json!({ "data": { "me": { "name": "User 1" } } }));
    assert_eq!(graph.take_hits().values().sum::<usize>(), 1);
    // Nested repetition: each copy of `me { orders { user { name } } }` counts its whole expansion.
    let copy = "me { id orders { id user { id name } } } ";
    let (status, body) = graph
        .post(&format!("{{ {} }}", copy.repeat(800)), json!(null))
        .await;
    assert_limit(status, &body, "selections");
}

#[tokio::test]
async fn aliases_are_counted_per_expanded_occurrence() {
    // Row 4: aliases inside a fragment counted once however often it was spread.
    let graph = TestGraph::start().await;
    let fragment: String = (0..10).map(|i| format!("n{i}: name ")).collect();
    let parents: String = (0..12)
        .map(|i| format!("u{i}: me {{ ...Names }} "))
        .collect();
    let document = format!("{{ {parents} }}\nfragment Names on User {{ {fragment} }}");
    let (status, body) = graph.post(&document, json!(null)).await;
    assert_limit(status, &body, "aliases");
    assert_eq!(
        body["errors"][0]["extensions"]["value"],
        12 + 12 * 10,
        "{body}"
    );
}

#[tokio::test]
async fn large_documents_do_not_pin_the_plan_cache() {
    // Row 6: 200 distinct documents padded to 1 MB each were all kept.
    let graph = TestGraph::start().await;
    for i in 0..200 {
        let document = format!("{{ __typename }} # {i} {}", "x".repeat(1_000_000));
        let body = graph.query(&document).await;
        assert_eq!(body["data"]["__typename"], "Query");
    }
    let (entries, bytes) = graph.gateway.plan_cache_usage();
    assert_eq!(
        entries, 0,
        "oversized documents are prepared every time, not kept"
    );
    assert!(bytes < 1024, "{bytes}");

    // Documents under the size cap are kept until the byte budget is spent, then evicted oldest first.
    let graph = TestGraph::start_with(|c| c.plan_cache_bytes = 1024 * 1024, &[]).await;
    for i in 0..100 {
        let document = format!("{{ __typename }} # {i} {}", "x".repeat(50_000));
        graph.query(&document).await;
    }
    let (entries, bytes) = graph.gateway.plan_cache_usage();
    assert!(
        entries > 0 && bytes <= 1024 * 1024,
        "{entries} entries, {bytes} bytes"
    );
}

#[tokio::test]
async fn fields_that_cannot_merge_are_one_error_per_key() {
    let graph = TestGraph::start_with(|c| c.limits.max_root_fields = 1_000, &[]).await;
    // Thousands of conflicting pairs used to be as many errors.
    let fields: String = (0..400)
        .map(|i| format!("product(upc: \"{i}\") {{ upc }} "))
        .collect();
    let (status, body) = graph.post(&format!("{{ {fields} }}"), json!(null)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "Fields \"product\" conflict because they have differing arguments. Use different aliases on the fields to fetch both if this was intentional."
    );
    let (status, body) = graph.post("{ me { id: name id } }", json!(null)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "Fields \"id\" conflict because \"name\" and \"id\" are different fields. Use different aliases on the fields to fetch both if this was intentional."
    );
    let (status, body) = graph
        .post(
            "{ me { orders { id } } me { orders { id: total } } }",
            json!(null),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("subfields \"orders\" conflict")),
        "{body}"
    );
    // On mutually exclusive object types, one key may name different fields of the same shape…
    let body = graph
        .query("{ search { ... on Book { label: title } ... on Movie { label: director } } }")
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // …but never differently shaped values.
    let (status, body) = graph
        .post(
            "{ media { ... on Book { x: author { id } } ... on Movie { x: title } } }",
            json!(null),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

/// A random document: nested selections, fragment fan-out, spread chains, repeats, aliases, garbage.
fn random_document(rng: &mut StdRng) -> String {
    const FIELDS: [&str; 8] = [
        "me",
        "orders",
        "user",
        "name",
        "id",
        "__typename",
        "topProducts",
        "upc",
    ];
    let fragments = rng.random_range(0..30);
    let mut document = String::new();
    let selection = |rng: &mut StdRng, depth: usize| -> String {
        let mut out = String::new();
        let width = rng.random_range(1..6);
        for _ in 0..width {
            match rng.random_range(0..10) {
                0 if fragments > 0 => {
                    out.push_str(&format!("...F{} ", rng.random_range(0..fragments)));
                }
                1 => out.push_str(&format!("a{}: ", rng.random_range(0..50))),
                2 => out.push_str(&"id ".repeat(rng.random_range(1..200))),
                3 => out.push_str(&"{ ".repeat(rng.random_range(0..depth + 1))),
                _ => {}
            }
            out.push_str(FIELDS[rng.random_range(0..FIELDS.len())]);
            out.push(' ');
            if rng.random_bool(0.4) {
                out.push_str("{ __typename } ");
            }
        }
        out
    };
    let depth = rng.random_range(1..40);
    let mut body = String::from("__typename");
    for _ in 0..depth {
        let field = FIELDS[rng.random_range(0..3)];
        body = format!("{field} {{ {} {body} }}", selection(rng, 3));
    }
    document.push_str(&format!("{{ {body} }}\n"));
    for i in 0..fragments {
        let on = ["Query", "User", "Order", "__Type"][rng.random_range(0..4)];
        let repeat = rng.random_range(1..8);
        let spreads: String = (0..repeat)
            .map(|_| format!("...F{} ", rng.random_range(0..fragments)))
            .collect();
        document.push_str(&format!(
            "fragment F{i} on {on} {{ {} {spreads} }}\n",
            selection(rng, 2)
        ));
    }
    if rng.random_bool(0.1) {
        // Cut anywhere: unbalanced brackets and half tokens must be refused cleanly too.
        let cut = rng.random_range(0..document.len());
        document.truncate(cut); // the generator writes ASCII only
    }
    document
}

#[tokio::test]
async fn random_and_adversarial_documents_never_crash_the_gateway() {
    let graph = TestGraph::start().await;
    let mut rng = StdRng::seed_from_u64(0x9b1d_2026);
    for round in 0..400 {
        let document = random_document(&mut rng);
        // Straight at the pipeline: every document gets an answer, never a panic.
        let _ = graph.gateway.check_document(&document, None);
        if round % 20 == 0 {
            let (status, body) = graph.post(&document, json!(null)).await;
            assert!(
                status == 200 || status == 400,
                "{status} {body} for {document}"
            );
            assert!(body.is_object(), "{document}");
        }
    }
    assert_eq!(
        graph.query("{ __typename }").await["data"]["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn the_cost_budget_multiplies_list_sizes_down_the_tree() {
    let graph = TestGraph::start().await;
    // orders(first: n) × (order + items 10 × (item + product) + user + user.orders 10 × (order + items 10 × 2)).
    let query = |first: &str| {
        format!(
            "{{ orders(first: {first}) {{ id items {{ product {{ name }} }} user {{ orders {{ items {{ product {{ name }} }} }} }} }} }}"
        )
    };
    let body = graph.query(&query("100")).await;
    assert!(body["errors"].is_null(), "{body}");
    let (status, body) = graph.post(&query("1000"), json!(null)).await;
    assert_limit(status, &body, "cost");
    assert_eq!(
        body["errors"][0]["extensions"]["value"],
        1000 * 232,
        "{body}"
    );

    // A variable size is estimated per request, so one cached document is admitted or refused by its variables.
    let document = "query Orders($n: Int!) { orders(first: $n) { items { product { name } } user { orders { items { product { name } } } } } }";
    let (status, body) = graph.post(document, json!({ "n": 1000 })).await;
    assert_limit(status, &body, "cost");
    let (status, body) = graph.post(document, json!({ "n": 5 })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = graph.post(document, json!({ "n": 1000 })).await;
    assert_limit(status, &body, "cost");

    // Introspection is exempt from cost: only its depth bounds it.
    let graph = TestGraph::start_with(|c| c.limits.max_cost = 1, &[]).await;
    let body = graph.query(INTROSPECTION).await;
    assert!(body["errors"].is_null(), "{body}");
}
