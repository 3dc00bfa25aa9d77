//! Constants: evaluating param defaults and `given` values, and `--param k=v` overrides.

use std::collections::HashMap;

use crate::diag::{Diagnostic, did_you_mean};
use crate::ir::{ParamId, Program, Type};
use crate::syntax::ast::{BinOp, Expr, ExprKind};
use crate::value::{Date, Decimal, Duration, Value};

use super::codes;
use super::exprs::binary_type;
use super::types::{literal, show, type_of_value};

/// `a op b` on constants: numbers with numbers, date ± duration, duration ± duration.
/// `None` if the types do not combine or the result overflows (or divides by zero).
pub(crate) fn arith(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    match (op, a, b) {
        (BinOp::Add, Value::Number(x), Value::Number(y)) => x.checked_add(*y).map(Value::Number),
        (BinOp::Sub, Value::Number(x), Value::Number(y)) => x.checked_sub(*y).map(Value::Number),
        (BinOp::Mul, Value::Number(x), Value::Number(y)) => x.checked_mul(*y).map(Value::Number),
        (BinOp::Div, Value::Number(x), Value::Number(y)) => x.checked_div(*y).map(Value::Number),
        (BinOp::Add, Value::Date(d), Value::Duration(u)) => d.add(*u).map(Value::Date),
        (BinOp::Sub, Value::Date(d), Value::Duration(u)) => d.sub(*u).map(Value::Date),
        (BinOp::Add | BinOp::Sub, Value::Duration(x), Value::Duration(y)) => {
            let sign = if op == BinOp::Add { 1 } else { -1 };
            Some(Value::Duration(Duration {
                months: x.months.checked_add(y.months.checked_mul(sign)?)?,
                days: x.days.checked_add(y.days.checked_mul(sign)?)?,
            }))
        }
        _ => None,
    }
}

fn negate(v: &Value) -> Option<Value> {
    match v {
        Value::Number(n) => n.checked_neg().map(Value::Number),
        Value::Duration(d) => Some(Value::Duration(Duration {
            months: d.months.checked_neg()?,
            days: d.days.checked_neg()?,
        })),
        _ => None,
    }
}

/// Evaluates a constant expression: literals, earlier params and arithmetic on them.
#[expect(
    clippy::result_large_err,
    reason = "one diagnostic per call, off the hot path"
)]
pub(crate) fn eval_const(
    e: &Expr,
    params: &HashMap<String, ParamId>,
    program: &Program,
) -> Result<Value, Diagnostic> {
    match &e.kind {
        ExprKind::Lit(l) => Ok(literal(l, &Type::Any).0),
        ExprKind::Param(n) => match params.get(n) {
            Some(id) => Ok(program.param(*id).default.clone()),
            None => Err(unknown_param(n, params.keys().map(String::as_str)).at(e.span)),
        },
        ExprKind::Neg(inner) => {
            let v = eval_const(inner, params, program)?;
            negate(&v).ok_or_else(|| {
                invalid(
                    &format!("cannot negate `{v}`"),
                    "negate a number or a duration",
                    e,
                )
            })
        }
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (
                eval_const(a, params, program)?,
                eval_const(b, params, program)?,
            );
            arith(*op, &x, &y).ok_or_else(|| {
                let msg = format!("cannot compute `{x}` {} `{y}`", op_str(*op));
                let help = match (op, &y) {
                    (BinOp::Div, Value::Number(d)) if *d == Decimal::ZERO => {
                        "division by zero; divide by another number"
                    }
                    _ if ![&x, &y].contains(&&Value::None)
                        && binary_type(*op, &type_of_value(&x), &type_of_value(&y)).is_some() =>
                    {
                        "the result is out of range; use smaller values"
                    }
                    _ => "numbers combine with numbers, a date with a duration, durations with durations",
                };
                invalid(&msg, help, e)
            })
        }
        ExprKind::Var(_) | ExprKind::Wildcard | ExprKind::List(_) => {
            let help = match &e.kind {
                ExprKind::Var(n) => format!(
                    "a bare name is not a value; write `\"{n}\"` for text, or a literal such as `25`, `2y` or `2024-01-01`"
                ),
                _ => "write a literal such as `2y`, `25`, `2024-01-01` or `\"text\"`, or arithmetic on literals and earlier params".into(),
            };
            Err(Diagnostic::error(
                codes::PARAM_NOT_CONSTANT,
                "a param's value must be a constant",
            )
            .at(e.span)
            .help(help))
        }
    }
}

