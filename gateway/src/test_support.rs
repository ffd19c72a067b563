//! What the gateway's unit tests build their inputs from: a schema index and an operation, from text.

use hive_router_query_planner::ast::operation::OperationDefinition;

use crate::schema::SchemaIndex;

/// The index of a test SDL.
pub(crate) fn schema_index(sdl: &str) -> SchemaIndex {
    SchemaIndex::new(
        graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("the test SDL parses")
            .into_static(),
    )
}

/// The first operation of a test document.
pub(crate) fn operation(query: &str) -> OperationDefinition {
    let document = graphql_tools::parser::parse_query::<String>(query).expect("the query parses");
    document
        .definitions
        .into_iter()
        .find_map(|d| match d {
            graphql_tools::parser::query::Definition::Operation(op) => Some(op),
            graphql_tools::parser::query::Definition::Fragment(_) => None,
        })
        .expect("an operation")
        .into()
}
