//! FollowTheMoney entities (`*.ftm.jsonl`) in a case folder, read in two streaming passes.
//!
//! The first pass ([`scan`]) learns what every id is (Person, an organisation, a
//! Position, something else) and which sources the file cites; the second
//! ([`convert`]) maps each line to facts of the standard vocabulary (see [`map`]) and
//! checks them like any other case fact. Neither holds a file's text: lines are read
//! one at a time, so memory grows with the entities and facts, not the file.
//!
//! - Origins point at the JSONL line; a fact made from an entity cites the sources made
//!   from its `sourceUrl` (one case source per distinct URL, id `ftm-1`, `ftm-2`, … in
//!   order of first appearance) or, without one, its `publisher`.
//! - Values kept as `ftm_fact` are counted in one `ftm_kept` warning per file; facts of
//!   relations the rules do not declare are counted in an `ftm_skipped` warning.
//! - Entity ids share the case's id space: a duplicate id (FtM fragments of one entity
//!   on several lines; merge them first with `ftm aggregate`) is a `duplicate_id` error.

mod import;
pub(crate) mod map;
pub(crate) mod read;
#[cfg(test)]
mod tests;
pub(crate) mod values;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::diag::{Diagnostic, Place};
use crate::ir::{KindId, RelKind};
use crate::value::{Status, Value};

use super::convert::{Ctx, Loc, absent};
use super::errors::CaseError;
use super::files::Entry;
use super::{Converted, MAX_ERRORS_PER_FILE, Row, Source, Staged};
pub(crate) use import::{check_value, import};
use map::{Class, Record, Val};
use read::{Entity, Lines};

/// Sources made from FtM `sourceUrl` / `publisher` values.
#[derive(Debug, Default)]
pub(crate) struct SourceTable {
    pub list: Vec<Source>,
    by_key: FxHashMap<(Option<String>, Option<String>), Arc<str>>,
    by_url: FxHashMap<String, Arc<str>>,
}

impl SourceTable {
    /// The id of a (url, publisher) pair, made on first sight. A URL is one source,
    /// whatever the publisher; a publisher without a URL is its own source.
    pub fn id(&mut self, url: Option<String>, publisher: Option<String>) -> Arc<str> {
        if let Some(id) = url.as_ref().and_then(|u| self.by_url.get(u)) {
            return id.clone();
        }
        let key = (
            url.clone(),
            if url.is_some() {
                None
            } else {
                publisher.clone()
            },
        );
        if let Some(id) = self.by_key.get(&key) {
            return id.clone();
        }
        let id: Arc<str> = Arc::from(format!("ftm-{}", self.list.len() + 1));
        self.list.push(Source {
            id: id.to_string(),
            title: None,
            publisher,
            url: url.clone(),
            published: None,
            line: 0,
        });
        if let Some(u) = url {
            self.by_url.insert(u, id.clone());
        }
        self.by_key.insert(key, id.clone());
        id
    }

