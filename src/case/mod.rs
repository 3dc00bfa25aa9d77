//! Case folders: loads `case.toml`, `*.toml` and `<relation>.csv` into checked facts.
//!
//! The data contract, as implemented:
//! - Only files directly in the folder are loaded: `case.toml`, every other `*.toml` and
//!   every `*.csv` (extensions in any case), in file-name order. Hidden files (`.x`) and
//!   other extensions (`README.md`) are ignored; a subfolder that holds `.toml`/`.csv`
//!   files gets an `ignored_folder` warning.
//! - Paths in origins and diagnostics are the folder as the caller gave it joined with the
//!   file name (`cases/uk-us-tech-partnership/people.toml`); an origin's line is the line of the fact's
//!   `[[name]]` header, or of its CSV row.
//! - Entity ids are global: a case may refer to entities of cases loaded earlier into the
//!   same [`FactSet`], and may not define them again (`duplicate_id`). Source ids are per
//!   case.
//! - A schema field named `source`, `status` or `note` takes precedence over the meta key.
//! - `same_as(a, b)` merges entities: the canonical id of a set is its smallest id in byte
//!   order; every entity value of every fact in the fact set is rewritten to it, except
//!   in `same_as` facts themselves, which keep the ids as written.
//! - Problems in all files are collected, sorted and returned together; when there is
//!   any error, nothing is added to the fact set.

mod bulk;
mod convert;
mod csv;
mod csv_facts;
mod entities;
mod errors;
mod files;
pub(crate) mod ftm;
mod manifest;
mod stream;
#[cfg(test)]
mod tests;
mod toml_facts;
pub(crate) mod toml_file;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::de::DeTable;

use crate::diag::{self, Diagnostic, Place};
use crate::facts::{FactSet, FieldValue, Origin, OriginId};
use crate::ir::{Program, RelId, RelKind, Relation};
use crate::value::{Date, Status, Value};

pub(crate) use convert::{absent, unknown_field};
/// The case loader's CSV reader, public for the micro-benchmarks (`benches/micro.rs`).
pub use csv::{CsvError, CsvReader, FieldPos};
pub use errors::CaseError;

use convert::{Ctx, Loc, point};
use files::{Entry, Kind};
use toml_file::TomlFile;

/// A CSV file reports at most this many problems; the rest are counted.
pub(crate) const MAX_ERRORS_PER_FILE: usize = 200;

/// A loaded case: what `case.toml` says, and the entities for display.
#[derive(Debug, Clone, Default)]
pub struct Case {
    pub dir: PathBuf,
    pub title: String,
    pub description: Option<String>,
    /// The "today" of the case.
    pub as_of: Option<Date>,
    pub sources: Vec<Source>,
    /// The entities this case defines in TOML and FtM files, by canonical id (those
    /// of CSV files are kept compactly: [`Case::entity`] and [`Case::all_entities`]
    /// give both).
    pub entities: BTreeMap<Arc<str>, Entity>,
    pub(crate) bulk: bulk::BulkEntities,
    /// Ids merged by `same_as`, each mapped to its canonical id.
    pub merged: BTreeMap<Arc<str>, Arc<str>>,
    /// The data files loaded (display paths), in load order.
    pub files: Vec<String>,
    /// CSV files left unread because no rule reads their relation
    /// ([`LoadOptions::only_read`]), display paths.
    pub unread: Vec<String>,
    /// Problems that did not stop loading.
    pub warnings: Vec<Diagnostic>,
}

impl Case {
    /// A case with no data, for facts made elsewhere (a test's `given` block).
    pub fn empty(dir: impl Into<PathBuf>) -> Case {
        Case {
            dir: dir.into(),
            ..Case::default()
        }
    }

    /// The id an entity was merged into by `same_as` (the id itself if none).
    pub fn canonical<'a>(&'a self, id: &'a str) -> &'a str {
        self.merged.get(id).map_or(id, |c| c)
    }

    /// The entity with this id (not resolving `same_as`: see [`Case::canonical`]).
    pub fn entity(&self, id: &str) -> Option<Entity> {
        match self.entities.get(id) {
            Some(e) => Some(e.clone()),
            None if self.merged.contains_key(id) => None,
            None => self.bulk.get(id).map(|(_, e)| e),
        }
    }

    /// The display name of the entity with this id, after `same_as` merging.
    pub fn entity_name(&self, id: &str) -> Option<String> {
        self.entity(self.canonical(id)).map(|e| e.name)
    }

    /// Every entity the case defines (merged ones folded in), by id.
    pub fn all_entities(&self) -> BTreeMap<Arc<str>, Entity> {
        let mut all: BTreeMap<Arc<str>, Entity> = self
            .bulk
            .iter()
            .filter(|(id, _)| !self.merged.contains_key(&**id))
            .collect();
        all.extend(self.entities.iter().map(|(k, e)| (k.clone(), e.clone())));
        all
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// An entity as shown to the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Its entity kind (`person`, `org`).
    pub kind: String,
    /// Its `name` field, or its id if it has none.
    pub name: String,
    /// Its `aliases`, plus the names of entities merged into it.
    pub aliases: Vec<String>,
    /// Where it was defined.
    pub origin: OriginId,
}

/// A `[[source]]` of `case.toml`: what facts cite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    pub id: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub url: Option<String>,
    pub published: Option<Date>,
    /// Line of its `[[source]]` header in `case.toml`.
    pub line: u32,
}

/// The values of a checked fact: flat unless the relation has list fields.
#[derive(Debug, Clone)]
pub(crate) enum Row {
    Flat(Vec<Value>),
    Lists(Vec<FieldValue>),
}

impl Row {
    /// One value per field, in field order.
    pub fn new(rel: &Relation, fields: impl Iterator<Item = FieldValue>) -> Row {
        if rel.fields.iter().any(|f| f.list) {
            return Row::Lists(fields.collect());
        }
        let values = fields.map(|f| match f {
            FieldValue::One(v) => v,
            FieldValue::Many(mut vs) => vs.pop().unwrap_or(Value::None),
        });
        Row::Flat(values.collect())
    }

    /// Field `i`, if it holds one value.
    pub fn one(&self, i: usize) -> Option<&Value> {
        match self {
            Row::Flat(vs) => vs.get(i),
            Row::Lists(fs) => match fs.get(i) {
                Some(FieldValue::One(v)) => Some(v),
                _ => None,
            },
        }
    }

    /// The text values of field `i` (each member, for a list).
    pub fn texts(&self, i: usize) -> Vec<String> {
        let text = |v: &Value| match v {
            Value::Text(t) => Some(t.to_string()),
            _ => None,
        };
        match self {
            Row::Lists(fs) => match fs.get(i) {
                Some(FieldValue::Many(vs)) => vs.iter().filter_map(text).collect(),
                _ => self.one(i).and_then(text).into_iter().collect(),
            },
            Row::Flat(_) => self.one(i).and_then(text).into_iter().collect(),
        }
    }
}

/// A checked fact, not yet in the fact set.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub rel: RelId,
    pub fields: Row,
    pub line: u32,
    pub sources: Vec<Arc<str>>,
    pub status: Status,
    pub note: Option<Arc<str>>,
}

/// The facts of one file and its problems.
#[derive(Debug, Default)]
pub(crate) struct Converted {
    pub facts: Vec<Staged>,
    /// Facts of a plain relation (no list fields, not an entity, not `same_as`) from a
    /// CSV file, stored flat rather than as `facts`: one per piece of the file, in order.
    pub flat: Vec<FlatRows>,
    pub diags: Vec<Diagnostic>,
    /// The file's sink, if its pieces wrote their tuples there (see [`stream`]).
    pub sink: Option<Vec<u32>>,
}

