//! The mapping file of `probity import csv`: which relation a register's rows are, and
//! how each field is read from the columns. Checked whole against the schema (and then
//! against the CSV's header) before any row is read; every problem points into the
//! mapping file.
//!
//! ```toml
//! relation = "holding"              # a relation or entity kind of the rules
//! cite = "psc"                      # cited by every row (an id, or a list of ids)
//! status = "confirmed"              # optional; default `reported`
//!
//! [[source]]                        # added to the case's `case.toml`
//! id = "psc"
//! title = "Register of people with significant control"
//! url = "https://example.org/psc.csv"
//!
//! [fields]
//! holder = { column = "name", prefix = "person-", slug = true }
//! asset = { column = "company_number", prefix = "gb-coh-" }
//! pct = { column = "nature_of_control", rewrite = { "ownership-of-shares-25-to-50-percent" = "25" } }
//! from = { column = "notified_on", date = "%d/%m/%Y" }
//! kind = { value = "shares" }       # the same value on every row
//! note = "remarks"                  # shorthand for { column = "remarks" }
//! ```
//!
//! A field spec has `column` or `value`, and optionally `rewrite` (exact cell text to
//! replacement; `""` makes the field absent), `date` (a format, see [`super::dates`]),
//! `prefix` and `slug` (ids made as prefix + the cell, slugged: lower case, runs of other
//! characters than letters and digits as one `-`), `split` (the separator of a list
//! field's members; default `;`). Keys of `fields` are the relation's fields and
//! `source`, `status`, `note`.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::case::CaseError;
use crate::case::Source;
use crate::case::toml_file::{TomlFile, Val};
use crate::diag::{Diagnostic, did_you_mean};
use crate::ir::{Program, RelId, RelKind, Type};
use crate::value::{Date, Status};

/// What a spec fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Field(usize),
    Source,
    Status,
    Note,
}

/// Where a spec's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    /// A column: its name, and where the name is written in the mapping.
    Column(String, Range<usize>),
    /// A constant, and where it is written in the mapping.
    Value(String, Range<usize>),
}

/// How one field is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub target: Target,
    pub from: From,
    pub rewrite: HashMap<String, String>,
    pub date: Option<String>,
    pub prefix: String,
    pub slug: bool,
    pub split: String,
}

/// A checked mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub rel: RelId,
    pub specs: Vec<Spec>,
    pub sources: Vec<Source>,
    /// Sources every row cites.
    pub cite: Vec<Arc<str>>,
    pub status: Status,
}

fn bad(file: &TomlFile, span: Range<usize>, msg: String, help: &str) -> Diagnostic {
    Diagnostic::error("probity::import::bad_map", msg)
        .at_place(file.place(span))
        .help(help)
}

fn not_source(file: &TomlFile, span: Range<usize>) -> Diagnostic {
    let help = "declare sources as `[[source]]` tables; cite them with `cite = \"id\"`";
    bad(file, span, "`source` must be a list of tables".into(), help)
}

fn string<'v>(v: &'v Val) -> Option<&'v str> {
    match v.get_ref() {
        DeValue::String(s) => Some(s),
        _ => None,
    }
}

fn want_text(file: &TomlFile, key: &str, v: &Val, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match string(v) {
        Some(s) => Some(s.to_string()),
        None => {
            let e = CaseError::WrongType {
                field: key.into(),
                expected: "text".into(),
                found: crate::case::toml_file::found(v.get_ref()),
            };
            diags.push(file.error(&e, v.span()));
            None
        }
    }
}

