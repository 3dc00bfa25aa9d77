//! `probity explain --plan`: print how rules will be evaluated.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::ErrorFormat;
use super::common::{Exit, load_rules, print_stdout, report, report_alone};
use crate::diag::{Diagnostic, SourceMap};

/// The plan of the rules in `paths`; with `case`, the one `audit` makes for that case
/// folder (joins ordered by its relations' sizes), after a line giving those sizes.
pub fn run_plan(paths: &[PathBuf], case: Option<&Path>, format: ErrorFormat) -> Exit {
    let mut map = SourceMap::new();
    let Some(program) = load_rules(&mut map, paths, format) else {
        return Exit::Usage;
    };
    let (sizes, header) = match case {
        None => (None, String::new()),
        Some(dir) => match case_sizes(paths, dir, format) {
            Ok(sizes) => {
                let header = sizes_line(&program, dir, &sizes);
                (Some(sizes), header)
            }
            Err(code) => return code,
        },
    };
    match crate::plan::plan_with_sizes(&program, sizes.as_deref()) {
        Ok(plan) => print_stdout(&(header + &crate::plan::explain(&plan, &program, Some(&map)))),
        Err(diags) => {
            report(&map, &diags, format);
            Exit::Usage
        }
    }
}

/// Per relation of the rules in `paths`, its number of facts in case folder `dir`,
/// loaded as `audit` loads it; problems are printed.
fn case_sizes(paths: &[PathBuf], dir: &Path, format: ErrorFormat) -> Result<Vec<usize>, Exit> {
    let failed = |f: Box<crate::engine::Failure>| super::audit::fail(&f, format);
    let mut engine = crate::engine::Engine::from_paths(paths).map_err(failed)?;
    engine.load.only_read = true;
    engine.load_case(dir).map_err(failed)?;
    let (_, facts) = engine.cases().next().ok_or(Exit::Usage)?;
    Ok(crate::eval::relation_sizes(engine.program(), facts))
}

/// `sizes of CASE: rel n, …` for the case's relations that a rule reads, by name.
fn sizes_line(program: &crate::ir::Program, dir: &Path, sizes: &[usize]) -> String {
    let read = crate::eval::read_relations(program);
    let mut named: Vec<(&str, usize)> = (program.relations.iter().zip(sizes).zip(&read))
        .filter(|((_, n), r)| **r && **n != usize::MAX)
        .map(|((rel, &n), _)| (rel.name.as_str(), n))
        .collect();
    named.sort();
    let mut out = format!("sizes of {}:", crate::engine::display_dir(dir));
    for (i, (name, n)) in named.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        let _ = write!(out, "{sep}{name} {n}");
    }
    out.push('\n');
    out
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
    let problem = match matches.as_slice() {
        [f] => return print_stdout(&crate::findings::explain::tree_text(f)),
        [] => Diagnostic::error(
            "probity::cli::unknown_finding",
            format!("no finding `{id}` in `{}`", case.display()),
        )
        .help(format!(
            "list the ids with `probity audit {} --format json`",
            case.display()
        )),
        many => Diagnostic::error(
            "probity::cli::ambiguous_finding",
            format!("`{id}` matches {} findings", many.len()),
        )
        .help("give more of the id"),
    };
    report_alone(&[problem], format);
    Exit::Usage
}
