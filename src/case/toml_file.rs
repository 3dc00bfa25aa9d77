//! One TOML file of a case: parsing with spans, places for diagnostics, typed values.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeInteger, DeTable, DeValue};

use crate::diag::{Diagnostic, Place};
use crate::ir::{Field, Type};
use crate::value::{Date, Decimal, Value};

use super::convert::{Ctx, Lines, parse_number, point};
use super::csv::FieldPos;
use super::errors::CaseError;

/// A TOML text with its display path and line index.
pub(crate) struct TomlFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
    lines: Lines,
}

/// A value with the byte range it was written at.
pub(crate) type Val<'a> = Spanned<DeValue<'a>>;

impl<'a> TomlFile<'a> {
    pub fn new(path: &'a str, text: &'a str) -> TomlFile<'a> {
        TomlFile {
            path,
            text,
            lines: Lines::new(text),
        }
    }

    /// The place of a byte range.
    pub fn place(&self, span: Range<usize>) -> Place {
        point(self.path, self.text, self.pos(span))
    }

    /// The line and range of a byte range.
    pub fn pos(&self, span: Range<usize>) -> FieldPos {
        self.lines.pos(span.start, span.end)
    }

    /// Line (1-based) of a byte offset.
    pub fn line(&self, offset: usize) -> u32 {
        self.lines.pos(offset, offset).line
    }

    pub fn error(&self, err: &CaseError, span: Range<usize>) -> Diagnostic {
        err.at(self.place(span))
    }

    /// Parses the document, reporting every syntax error.
    pub fn parse(&self) -> Result<DeTable<'a>, Vec<Diagnostic>> {
        let (doc, errors) = DeTable::parse_recoverable(self.text);
        if errors.is_empty() {
            return Ok(doc.into_inner());
        }
        Err(errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                let reason = e.message().trim().replace('\n', "; ");
                self.error(&CaseError::BadToml { reason }, span)
            })
            .collect())
    }
}

/// How a TOML value reads in a message: `text \`x\``, `an integer`.
pub(crate) fn found(v: &DeValue) -> String {
    match v {
        DeValue::String(s) => format!("text `{s}`"),
        DeValue::Integer(i) => format!("the integer `{i}`"),
        DeValue::Float(f) => format!("the number `{f}`"),
        DeValue::Boolean(b) => format!("`{b}`"),
        DeValue::Datetime(d) => format!("the date `{d}`"),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// Converts one TOML value to a value of `field`'s type (a list member, for lists).
pub(crate) fn scalar(ctx: &Ctx, field: &Field, v: &DeValue) -> Result<Value, CaseError> {
    match (&field.ty, v) {
        (Type::Number | Type::Bool, DeValue::String(_)) => Err(ctx.wrong_type(field, &found(v))),
        (_, DeValue::String(s)) => ctx.parse_text(field, s),
        (Type::Number, DeValue::Integer(i)) => {
            integer(i)
                .map(Value::Number)
                .ok_or_else(|| CaseError::BadNumber {
                    text: i.to_string(),
                })
        }
        (Type::Number, DeValue::Float(f)) => parse_number(f.as_str())
            .map(Value::Number)
            .ok_or_else(|| CaseError::BadNumber {
                text: f.to_string(),
            }),
        (Type::Bool, DeValue::Boolean(b)) => Ok(Value::Bool(*b)),
        (Type::Date, DeValue::Datetime(dt)) => match (dt.date, dt.time) {
            (Some(d), None) => Ok(Value::Date(Date::day(
                d.year as i32,
                d.month as u32,
                d.day as u32,
            ))),
            (Some(_), Some(_)) => Err(CaseError::DateWithTime {
                text: dt.to_string(),
            }),
            (None, _) => Err(ctx.wrong_type(field, &found(v))),
        },
        _ => Err(ctx.wrong_type(field, &found(v))),
    }
}

/// An exact decimal of a TOML integer in any radix.
fn integer(i: &DeInteger) -> Option<Decimal> {
    if i.radix() == 10 {
        return parse_number(i.as_str());
    }
    let n = i128::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()?;
    n.checked_mul(Decimal::SCALE).map(Decimal)
}

/// A string, or (if `list`) a string or an array of strings, as written text.
pub(crate) fn strings<'v>(
    v: &'v Val<'_>,
    list: bool,
) -> Result<Vec<(&'v str, Range<usize>)>, Range<usize>> {
    match v.get_ref() {
        DeValue::String(s) => Ok(vec![(s.as_ref(), v.span())]),
        DeValue::Array(items) if list => items
            .iter()
            .map(|m| match m.get_ref() {
                DeValue::String(s) => Ok((s.as_ref(), m.span())),
                _ => Err(m.span()),
            })
            .collect(),
        _ => Err(v.span()),
    }
}
