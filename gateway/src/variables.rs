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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn operation(query: &str) -> OperationDefinition {
        crate::test_support::operation(query)
    }

    fn coerce_json(query: &str, provided: Value) -> Result<Value, Value> {
        let provided = provided.as_object().cloned().unwrap_or_default();
        coerce(&operation(query), provided)
            .map(Value::Object)
            .map_err(|errors| serde_json::to_value(errors).expect("errors serialize"))
    }

    #[test]
    fn defaults_fill_in_missing_variables_but_never_replace_provided_ones() {
        assert_eq!(
            coerce_json("query ($first: Int = 3) { a }", json!({ "first": 10 })),
            Ok(json!({ "first": 10 }))
        );
        let query = r#"query ($first: Int = 3, $sort: Sort = NAME, $tags: [String!] = ["a", "b"], $f: Filter = { term: "x", max: 1.5, exact: true }) { a }"#;
        assert_eq!(
            coerce_json(query, json!({})),
            Ok(json!({
                "first": 3,
                "sort": "NAME",
                "tags": ["a", "b"],
                "f": { "term": "x", "max": 1.5, "exact": true }
            }))
        );
    }

    #[test]
    fn an_explicit_null_for_a_nullable_variable_stays_null_despite_a_default() {
        let query = "query ($first: Int = 3, $after: String) { a }";
        assert_eq!(
            coerce_json(query, json!({ "first": null })),
            Ok(json!({ "first": null }))
        );
    }

    #[test]
    fn a_missing_or_null_required_variable_is_refused() {
        let query = "query ($id: ID!, $ids: [ID!]!, $n: Int) { a }";
        assert_eq!(
            coerce_json(query, json!({ "ids": null })),
            Err(json!([
                {
                    "message": "Variable \"$id\" of required type \"ID!\" was not provided.",
                    "extensions": { "code": "BAD_USER_INPUT" }
                },
                {
                    "message": "Variable \"$ids\" of required type \"[ID!]!\" was not provided.",
                    "extensions": { "code": "BAD_USER_INPUT" }
                }
            ]))
        );
    }

    #[test]
    fn a_required_variable_with_a_default_may_be_omitted_but_not_null() {
        let query = "query ($first: Int! = 3) { a }";
        assert_eq!(coerce_json(query, json!({})), Ok(json!({ "first": 3 })));
        assert!(coerce_json(query, json!({ "first": null })).is_err());
    }

    #[test]
    fn variables_the_operation_does_not_define_are_kept() {
        assert_eq!(
            coerce_json("{ a }", json!({ "extra": [1] })),
            Ok(json!({ "extra": [1] }))
        );
    }

    #[test]
    fn literals_convert_to_json() {
        assert_eq!(to_json(&AstValue::Null), Value::Null);
        assert_eq!(to_json(&AstValue::Variable("v".to_owned())), Value::Null);
        assert_eq!(to_json(&AstValue::Int(-7)), json!(-7));
        assert_eq!(to_json(&AstValue::Float(0.25)), json!(0.25));
        assert_eq!(to_json(&AstValue::Float(f64::NAN)), Value::Null);
        assert_eq!(to_json(&AstValue::Enum("OPEN".to_owned())), json!("OPEN"));
        assert_eq!(to_json(&AstValue::Boolean(false)), json!(false));
        assert_eq!(
            to_json(&AstValue::List(vec![AstValue::Int(1), AstValue::Null])),
            json!([1, null])
        );
    }
}
