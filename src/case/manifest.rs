//! `case.toml`: the case's title, description, `as_of` date and the sources facts cite.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, did_you_mean};
use crate::value::Date;

use super::Source;
use super::errors::CaseError;
use super::toml_file::{TomlFile, Val, found};

/// What `case.toml` says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Manifest {
    pub title: String,
    pub description: Option<String>,
    pub as_of: Option<Date>,
    pub sources: Vec<Source>,
    /// Where each source's id is written, in step with `sources`.
    id_spans: Vec<Range<usize>>,
}

/// Reads a parsed `case.toml`, reporting every problem in it.
pub(crate) fn read(file: &TomlFile, doc: &DeTable) -> (Manifest, Vec<Diagnostic>) {
    let mut m = Manifest::default();
    let mut diags = Vec::new();
    let mut has_case = false;
    for (k, v) in doc.iter() {
        match (k.get_ref().as_ref(), v.get_ref()) {
            ("case", DeValue::Table(t)) => {
                has_case = true;
                case_table(file, t, v.span(), &mut m, &mut diags);
            }
            ("source", DeValue::Array(items)) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(t) => source(file, t, item.span(), &mut m, &mut diags),
                        _ => diags.push(not_facts(file, "source", item)),
                    }
                }
            }
            ("source", _) => diags.push(not_facts(file, "source", v)),
            (key, _) => {
                let e = CaseError::UnknownField {
                    rel: "case.toml".into(),
                    field: key.into(),
                    suggestion: did_you_mean(key, ["case", "source"]).map(String::from),
                };
                diags.push(file.error(&e, k.span()));
            }
        }
    }
    if !has_case {
        let e = CaseError::MissingField {
            rel: "case.toml".into(),
            field: "[case]".into(),
        };
        diags.push(file.error(&e, 0..0));
    }
    (m, diags)
}

fn not_facts(file: &TomlFile, key: &str, v: &Val) -> Diagnostic {
    let e = CaseError::NotFacts {
        key: key.into(),
        found: if v.get_ref().is_table() {
            "table"
        } else {
            "single value"
        },
    };
    file.error(&e, v.span())
}

/// A string value, or a `wrong_type` diagnostic.
fn text(file: &TomlFile, key: &str, v: &Val, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match v.get_ref() {
        DeValue::String(s) => Some(s.to_string()),
        other => {
            let e = CaseError::WrongType {
                field: key.into(),
                expected: "text".into(),
                found: found(other),
            };
            diags.push(file.error(&e, v.span()));
            None
        }
    }
}

/// A date written as a string or a TOML local date.
fn date(file: &TomlFile, key: &str, v: &Val, diags: &mut Vec<Diagnostic>) -> Option<Date> {
    let res = match v.get_ref() {
        DeValue::String(s) => Date::parse(s).map_err(|why| CaseError::BadDate {
            text: s.to_string(),
            why,
        }),
        DeValue::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => Ok(Date::day(d.year as i32, d.month as u32, d.day as u32)),
            _ => Err(CaseError::DateWithTime {
                text: dt.to_string(),
            }),
        },
        other => Err(CaseError::WrongType {
            field: key.into(),
            expected: "a date".into(),
            found: found(other),
        }),
    };
    res.map_err(|e| diags.push(file.error(&e, v.span()))).ok()
}

fn unknown(
    file: &TomlFile,
    table: &str,
    key: &str,
    span: Range<usize>,
    known: &[&'static str],
) -> Diagnostic {
    let e = CaseError::UnknownField {
        rel: table.into(),
        field: key.into(),
        suggestion: did_you_mean(key, known.iter().copied()).map(String::from),
    };
    file.error(&e, span)
}

fn case_table(
    file: &TomlFile,
    t: &DeTable,
    span: Range<usize>,
    m: &mut Manifest,
    diags: &mut Vec<Diagnostic>,
) {
    const KEYS: [&str; 3] = ["title", "description", "as_of"];
    for (k, v) in t.iter() {
        match k.get_ref().as_ref() {
            "title" => m.title = text(file, "title", v, diags).unwrap_or_default(),
            "description" => m.description = text(file, "description", v, diags),
            "as_of" => m.as_of = date(file, "as_of", v, diags),
            key => diags.push(unknown(file, "case", key, k.span(), &KEYS)),
        }
    }
    if t.get("title").is_none() {
        let e = CaseError::MissingField {
            rel: "case".into(),
            field: "title".into(),
        };
        diags.push(file.error(&e, span));
    }
}

fn source(
    file: &TomlFile,
    t: &DeTable,
    span: Range<usize>,
    m: &mut Manifest,
    diags: &mut Vec<Diagnostic>,
) {
    const KEYS: [&str; 5] = ["id", "title", "publisher", "url", "published"];
    let mut s = Source {
        line: file.line(span.start),
        ..Source::default()
    };
    for (k, v) in t.iter() {
        match k.get_ref().as_ref() {
            "id" => s.id = text(file, "id", v, diags).unwrap_or_default(),
            "title" => s.title = text(file, "title", v, diags),
            "publisher" => s.publisher = text(file, "publisher", v, diags),
            "url" => s.url = text(file, "url", v, diags),
            "published" => s.published = date(file, "published", v, diags),
            key => diags.push(unknown(file, "source", key, k.span(), &KEYS)),
        }
    }
    let Some(id) = t.get("id") else {
        let e = CaseError::MissingField {
            rel: "source".into(),
            field: "id".into(),
        };
        diags.push(file.error(&e, span));
        return;
    };
    if let Some(first) = m.sources.iter().position(|o| o.id == s.id) {
        let e = CaseError::DuplicateSource { id: s.id.clone() };
        let mut d = file.error(&e, id.span());
        let first_at = m.id_spans.get(first).cloned().unwrap_or(0..0);
        d.notes
            .push((file.place(first_at), "first defined here".into()));
        diags.push(d);
        return;
    }
    m.sources.push(s);
    m.id_spans.push(id.span());
}
