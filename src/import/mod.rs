//! Imports: registers in other formats written out as case folders.
//!
//! [`ftm`] reads FollowTheMoney JSON lines, [`csv_map`] a CSV file with a mapping file.
//! Both stream their input and write through a [`CaseWriter`]: one `<relation>.csv` per
//! relation (a header of the relation's fields, then `source`, `status`, `note`; rows in
//! input order) and a `case.toml` with the sources the facts cite, so the same input
//! always gives byte-identical files.
//!
//! Files are written into a hidden folder inside the case folder and moved into place
//! only when the whole import succeeded; an existing data file is replaced only with
//! `force`. An existing `case.toml` is kept, and sources it lacks are appended to it.

pub mod csv_map;
mod csv_read;
pub mod csv_rows;
pub mod dates;
pub mod ftm;

pub use csv_rows::import as import_csv;

/// What an import did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The files written, `case.toml` first.
    pub written: Vec<PathBuf>,
    /// How many facts were written.
    pub facts: usize,
    /// How many rows were left out as bad (each reported in `warnings`).
    pub rejected: usize,
    /// Warnings, and the problems of rejected rows.
    pub warnings: Vec<crate::diag::Diagnostic>,
}

/// Why an import wrote nothing.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Problems in the input, each with its file and line.
    Input(Vec<crate::diag::Diagnostic>),
    /// The case folder could not be written.
    Output(String),
}

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::case::{Row, Source, Staged};
use crate::facts::FieldValue;
use crate::ir::{Program, RelId};
use crate::value::{Date, Value};

/// Writes a case folder, one relation file at a time, rows as they come.
pub(crate) struct CaseWriter<'p> {
    dir: PathBuf,
    tmp: PathBuf,
    program: &'p Program,
    files: BTreeMap<String, BufWriter<File>>,
    rows: usize,
}