/// Checked facts of one relation, stored flat: fact `i` has the value ids
/// `ids[i * width..(i + 1) * width]`, and its line and meta from `runs`.
///
/// An id with [`GLOBAL`] set names a value of the fact set's table (an entity,
/// interned when the case's ids were registered); any other id is an index into
/// `local`, the file's own table, merged into the fact set's when the facts are added.
/// So files are read in parallel without sharing a table, and an entity reference is
/// one hash lookup, never a copy of its id.
#[derive(Debug)]
pub(crate) struct FlatRows {
    pub rel: RelId,
    pub width: usize,
    /// The tuples: one per row, or for a `symmetric` relation each row whose first two
    /// ids differ as two, the swapped tuple first (as [`FactSet::add`] adds them).
    pub ids: Vec<u32>,
    /// Per row, with `symmetric`: whether it gave two tuples.
    pub twice: Option<Vec<bool>>,
    pub local: crate::values::ValueTable,
    /// The rows' lines and metas in runs: (first row, its line, index in `metas`), the
    /// rows after it to the next run on the following lines with the same meta.
    pub runs: Vec<(u32, u32, u32)>,
    /// How many rows.
    pub rows: u32,
    /// The distinct (sources, status, note) of the facts.
    pub metas: Vec<Meta>,
    pub meta_ids: rustc_hash::FxHashMap<Meta, u32>,
    /// Tuples written straight into the file's sink (see [`stream`]), before those in
    /// `ids`: (offset, ids) of each run of them, in order.
    pub sunk: Vec<(usize, usize)>,
    /// Whether the rest of the tuples stay in `ids` (none go to the sink any more).
    pub spilled: bool,
}

/// The sources, status and note of a fact.
pub(crate) type Meta = (Vec<Arc<str>>, Status, Option<Arc<str>>);

/// Marks a [`FlatRows`] id as the fact set's own.
pub(crate) const GLOBAL: u32 = 1 << 31;

impl FlatRows {
    /// Adds a row of `width` ids with its line and meta.
    pub fn push(&mut self, ids: &[u32], line: u32, m: Meta) {
        let id = match self.runs.last() {
            Some(&(_, _, last)) if self.metas[last as usize] == m => last,
            _ => self.meta_id(m),
        };
        self.push_row(ids, line, id);
    }

    /// The index in `metas` of `m`, added if new.
    fn meta_id(&mut self, m: Meta) -> u32 {
        match self.meta_ids.get(&m) {
            Some(&i) => i,
            None => {
                self.metas.push(m.clone());
                let i = self.metas.len() as u32 - 1;
                self.meta_ids.insert(m, i);
                i
            }
        }
    }

    /// The index in `metas` of a row without sources, status or note.
    pub fn plain_meta(&mut self) -> u32 {
        self.meta_id((Vec::new(), crate::value::Status::default(), None))
    }

    /// Adds a row of `width` ids with its line and the meta at index `id` of `metas`.
    #[inline]
    pub fn push_row(&mut self, ids: &[u32], line: u32, id: u32) {
        if let Some(twice) = &mut self.twice {
            let two = ids.len() >= 2 && ids[0] != ids[1];
            if two {
                self.ids.extend_from_slice(&[ids[1], ids[0]]);
                self.ids.extend_from_slice(&ids[2..]);
            }
            twice.push(two);
        }
        self.ids.extend_from_slice(ids);
        let row = self.rows;
        match self.runs.last() {
            Some(&(r, l, m)) if m == id && l.checked_add(row - r) == Some(line) => {}
            _ => self.runs.push((row, line, id)),
        }
        self.rows += 1;
    }

    /// Each run of rows: (first row, rows, line of the first, index in `metas`).
    fn row_runs(&self) -> impl Iterator<Item = (u32, u32, u32, u32)> + '_ {
        self.runs.iter().enumerate().map(|(k, &(row, line, m))| {
            let end = self.runs.get(k + 1).map_or(self.rows, |r| r.0);
            (row, end - row, line, m)
        })
    }
}

/// A data file read into memory (parsed, for TOML).
struct Input<'a> {
    entry: &'a Entry,
    /// Its place among the folder's data files (and their texts).
    at: usize,
    /// Empty for a `deferred` file.
    text: &'a str,
    doc: Option<DeTable<'a>>,
    /// A CSV file of a plain relation, read only when it is converted (see
    /// [`deferred`]).
    deferred: bool,
}

/// Whether file `e` is a CSV file of a plain relation (not an entity, not `same_as`):
/// its text is needed only while its rows are converted, so it is read then, on the
/// converting thread, and freed after. The texts of a case are then not all held at once.
fn deferred(program: &Program, e: &Entry) -> bool {
    e.kind == Kind::Csv
        && e.stem != "same_as"
        && program
            .rel_by_name(&e.stem)
            .is_some_and(|r| program.rel(r).kind == RelKind::Base)
}

/// Loads the case folder `dir` into `facts`, checked against `program`'s schema.
///
/// On success the case is returned (with any warnings); on error, every problem found
/// in every file, sorted, and `facts` is left as it was.
pub fn load_case(
    dir: &Path,
    program: &Program,
    facts: &mut FactSet,
) -> Result<Case, Vec<Diagnostic>> {
    load_case_with(dir, program, facts, &LoadOptions::default())
}

/// What to load of a case folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Leave out the CSV files of plain relations (not entities, not `same_as`) that no
    /// clause of the program reads: their facts cannot change any finding. They are
    /// neither read nor checked, and are listed in [`Case::unread`]. The CSV file of an
    /// entity relation that no clause reads, or that clauses read only through its ids
    /// (its other fields texts), is read for its ids; its other fields are read when
    /// shown.
    pub only_read: bool,
}