pub(crate) fn op_str(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
    }
}

fn invalid(msg: &str, help: &str, e: &Expr) -> Diagnostic {
    Diagnostic::error(codes::INVALID_VALUE, msg.to_string())
        .at(e.span)
        .help(help)
}

/// `unknown param `x`` with a suggestion among the declared ones.
pub(crate) fn unknown_param<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Diagnostic {
    let known: Vec<&str> = known.collect();
    let help = match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("did you mean `${s}`?"),
        None if known.is_empty() || known.len() > 8 => {
            format!("declare it with `param {name} = …`")
        }
        None => {
            let mut known: Vec<String> = known.iter().map(|k| format!("`${k}`")).collect();
            known.sort();
            format!(
                "declare it with `param {name} = …`; the params are {}",
                known.join(", ")
            )
        }
    };
    Diagnostic::error(codes::UNKNOWN_PARAM, format!("unknown param `${name}`")).help(help)
}

/// Parses a `--param name=value` override as a value of the param's type.
#[expect(
    clippy::result_large_err,
    reason = "one diagnostic per call, off the hot path"
)]
pub fn parse_param_override(program: &Program, text: &str) -> Result<(ParamId, Value), Diagnostic> {
    let Some((name, raw)) = text.split_once('=') else {
        return Err(Diagnostic::error(
            codes::INVALID_VALUE,
            format!("`{text}` is not `name=value`"),
        )
        .help("write `--param cooling_off=1y`"));
    };
    let (name, raw) = (name.trim().trim_start_matches('$'), raw.trim());
    let Some(i) = program.params.iter().position(|p| p.name == name) else {
        let known: Vec<&str> = program.params.iter().map(|p| p.name.as_str()).collect();
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(s) => format!("did you mean `--param {s}={raw}`?"),
            None if known.is_empty() => "the loaded rules declare no params".to_string(),
            None => format!("the params are {}", known.join(", ")),
        };
        return Err(Diagnostic::error(
            codes::UNKNOWN_PARAM,
            format!("unknown param `{name}` in `--param {text}`"),
        )
        .help(help));
    };
    let param = &program.params[i];
    let value = match &param.ty {
        Type::Number => Decimal::parse(raw).map(Value::Number),
        Type::Duration => Duration::parse(raw).map(Value::Duration),
        Type::Date => Date::parse(raw).ok().map(Value::Date),
        Type::Bool => match raw {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Type::Text => Some(Value::text(raw.trim_matches('"'))),
        Type::Entity(_) => Some(Value::entity(raw)),
        Type::Any => Some(guess(raw)),
    };
    let ty = show(&param.ty, &program.kinds);
    value.map(|v| (ParamId(i as u32), v)).ok_or_else(|| {
        Diagnostic::error(
            codes::INVALID_VALUE,
            format!("`{raw}` is not a {ty} for param `{name}`"),
        )
        .help(example(&param.ty, name))
    })
}

/// A value of unknown type (a param whose default is `none`): the first reading that fits.
fn guess(raw: &str) -> Value {
    if let Some(n) = Decimal::parse(raw) {
        return Value::Number(n);
    }
    if let Some(d) = Duration::parse(raw) {
        return Value::Duration(d);
    }
    if let Ok(d) = Date::parse(raw) {
        return Value::Date(d);
    }
    Value::text(raw.trim_matches('"'))
}

fn example(ty: &Type, name: &str) -> String {
    let v = match ty {
        Type::Number => "25",
        Type::Duration => "1y",
        Type::Date => "2025-01-31",
        Type::Bool => "true",
        _ => "text",
    };
    format!("write it like `--param {name}={v}`")
}