/// A value as a CSV cell: empty for an absent value or an open end.
fn cell(v: &Value) -> String {
    match v {
        Value::None => String::new(),
        Value::Date(d) if *d == Date::NEG_INF || *d == Date::POS_INF => String::new(),
        Value::Text(s) | Value::Entity(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Quotes a cell when it holds a comma, a quote, a line break or outer spaces.
fn quote(s: &str) -> String {
    let needs = s.contains([',', '"', '\n', '\r']) || s.trim() != s;
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl<'p> CaseWriter<'p> {
    /// Prepares to write into `dir` (created if missing).
    pub fn new(dir: &Path, program: &'p Program) -> io::Result<CaseWriter<'p>> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".probity-import-{}", std::process::id()));
        std::fs::create_dir_all(&tmp)?;
        Ok(CaseWriter {
            dir: dir.to_path_buf(),
            tmp,
            program,
            files: BTreeMap::new(),
            rows: 0,
        })
    }

    /// How many facts were written.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Writes one checked fact as a row of `<relation>.csv`.
    pub fn write(&mut self, st: &Staged) -> io::Result<()> {
        let mut cells: Vec<String> = match &st.fields {
            Row::Flat(vs) => vs.iter().map(cell).collect(),
            Row::Lists(fs) => fs
                .iter()
                .map(|f| match f {
                    FieldValue::One(v) => cell(v),
                    FieldValue::Many(vs) => {
                        let members: Vec<String> =
                            vs.iter().map(|v| cell(v).replace(';', ",")).collect();
                        members.join(";")
                    }
                })
                .collect(),
        };
        let sources: Vec<&str> = st.sources.iter().map(|s| &**s).collect();
        cells.push(sources.join(";"));
        cells.push(if st.status == Default::default() {
            String::new()
        } else {
            st.status.as_str().to_string()
        });
        cells.push(st.note.as_deref().unwrap_or("").to_string());
        let out = self.file(st.rel)?;
        let line: Vec<String> = cells.iter().map(|c| quote(c)).collect();
        writeln!(out, "{}", line.join(","))?;
        self.rows += 1;
        Ok(())
    }

    /// The writer of a relation's file, created with its header on first use.
    fn file(&mut self, rel: RelId) -> io::Result<&mut BufWriter<File>> {
        let r = self.program.rel(rel);
        if !self.files.contains_key(&r.name) {
            let mut w = BufWriter::with_capacity(
                1 << 16,
                File::create(self.tmp.join(format!("{}.csv", r.name)))?,
            );
            let mut header: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
            header.extend(["source", "status", "note"]);
            writeln!(w, "{}", header.join(","))?;
            self.files.insert(r.name.clone(), w);
        }
        self.files
            .get_mut(&r.name)
            .ok_or_else(|| io::Error::other("no writer"))
    }

    /// Moves the files into the case folder and writes or extends `case.toml`. Returns
    /// the files written; fails, writing nothing, if one exists and `force` is off.
    pub fn finish(
        mut self,
        sources: &[Source],
        title: &str,
        force: bool,
    ) -> Result<Vec<PathBuf>, String> {
        let names: Vec<String> = self.files.keys().map(|r| format!("{r}.csv")).collect();
        for (_, mut w) in std::mem::take(&mut self.files) {
            w.flush().map_err(|e| e.to_string())?;
        }
        let taken: Vec<&String> = names.iter().filter(|n| self.dir.join(n).exists()).collect();
        if !force && !taken.is_empty() {
            let list: Vec<String> = taken.iter().map(|n| format!("`{n}`")).collect();
            return Err(format!(
                "{} already in `{}`; pass `--force` to replace",
                list.join(", "),
                self.dir.display()
            ));
        }
        let case_toml = self.dir.join("case.toml");
        let text = match std::fs::read_to_string(&case_toml) {
            Ok(old) => extend_case_toml(&old, sources),
            Err(_) => new_case_toml(title, sources),
        };
        std::fs::write(self.tmp.join("case.toml"), text).map_err(|e| e.to_string())?;
        let mut written = Vec::new();
        for n in std::iter::once("case.toml").chain(names.iter().map(String::as_str)) {
            std::fs::rename(self.tmp.join(n), self.dir.join(n)).map_err(|e| e.to_string())?;
            written.push(self.dir.join(n));
        }
        Ok(written)
    }
}

impl Drop for CaseWriter<'_> {
    fn drop(&mut self) {
        self.files.clear();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// A TOML string literal.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn source_toml(s: &Source) -> String {
    let mut out = format!("\n[[source]]\nid = {}\n", toml_str(&s.id));
    for (k, v) in [
        ("title", &s.title),
        ("publisher", &s.publisher),
        ("url", &s.url),
    ] {
        if let Some(v) = v {
            out.push_str(&format!("{k} = {}\n", toml_str(v)));
        }
    }
    if let Some(d) = s.published {
        out.push_str(&format!("published = {}\n", toml_str(&d.to_string())));
    }
    out
}

fn new_case_toml(title: &str, sources: &[Source]) -> String {
    let mut out = format!("[case]\ntitle = {}\n", toml_str(title));
    for s in sources {
        out.push_str(&source_toml(s));
    }
    out
}

/// The old text with `[[source]]` tables appended for ids it does not declare.
fn extend_case_toml(old: &str, sources: &[Source]) -> String {
    let known: Vec<String> = toml::from_str::<toml::Table>(old)
        .ok()
        .and_then(|t| t.get("source").and_then(|s| s.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.get("id").and_then(|i| i.as_str()).map(String::from))
        .collect();
    let mut out = old.to_string();
    for s in sources.iter().filter(|s| !known.contains(&s.id)) {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&source_toml(s));
    }
    out
}

/// The standard vocabulary as a program, or the rules given (for their relations).
pub fn program(rules: &[PathBuf]) -> Result<Program, Box<crate::engine::Failure>> {
    let engine = if rules.is_empty() {
        crate::engine::Engine::from_sources(vec![("<import>.coi".into(), "use std\n".into())])?
    } else {
        crate::engine::Engine::from_paths(rules)?
    };
    Ok(engine.program().clone())
}
