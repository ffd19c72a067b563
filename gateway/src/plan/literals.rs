//! Lifting an operation's literal arguments into variables, so that operations which differ only in their
//! argument values (`products(first: 7)`, `products(first: 12)`) share one normalized operation and one plan.
//!
//! A storefront that spells its arguments inline sends a new text for every page, product and filter; keyed by
//! text, each would be normalized and planned anew (about half the gateway's CPU on such a page, see
//! docs/ARCHITECTURE.md, "Performance targets"). The lifted document is the operation's *shape*: every field
//! argument whose value holds no variable becomes `$_literalN`, declared with the argument's own type, and the
//! values travel beside it as variables. Lifting runs only on a document that already passed validation, so a
//! value is always valid for the type it is declared with and clients see the errors they always saw.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Definition, Document, OperationDefinition, Query, Selection, SelectionSet, TypeCondition,
    Value as Literal, VariableDefinition,
};
use serde_json::{Map, Number, Value};

use crate::schema::{SchemaIndex, named_type};

/// What every lifted variable's name starts with; a document declaring such a variable is not lifted.
pub(crate) const PREFIX: &str = "_literal";

/// An operation with its literal arguments lifted out.
#[derive(Debug)]
pub(crate) struct Lifted {
    /// The selected operation, declaring one variable per lifted literal, and the document's fragments.
    pub document: Document,
    /// The printed shape: the same for every text that differs only in lifted values.
    pub text: String,
    /// The lifted values by variable name, as JSON variables.
    pub values: Map<String, Value>,
}

/// Lifts the literal field arguments of the selected operation (`operation` indexes `document.definitions`)
/// and of every fragment; `None` when there is nothing to lift or the document already uses the prefix.
pub(crate) fn lift(
    schema: &SchemaIndex,
    document: &Document,
    operation: usize,
    root_type: &str,
) -> Option<Lifted> {
    let Some(Definition::Operation(selected)) = document.definitions.get(operation) else {
        return None;
    };
    if variable_definitions(selected)
        .iter()
        .any(|v| v.name.starts_with(PREFIX))
    {
        return None;
    }
    let mut lifter = Lifter {
        schema,
        definitions: Vec::new(),
        values: Map::new(),
        names: HashMap::new(),
    };
    let mut selected = selected.clone();
    lifter.selection_set(operation_selection_set_mut(&mut selected), root_type);
    let mut fragments = Vec::new();
    for definition in &document.definitions {
        if let Definition::Fragment(fragment) = definition {
            let mut fragment = fragment.clone();
            let TypeCondition::On(on) = &fragment.type_condition;
            let on = on.clone();
            lifter.selection_set(&mut fragment.selection_set, &on);
            fragments.push(Definition::Fragment(fragment));
        }
    }
    if lifter.values.is_empty() {
        return None;
    }
    let selected = declare(selected, lifter.definitions);
    let mut definitions = Vec::with_capacity(fragments.len() + 1);
    definitions.push(Definition::Operation(selected));
    definitions.extend(fragments);
    let document = Document { definitions };
    Some(Lifted {
        text: document.to_string(),
        document,
        values: lifter.values,
    })
}

struct Lifter<'s> {
    schema: &'s SchemaIndex,
    definitions: Vec<VariableDefinition>,
    values: Map<String, Value>,
    /// The variable already lifted for a type and value. Equal literals must stay equal: two selections of
    /// one response key merge only when their arguments are the same.
    names: HashMap<(String, String), String>,
}

impl Lifter<'_> {
    /// Lifts within a selection set on `parent`. Recursion follows the document's nesting, which the limits
    /// bounded before validation; fragment spreads are not followed (each fragment is lifted once, on its own).
    fn selection_set(&mut self, selection_set: &mut SelectionSet, parent: &str) {
        for item in &mut selection_set.items {
            match item {
                Selection::Field(field) => {
                    for (argument, value) in &mut field.arguments {
                        let Some(argument_type) =
                            self.schema.argument_type(parent, &field.name, argument)
                        else {
                            continue;
                        };
                        let Some(json) = liftable(value) else {
                            continue;
                        };
                        let name = self
                            .names
                            .entry((argument_type.to_string(), json.to_string()))
                            .or_insert_with(|| {
                                let name = format!("{PREFIX}{}", self.definitions.len());
                                self.definitions.push(VariableDefinition {
                                    position: field.position,
                                    name: name.clone(),
                                    var_type: argument_type.clone(),
                                    default_value: None,
                                });
                                self.values.insert(name.clone(), json);
                                name
                            });
                        *value = Literal::Variable(name.clone());
                    }
                    // Introspection's own fields are not in the schema index: nothing under them is lifted.
                    if let Some(field_type) = self.schema.field_type(parent, &field.name) {
                        let child = named_type(field_type).to_owned();
                        self.selection_set(&mut field.selection_set, &child);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = match &fragment.type_condition {
                        Some(TypeCondition::On(on)) => on.clone(),
                        None => parent.to_owned(),
                    };
                    self.selection_set(&mut fragment.selection_set, &on);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// The value as a JSON variable, when it can travel as one with the same meaning: it holds no variable, it is
/// not a bare `null` (kept inline, as written), and every float in it is finite.
fn liftable(value: &Literal) -> Option<Value> {
    fn json(value: &Literal) -> Option<Value> {
        Some(match value {
            Literal::Variable(_) => return None,
            Literal::Null => Value::Null,
            Literal::Int(n) => Value::Number(n.as_i64()?.into()),
            Literal::Float(f) => Value::Number(Number::from_f64(*f)?),
            Literal::String(s) | Literal::Enum(s) => Value::String(s.clone()),
            Literal::Boolean(b) => Value::Bool(*b),
            Literal::List(items) => Value::Array(items.iter().map(json).collect::<Option<_>>()?),
            Literal::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Some((k.clone(), json(v)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
    match value {
        Literal::Null => None,
        value => json(value),
    }
}

fn variable_definitions(operation: &OperationDefinition) -> &[VariableDefinition] {
    match operation {
        OperationDefinition::SelectionSet(_) => &[],
        OperationDefinition::Query(q) => &q.variable_definitions,
        OperationDefinition::Mutation(m) => &m.variable_definitions,
        OperationDefinition::Subscription(s) => &s.variable_definitions,
    }
}

fn operation_selection_set_mut(operation: &mut OperationDefinition) -> &mut SelectionSet {
    match operation {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &mut q.selection_set,
        OperationDefinition::Mutation(m) => &mut m.selection_set,
        OperationDefinition::Subscription(s) => &mut s.selection_set,
    }
}

/// The operation with the lifted variables declared after its own (a `{ … }` shorthand becomes a `query`).
fn declare(operation: OperationDefinition, lifted: Vec<VariableDefinition>) -> OperationDefinition {
    match operation {
        OperationDefinition::SelectionSet(selection_set) => OperationDefinition::Query(Query {
            position: selection_set.span.0,
            name: None,
            variable_definitions: lifted,
            directives: Vec::new(),
            selection_set,
        }),
        OperationDefinition::Query(mut q) => {
            q.variable_definitions.extend(lifted);
            OperationDefinition::Query(q)
        }
        OperationDefinition::Mutation(mut m) => {
            m.variable_definitions.extend(lifted);
            OperationDefinition::Mutation(m)
        }
        OperationDefinition::Subscription(mut s) => {
            s.variable_definitions.extend(lifted);
            OperationDefinition::Subscription(s)
        }
    }
}
