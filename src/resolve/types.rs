//! Types: resolving type names, narrowing (meet) and widening (join), literals to values.

use std::collections::HashMap;

use crate::diag::{Diagnostic, did_you_mean};
use crate::ir::{EntityKind, KindId, Type};
use crate::syntax::ast::{Lit, TypeExpr};
use crate::value::{Date, Value};

use super::codes;

/// The builtin type names, as written.
pub(crate) const BUILTIN: [&str; 6] = ["text", "number", "date", "duration", "bool", "entity"];

/// The narrowest type both allow: the intersection of entity unions; `None` if empty.
pub(crate) fn meet(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Any, t) | (t, Type::Any) => Some(t.clone()),
        (Type::Entity(x), Type::Entity(y)) => {
            if x.is_empty() {
                return Some(b.clone());
            }
            if y.is_empty() {
                return Some(a.clone());
            }
            let both: Vec<KindId> = x.iter().filter(|k| y.contains(k)).copied().collect();
            (!both.is_empty()).then_some(Type::Entity(both))
        }
        (x, y) => (x == y).then(|| x.clone()),
    }
}

/// The narrowest type covering both: the union of entity unions; `None` if they differ.
pub(crate) fn join(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Any, t) | (t, Type::Any) => Some(t.clone()),
        (Type::Entity(x), Type::Entity(y)) => {
            if x.is_empty() || y.is_empty() {
                return Some(Type::Entity(Vec::new()));
            }
            let mut all: Vec<KindId> = x.iter().chain(y).copied().collect();
            all.sort_unstable();
            all.dedup();
            Some(Type::Entity(all))
        }
        (x, y) => (x == y).then(|| x.clone()),
    }
}

/// How a type is written: `date`, `person | org`, `entity`, `any`.
pub(crate) fn show(ty: &Type, kinds: &[EntityKind]) -> String {
    match ty {
        Type::Text => "text".into(),
        Type::Number => "number".into(),
        Type::Date => "date".into(),
        Type::Duration => "duration".into(),
        Type::Bool => "bool".into(),
        Type::Any => "any".into(),
        Type::Entity(ks) if ks.is_empty() => "entity".into(),
        Type::Entity(ks) => ks
            .iter()
            .map(|k| kinds.get(k.0 as usize).map_or("?", |e| e.name.as_str()))
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

/// Whether `<` `<=` `>` `>=` apply to values of this type.
pub(crate) fn is_ordered(ty: &Type) -> bool {
    matches!(
        ty,
        Type::Number | Type::Date | Type::Duration | Type::Text | Type::Entity(_) | Type::Any
    )
}

/// Resolves `person | org`, `date`, `entity` against the declared kinds.
pub(crate) fn resolve_type(
    te: &TypeExpr,
    kinds: &HashMap<String, KindId>,
    diags: &mut Vec<Diagnostic>,
) -> Type {
    let mut ents: Vec<KindId> = Vec::new();
    let mut scalar: Option<Type> = None;
    let mut any_entity = false;
    for n in &te.names {
        let t = match n.node.as_str() {
            "text" => Type::Text,
            "number" => Type::Number,
            "date" => Type::Date,
            "duration" => Type::Duration,
            "bool" => Type::Bool,
            "entity" => {
                any_entity = true;
                continue;
            }
            name => match kinds.get(name) {
                Some(k) => {
                    ents.push(*k);
                    continue;
                }
                None => {
                    diags.push(unknown_kind(name, n.span, kinds));
                    continue;
                }
            },
        };
        if te.names.len() > 1 {
            diags.push(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{}` cannot be part of a union", n.node),
                )
                .at(n.span)
                .help("unions are of entity kinds only, like `person | org`"),
            );
        }
        scalar = Some(t);
    }
    if let Some(t) = scalar {
        return t;
    }
    if any_entity {
        return Type::Entity(Vec::new());
    }
    ents.sort_unstable();
    ents.dedup();
    if ents.is_empty() {
        Type::Any
    } else {
        Type::Entity(ents)
    }
}

fn unknown_kind(
    name: &str,
    span: crate::diag::Span,
    kinds: &HashMap<String, KindId>,
) -> Diagnostic {
    let mut cands: Vec<&str> = BUILTIN.to_vec();
    cands.extend(kinds.keys().map(String::as_str));
    cands.sort_unstable();
    let help = match did_you_mean(name, cands) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "use one of {} or declare it with `entity {name}(…)`",
            BUILTIN.map(|b| format!("`{b}`")).join(", ")
        ),
    };
    Diagnostic::error(codes::UNKNOWN_KIND, format!("unknown type `{name}`"))
        .at(span)
        .help(help)
}

/// A literal as a value of the expected type where the language converts: a 4-digit
/// integer where a date is expected is that year; a string where an entity is expected
/// is an entity id. Returns the value and its type.
pub(crate) fn literal(lit: &Lit, expected: &Type) -> (Value, Type) {
    match lit {
        Lit::Text(s) => match expected {
            Type::Entity(_) => (Value::entity(s), expected.clone()),
            _ => (Value::text(s), Type::Text),
        },
        Lit::Number { value, text } => {
            if *expected == Type::Date
                && text.len() == 4
                && text.bytes().all(|b| b.is_ascii_digit())
            {
                if let Ok(d) = Date::parse(text) {
                    return (Value::Date(d), Type::Date);
                }
            }
            (Value::Number(*value), Type::Number)
        }
        Lit::Date(d) => (Value::Date(*d), Type::Date),
        Lit::Duration { value, .. } => (Value::Duration(*value), Type::Duration),
        Lit::Bool(b) => (Value::Bool(*b), Type::Bool),
        Lit::None => (Value::None, Type::Any),
    }
}

/// The type of a constant value (`none` fits any type).
pub(crate) fn type_of_value(v: &Value) -> Type {
    match v {
        Value::None => Type::Any,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::Date(_) => Type::Date,
        Value::Duration(_) => Type::Duration,
        Value::Text(_) => Type::Text,
        Value::Entity(_) => Type::Entity(Vec::new()),
    }
}
