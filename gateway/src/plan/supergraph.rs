//! The loaded supergraph: planner, API schema and subgraph endpoints.

use std::collections::HashMap;
use std::sync::Arc;

use graphql_tools::static_graphql::schema::{Definition, Document, TypeDefinition, Value};
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};

use crate::error::GatewayError;
use crate::schema::SchemaIndex;

/// One subgraph named in the supergraph's `join__Graph` enum.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    /// The subgraph name (`join__graph(name:)`), as plans refer to it.
    pub name: String,
    /// Where to send fetches.
    pub url: String,
}

/// A parsed, planned-over supergraph.
pub(crate) struct Supergraph {
    /// The query planner over this supergraph.
    pub planner: Planner,
    /// The API schema the client sees.
    pub schema: Arc<SchemaIndex>,
    /// Subgraphs by name.
    pub subgraphs: HashMap<String, Subgraph>,
}

impl std::fmt::Debug for Supergraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supergraph")
            .field("subgraphs", &self.subgraphs)
            .finish_non_exhaustive()
    }
}

impl Supergraph {
    /// Parses a supergraph SDL; `url_override` may replace a subgraph's URL by its graph id.
    pub(crate) fn parse(
        sdl: &str,
        url_override: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, GatewayError> {
        let document: Document = graphql_tools::parser::parse_schema::<String>(sdl)
            .map_err(|e| GatewayError::SupergraphParse(e.to_string()))?
            .into_static();
        let subgraphs = join_graphs(&document, url_override)?;
        // The planner panics on some malformed supergraphs; contain that to a start-up error.
        let planner = std::panic::catch_unwind(|| {
            Planner::new_from_supergraph(&document, QueryPlannerOptions::default())
        })
        .map_err(|_| GatewayError::Planner("the planner rejected the supergraph".to_owned()))?
        .map_err(|e| GatewayError::Planner(e.to_string()))?;
        let mut schema = SchemaIndex::new(planner.consumer_schema.document.as_ref().clone());
        schema.interface_objects = planner
            .supergraph
            .interface_object_types_in_subgraphs
            .keys()
            .cloned()
            .collect();
        let schema = Arc::new(schema);
        Ok(Self {
            planner,
            schema,
            subgraphs,
        })
    }
}

fn join_graphs(
    document: &Document,
    url_override: &dyn Fn(&str) -> Option<String>,
) -> Result<HashMap<String, Subgraph>, GatewayError> {
    let graph_enum = document
        .definitions
        .iter()
        .find_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Enum(e)) if e.name == "join__Graph" => {
                Some(e)
            }
            _ => None,
        })
        .ok_or(GatewayError::NotASupergraph)?;
    let mut subgraphs = HashMap::new();
    for value in &graph_enum.values {
        let Some(directive) = value.directives.iter().find(|d| d.name == "join__graph") else {
            continue;
        };
        let argument = |name: &str| {
            directive.arguments.iter().find_map(|(k, v)| match v {
                Value::String(s) if k == name => Some(s.clone()),
                _ => None,
            })
        };
        let name = argument("name").unwrap_or_else(|| value.name.to_lowercase());
        let url = url_override(&value.name)
            .or_else(|| argument("url"))
            .ok_or_else(|| GatewayError::MissingSubgraphUrl(name.clone()))?;
        subgraphs.insert(name.clone(), Subgraph { name, url });
    }
    Ok(subgraphs)
}