    /// The ids an entity cites (already made by the scan).
    pub fn cited(&mut self, e: &Entity) -> Vec<Arc<str>> {
        let mut ids: Vec<Arc<str>> = Vec::new();
        for (u, p) in map::sources_of(e) {
            let id = self.id(u, p);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

/// What the first pass learnt.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// What each id is.
    pub index: FxHashMap<Arc<str>, Class>,
    /// Person and organisation ids: (id, is a person, file index, line), in file order.
    pub ids: Vec<(Arc<str>, bool, usize, u32)>,
    pub sources: SourceTable,
}

/// What `id` is: in the FtM files' `index`, or among the entities of the case's other
/// files (`others`).
pub(crate) fn lookup(
    index: &FxHashMap<Arc<str>, Class>,
    id: &str,
    others: Option<&Ctx>,
) -> Option<Class> {
    if let Some(c) = index.get(id) {
        return Some(c.clone());
    }
    let ctx = others?;
    let (_, kind) = ctx.entities.get(id)?;
    Some(match ctx.program.kind(kind).name.as_str() {
        "person" => Class::Person,
        "org" => Class::Org,
        _ => Class::Other,
    })
}

/// The place of a whole line of an FtM file (its text cut at 160 characters).
pub(crate) fn line_place(display: &str, line: u32, text: &str) -> Place {
    let mut shown: String = text.chars().take(160).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    Place::Point {
        path: display.to_string(),
        line,
        col: 1,
        len: (shown.chars().count() as u32).max(1),
        line_text: shown,
    }
}

/// The place of line `line` of a file, read again (only to report a problem).
pub(crate) fn reread_place(path: &Path, display: &str, line: u32) -> Place {
    let text = std::fs::File::open(path).ok().and_then(|f| {
        let mut lines = Lines::new(f, display);
        lines.quiet();
        while let Ok(Some((n, l))) = lines.next_line() {
            if n == line {
                return l.ok().map(String::from);
            }
        }
        None
    });
    line_place(display, line, text.as_deref().unwrap_or(""))
}

/// Calls `f` with each line's number, text and entity (or why it is not one).
/// An unreadable file is an error diagnostic.
pub(crate) fn each_entity(
    path: &Path,
    display: &str,
    mut f: impl FnMut(u32, &str, Result<Entity, CaseError>),
) -> Result<(), Box<Diagnostic>> {
    let unreadable = |err: std::io::Error| {
        let e = CaseError::UnreadableFile {
            reason: err.to_string().to_lowercase(),
        };
        Box::new(e.at(Place::File(display.to_string())))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut lines = Lines::new(file, display);
    while let Some((n, text)) = lines.next_line().map_err(unreadable)? {
        match text {
            Ok(t) => f(n, t, read::parse(t)),
            Err(e) => f(n, "", Err(e)),
        }
    }
    Ok(())
}

/// The first pass over every FtM file: ids, classes and sources; line errors reported.
pub(crate) fn scan(entries: &[Entry], diags: &mut Vec<Diagnostic>) -> Scan {
    let mut scan = Scan::default();
    for (k, entry) in entries.iter().enumerate() {
        let res = each_entity(&entry.path, &entry.display, |line, text, e| match e {
            Ok(e) => {
                scan.sources.cited(&e);
                let class = map::class_of(&e);
                let id: Arc<str> = Arc::from(e.id.as_str());
                if matches!(class, Class::Person | Class::Org) {
                    scan.ids.push((id.clone(), class == Class::Person, k, line));
                }
                scan.index.entry(id).or_insert(class);
            }
            Err(err) => diags.push(err.at(line_place(&entry.display, line, text))),
        });
        if let Err(d) = res {
            diags.push(*d);
        }
    }
    scan
}

/// The person and org ids the scan found, as the loader registers them; FtM file `k`
/// is file `base + k` in their locations.
pub(crate) fn entity_ids(scan: &Scan, ctx: &Ctx, base: usize) -> Vec<(Arc<str>, KindId, Loc)> {
    let kind = |name: &str| match ctx
        .program
        .rel_by_name(name)
        .map(|r| ctx.program.rel(r).kind)
    {
        Some(RelKind::Entity(k)) => Some(k),
        _ => None,
    };
    let (person, org) = (kind("person"), kind("org"));
    scan.ids
        .iter()
        .filter_map(|(id, is_person, k, line)| {
            let kind = if *is_person { person } else { org }?;
            let pos = super::csv::FieldPos {
                line: *line,
                ..Default::default()
            };
            let file = (base + k) as u32;
            Some((
                id.clone(),
                kind,
                Loc::Here {
                    file,
                    pos: pos.into(),
                },
            ))
        })
        .collect()
}

/// The second pass over one file: its facts, checked against the schema.
pub(crate) fn convert(entry: &Entry, scan: &mut Scan, ctx: &Ctx) -> Converted {
    let mut facts = Vec::new();
    let diags = each_fact(entry, scan, ctx, &mut |st| facts.push(st));
    Converted {
        facts,
        diags,
        ..Converted::default()
    }
}

/// The second pass over one file, handing each checked fact to `emit`; returns the
/// file's problems (at most [`MAX_ERRORS_PER_FILE`] errors, the rest counted) and its
/// summary warnings.
pub(crate) fn each_fact(
    entry: &Entry,
    scan: &mut Scan,
    ctx: &Ctx,
    emit: &mut dyn FnMut(Staged),
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut errors = 0usize;
    let mut kept: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped: BTreeMap<&'static str, usize> = BTreeMap::new();
    let display = entry.display.clone();
    let (index, sources) = (&scan.index, &mut scan.sources);
    let mut report = |err: CaseError, line: u32, text: &str| {
        errors += 1;
        if errors <= MAX_ERRORS_PER_FILE {
            diags.push(err.at(line_place(&display, line, text)));
        }
    };
    let res = each_entity(&entry.path, &entry.display, |line, text, e| {
        let Ok(e) = e else { return };
        let find = |id: &str| lookup(index, id, Some(ctx));
        let mapped = match map::map(&e, &find) {
            Ok(m) => m,
            Err(err) => return report(err, line, text),
        };
        for why in mapped.kept {
            *kept.entry(why).or_default() += 1;
        }
        let cited = sources.cited(&e);
        for rec in &mapped.records {
            match stage(ctx, rec, line, &cited) {
                Ok(Some(st)) => emit(st),
                Ok(None) => *skipped.entry(rec.rel).or_default() += 1,
                Err(err) => report(err, line, text),
            }
        }
    });
    if let Err(d) = res {
        diags.push(*d);
    }
    if errors > MAX_ERRORS_PER_FILE {
        let more = errors - MAX_ERRORS_PER_FILE;
        let d = CaseError::TooManyErrors { more }.at(Place::File(display.to_string()));
        diags.push(d);
    }
    diags.extend(summary(&display, &kept, &skipped));
    diags
}

/// The `ftm_kept` and `ftm_skipped` warnings of one file.
pub(crate) fn summary(
    display: &str,
    kept: &BTreeMap<String, usize>,
    skipped: &BTreeMap<&'static str, usize>,
) -> Vec<Diagnostic> {
    let list = |it: Vec<String>| it.join(", ");
    let mut out = Vec::new();
    let total: usize = kept.values().sum();
    if total > 0 {
        let mut parts: Vec<(usize, &String)> = kept.iter().map(|(k, n)| (*n, k)).collect();
        parts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let parts = parts.iter().map(|(n, k)| format!("{n} from {k}")).collect();
        let d = Diagnostic::warning(
            "probity::case::ftm_kept",
            format!("{total} FtM values kept as `ftm_fact`: {}", list(parts)),
        )
        .at_place(Place::File(display.to_string()))
        .help("rules can read them as `ftm_fact(entity, schema, property, value)`");
        out.push(d);
    }
    let total: usize = skipped.values().sum();
    if total > 0 {
        let parts = skipped.iter().map(|(r, n)| format!("{n} `{r}`")).collect();
        let d = Diagnostic::warning(
            "probity::case::ftm_skipped",
            format!(
                "{total} FtM facts not loaded: the rules do not declare their relation ({})",
                list(parts)
            ),
        )
        .at_place(Place::File(display.to_string()))
        .help("add `use std` to the rules to load every FtM fact");
        out.push(d);
    }
    out
}

/// A record as a checked fact; `None` if the rules do not declare its relation.
fn stage(
    ctx: &Ctx,
    rec: &Record,
    line: u32,
    sources: &[Arc<str>],
) -> Result<Option<Staged>, CaseError> {
    let Some(rel_id) = ctx.program.rel_by_name(rec.rel) else {
        return Ok(None);
    };
    let rel = ctx.program.rel(rel_id);
    let mut slots: Vec<Option<crate::facts::FieldValue>> = vec![None; rel.arity()];
    for (name, val) in &rec.fields {
        let Some(i) = rel.field(name) else {
            return Err(super::convert::unknown_field(rel, name));
        };
        let f = &rel.fields[i];
        let value = |s: &str| -> Result<Value, CaseError> {
            if i == 0 && matches!(rel.kind, RelKind::Entity(_)) {
                return Ok(ctx.entity_value(s));
            }
            ctx.parse_text(f, s)
        };
        slots[i] = Some(match val {
            Val::One(s) if f.list => crate::facts::FieldValue::Many(vec![value(s)?]),
            Val::One(s) => crate::facts::FieldValue::One(value(s)?),
            Val::Many(vs) if f.list => crate::facts::FieldValue::Many(
                vs.iter().map(|s| value(s)).collect::<Result<_, _>>()?,
            ),
            Val::Many(vs) => crate::facts::FieldValue::One(value(vs.first().map_or("", |s| s))?),
        });
    }
    let mut fields = Vec::with_capacity(rel.arity());
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(v) => fields.push(v),
            None if rel.fields[i].optional => fields.push(absent(rel, i)),
            None => {
                return Err(CaseError::MissingField {
                    rel: rel.name.clone(),
                    field: rel.fields[i].name.clone(),
                });
            }
        }
    }
    Ok(Some(Staged {
        rel: rel_id,
        fields: Row::new(rel, fields.into_iter()),
        line,
        sources: sources.to_vec(),
        status: Status::default(),
        note: rec.note.as_deref().map(Arc::from),
    }))
}
