//! Operation limits, checked before any pass whose cost is recursive or super-linear.
//!
//! The order matters (see `docs/ARCHITECTURE.md`, "Operation limits"): the raw text is scanned once for its
//! token count and bracket nesting ([`tokens`]), so the recursive parser only ever sees a bounded document;
//! the parsed document is then measured per *expanded* occurrence with one memoized pass over its
//! fragments ([`shape`]), so validation, normalization and planning only ever see an operation whose
//! fully expanded size is bounded; the normalized operation's estimated [`cost`] is then checked against a
//! budget. Each refusal names the limit, the measured value and the maximum.

pub(crate) mod cost;
mod shape;
mod tokens;

pub(crate) use shape::{MeasureError, Shape, measure};
pub(crate) use tokens::scan;

use serde_json::json;

use crate::response::error::{ErrorCode, GraphQLError};

/// Limits on the size and shape of an operation; each is a `GATEWAY_MAX_*` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationLimits {
    /// Lexical tokens in the document (`GATEWAY_MAX_TOKENS`).
    pub max_tokens: usize,
    /// Brackets (`{`, `[`, `(`) open at once, and selection sets nested once fragments are
    /// expanded (`GATEWAY_MAX_NESTING`): what bounds every recursive pass's stack.
    pub max_nesting: usize,
    /// Fragment definitions in the document (`GATEWAY_MAX_FRAGMENTS`).
    pub max_fragments: usize,
    /// Longest chain of fragment spreads, each spreading the next (`GATEWAY_MAX_SPREAD_DEPTH`).
    pub max_spread_depth: usize,
    /// Selections (fields, inline fragments, spreads) once every fragment is expanded where it is
    /// spread (`GATEWAY_MAX_SELECTIONS`).
    pub max_selections: usize,
    /// Deepest field nesting outside introspection (`GATEWAY_MAX_DEPTH`).
    pub max_depth: usize,
    /// Deepest field nesting of a path through `__schema` or `__type` (`GATEWAY_MAX_INTROSPECTION_DEPTH`).
    pub max_introspection_depth: usize,
    /// Aliased fields, counted per expanded occurrence (`GATEWAY_MAX_ALIASES`).
    pub max_aliases: usize,
    /// Fields selected on the root type (`GATEWAY_MAX_ROOT_FIELDS`).
    pub max_root_fields: usize,
    /// Estimated objects an operation may produce ([`cost`]; `GATEWAY_MAX_COST`).
    pub max_cost: usize,
    /// Items assumed in a list nothing sizes (`GATEWAY_COST_LIST_SIZE`).
    pub default_list_size: usize,
}

impl Default for OperationLimits {
    fn default() -> Self {
        Self {
            max_tokens: 15_000,
            max_nesting: 48,
            max_fragments: 500,
            max_spread_depth: 20,
            max_selections: 5_000,
            max_depth: 12,
            max_introspection_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
            max_cost: 50_000,
            default_list_size: 10,
        }
    }
}

/// A limit an operation exceeds: which one, by how much.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct LimitExceeded {
    /// The limit's name as clients see it in `extensions.limit` (`tokens`, `depth`, …).
    pub limit: &'static str,
    /// What the operation measured.
    pub value: usize,
    /// The configured maximum.
    pub max: usize,
    message: String,
}

impl LimitExceeded {
    /// A refusal with its client message.
    pub(crate) fn new(limit: &'static str, value: usize, max: usize) -> Self {
        let message = match limit {
            "depth" => format!("Operation is {value} levels deep, more than the limit of {max}"),
            "introspectionDepth" => {
                format!("Introspection is {value} levels deep, more than the limit of {max}")
            }
            "aliases" => format!("Operation uses {value} aliases, more than the limit of {max}"),
            "rootFields" => {
                format!("Operation has {value} root fields, more than the limit of {max}")
            }
            "tokens" => format!("Document has {value} tokens, more than the limit of {max}"),
            "nesting" => {
                format!("Document nests {value} levels of brackets, more than the limit of {max}")
            }
            "fragments" => {
                format!("Document defines {value} fragments, more than the limit of {max}")
            }
            "spreadDepth" => {
                format!("Fragment spreads are chained {value} deep, more than the limit of {max}")
            }
            "selections" => {
                format!("Operation expands to {value} selections, more than the limit of {max}")
            }
            "cost" => format!("Operation costs {value}, more than the limit of {max}"),
            other => format!("Operation exceeds the {other} limit ({value} > {max})"),
        };
        Self {
            limit,
            value,
            max,
            message,
        }
    }

    /// Refuses when `value` is over `max`.
    pub(crate) fn check(limit: &'static str, value: usize, max: usize) -> Result<(), Self> {
        if value > max {
            Err(Self::new(limit, value, max))
        } else {
            Ok(())
        }
    }

    /// The client error: `OPERATION_LIMIT_EXCEEDED` with `limit`, `value` and `max`.
    pub(crate) fn into_graphql_error(self) -> GraphQLError {
        GraphQLError::with_code(self.message, ErrorCode::OperationLimitExceeded)
            .extension("limit", json!(self.limit))
            .extension("value", json!(self.value))
            .extension("max", json!(self.max))
    }
}

