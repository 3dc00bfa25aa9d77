//! Resolution: parsed `.coi` files (and their imports) to the typed, checked [`Program`].
//!
//! The stage runs in steps, each collecting every problem it finds before the next runs:
//! [`imports`] loads the roots and follows `use`; [`schema`] declares kinds, relations,
//! params and rule heads; [`lower`] turns every `derive` and `when` block into a typed
//! clause; [`safety`] checks that every variable is range-restricted; [`given`] checks
//! test blocks; finally [`crate::plan::strata::stratify`] rejects negation or aggregation
//! through recursion. Nothing is reported until all of it has run.

mod body;
pub mod codes;
mod exempt;
mod exprs;
mod given;
mod imports;
pub(crate) use imports::unreadable;
mod lower;
mod params;
mod safety;
mod schema;
mod types;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use crate::diag::{Diagnostic, FileId, SourceMap};
use crate::ir::Program;
use crate::syntax::ast;

pub use params::parse_param_override;

/// The result of checking: the program if there were no errors, and every diagnostic
/// (errors and warnings), sorted by place.
#[derive(Debug, Clone)]
pub struct Checked {
    /// `Some` only when no diagnostic is an error (warnings are allowed).
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A parser: file id and text to a (possibly partial) AST and its syntax diagnostics.
pub(crate) type ParseFn<'a> = &'a dyn Fn(FileId, &str) -> (ast::File, Vec<Diagnostic>);

/// Loads rule files and directories from disk, follows their imports and checks the
/// whole program. A directory contributes every `*.coi` below it, sorted by path,
/// skipping subdirectories named `std` (the vocabulary is reached with `use std`).
pub fn load(map: &mut SourceMap, roots: &[PathBuf]) -> Checked {
    let (files, diags) = imports::load_disk(map, roots, &imports::parse_text);
    check_files(&files, diags)
}

/// Like [`load`], over in-memory files `(path, text)`; relative `use` paths resolve
/// among these files only.
pub fn load_sources(map: &mut SourceMap, files: Vec<(String, String)>) -> Checked {
    load_sources_with(map, files, &imports::parse_text)
}

pub(crate) fn load_sources_with(
    map: &mut SourceMap,
    files: Vec<(String, String)>,
    parse: ParseFn<'_>,
) -> Checked {
    let (files, diags) = imports::load_memory(map, files, parse);
    check_files(&files, diags)
}

/// Checks already parsed files, given in dependency order (imports first).
pub fn check_files(files: &[(FileId, ast::File)], mut diags: Vec<Diagnostic>) -> Checked {
    let mut program = Program::default();
    let decls = schema::declare(files, &mut program, &mut diags);
    lower::lower_all(&decls, &mut program, &mut diags);
    given::check_tests(files, &decls, &mut program, &mut diags);
    if let Err(errors) = crate::plan::strata::stratify(&program) {
        for e in errors {
            diags.push(codes::cycle(&program, &e));
        }
    }
    crate::diag::sort(&mut diags);
    let ok = !diags.iter().any(Diagnostic::is_error);
    Checked {
        program: ok.then_some(program),
        diagnostics: diags,
    }
}
