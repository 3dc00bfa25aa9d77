//! `probity explain --plan`: print how rules will be evaluated.

use std::path::PathBuf;

use super::ErrorFormat;
use super::common::{Exit, load_rules, print_stdout, report};
use crate::diag::SourceMap;

pub fn run_plan(paths: &[PathBuf], format: ErrorFormat) -> Exit {
    let mut map = SourceMap::new();
    let Some(program) = load_rules(&mut map, paths, format) else {
        return Exit::Usage;
    };
    match crate::plan::plan(&program) {
        Ok(plan) => print_stdout(&crate::plan::explain(&plan, &program, Some(&map))),
        Err(diags) => {
            report(&map, &diags, format);
            Exit::Usage
        }
    }
}

/// `probity explain CASE --finding ID`: the derivation tree, each leaf with its file,
/// line, status and source titles.
pub fn run_finding(
    case: &std::path::Path,
    id: &str,
    rules: &[PathBuf],
    params: &[String],
    format: ErrorFormat,
) -> Exit {
    let (_engine, audit) =
        match super::audit::run_engine(rules, &[case.to_path_buf()], params, format, true) {
            Ok(x) => x,
            Err(code) => return code,
        };
    let matches: Vec<_> = audit
        .findings
        .iter()
        .chain(&audit.exempted)
        .filter(|f| f.id.starts_with(id))
        .collect();
    match matches.as_slice() {
        [f] => print_stdout(&crate::findings::explain::tree_text(f)),
        [] => {
            eprintln!(
                "error: no finding `{id}` in `{}`\n  = help: list the ids with `probity audit {} --format json`",
                case.display(),
                case.display()
            );
            Exit::Usage
        }
        many => {
            eprintln!(
                "error: `{id}` matches {} findings\n  = help: give more of the id",
                many.len()
            );
            Exit::Usage
        }
    }
}