/// Reads and checks a mapping file against `program`'s schema. `known_sources` are the
/// ids the target case already declares.
pub(crate) fn read(
    file: &TomlFile,
    program: &Program,
    known_sources: &[String],
) -> Result<Mapping, Vec<Diagnostic>> {
    let doc: DeTable = file.parse()?;
    let mut diags = Vec::new();
    let mut rel = None;
    let mut sources = Vec::new();
    let mut cite = Vec::new();
    let mut status = Status::default();
    let mut fields: Option<(&DeTable, Range<usize>)> = None;
    for (k, v) in doc.iter() {
        match k.get_ref().as_ref() {
            "relation" => {
                let Some(name) = want_text(file, "relation", v, &mut diags) else {
                    continue;
                };
                match relation(program, &name) {
                    Ok(r) => rel = Some(r),
                    Err(e) => diags.push(file.error(&e, v.span())),
                }
            }
            "source" => match v.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::Table(t) => {
                                sources.push(source(file, t, item.span(), &mut diags));
                            }
                            _ => diags.push(not_source(file, item.span())),
                        }
                    }
                }
                _ => diags.push(not_source(file, v.span())),
            },
            "cite" => match v.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        if let Some(s) = want_text(file, "cite", item, &mut diags) {
                            cite.push((s, item.span()));
                        }
                    }
                }
                _ => {
                    if let Some(s) = want_text(file, "cite", v, &mut diags) {
                        cite.push((s, v.span()));
                    }
                }
            },
            "status" => {
                if let Some(s) = want_text(file, "status", v, &mut diags) {
                    match Status::parse(&s) {
                        Some(st) => status = st,
                        None => diags.push(file.error(&CaseError::BadStatus { text: s }, v.span())),
                    }
                }
            }
            "fields" => match v.get_ref() {
                DeValue::Table(t) => fields = Some((t, v.span())),
                _ => diags.push(bad(
                    file,
                    v.span(),
                    "`fields` must be a table".into(),
                    "write `[fields]` with one key per field",
                )),
            },
            key => {
                const KEYS: [&str; 5] = ["relation", "source", "cite", "status", "fields"];
                let e = CaseError::UnknownField {
                    rel: "the mapping".into(),
                    field: key.into(),
                    suggestion: did_you_mean(key, KEYS).map(String::from),
                };
                diags.push(file.error(&e, k.span()));
            }
        }
    }
    let whole = 0..0;
    let Some(rel) = rel else {
        if !diags
            .iter()
            .any(|d| d.code == "probity::case::unknown_relation")
        {
            let e = CaseError::MissingField {
                rel: "the mapping".into(),
                field: "relation".into(),
            };
            diags.push(file.error(&e, whole));
        }
        return Err(diags);
    };
    let declared: Vec<String> = sources.iter().map(|s: &Source| s.id.clone()).collect();
    for (id, span) in &cite {
        if !declared.contains(id) && !known_sources.contains(id) {
            let all = declared.iter().chain(known_sources).map(String::as_str);
            let e = CaseError::UnknownSource {
                id: id.clone(),
                suggestion: did_you_mean(id, all).map(String::from),
            };
            diags.push(file.error(&e, span.clone()).help(
                "declare it in a `[[source]]` table of the mapping, or in the case's `case.toml`",
            ));
        }
    }
    let specs = match fields {
        Some((t, span)) => field_specs(file, program, rel, t, span, &mut diags),
        None => {
            let e = CaseError::MissingField {
                rel: "the mapping".into(),
                field: "[fields]".into(),
            };
            diags.push(file.error(&e, whole));
            Vec::new()
        }
    };
    if diags.is_empty() {
        Ok(Mapping {
            rel,
            specs,
            sources,
            cite: cite.into_iter().map(|(s, _)| Arc::from(s)).collect(),
            status,
        })
    } else {
        Err(diags)
    }
}

fn relation(program: &Program, name: &str) -> Result<RelId, CaseError> {
    match program.rel_by_name(name) {
        Some(id) if matches!(program.rel(id).kind, RelKind::Base | RelKind::Entity(_)) => Ok(id),
        Some(_) => Err(CaseError::DerivedRelation {
            name: name.into(),
            what: "computed by the rules",
        }),
        None => {
            let names = program
                .relations
                .iter()
                .filter(|r| matches!(r.kind, RelKind::Base | RelKind::Entity(_)))
                .map(|r| r.name.as_str());
            Err(CaseError::UnknownRelation {
                name: name.into(),
                suggestion: did_you_mean(name, names).map(String::from),
            })
        }
    }
}

fn source(file: &TomlFile, t: &DeTable, span: Range<usize>, diags: &mut Vec<Diagnostic>) -> Source {
    let mut s = Source::default();
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        let Some(text) = want_text(file, key, v, diags) else {
            continue;
        };
        match key {
            "id" => s.id = text,
            "title" => s.title = Some(text),
            "publisher" => s.publisher = Some(text),
            "url" => s.url = Some(text),
            "published" => match Date::parse(&text) {
                Ok(d) => s.published = Some(d),
                Err(why) => diags.push(file.error(&CaseError::BadDate { text, why }, v.span())),
            },
            _ => {
                let keys = ["id", "title", "publisher", "url", "published"];
                let e = CaseError::UnknownField {
                    rel: "source".into(),
                    field: key.into(),
                    suggestion: did_you_mean(key, keys).map(String::from),
                };
                diags.push(file.error(&e, k.span()));
            }
        }
    }
    if s.id.is_empty() {
        let e = CaseError::MissingField {
            rel: "source".into(),
            field: "id".into(),
        };
        diags.push(file.error(&e, span));
    }
    s
}

/// The specs of `[fields]`, checked against the relation.
fn field_specs(
    file: &TomlFile,
    program: &Program,
    rel_id: RelId,
    t: &DeTable,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spec> {
    let rel = program.rel(rel_id);
    let mut specs: Vec<Spec> = Vec::new();
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        let target = match (rel.field(key), key) {
            (Some(i), _) => Target::Field(i),
            (None, "source") => Target::Source,
            (None, "status") => Target::Status,
            (None, "note") => Target::Note,
            (None, _) => {
                diags.push(file.error(&crate::case::unknown_field(rel, key), k.span()));
                continue;
            }
        };
        if let Some(s) = spec(file, target, v, diags) {
            if let (Target::Field(i), Some(_)) = (target, &s.date)
                && rel.fields[i].ty != Type::Date
            {
                let msg = format!("`{key}` is not a date field; `date` does not apply");
                diags.push(bad(file, v.span(), msg, "remove `date` from this field"));
            }
            specs.push(s);
        }
    }
    for (i, f) in rel.fields.iter().enumerate() {
        if !f.optional && !specs.iter().any(|s| s.target == Target::Field(i)) {
            let e = CaseError::MissingField {
                rel: rel.name.clone(),
                field: f.name.clone(),
            };
            let d = file.error(&e, span.clone());
            diags.push(d.help(format!(
                "map `{}` to a column: `{} = \"column name\"`",
                f.name, f.name
            )));
        }
    }
    specs
}