/// [`load_case`] with options.
pub fn load_case_with(
    dir: &Path,
    program: &Program,
    facts: &mut FactSet,
    opts: &LoadOptions,
) -> Result<Case, Vec<Diagnostic>> {
    crate::timings::mark("load case: start");
    let mut listing = files::list(dir).map_err(|d| vec![*d])?;
    // Per relation, whether a clause reads it (with `only_read`; else all are needed).
    let read: Vec<bool> = match opts.only_read {
        true => crate::eval::read_relations(program),
        false => vec![true; program.relations.len()],
    };
    let unread = skip_unread(program, &read, &mut listing.data);
    let mut diags = listing.warnings;
    let Some(case_entry) = &listing.case_toml else {
        let path = files::display(dir, "case.toml").to_string();
        return Err(vec![CaseError::MissingCaseToml.at(Place::File(path))]);
    };
    // Read (and checked as UTF-8) on all cores; problems kept in file order.
    // Deferred files are read when converted.
    let entries: Vec<&Entry> = std::iter::once(case_entry).chain(&listing.data).collect();
    let texts: Vec<Option<String>> = par_map(&entries, |e| match deferred(program, e) {
        true => Ok(String::new()),
        false => files::read(e),
    })
    .into_iter()
    .map(|r| r.map_err(|d| diags.push(*d)).ok())
    .collect();
    crate::timings::mark("load case: files read");
    let (manifest, manifest_read) = read_manifest(case_entry, texts[0].as_deref(), &mut diags);
    let inputs = parse_inputs(program, &listing.data, &texts[1..], &mut diags);
    let mut scan = ftm::scan(&listing.ftm, &mut diags);
    let mut manifest = manifest;
    add_ftm_sources(&mut manifest, &scan, case_entry, &mut diags);
    let mut ctx = Ctx {
        program,
        entities: entities::prior(program, facts),
        values: Default::default(),
        sources: manifest
            .sources
            .iter()
            .map(|s| (Arc::from(s.id.as_str()), ()))
            .collect(),
    };
    let lazy = match opts.only_read {
        true => lazy_inputs(program, &read, &inputs),
        false => inputs.iter().map(|_| None).collect(),
    };
    let mut table = std::mem::take(facts.values_mut());
    let lazy_rows = register_entities(
        &mut ctx,
        &inputs,
        &lazy,
        &listing.ftm,
        &scan,
        facts,
        &mut table,
        &mut diags,
    );
    *facts.values_mut() = table;
    // Shared while rows are converted; given back before facts are added.
    ctx.values = facts.values().clone();
    crate::timings::mark("load case: entity ids registered");
    // Largest files first, so no thread is left with a large one at the end.
    let mut jobs: Vec<(usize, &Input)> = inputs
        .iter()
        .enumerate()
        .filter(|(i, _)| lazy[*i].is_none())
        .collect();
    jobs.sort_by_cached_key(|(_, inp)| std::cmp::Reverse(input_size(inp)));
    let mut converted: Vec<Converted> = inputs.iter().map(|_| Converted::default()).collect();
    for ((i, _), c) in jobs.iter().zip(convert_inputs(&jobs, &ctx)) {
        converted[*i] = c;
    }
    for entry in &listing.ftm {
        converted.push(ftm::convert(entry, &mut scan, &ctx));
    }
    drop(scan);
    crate::timings::mark("load case: rows converted");
    let staged: Vec<(&Input, &Staged)> = inputs
        .iter()
        .zip(&converted[..inputs.len()])
        .flat_map(|(inp, c)| c.facts.iter().map(move |f| (inp, f)))
        .collect();
    diags.extend(converted.iter().flat_map(|c| c.diags.iter().cloned()));
    if staged.len() as u64 > crate::limits::max_facts() {
        let limit = crate::limits::max_facts();
        let place = Place::File(dir.to_string_lossy().replace('\\', "/"));
        diags.push(CaseError::TooManyFacts { limit }.at(place));
    }
    let pairs =
        entities::same_as_pairs(program, &staged.iter().map(|(_, s)| *s).collect::<Vec<_>>());
    check_same_as(&ctx, &pairs, &staged, &mut diags);
    if !manifest_read {
        // Its sources are unknown, not missing: citing them is not a second error.
        diags.retain(|d| d.code != "probity::case::unknown_source");
    }
    if diags.iter().any(Diagnostic::is_error) {
        diag::sort(&mut diags);
        return Err(diags);
    }
    let mut case = Case {
        dir: dir.to_path_buf(),
        title: manifest.title,
        description: manifest.description,
        as_of: manifest.as_of,
        sources: manifest.sources,
        entities: BTreeMap::new(),
        bulk: bulk::BulkEntities::default(),
        merged: entities::canonical_map(&pairs),
        unread,
        files: inputs
            .iter()
            .map(|i| i.entry.display.to_string())
            .chain(listing.ftm.iter().map(|e| e.display.to_string()))
            .collect(),
        warnings: diags,
    };
    drop(staged);
    let displays: Vec<Arc<str>> = inputs.iter().map(|i| i.entry.display.clone()).collect();
    // Per input, its file loaded for its ids alone, with its rows.
    let placed: Vec<Option<(LazyAt, LazyRows)>> = inputs
        .iter()
        .zip(&lazy)
        .map(|(inp, l)| {
            let (col, rel) = (*l)?;
            let cols = read
                .get(rel.0 as usize)
                .copied()
                .unwrap_or(false)
                .then(|| field_columns(inp.text, program.rel(rel)));
            // The text, moved in once the inputs borrowing it are gone.
            Some((inp.entry.display.clone(), inp.at, col, rel, cols))
        })
        .collect::<Vec<Option<LazyAt>>>()
        .into_iter()
        .scan(lazy_rows.into_iter(), |rows, f| {
            Some(f.map(|f| (f, rows.next().unwrap_or_default())))
        })
        .collect();
    // The files' text and the id table are not needed any more: free them before the
    // fact set grows.
    drop(inputs);
    let mut texts = texts;
    let mut lazy_files: Vec<Option<(LazyInput, LazyRows)>> = placed
        .into_iter()
        .map(|f| {
            let ((display, at, col, rel, cols), rows) = f?;
            let text = Arc::new(texts.get_mut(1 + at)?.take().unwrap_or_default());
            Some(((display, text, col, rel, cols), rows))
        })
        .collect();
    drop(texts);
    drop(ctx);
    let mut shown: Vec<(Arc<str>, Entity)> = Vec::new();
    for (i, (display, c)) in displays
        .into_iter()
        .chain(listing.ftm.iter().map(|e| e.display.clone()))
        .zip(converted)
        .enumerate()
    {
        add_flats(program, facts, &display, c.flat, c.sink, &mut case.bulk);
        add_facts(program, facts, &display, c.facts, &mut shown);
        // A file whose facts the rules read through its ids adds them in file order.
        if let Some(slot) = lazy_files.get_mut(i)
            && slot.as_ref().is_some_and(|(f, _)| f.4.is_some())
            && let Some((f, rows)) = slot.take()
        {
            add_lazy(program, facts, &mut case.bulk, f, rows);
        }
    }
    for (f, rows) in lazy_files.into_iter().flatten() {
        add_lazy(program, facts, &mut case.bulk, f, rows);
    }
    crate::timings::mark("load case: facts added");
    // Built at once from the collected entries (later ones win, as with `insert`).
    case.entities = shown.into_iter().collect();
    entities::rewrite(program, facts, &case.merged);
    case.bulk.finish(facts.values().clone());
    // Merged entities of CSV files are folded like the others.
    for (id, canon) in &case.merged {
        for x in [id, canon] {
            if !case.entities.contains_key(x)
                && let Some((k, e)) = case.bulk.get(x)
            {
                case.entities.insert(k, e);
            }
        }
    }
    entities::merge_display(&mut case.entities, &case.merged);
    crate::timings::mark("load case: done");
    Ok(case)
}

/// The relation of a CSV file, if no clause reads it (`read`: per relation).
fn unread_csv(program: &Program, read: &[bool], e: &Entry) -> Option<RelId> {
    let r = program.rel_by_name(&e.stem)?;
    (e.kind == Kind::Csv && !read.get(r.0 as usize).copied().unwrap_or(true)).then_some(r)
}

/// Takes out of `data` the CSV files of plain relations no clause reads; returns their
/// display paths.
fn skip_unread(program: &Program, read: &[bool], data: &mut Vec<Entry>) -> Vec<String> {
    let same_as = program.rel_by_name("same_as");
    let unread = |e: &Entry| {
        unread_csv(program, read, e)
            .is_some_and(|r| program.rel(r).kind == RelKind::Base && Some(r) != same_as)
    };
    let (skipped, kept): (Vec<Entry>, Vec<Entry>) =
        std::mem::take(data).into_iter().partition(unread);
    *data = kept;
    skipped.into_iter().map(|e| e.display.to_string()).collect()
}

