//! Variable coercion: defaults applied, missing required variables refused.

use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::value::Value as AstValue;
use hive_router_query_planner::state::supergraph_state::TypeNode;
use serde_json::{Map, Number, Value};

use crate::response::error::{ErrorCode, GraphQLError};

/// Fills in defaults and checks that every non-null variable has a value.
pub(crate) fn coerce(
    operation: &OperationDefinition,
    mut provided: Map<String, Value>,
) -> Result<Map<String, Value>, Vec<GraphQLError>> {
    let mut errors = Vec::new();
    for definition in operation.variable_definitions.iter().flatten() {
        let present = provided.get(&definition.name).is_some_and(|v| !v.is_null());
        if present {
            continue;
        }
        if let Some(default) = &definition.default_value
            && !provided.contains_key(&definition.name)
        {
            provided.insert(definition.name.clone(), to_json(default));
        } else if matches!(definition.variable_type, TypeNode::NonNull(_)) {
            errors.push(GraphQLError::with_code(
                format!(
                    "Variable \"${}\" of required type \"{}\" was not provided.",
                    definition.name, definition.variable_type
                ),
                ErrorCode::BadUserInput,
            ));
        }
    }
    if errors.is_empty() {
        Ok(provided)
    } else {
        Err(errors)
    }
}

/// A literal of the operation as JSON (default values).
pub(crate) fn to_json(value: &AstValue) -> Value {
    match value {
        AstValue::Null | AstValue::Variable(_) => Value::Null,
        AstValue::Int(i) => Value::Number((*i).into()),
        AstValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AstValue::String(s) | AstValue::Enum(s) => Value::String(s.clone()),
        AstValue::Boolean(b) => Value::Bool(*b),
        AstValue::List(items) => Value::Array(items.iter().map(to_json).collect()),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}