/// One field's spec: a column name, or a table.
fn spec(file: &TomlFile, target: Target, v: &Val, diags: &mut Vec<Diagnostic>) -> Option<Spec> {
    let mut s = Spec {
        target,
        from: From::Value(String::new(), 0..0),
        rewrite: HashMap::new(),
        date: None,
        prefix: String::new(),
        slug: false,
        split: ";".into(),
    };
    let t = match v.get_ref() {
        DeValue::String(c) => {
            s.from = From::Column(c.to_string(), v.span());
            return Some(s);
        }
        DeValue::Table(t) => t,
        _ => {
            let msg = "a field is mapped by a column name or a table".to_string();
            let help = "write `field = \"column\"` or `field = { column = \"…\", … }`";
            diags.push(bad(file, v.span(), msg, help));
            return None;
        }
    };
    let before = diags.len();
    let mut from = None;
    for (k, x) in t.iter() {
        let key = k.get_ref().as_ref();
        match key {
            "column" => from = want_text(file, key, x, diags).map(|c| From::Column(c, x.span())),
            "value" => from = want_text(file, key, x, diags).map(|c| From::Value(c, x.span())),
            "prefix" => s.prefix = want_text(file, key, x, diags).unwrap_or_default(),
            "split" => s.split = want_text(file, key, x, diags).unwrap_or_else(|| ";".into()),
            "slug" => match x.get_ref() {
                DeValue::Boolean(b) => s.slug = *b,
                _ => diags.push(bad(
                    file,
                    x.span(),
                    "`slug` is `true` or `false`".into(),
                    "write `slug = true`",
                )),
            },
            "date" => {
                let Some(f) = want_text(file, key, x, diags) else {
                    continue;
                };
                if let Err(why) = super::dates::check_format(&f) {
                    let help = "use `%d`, `%m`, `%Y`, `%y`, `%b`, `%B`, for example `%d/%m/%Y`";
                    diags.push(bad(
                        file,
                        x.span(),
                        format!("bad date format `{f}`: {why}"),
                        help,
                    ));
                }
                s.date = Some(f);
            }
            "rewrite" => match x.get_ref() {
                DeValue::Table(r) => {
                    for (from_text, to) in r.iter() {
                        if let Some(to) = want_text(file, "rewrite", to, diags) {
                            s.rewrite.insert(from_text.get_ref().to_string(), to);
                        }
                    }
                }
                _ => diags.push(bad(
                    file,
                    x.span(),
                    "`rewrite` must be a table of cell text to replacement".into(),
                    "write `rewrite = { \"cell text\" = \"replacement\" }`",
                )),
            },
            _ => {
                let keys = [
                    "column", "value", "rewrite", "date", "prefix", "slug", "split",
                ];
                let e = CaseError::UnknownField {
                    rel: "a field spec".into(),
                    field: key.into(),
                    suggestion: did_you_mean(key, keys).map(String::from),
                };
                diags.push(file.error(&e, k.span()));
            }
        }
    }
    match from {
        Some(f) => s.from = f,
        None if diags.len() == before => {
            let help =
                "add `column = \"…\"` (read each row) or `value = \"…\"` (the same on every row)";
            diags.push(bad(
                file,
                v.span(),
                "the field names no `column` or `value`".into(),
                help,
            ));
        }
        None => {}
    }
    (diags.len() == before).then_some(s)
}

/// The index of each spec's column in `header` (`None` for a constant); every column a
/// spec names that the header lacks is an error in the mapping file.
pub(crate) fn bind(
    file: &TomlFile,
    specs: &[Spec],
    header: &[String],
    csv_path: &str,
) -> Result<Vec<Option<usize>>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for s in specs {
        match &s.from {
            From::Value(..) => out.push(None),
            From::Column(name, span) => match header.iter().position(|h| h.trim() == name) {
                Some(i) => out.push(Some(i)),
                None => {
                    let names = header.iter().map(|h| h.trim());
                    let help = match did_you_mean(name, names) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("the columns are: {}", header.join(", ")),
                    };
                    let msg = format!("`{csv_path}` has no column `{name}`");
                    diags.push(
                        Diagnostic::error("probity::import::unknown_column", msg)
                            .at_place(file.place(span.clone()))
                            .help(help),
                    );
                }
            },
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}
