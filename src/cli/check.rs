//! `probity check`: parse, resolve and type-check rule files; report every problem.

use std::path::PathBuf;

use super::ErrorFormat;
use super::common::{Exit, load_rules};
use crate::diag::SourceMap;

pub fn run(paths: &[PathBuf], format: ErrorFormat) -> Exit {
    let mut map = SourceMap::new();
    match load_rules(&mut map, paths, format) {
        Some(program) => {
            if format == ErrorFormat::Human {
                eprintln!(
                    "checked {} rules, {} relations, {} tests: no errors",
                    program.rules.len(),
                    program.relations.len(),
                    program.tests.len()
                );
            }
            Exit::Ok
        }
        None => Exit::Usage,
    }
}