/// Reads `case.toml`; `false` (and an empty manifest) if it could not be read or parsed.
fn read_manifest(
    entry: &Entry,
    text: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> (manifest::Manifest, bool) {
    let Some(text) = text else {
        return (manifest::Manifest::default(), false);
    };
    let file = TomlFile::new(&entry.display, text);
    match file.parse() {
        Ok(doc) => {
            let (m, ds) = manifest::read(&file, &doc);
            diags.extend(ds);
            (m, true)
        }
        Err(ds) => {
            diags.extend(ds);
            (manifest::Manifest::default(), false)
        }
    }
}

/// Parses the TOML inputs; files that could not be read or parsed are left out (their
/// problems are reported).
fn parse_inputs<'a>(
    program: &Program,
    data: &'a [Entry],
    texts: &'a [Option<String>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Input<'a>> {
    let mut inputs = Vec::new();
    for (at, (entry, text)) in data.iter().zip(texts).enumerate() {
        let Some(text) = text.as_deref() else {
            continue;
        };
        let doc = match entry.kind {
            Kind::Csv | Kind::Ftm => None,
            Kind::Toml => match TomlFile::new(&entry.display, text).parse() {
                Ok(doc) => Some(doc),
                Err(ds) => {
                    diags.extend(ds);
                    continue;
                }
            },
        };
        let deferred = deferred(program, entry);
        inputs.push(Input {
            entry,
            at,
            text,
            doc,
            deferred,
        });
    }
    inputs
}

/// Adds the sources FtM files cite to the manifest's; an id taken there is an error.
fn add_ftm_sources(
    manifest: &mut manifest::Manifest,
    scan: &ftm::Scan,
    case_entry: &Entry,
    diags: &mut Vec<Diagnostic>,
) {
    for s in &scan.sources.list {
        if manifest.sources.iter().any(|m| m.id == s.id) {
            let e = CaseError::DuplicateSource { id: s.id.clone() };
            let d = e.at(Place::File(case_entry.display.to_string()));
            diags.push(d.help(
                "`ftm-N` ids name the sources of the case's `.ftm.jsonl` files; rename this one",
            ));
        } else {
            manifest.sources.push(s.clone());
        }
    }
}

use bulk::LazyRows;

/// A [`LazyInput`] with its text's place in the folder's texts instead.
type LazyAt = (
    Arc<str>,
    usize,
    Option<usize>,
    RelId,
    Option<Vec<Option<usize>>>,
);

/// A file loaded for its ids alone: display path, text, name column, relation, and for
/// a relation rules read through its ids, the column of each other field.
type LazyInput = (
    Arc<str>,
    Arc<String>,
    Option<usize>,
    RelId,
    Option<Vec<Option<usize>>>,
);

/// Per input: `Some((name column, relation))` for a CSV file of an entity relation
/// loaded for its ids alone (with [`LoadOptions::only_read`], when
/// [`csv_facts::lazy_columns`] allows): one no clause reads, or one clauses read only
/// through its ids ([`crate::eval::first_field_only`]) whose other fields are texts. The
/// latter's facts are added with those texts read when first shown
/// ([`lazy_tuples`]).
fn lazy_inputs(
    program: &Program,
    read: &[bool],
    inputs: &[Input],
) -> Vec<Option<(Option<usize>, RelId)>> {
    let by_id = crate::eval::first_field_only(program);
    inputs
        .iter()
        .map(|inp| {
            let r = program.rel_by_name(&inp.entry.stem)?;
            let rel = program.rel(r);
            if inp.entry.kind != Kind::Csv || !matches!(rel.kind, RelKind::Entity(_)) {
                return None;
            }
            let texts = (rel.fields.iter().skip(1))
                .all(|f| matches!(f.ty, crate::ir::Type::Text) && !f.list);
            let unread = !read.get(r.0 as usize).copied().unwrap_or(true);
            let ids_only = read.get(r.0 as usize).copied().unwrap_or(false)
                && by_id.get(r.0 as usize).copied().unwrap_or(false)
                && texts;
            if !unread && !ids_only {
                return None;
            }
            Some((csv_facts::lazy_columns(inp.text, rel)?, r))
        })
        .collect()
}

/// The column of each field after the id in the header of `text` (`None` if absent).
fn field_columns(text: &str, rel: &crate::ir::Relation) -> Vec<Option<usize>> {
    let mut r = csv::CsvReader::new(text);
    let names: Vec<String> = match r.next_record() {
        Ok(true) => (0..r.width())
            .map(|i| r.field(i).trim().to_string())
            .collect(),
        _ => Vec::new(),
    };
    (rel.fields.iter().skip(1))
        .map(|f| names.iter().position(|n| *n == f.name))
        .collect()
}

/// The facts of a relation loaded for its ids alone that clauses read through its ids:
/// one tuple per row, `(id, field…)`, each other field a lazy value of the fact set's
/// table read from the row's cell when first shown (a text, or absent if the cell is
/// empty). `rows`: each row's (value id, start); `cols`: the column of each field.
fn lazy_tuples(
    table: &mut crate::values::ValueTable,
    text: &Arc<String>,
    rows: &LazyRows,
    cols: &[Option<usize>],
) -> Vec<u32> {
    let n = rows.len() as u32;
    let starts: Arc<Vec<u32>> = rows.starts();
    let firsts: Vec<u32> = cols
        .iter()
        .map(|&col| {
            let (text, starts) = (text.clone(), starts.clone());
            table.add_lazy(
                n,
                Box::new(move |k| {
                    let cell = col.and_then(|c| {
                        let start = *starts.get(k as usize)?;
                        csv_facts::cell_at(&text, start as usize, c)
                    });
                    match cell {
                        Some(c) if !c.is_empty() => Value::Text(Arc::from(c)),
                        _ => Value::None,
                    }
                }),
            )
        })
        .collect();
    let mut ids = Vec::with_capacity(rows.len() * (cols.len() + 1));
    for k in 0..rows.len() {
        ids.push(rows.value(k));
        ids.extend(firsts.iter().map(|&f| f + k as u32));
    }
    ids
}

/// Collects the entity ids every file defines, in file order (FtM files last), and
/// returns, per lazy input (in order), each of its entities' (value id, record line,
/// record start).
#[expect(clippy::too_many_arguments)]
fn register_entities(
    ctx: &mut Ctx,
    inputs: &[Input],
    lazy: &[Option<(Option<usize>, RelId)>],
    ftm_files: &[Entry],
    scan: &ftm::Scan,
    origins: &FactSet,
    table: &mut crate::values::ValueTable,
    diags: &mut Vec<Diagnostic>,
) -> Vec<LazyRows> {
    let place = |loc: Loc| match loc {
        Loc::Here { file, pos } if file as usize >= inputs.len() => {
            match ftm_files.get(file as usize - inputs.len()) {
                Some(e) => ftm::reread_place(&e.path, &e.display, pos.line),
                None => Place::File(String::new()),
            }
        }
        _ => place_of(inputs, origins, loc),
    };
    // Every id is interned now, in definition order (file by file, so no list of every
    // id is held), so files read in parallel refer to entities by their final value id.
    let mut lazy_rows = Vec::new();
    // Per CSV entity file, on the loading threads: its lines, and its pieces.
    let program = ctx.program;
    let entity_files: Vec<(usize, &Input)> = (inputs.iter().enumerate())
        .filter(|(_, inp)| inp.doc.is_none())
        .filter(|(_, inp)| {
            (program.rel_by_name(&inp.entry.stem))
                .is_some_and(|r| matches!(program.rel(r).kind, RelKind::Entity(_)))
        })
        .collect();
    let cut = par_map(&entity_files, |&(i, inp)| {
        let rel = program.rel_by_name(&inp.entry.stem).map(|r| program.rel(r));
        let bytes = inp.text.as_bytes();
        let mut pieces: Vec<Piece> = Vec::new();
        if let Some(rel) = rel
            && let RelKind::Entity(kind) = rel.kind
            && let Some((col, start, line)) = csv_facts::id_column(inp.text, rel)
        {
            let cuts = csv::chunks(inp.text, start, line, ID_PIECE);
            // Each piece's lines from where the next starts (counted as it was cut).
            let mut next = cuts.iter().skip(1).map(|c| c.1).chain([u32::MAX]);
            for &(start, line, end) in &cuts {
                let lines = match next.next() {
                    Some(u32::MAX) | None => csv::count_lines(&bytes[start..end]),
                    Some(after) => (after - line) as usize,
                };
                pieces.push((i, (start, line), end, col, kind, lines));
            }
        }
        // The file's lines: those before its last piece, and the last piece's.
        let lines = match pieces.last() {
            Some(&(_, (_, line), _, _, _, n)) => (line - 1) as usize + n,
            None => csv::count_lines(bytes),
        };
        (i, lines, pieces)
    });
    // Room for every entity of the CSV entity files at once (their lines bound it), so
    // the tables are not rehashed file by file.
    let lines: usize = cut.iter().map(|(_, n, _)| n).sum();
    table.reserve(lines);
    ctx.entities.reserve(lines);
    let lines_of = |i: usize| cut.iter().find(|c| c.0 == i).map_or(0, |c| c.1);
    // The CSV files' ids are read in pieces on the loading threads while they are
    // registered here, piece by piece in definition order.
    let pieces: Vec<Piece> = cut.iter().flat_map(|(_, _, p)| p.iter().copied()).collect();
    let read_piece = |p: usize| {
        let (i, at, end, col, kind, lines) = pieces[p];
        let text = &inputs[i].text[..end];
        csv_facts::entity_ids(text, at, col, kind, i as u32, lazy[i].is_some(), lines)
    };
    let workers = if threads() > 1 { threads() } else { 0 };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let pieces = &pieces;
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, csv_facts::IdPiece)>();
        for _ in 0..workers.min(pieces.len()) {
            let (tx, next, read_piece) = (tx.clone(), &next, &read_piece);
            s.spawn(move || {
                loop {
                    let p = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if p >= pieces.len() || tx.send((p, read_piece(p))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut arrived: Vec<Option<csv_facts::IdPiece>> =
            (0..pieces.len()).map(|_| None).collect();
        let mut piece_of = |p: usize| -> csv_facts::IdPiece {
            if workers == 0 {
                return read_piece(p);
            }
            while arrived[p].is_none() {
                match rx.recv() {
                    Ok((q, got)) => arrived[q] = Some(got),
                    // A reader panicked: the scope passes the panic on.
                    Err(_) => break,
                }
            }
            arrived[p].take().unwrap_or_default()
        };
        let mut p = 0;
        for (i, inp) in inputs.iter().enumerate() {
            let mut rows = match lazy[i] {
                Some(_) => LazyRows::with_capacity(lines_of(i)),
                None => LazyRows::default(),
            };
            if let Some(doc) = &inp.doc {
                let file = i as u32;
                let found =
                    toml_facts::entity_ids(&TomlFile::new(&inp.entry.display, inp.text), ctx, doc);
                let ids = found
                    .into_iter()
                    .map(|(id, k, pos)| {
                        let pos = pos.into();
                        (id, k, Loc::Here { file, pos })
                    })
                    .collect();
                entities::register(&mut ctx.entities, table, ids, None, &place, diags);
            }
            while p < pieces.len() && pieces[p].0 == i {
                let mut piece = piece_of(p);
                p += 1;
                let records = piece.records.take();
                let values =
                    entities::register_piece(&mut ctx.entities, table, piece, &place, diags);
                if let Some(records) = records {
                    rows.push_piece(&records, &values);
                }
            }
            if lazy[i].is_some() {
                lazy_rows.push(rows);
            }
        }
    });
    let ids = ftm::entity_ids(scan, ctx, inputs.len());
    entities::register(&mut ctx.entities, table, ids, None, &place, diags);
    lazy_rows
}

/// The size of the pieces entity CSV files are read in, in bytes.
const ID_PIECE: usize = 4 << 20;

/// A piece of an entity CSV file: (input, (start, line), end, id column, kind, its line
/// breaks).
type Piece = (usize, (usize, u32), usize, usize, crate::ir::KindId, usize);

/// The place of a location: in a loaded file, or the file and line of an earlier case.
fn place_of(inputs: &[Input], origins: &FactSet, loc: Loc) -> Place {
    match loc {
        Loc::Nth {
            file,
            start,
            line,
            col,
            k,
        } => match inputs.get(file as usize) {
            Some(inp) => {
                let (text, display) = (inp.text, &inp.entry.display);
                match csv_facts::nth_id_pos(text, start as usize, line, col as usize, k) {
                    Some(pos) => point(display, text, pos),
                    None => Place::File(display.to_string()),
                }
            }
            None => Place::File(String::new()),
        },
        Loc::Here { file, pos } => match inputs.get(file as usize) {
            Some(inp) => point(&inp.entry.display, inp.text, pos.into()),
            None => Place::File(String::new()),
        },
        Loc::Earlier { origin } => match origins.get_origin(origin) {
            Some(o) => {
                let text = std::fs::read_to_string(&*o.file).unwrap_or_default();
                line_place(&o.file, &text, o.line)
            }
            None => Place::File(String::new()),
        },
    }
}

/// Converts every input of `jobs` on the loading threads, largest first, so no core
/// waits while another converts a large file alone: a CSV file of a plain relation is
/// read a block at a time ([`stream`]), idle threads taking some of its blocks; another
/// large CSV file of a flat relation, read already, is cut into pieces ([`csv::chunks`])
/// converted side by side. Returns each job's outcome, in order; it never depends on
/// the threads.
fn convert_inputs<'a>(jobs: &[(usize, &'a Input<'a>)], ctx: &Ctx) -> Vec<Converted> {
    // As many workers as threads even for fewer jobs: a job may be cut into pieces.
    let workers = threads();
    if jobs.is_empty() {
        return Vec::new();
    }
    // A file read a block at a time writes its tuples into a sink of its own.
    let mut sinks: Vec<Option<Vec<u32>>> = (jobs.iter())
        .map(|(_, inp)| {
            let rel = streamed(inp, ctx)?;
            stream::sink_for(inp.entry, per_row(ctx.program, rel))
        })
        .collect();
    let slots: std::sync::Mutex<Vec<Option<&mut [u32]>>> =
        std::sync::Mutex::new(sinks.iter_mut().map(|s| s.as_deref_mut()).collect());
    let sink_of = |j: usize| {
        let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.get_mut(j).and_then(Option::take)
    };
    // A file much larger than a thread's share of the work is cut: other files would
    // not keep the other threads busy meanwhile. (Cutting one that is not costs copying
    // its pieces together.)
    let sizes: Vec<usize> = jobs.iter().map(|(_, inp)| input_size(inp)).collect();
    let share = sizes.iter().sum::<usize>() / workers;
    let queue = Queue::new((0..jobs.len()).map(Work::File).collect());
    let worker = || {
        let mut done: Vec<(usize, usize, Outcome)> = Vec::new();
        while let Some((work, _taken)) = queue.take() {
            let mut got = |j: usize, k: usize, out: stream::Outcome| {
                done.push(match out {
                    Ok(piece) => (j, k, Outcome::Piece(piece)),
                    Err(c) => (j, usize::MAX, Outcome::Whole(c)),
                });
            };
            match work {
                // A file read a block at a time is read on by the thread that opened it,
                // its blocks into one piece; a thread with nothing else to do takes a
                // block of it now and then (a piece of its own), so no thread waits
                // while another reads a large file alone.
                Work::File(j) if let Some(rel) = streamed(jobs[j].1, ctx) => {
                    let per_row = per_row(ctx.program, rel);
                    match stream::Stream::open(jobs[j].1.entry, rel, per_row, sink_of(j)) {
                        Ok(s) => {
                            let s = Arc::new(s);
                            queue.add_last(Work::Stream(j, s.clone()));
                            for (k, out) in s.read_own(ctx) {
                                got(j, k, out);
                            }
                        }
                        Err(c) => done.push((j, 0, Outcome::Whole(c))),
                    }
                }
                Work::Stream(j, s) => {
                    if let Some((k, out, more)) = s.read_one(ctx) {
                        if more {
                            queue.add_last(Work::Stream(j, s.clone()));
                        }
                        got(j, k, out);
                    }
                }
                Work::File(j) => match split_input(jobs[j].1, ctx, sizes[j], share, workers) {
                    Ok((file, pieces)) => {
                        let file = Arc::new(file);
                        let mut pieces = pieces.into_iter().enumerate();
                        let first = pieces.next();
                        queue.add_first(pieces.map(|(k, at)| Work::Piece(j, k, file.clone(), at)));
                        if let Some((k, at)) = first {
                            done.push((j, k, Outcome::Piece(file.convert(ctx, at))));
                        }
                    }
                    Err(c) => done.push((j, 0, Outcome::Whole(c))),
                },
                Work::Piece(j, k, file, at) => {
                    done.push((j, k, Outcome::Piece(file.convert(ctx, at))));
                }
            }
        }
        done
    };
    let mut done: Vec<(usize, usize, Outcome)> = std::thread::scope(|s| {
        let others: Vec<_> = (1..workers).map(|_| s.spawn(worker)).collect();
        let mut all = worker();
        for h in others {
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    // The blocks' places in the sinks are given back with the queue and the slots.
    drop(queue);
    drop(slots);
    done.sort_by_key(|(j, k, _)| (*j, *k));
    let mut out: Vec<Converted> = Vec::with_capacity(jobs.len());
    let mut done = done.into_iter().peekable();
    for (j, (_, inp)) in jobs.iter().enumerate() {
        let mut pieces = Vec::new();
        let mut whole = None;
        while let Some((_, _, o)) = done.next_if(|(dj, _, _)| *dj == j) {
            match o {
                Outcome::Whole(c) => whole = Some(c),
                Outcome::Piece(p) => pieces.push(p),
            }
        }
        out.push(match whole {
            Some(c) => c,
            None => {
                let mut c = csv_facts::join_pieces(&inp.entry.display, pieces);
                c.sink = sinks[j].take();
                c
            }
        });
    }
    out
}

/// The most ids a row of relation `rel` gives: its arity, twice for a symmetric one
/// (whose rows give two tuples).
fn per_row(program: &Program, rel: RelId) -> usize {
    let r = program.rel(rel);
    r.arity() * if r.symmetric { 2 } else { 1 }
}

/// The bytes of input `inp` (a deferred file's by its metadata).
fn input_size(inp: &Input) -> usize {
    match inp.deferred {
        true => std::fs::metadata(&inp.entry.path).map_or(0, |m| m.len() as usize),
        false => inp.text.len(),
    }
}

/// Files cut into pieces are cut into pieces of at most about this many bytes, a number
/// of pieces the threads share evenly: `PROBITY_CONVERT_PIECE` if set to a positive
/// number (then every file larger is cut: tests cut small files), else 16 MiB.
fn convert_piece() -> (usize, bool) {
    std::env::var("PROBITY_CONVERT_PIECE")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map_or((16 << 20, false), |n| (n, true))
}

/// Where a piece of a file is: (start, line of the start, end).
type PieceAt = (usize, u32, usize);

/// Conversion work: a whole input (by job), piece `k` of one, or a block of one read a
/// block at a time by another thread.
enum Work<'a> {
    File(usize),
    Piece(usize, usize, Arc<SplitFile<'a>>, PieceAt),
    Stream(usize, Arc<stream::Stream<'a>>),
}

/// The relation of input `inp` if it is read a block at a time: a CSV file of a plain
/// relation stored flat, read when converted (see [`stream`]).
fn streamed(inp: &Input, ctx: &Ctx) -> Option<RelId> {
    let rel = ctx.relation(&inp.entry.stem).ok()?;
    (inp.deferred && inp.doc.is_none() && csv_facts::flat(rel, ctx)).then_some(rel)
}

/// What a work gave: a whole input's outcome, or a piece's with its count of problems.
enum Outcome {
    Whole(Converted),
    Piece((Converted, usize)),
}

/// Work waiting, and how many works are being done (one may add more): the workers
/// end when both are none.
struct Queue<'a> {
    state: std::sync::Mutex<(std::collections::VecDeque<Work<'a>>, usize)>,
    ready: std::sync::Condvar,
}

/// A work taken from a [`Queue`]: done when dropped, also when its worker panics (the
/// other workers then end, and the panic is passed on).
struct Taken<'q, 'a>(&'q Queue<'a>);

impl Drop for Taken<'_, '_> {
    fn drop(&mut self) {
        self.0.lock().1 -= 1;
        self.0.ready.notify_all();
    }
}

impl<'a> Queue<'a> {
    fn new(work: std::collections::VecDeque<Work<'a>>) -> Queue<'a> {
        Queue {
            state: std::sync::Mutex::new((work, 0)),
            ready: std::sync::Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (std::collections::VecDeque<Work<'a>>, usize)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next work, waiting while works being done may add some; `None` when all is
    /// done.
    fn take(&self) -> Option<(Work<'a>, Taken<'_, 'a>)> {
        let mut g = self.lock();
        loop {
            if let Some(w) = g.0.pop_front() {
                g.1 += 1;
                return Some((w, Taken(self)));
            }
            if g.1 == 0 {
                return None;
            }
            g = self.ready.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Puts `work` last.
    fn add_last(&self, work: Work<'a>) {
        self.lock().0.push_back(work);
        self.ready.notify_all();
    }

    /// Puts `work` first, in order.
    fn add_first(&self, work: impl DoubleEndedIterator<Item = Work<'a>>) {
        let mut g = self.lock();
        for w in work.rev() {
            g.0.push_front(w);
        }
        drop(g);
        self.ready.notify_all();
    }
}

/// A CSV file of a flat relation, read and its header checked, whose rows are
/// converted in pieces.
struct SplitFile<'a> {
    path: &'a str,
    text: &'a str,
    rel: RelId,
    head: csv_facts::Head,
}

impl SplitFile<'_> {
    fn convert(&self, ctx: &Ctx, (start, line, end): PieceAt) -> (Converted, usize) {
        let cols = &self.head.cols;
        csv_facts::convert_piece(
            self.path,
            self.text,
            self.rel,
            ctx,
            cols,
            (start, line),
            end,
        )
    }
}

/// Whether a file of `size` bytes is converted in pieces side by side: if over half as
/// large again as a thread's `share` of the work (or `PROBITY_CONVERT_PIECE` if set).
fn large(size: usize, share: usize, threads: usize) -> bool {
    let (most, forced) = convert_piece();
    match forced {
        true => size > most,
        false => size > share + share / 2 && size > 2 * most / threads,
    }
}

/// A CSV file of a flat relation of `size` bytes, over half as large again as a
/// thread's `share` of the work, read and cut into pieces (see [`convert_piece`]); any
/// other input's whole outcome (converted at once).
fn split_input<'a>(
    inp: &'a Input,
    ctx: &Ctx,
    size: usize,
    share: usize,
    threads: usize,
) -> Result<(SplitFile<'a>, Vec<PieceAt>), Converted> {
    let path: &str = &inp.entry.display;
    let (most, _) = convert_piece();
    let rel = match ctx.relation(&inp.entry.stem) {
        Ok(rel)
            if inp.doc.is_none()
                && !inp.deferred
                && large(size, share, threads)
                && csv_facts::flat(rel, ctx) =>
        {
            rel
        }
        _ => return Err(convert_input(inp, ctx)),
    };
    // (A file read when converted is read a block at a time instead: see `streamed`.)
    let pieces = threads * size.div_ceil(threads * most);
    let piece = size.div_ceil(pieces.max(1));
    let text = inp.text;
    let head = csv_facts::head(path, text, rel, ctx)?;
    let pieces = csv::chunks(text, head.body.0, head.body.1, piece);
    let file = SplitFile {
        path,
        text,
        rel,
        head,
    };
    Ok((file, pieces))
}

fn convert_input(inp: &Input, ctx: &Ctx) -> Converted {
    let path = &inp.entry.display;
    if inp.deferred {
        return match files::read(inp.entry) {
            Ok(text) => match ctx.relation(&inp.entry.stem) {
                Ok(rel) => csv_facts::convert(path, &text, rel, ctx),
                Err(e) => Converted {
                    diags: vec![e.at(Place::File(path.to_string()))],
                    ..Converted::default()
                },
            },
            Err(d) => Converted {
                diags: vec![*d],
                ..Converted::default()
            },
        };
    }
    match &inp.doc {
        Some(doc) => toml_facts::convert(&TomlFile::new(path, inp.text), doc, ctx),
        None => match ctx.relation(&inp.entry.stem) {
            Ok(rel) => csv_facts::convert(path, inp.text, rel, ctx),
            Err(e) => Converted {
                diags: vec![e.at(Place::File(path.to_string()))],
                ..Converted::default()
            },
        },
    }
}

/// `same_as` may only join entities of one kind.
fn check_same_as(
    ctx: &Ctx,
    pairs: &[(Arc<str>, Arc<str>, usize)],
    staged: &[(&Input, &Staged)],
    diags: &mut Vec<Diagnostic>,
) {
    for (a, b, i) in pairs {
        let (Some((_, ka)), Some((_, kb))) = (ctx.entities.get(a), ctx.entities.get(b)) else {
            continue;
        };
        if ka == kb {
            continue;
        }
        let kind = |k| ctx.program.kind(k).name.clone();
        let e = CaseError::SameAsKinds {
            a: a.to_string(),
            a_kind: kind(ka),
            b: b.to_string(),
            b_kind: kind(kb),
        };
        if let Some((inp, st)) = staged.get(*i) {
            diags.push(e.at(line_place(&inp.entry.display, inp.text, st.line)));
        }
    }
}

/// The place of a whole line.
fn line_place(path: &str, text: &str, line: u32) -> Place {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line as usize - 2)
            .map_or(0, |(i, _)| i + 1)
    };
    let rest = text.get(line_start..).unwrap_or("");
    let end = rest
        .find(['\n', '\r'])
        .map_or(text.len(), |i| line_start + i);
    point(
        path,
        text,
        csv::FieldPos {
            line,
            line_start,
            start: line_start,
            end,
        },
    )
}

/// Adds a file loaded for its ids alone: its entities for display, each row's origin,
/// and, for a relation the rules read through its ids, its facts ([`lazy_tuples`]).
fn add_lazy(
    program: &Program,
    facts: &mut FactSet,
    bulk: &mut bulk::BulkEntities,
    (display, text, col, rel, cols): LazyInput,
    rows: LazyRows,
) {
    let RelKind::Entity(kind) = program.rel(rel).kind else {
        return;
    };
    let kind = &program.kind(kind).name;
    let tuples = cols.map(|cols| lazy_tuples(facts.values_mut(), &text, &rows, &cols));
    let meta = facts.add_meta(display, Vec::new(), Status::default(), None);
    // The rows' origins get consecutive ids, a run of them per run of rows on
    // following lines.
    let first = OriginId(facts.origin_count() as u32);
    for (_, run, line) in rows.line_runs() {
        facts.add_origin_rows(meta, line, run as u32);
    }
    if let Some(ids) = tuples {
        let width = program.rel(rel).arity();
        facts.tuples[rel.0 as usize].extend_rows(width, ids, first, 1);
    }
    bulk.push_lazy(text, col, kind, first, rows);
}

/// Adds one file's flat pieces, in order, as [`add_flat`] one after another would. A file
/// cut into pieces whose first holds less than two thirds of its tuples (converted on
/// several threads, each taking blocks in turn) has its pieces' values and origins added
/// first, then their ids turned into the fact set's into one vector on every thread,
/// rather than each later piece copied after the first on this one.
fn add_flats(
    program: &Program,
    facts: &mut FactSet,
    file: &Arc<str>,
    mut flats: Vec<FlatRows>,
    sink: Option<Vec<u32>>,
    bulk: &mut bulk::BulkEntities,
) {
    if flats.iter().any(|f| !f.sunk.is_empty()) {
        let rel = flats[0].rel;
        let alike = flats
            .iter()
            .all(|f| f.rel == rel && f.width == flats[0].width && f.ids.is_empty());
        match sink {
            Some(sink) if alike && program.rel(rel).kind == RelKind::Base => {
                return add_sunk(facts, file, flats, sink);
            }
            // Some tuples stayed in their pieces: each piece's together, as if none
            // had gone to the sink.
            sink => {
                let sink = sink.unwrap_or_default();
                for f in &mut flats {
                    let mut all =
                        Vec::with_capacity(f.sunk.iter().map(|s| s.1).sum::<usize>() + f.ids.len());
                    for &(at, n) in &f.sunk {
                        all.extend_from_slice(&sink[at..at + n]);
                    }
                    all.extend_from_slice(&f.ids);
                    f.ids = all;
                    f.sunk.clear();
                }
            }
        }
    }
    let total: usize = flats.iter().map(|f| f.ids.len()).sum();
    let first = flats.first().map_or(0, |f| f.ids.len());
    let rel = flats.first().map(|f| f.rel);
    let together = threads() > 1
        && flats.len() > 1
        && first * 3 < total * 2
        && rel.is_some_and(|r| {
            program.rel(r).kind == RelKind::Base
                && facts.tuples[r.0 as usize].is_empty()
                && flats
                    .iter()
                    .all(|f| f.rel == r && f.width == flats[0].width)
        });
    let Some(rel) = rel.filter(|_| together) else {
        for flat in flats {
            add_flat(program, facts, file, flat, bulk);
        }
        return;
    };
    let width = flats[0].width;
    // In order: each piece's values, metas and origins, and the ids its own stand for.
    let mut remaps: Vec<Vec<u32>> = Vec::with_capacity(flats.len());
    let mut origins = Vec::with_capacity(flats.len());
    for flat in &mut flats {
        let local = std::mem::take(&mut flat.local);
        remaps.push(facts.values_mut().intern_distinct(local.into_values()));
        let first = add_origins(facts, file, flat);
        origins.push(piece_origins(flat, first, flat.ids.len()));
    }
    // Every piece's ids, as the fact set's, into its part of one vector: parts of about
    // a million ids, shared out in turn over the threads.
    let mut ids = vec![0u32; total];
    let threads = threads();
    let mut shares: Vec<Vec<AddPart<'_>>> = (0..threads).map(|_| Vec::new()).collect();
    let mut rest = &mut ids[..];
    let mut k = 0;
    for (flat, remap) in flats.iter().zip(&remaps) {
        let (mine, after) = rest.split_at_mut(flat.ids.len());
        rest = after;
        for (from, to) in flat.ids.chunks(ADD_PART).zip(mine.chunks_mut(ADD_PART)) {
            shares[k % threads].push((from, to, remap));
            k += 1;
        }
    }
    on_threads(shares, |(from, to, remap): AddPart<'_>| {
        for (t, &id) in to.iter_mut().zip(from) {
            *t = global_id(id, remap);
        }
    });
    drop(flats);
    facts.tuples[rel.0 as usize].extend_pieces(width, ids, origins);
}

/// Adds one file's flat facts whose tuples are in its sink already, every piece's in
/// order (see [`stream`]): the sink becomes the relation's vector, the pieces' tuples
/// moved up where a block had fewer of them than lines (a blank line, a row in error),
/// and their ids turned into the fact set's in place, on every thread.
fn add_sunk(facts: &mut FactSet, file: &Arc<str>, mut flats: Vec<FlatRows>, mut ids: Vec<u32>) {
    let (rel, width) = (flats[0].rel, flats[0].width);
    let mut write = 0;
    let mut lens = Vec::with_capacity(flats.len());
    for flat in &flats {
        let start = write;
        for &(at, n) in &flat.sunk {
            if at != write {
                ids.copy_within(at..at + n, write);
            }
            write += n;
        }
        lens.push(write - start);
    }
    ids.truncate(write);
    ids.shrink_to_fit();
    // In order: each piece's values, metas and origins, and the ids its own stand for
    // (as `add_flats` does).
    let mut remaps: Vec<Vec<u32>> = Vec::with_capacity(flats.len());
    let mut origins = Vec::with_capacity(flats.len());
    for (flat, &len) in flats.iter_mut().zip(&lens) {
        let local = std::mem::take(&mut flat.local);
        remaps.push(facts.values_mut().intern_distinct(local.into_values()));
        let first = add_origins(facts, file, flat);
        origins.push(piece_origins(flat, first, len));
    }
    let threads = threads();
    let mut shares: Vec<Vec<(&mut [u32], &[u32])>> = (0..threads).map(|_| Vec::new()).collect();
    let mut rest = &mut ids[..];
    let mut k = 0;
    for (&len, remap) in lens.iter().zip(&remaps) {
        let (mine, after) = rest.split_at_mut(len);
        rest = after;
        for part in mine.chunks_mut(ADD_PART) {
            shares[k % threads].push((part, remap));
            k += 1;
        }
    }
    on_threads(shares, |(part, remap): (&mut [u32], &[u32])| {
        for id in part {
            *id = global_id(*id, remap);
        }
    });
    drop(flats);
    facts.tuples[rel.0 as usize].extend_pieces(width, ids, origins);
}

/// `each` of every item of every share, a share a thread (the first on this one).
fn on_threads<T: Send>(shares: Vec<Vec<T>>, each: impl Fn(T) + Sync) {
    let each = &each;
    std::thread::scope(|s| {
        let mut shares = shares.into_iter();
        let mine = shares.next().unwrap_or_default();
        for share in shares {
            s.spawn(move || share.into_iter().for_each(each));
        }
        mine.into_iter().for_each(each);
    });
}

/// Adds the origins of a piece's rows (its metas taken): consecutive ids, run by run,
/// row `r`'s `first + r`. Returns `first`.
fn add_origins(facts: &mut FactSet, file: &Arc<str>, flat: &mut FlatRows) -> OriginId {
    let metas: Vec<u32> = std::mem::take(&mut flat.metas)
        .into_iter()
        .map(|(sources, status, note)| facts.add_meta(file.clone(), sources, status, note))
        .collect();
    let first = OriginId(facts.origin_count() as u32);
    for (_, n, line, m) in flat.row_runs() {
        facts.add_origin_rows(metas[m as usize], line, n);
    }
    first
}

/// Ids of a part [`add_flats`] turns into the fact set's on one thread.
const ADD_PART: usize = 1 << 20;

/// A part of a piece's ids, where they go, and the fact set's ids of the piece's own.
type AddPart<'a> = (&'a [u32], &'a mut [u32], &'a [u32]);

/// Adds one file's flat facts with their origins, its values merged into the fact set's.
fn add_flat(
    program: &Program,
    facts: &mut FactSet,
    file: &Arc<str>,
    mut flat: FlatRows,
    bulk: &mut bulk::BulkEntities,
) {
    let table = facts.values_mut();
    let local = std::mem::take(&mut flat.local);
    let remap: Vec<u32> = table.intern_distinct(local.into_values());
    // The ids as the fact set's, in place: a large file's in a part per thread.
    let global = |ids: &mut [u32]| {
        for id in ids {
            *id = global_id(*id, &remap);
        }
    };
    let threads = threads();
    match threads > 1 && flat.ids.len() >= ADD_PART {
        true => std::thread::scope(|s| {
            let per = flat.ids.len().div_ceil(threads);
            let mut parts = flat.ids.chunks_mut(per);
            let mine = parts.next();
            for part in parts {
                s.spawn(move || global(part));
            }
            mine.map(global);
        }),
        false => global(&mut flat.ids),
    }
    let first = add_origins(facts, file, &mut flat);
    let origin = |r: usize| OriginId(first.0 + r as u32);
    let rel = program.rel(flat.rel);
    if let RelKind::Entity(kind) = rel.kind {
        let kind = &program.kind(kind).name;
        let name = rel.field("name");
        bulk.reserve(flat.rows as usize);
        for (r, ids) in flat.ids.chunks_exact(flat.width.max(1)).enumerate() {
            bulk.push(ids[0], name.map(|i| ids[i]), kind, origin(r));
        }
    }
    let origins = piece_origins(&flat, first, flat.ids.len());
    facts.tuples[flat.rel.0 as usize].extend_pieces(flat.width, flat.ids, vec![origins]);
}

/// The origins of a piece's tuples (`ids` of them), its rows' from `first` on, as
/// [`crate::facts::Tuples::extend_pieces`] takes them. A symmetric relation's rows are
/// doubled already: each tuple's origin is its row's.
fn piece_origins(flat: &FlatRows, first: OriginId, ids: usize) -> PieceOrigins {
    let tuples = (ids / flat.width.max(1)) as u32;
    let origin = |r: usize| OriginId(first.0 + r as u32);
    match &flat.twice {
        Some(twice) if !twice.iter().all(|&t| t) => {
            let mut each = Vec::with_capacity(tuples as usize);
            for (r, &two) in twice.iter().enumerate() {
                each.extend(std::iter::repeat_n(origin(r), 1 + usize::from(two)));
            }
            Err(each)
        }
        Some(_) => Ok((first, tuples, 2)),
        None => Ok((first, tuples, 1)),
    }
}

/// A piece's tuples' origins: rows (first, tuples, tuples a row), or one each.
type PieceOrigins = Result<(OriginId, u32, u32), Vec<OriginId>>;

/// `id` of a piece as the fact set's: its own through `remap`, the fact set's as it is.
fn global_id(id: u32, remap: &[u32]) -> u32 {
    match id & GLOBAL {
        0 => remap[id as usize],
        _ => id & !GLOBAL,
    }
}

/// Adds one file's staged facts with their origins, and records entities for display.
fn add_facts(
    program: &Program,
    facts: &mut FactSet,
    file: &Arc<str>,
    staged: Vec<Staged>,
    shown: &mut Vec<(Arc<str>, Entity)>,
) {
    // Room for the tuples first, so the large vectors are not grown by copying.
    let mut counts: Vec<usize> = vec![0; facts.tuples.len()];
    for st in &staged {
        let n = if program.rel(st.rel).symmetric { 2 } else { 1 };
        if let Some(c) = counts.get_mut(st.rel.0 as usize) {
            *c += n;
        }
    }
    for (i, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
        let width = program.relations.get(i).map_or(0, Relation::arity);
        facts.tuples[i].reserve(n, width);
    }
    for st in staged {
        let origin = facts.add_origin(Origin {
            file: file.clone(),
            line: st.line,
            sources: st.sources,
            status: st.status,
            note: st.note,
        });
        if let Some((id, e)) = entities::display(program, st.rel, &st.fields, origin) {
            shown.push((id, e));
        }
        match st.fields {
            Row::Flat(values) if !program.rel(st.rel).symmetric => {
                facts.add_tuple(st.rel, values, origin)
            }
            Row::Flat(values) => {
                // Symmetric: the swapped tuple first, then the written one (as `FactSet::add`).
                if values.len() >= 2 && values[0] != values[1] {
                    let mut swapped = values.clone();
                    swapped.swap(0, 1);
                    facts.add_tuple(st.rel, swapped, origin);
                }
                facts.add_tuple(st.rel, values, origin);
            }
            Row::Lists(fields) => facts.add(program, st.rel, fields, origin),
        }
    }
}

/// Maps `f` over `items` on all cores, results in input order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads().min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        let joined = workers.into_iter().map(|w| w.join());
        joined
            .flat_map(|r| r.unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Worker threads for loading files: `PROBITY_THREADS` if set to a positive number, else
/// every core. The result never depends on it (files are merged in name order).
pub fn threads() -> usize {
    std::env::var("PROBITY_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
