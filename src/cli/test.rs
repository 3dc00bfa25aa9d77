//! `probity test`: run the `test` blocks of rule files, PASS/FAIL each, then a summary.

use std::path::PathBuf;

use super::ErrorFormat;
use super::common::{Exit, load_rules, print_stdout};
use crate::diag::SourceMap;

pub fn run(paths: &[PathBuf], filter: Option<&str>, show: bool, format: ErrorFormat) -> Exit {
    let mut map = SourceMap::new();
    let Some(program) = load_rules(&mut map, paths, format) else {
        return Exit::Usage;
    };
    let outcomes = crate::testing::run(&map, &program, filter);
    let mut out = String::new();
    for o in &outcomes {
        if o.passed() {
            out.push_str(&format!("PASS {} ({})\n", o.name, o.location));
        } else {
            out.push_str(&format!("FAIL {} ({})\n", o.name, o.location));
            for f in &o.failures {
                out.push_str(&format!("    {f}\n"));
            }
        }
        if show {
            for f in &o.findings {
                out.push_str(&format!("    finding {f}\n"));
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    out.push_str(&format!(
        "{} passed, {} failed\n",
        outcomes.len() - failed,
        failed
    ));
    match print_stdout(&out) {
        Exit::Ok if failed > 0 => Exit::Findings,
        other => other,
    }
}
