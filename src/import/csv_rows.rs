//! `probity import csv`: a register's rows, read through a checked mapping, written as
//! facts of one relation. Rows stream; a bad row is reported with its row number and
//! left out while the good ones load, up to `max_errors` bad rows.

use std::path::Path;
use std::sync::Arc;

use super::csv_map::{self, From, Mapping, Spec, Target};
use super::csv_read::{CsvStream, Record};
use super::{CaseWriter, Failure, Outcome};
use crate::case::toml_file::TomlFile;
use crate::case::{CaseError, Row, Staged};
use crate::diag::{Diagnostic, Place};
use crate::facts::FieldValue;
use crate::ir::Program;
use crate::value::{Status, Value};

/// Options of one CSV import.
#[derive(Debug, Clone)]
pub struct CsvImport<'a> {
    pub csv: &'a Path,
    pub map: &'a Path,
    pub into: &'a Path,
    /// Bad rows tolerated (reported, left out); one more and nothing is written.
    pub max_errors: usize,
    pub force: bool,
}

fn shown(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// The source ids an existing `case.toml` in `dir` declares.
fn case_sources(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join("case.toml")) else {
        return Vec::new();
    };
    let table: toml::Table = toml::from_str(&text).unwrap_or_default();
    let list = table.get("source").and_then(|s| s.as_array()).cloned();
    list.unwrap_or_default()
        .iter()
        .filter_map(|s| s.get("id").and_then(|i| i.as_str()).map(String::from))
        .collect()
}

/// Imports one CSV file through a mapping file.
pub fn import(program: &Program, opt: &CsvImport) -> Result<Outcome, Failure> {
    let (map_path, csv_path) = (shown(opt.map), shown(opt.csv));
    let file_err = |p: &str, e: std::io::Error| {
        let e = CaseError::UnreadableFile {
            reason: e.to_string().to_lowercase(),
        };
        Failure::Input(vec![e.at(Place::File(p.to_string()))])
    };
    let map_text = std::fs::read_to_string(opt.map).map_err(|e| file_err(&map_path, e))?;
    let map_file = TomlFile::new(&map_path, &map_text);
    let known = case_sources(opt.into);
    let mapping = csv_map::read(&map_file, program, &known).map_err(Failure::Input)?;
    let constants = check_constants(&map_file, program, &mapping);
    let reader = std::fs::File::open(opt.csv).map_err(|e| file_err(&csv_path, e))?;
    let mut rows = CsvStream::new(reader);
    let header = match rows.next_record() {
        Ok(Some(Ok(h))) => h.fields,
        Ok(None) => Vec::new(),
        Ok(Some(Err((line, text, why)))) => {
            let e = CaseError::BadCsv { reason: why };
            return Err(Failure::Input(vec![
                e.at(line_place(&csv_path, line, 1, &text)),
            ]));
        }
        Err(e) => return Err(file_err(&csv_path, e)),
    };
    let cols = match (
        csv_map::bind(&map_file, &mapping.specs, &header, &csv_path),
        constants,
    ) {
        (Ok(cols), Ok(())) => cols,
        (Ok(_), Err(ds)) | (Err(ds), Ok(())) => return Err(Failure::Input(ds)),
        (Err(mut a), Err(b)) => {
            a.extend(b);
            crate::diag::sort(&mut a);
            return Err(Failure::Input(a));
        }
    };
    let out =
        |e: std::io::Error| Failure::Output(format!("cannot write `{}`: {e}", opt.into.display()));
    let mut writer = CaseWriter::new(opt.into, program).map_err(out)?;
    let mut sources: Vec<String> = known;
    sources.extend(mapping.sources.iter().map(|s| s.id.clone()));
    let mut diags = Vec::new();
    let mut n = 0u32;
    while let Some(rec) = rows.next_record().map_err(|e| file_err(&csv_path, e))? {
        n += 1;
        let res = match rec {
            Ok(rec) => row(program, &mapping, &cols, &sources, &rec).map_err(|(e, at)| {
                e.at(line_place(&csv_path, rec.line, col_of(&rec, at), &rec.text))
            }),
            Err((line, text, why)) => {
                Err(CaseError::BadCsv { reason: why }.at(line_place(&csv_path, line, 1, &text)))
            }
        };
        match res {
            Ok(st) => writer.write(&st).map_err(out)?,
            Err(mut d) => {
                d.message = format!("row {n}: {}", d.message);
                diags.push(d);
                if diags.len() > opt.max_errors {
                    let msg = format!(
                        "more than {} bad rows in `{csv_path}`; nothing was written",
                        opt.max_errors
                    );
                    let d = Diagnostic::error("probity::import::too_many_errors", msg)
                        .at_place(Place::File(csv_path.clone()))
                        .help("fix the rows shown, or allow more with `--max-errors N`");
                    diags.push(d);
                    return Err(Failure::Input(diags));
                }
            }
        }
    }
    let facts = writer.rows();
    let title = format!(
        "Imported from {}",
        opt.csv
            .file_name()
            .map_or(csv_path.clone(), |n| n.to_string_lossy().to_string())
    );
    let written = writer
        .finish(&mapping.sources, &title, opt.force)
        .map_err(Failure::Output)?;
    Ok(Outcome {
        written,
        facts,
        rejected: diags.len(),
        warnings: diags,
    })
}

