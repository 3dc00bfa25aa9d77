//! FtM files for `probity import ftm`: the loader's two passes, with each checked fact
//! handed to the caller (to be written out) instead of kept.
//!
//! The same mapping and checks as reading the files in a case folder, so an imported
//! case loads with the same facts; the problems come with the JSONL file and line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, Place};
use crate::ir::Program;

use super::super::convert::{Ctx, Loc};
use super::super::files::{Entry, Kind, display};
use super::super::{Source, Staged, entities};
use super::{each_fact, entity_ids, reread_place, scan};

/// What an import read: the sources its facts cite, and its warnings.
#[derive(Debug, Default)]
pub(crate) struct Imported {
    pub sources: Vec<Source>,
    pub warnings: Vec<Diagnostic>,
}

/// Streams `paths` (FtM JSON lines) through the mapping, calling `emit` with every
/// checked fact in file and line order. On any error, every problem found (and `emit`
/// may have been called for good facts before it: the caller discards them).
pub(crate) fn import(
    paths: &[PathBuf],
    program: &Program,
    emit: &mut dyn FnMut(&Staged),
) -> Result<Imported, Vec<Diagnostic>> {
    let entries: Vec<Entry> = paths
        .iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            let dir = p.parent().unwrap_or(Path::new(""));
            Entry {
                display: display(dir, &name.unwrap_or_default()),
                path: p.clone(),
                stem: String::new(),
                kind: Kind::Ftm,
            }
        })
        .collect();
    let mut diags = Vec::new();
    let mut scan = scan(&entries, &mut diags);
    let mut ctx = Ctx {
        program,
        entities: Default::default(),
        values: Default::default(),
        sources: scan
            .sources
            .list
            .iter()
            .map(|s| (Arc::from(s.id.as_str()), ()))
            .collect(),
    };
    let ids = entity_ids(&scan, &ctx, 0);
    let place = |loc: Loc| match loc {
        Loc::Here { file, pos } => match entries.get(file as usize) {
            Some(e) => reread_place(&e.path, &e.display, pos.line),
            None => Place::File(String::new()),
        },
        Loc::Earlier { .. } | Loc::Nth { .. } => Place::File(String::new()),
    };
    let mut table = crate::values::ValueTable::new();
    entities::register(&mut ctx.entities, &mut table, ids, None, &place, &mut diags);
    ctx.values = Arc::new(table);
    scan.ids = Vec::new();
    for entry in &entries {
        diags.extend(each_fact(entry, &mut scan, &ctx, &mut |st| emit(&st)));
    }
    if diags.iter().any(Diagnostic::is_error) {
        crate::diag::sort(&mut diags);
        return Err(diags);
    }
    Ok(Imported {
        sources: scan.sources.list,
        warnings: diags,
    })
}

/// Reads `text` as a value of `field` for an import that cannot see the case's
/// entities: an entity id is taken as written (the case checks it when it is loaded).
pub(crate) fn check_value(
    program: &Program,
    field: &crate::ir::Field,
    text: &str,
) -> Result<crate::value::Value, super::CaseError> {
    if let crate::ir::Type::Entity(_) = field.ty {
        return Ok(crate::value::Value::entity(text));
    }
    let ctx = Ctx {
        program,
        entities: Default::default(),
        values: Default::default(),
        sources: Default::default(),
    };
    ctx.parse_text(field, text)
}