impl Shape {
    /// Refuses the first limit the measured operation exceeds.
    pub(crate) fn check(&self, limits: &OperationLimits) -> Result<(), LimitExceeded> {
        LimitExceeded::check("nesting", self.nesting, limits.max_nesting)?;
        LimitExceeded::check("selections", self.selections, limits.max_selections)?;
        LimitExceeded::check("rootFields", self.root_fields, limits.max_root_fields)?;
        LimitExceeded::check("depth", self.depth, limits.max_depth)?;
        LimitExceeded::check(
            "introspectionDepth",
            self.introspection_depth,
            limits.max_introspection_depth,
        )?;
        LimitExceeded::check("aliases", self.aliases, limits.max_aliases)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_at(limits: &OperationLimits) -> Shape {
        Shape {
            selections: limits.max_selections,
            aliases: limits.max_aliases,
            depth: limits.max_depth,
            introspection_depth: limits.max_introspection_depth,
            nesting: limits.max_nesting,
            spread_depth: 0,
            root_fields: limits.max_root_fields,
        }
    }

    #[test]
    fn a_value_exactly_at_the_limit_passes_and_one_more_is_refused() {
        assert_eq!(LimitExceeded::check("depth", 12, 12), Ok(()));
        assert_eq!(LimitExceeded::check("depth", 0, 0), Ok(()));
        let refused = LimitExceeded::check("depth", 13, 12).expect_err("13 > 12");
        assert_eq!(
            (refused.limit, refused.value, refused.max),
            ("depth", 13, 12)
        );
        assert!(LimitExceeded::check("cost", usize::MAX, usize::MAX - 1).is_err());
    }

    #[test]
    fn each_limit_has_its_own_message() {
        let cases = [
            (
                "depth",
                "Operation is 13 levels deep, more than the limit of 12",
            ),
            (
                "introspectionDepth",
                "Introspection is 13 levels deep, more than the limit of 12",
            ),
            (
                "aliases",
                "Operation uses 13 aliases, more than the limit of 12",
            ),
            (
                "rootFields",
                "Operation has 13 root fields, more than the limit of 12",
            ),
            (
                "tokens",
                "Document has 13 tokens, more than the limit of 12",
            ),
            (
                "nesting",
                "Document nests 13 levels of brackets, more than the limit of 12",
            ),
            (
                "fragments",
                "Document defines 13 fragments, more than the limit of 12",
            ),
            (
                "spreadDepth",
                "Fragment spreads are chained 13 deep, more than the limit of 12",
            ),
            (
                "selections",
                "Operation expands to 13 selections, more than the limit of 12",
            ),
            ("cost", "Operation costs 13, more than the limit of 12"),
            ("widgets", "Operation exceeds the widgets limit (13 > 12)"),
        ];
        for (limit, message) in cases {
            assert_eq!(LimitExceeded::new(limit, 13, 12).to_string(), message);
        }
    }

    #[test]
    fn the_client_error_names_the_limit_value_and_max() {
        let error = LimitExceeded::new("aliases", 31, 30).into_graphql_error();
        assert_eq!(
            serde_json::to_value(&error).expect("the error serializes"),
            json!({
                "message": "Operation uses 31 aliases, more than the limit of 30",
                "extensions": {
                    "code": "OPERATION_LIMIT_EXCEEDED",
                    "limit": "aliases",
                    "value": 31,
                    "max": 30
                }
            })
        );
    }

    #[test]
    fn a_shape_at_every_limit_passes() {
        let limits = OperationLimits::default();
        assert_eq!(shape_at(&limits).check(&limits), Ok(()));
        assert_eq!(Shape::default().check(&limits), Ok(()));
        // Spread depth is refused while measuring, before a shape exists: the check ignores it.
        let mut shape = shape_at(&limits);
        shape.spread_depth = limits.max_spread_depth + 1;
        assert_eq!(shape.check(&limits), Ok(()));
    }

    #[test]
    fn a_shape_one_over_any_limit_is_refused_naming_it() {
        let limits = OperationLimits::default();
        type Bump = fn(&mut Shape);
        let cases: [(&str, Bump); 6] = [
            ("nesting", |s| s.nesting += 1),
            ("selections", |s| s.selections += 1),
            ("rootFields", |s| s.root_fields += 1),
            ("depth", |s| s.depth += 1),
            ("introspectionDepth", |s| s.introspection_depth += 1),
            ("aliases", |s| s.aliases += 1),
        ];
        for (limit, bump) in cases {
            let mut shape = shape_at(&limits);
            bump(&mut shape);
            let refused = shape.check(&limits).expect_err(limit);
            assert_eq!(refused.limit, limit);
            assert_eq!(refused.value, refused.max + 1, "{limit}");
        }
    }

    #[test]
    fn the_first_exceeded_limit_in_check_order_is_reported() {
        let limits = OperationLimits::default();
        let mut shape = shape_at(&limits);
        shape.aliases += 5;
        shape.depth += 1;
        shape.selections += 1;
        assert_eq!(shape.check(&limits).map_err(|e| e.limit), Err("selections"));
    }
}
