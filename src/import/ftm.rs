//! `probity import ftm`: FollowTheMoney JSON lines to a case folder.
//!
//! The files go through the same mapping and checks as `*.ftm.jsonl` read in a case
//! folder (see `case::ftm`), streamed line by line; each fact becomes a row of its
//! relation's CSV file, and every source (`ftm-1`, … one per distinct `sourceUrl`) a
//! `[[source]]` of `case.toml`. Auditing the imported folder finds what auditing a
//! folder holding the `.ftm.jsonl` files finds.

use std::path::{Path, PathBuf};

use crate::ir::Program;

use super::{CaseWriter, Failure, Outcome};

/// Imports `files` into the case folder `into`, checked against `program`'s schema.
pub fn import(
    program: &Program,
    files: &[PathBuf],
    into: &Path,
    title: Option<&str>,
    force: bool,
) -> Result<Outcome, Failure> {
    let out =
        |e: std::io::Error| Failure::Output(format!("cannot write `{}`: {e}", into.display()));
    let mut writer = CaseWriter::new(into, program).map_err(out)?;
    let mut io_error = None;
    let read = crate::case::ftm::import(files, program, &mut |st| {
        if io_error.is_none()
            && let Err(e) = writer.write(st)
        {
            io_error = Some(e);
        }
    });
    let imported = read.map_err(Failure::Input)?;
    if let Some(e) = io_error {
        return Err(out(e));
    }
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    let title = title.map_or_else(
        || format!("Imported from {}", names.join(", ")),
        String::from,
    );
    let facts = writer.rows();
    let written = writer
        .finish(&imported.sources, &title, force)
        .map_err(Failure::Output)?;
    Ok(Outcome {
        written,
        facts,
        rejected: 0,
        warnings: imported.warnings,
    })
}