/// Constant values (`value = "…"`) are checked once, against the mapping file.
fn check_constants(file: &TomlFile, program: &Program, m: &Mapping) -> Result<(), Vec<Diagnostic>> {
    let rel = program.rel(m.rel);
    let mut diags = Vec::new();
    for s in &m.specs {
        if let (From::Value(v, span), Target::Field(i)) = (&s.from, s.target)
            && let Err(e) = value(program, s, i, rel, v)
        {
            diags.push(file.error(&e, span.clone()));
        }
    }
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

fn col_of(rec: &Record, at: Option<usize>) -> u32 {
    at.and_then(|i| rec.cols.get(i).copied()).unwrap_or(1)
}

/// A row's line as a place (its text cut at 200 characters).
fn line_place(path: &str, line: u32, col: u32, text: &str) -> Place {
    let shown: String = text.chars().take(200).collect();
    Place::Point {
        path: path.to_string(),
        line,
        col,
        len: 1,
        line_text: shown,
    }
}

/// Lower case; each run of characters other than letters and digits one `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The text of a spec on a row: rewritten, date-converted, prefixed; `None` if absent.
fn text_of(s: &Spec, field: &str, cell: &str) -> Result<Option<String>, CaseError> {
    let mut t = cell.trim().to_string();
    if let Some(r) = s.rewrite.get(&t) {
        t = r.clone();
    }
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(fmt) = &s.date {
        t = super::dates::parse(fmt, &t).ok_or_else(|| CaseError::WrongType {
            field: field.to_string(),
            expected: format!("a date in the form `{fmt}`"),
            found: format!("`{t}`"),
        })?;
    }
    if s.slug {
        t = slug(&t);
    }
    Ok(Some(format!("{}{t}", s.prefix)))
}

/// One value of field `i`.
fn value(
    program: &Program,
    s: &Spec,
    i: usize,
    rel: &crate::ir::Relation,
    cell: &str,
) -> Result<Option<FieldValue>, CaseError> {
    let Some(t) = text_of(s, &rel.fields[i].name, cell)? else {
        return Ok(None);
    };
    let f = &rel.fields[i];
    let check = |m: &str| crate::case::ftm::check_value(program, f, m);
    if f.list {
        let members: Vec<Value> = t
            .split(s.split.as_str())
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(check)
            .collect::<Result<_, _>>()?;
        return Ok((!members.is_empty()).then_some(FieldValue::Many(members)));
    }
    Ok(Some(FieldValue::One(check(&t)?)))
}

type RowErr = (CaseError, Option<usize>);

/// One row as a checked fact, or its first problem and the column it is in.
fn row(
    program: &Program,
    m: &Mapping,
    cols: &[Option<usize>],
    sources: &[String],
    rec: &Record,
) -> Result<Staged, RowErr> {
    let rel = program.rel(m.rel);
    let mut slots: Vec<Option<FieldValue>> = vec![None; rel.arity()];
    let mut st = Staged {
        rel: m.rel,
        fields: Row::Flat(Vec::new()),
        line: rec.line,
        sources: m.cite.clone(),
        status: m.status,
        note: None,
    };
    for (s, col) in m.specs.iter().zip(cols) {
        let cell = match (&s.from, col) {
            (From::Value(v, _), _) => v.as_str(),
            (From::Column(..), Some(c)) => rec.fields.get(*c).map_or("", String::as_str),
            (From::Column(..), None) => "",
        };
        let at = |e: CaseError| (e, *col);
        match s.target {
            Target::Field(i) => slots[i] = value(program, s, i, rel, cell).map_err(at)?,
            Target::Source => {
                for id in text_of(s, "source", cell)
                    .map_err(at)?
                    .iter()
                    .flat_map(|t| t.split(';'))
                {
                    let id = id.trim();
                    if !sources.iter().any(|k| k == id) {
                        let e = CaseError::UnknownSource {
                            id: id.to_string(),
                            suggestion: None,
                        };
                        return Err(at(e));
                    }
                    st.sources.push(Arc::from(id));
                }
            }
            Target::Status => {
                if let Some(t) = text_of(s, "status", cell).map_err(at)? {
                    st.status =
                        Status::parse(&t).ok_or_else(|| at(CaseError::BadStatus { text: t }))?;
                }
            }
            Target::Note => st.note = text_of(s, "note", cell).map_err(at)?.map(Arc::from),
        }
    }
    let mut fields = Vec::with_capacity(rel.arity());
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(v) => fields.push(v),
            None if rel.fields[i].optional => fields.push(crate::case::absent(rel, i)),
            None => {
                let spec = m.specs.iter().position(|s| s.target == Target::Field(i));
                let e = CaseError::MissingField {
                    rel: rel.name.clone(),
                    field: rel.fields[i].name.clone(),
                };
                return Err((e, spec.and_then(|k| cols.get(k).copied().flatten())));
            }
        }
    }
    st.fields = Row::new(rel, fields.into_iter());
    Ok(st)
}
