//! `probity audit`: run rules over case folders and print findings in one format.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::common::{Exit, Progress, print_stdout, report, write_atomically};
use super::{AuditArgs, ErrorFormat};
use crate::engine::{Audit, Engine, Failure};
use crate::render::{self, Options, Report};
use crate::syntax::ast::Severity;

/// The rules to run: `--rules`, else `CASE/rules/`, else `./rules/`.
pub fn default_rules(args_rules: &[PathBuf], cases: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if !args_rules.is_empty() {
        return Ok(args_rules.to_vec());
    }
    if let Some(dir) = cases.iter().map(|c| c.join("rules")).find(|d| d.is_dir()) {
        return Ok(vec![dir]);
    }
    let here = PathBuf::from("rules");
    if here.is_dir() {
        return Ok(vec![here]);
    }
    Err("no rules to run: there is no `rules/` folder in the case or the working directory".into())
}

fn fail(f: &Failure, format: ErrorFormat) -> Exit {
    report(&f.map, &f.diagnostics, format);
    Exit::Usage
}

/// Loads rules and cases and runs them; errors are printed.
pub fn run_engine(
    rules: &[PathBuf],
    cases: &[PathBuf],
    params: &[String],
    format: ErrorFormat,
) -> Result<(Engine, Audit), Exit> {
    let rules = default_rules(rules, cases).map_err(|e| {
        eprintln!("error: {e}\n  = help: pass `--rules DIR` (for example `--rules rules/`)");
        Exit::Usage
    })?;
    let progress = Progress::new();
    let engine = match load(&progress, &rules, cases, params) {
        Ok(engine) => engine,
        Err(failures) => {
            drop(progress);
            for f in &failures {
                report(&f.map, &f.diagnostics, format);
            }
            return Err(Exit::Usage);
        }
    };
    progress.step("evaluating");
    let audit = engine.run();
    drop(progress);
    report(engine.sources(), &engine.warnings, format);
    let audit = audit.map_err(|f| fail(&f, format))?;
    Ok((engine, audit))
}

/// Checks the rules, applies the params and loads every case, collecting every failure.
fn load(
    progress: &Progress,
    rules: &[PathBuf],
    cases: &[PathBuf],
    params: &[String],
) -> Result<Engine, Vec<Box<Failure>>> {
    progress.step("checking rules");
    let mut engine = Engine::from_paths(rules).map_err(|f| vec![f])?;
    let mut failures: Vec<Box<Failure>> = Vec::new();
    for p in params {
        if let Err(f) = engine.set_param(p) {
            failures.push(f);
        }
    }
    for c in cases {
        progress.step(&format!("loading {}", c.display()));
        if let Err(f) = engine.load_case(c) {
            failures.push(f);
        }
    }
    if failures.is_empty() {
        Ok(engine)
    } else {
        Err(failures)
    }
}

pub fn run(args: &AuditArgs, format: ErrorFormat) -> Exit {
    let (_engine, mut audit) = match run_engine(&args.rules, &args.cases, &args.param, format) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let min = args.min_severity.map(|s| s.0).unwrap_or(Severity::Info);
    audit.findings.retain(|f| f.severity >= min);
    audit.exempted.retain(|f| f.severity >= min);
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = render::render(
        &Report {
            cases: &audit.cases,
            findings: &audit.findings,
            exempted: &audit.exempted,
        },
        args.format,
        Options { color },
    );
    let written = match &args.output {
        Some(path) => match write_atomically(Path::new(path), &text) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!(
                    "error: cannot write `{}`: {e}\n  = help: check that the folder exists and is writable",
                    path.display()
                );
                Exit::Usage
            }
        },
        None => print_stdout(&text),
    };
    if written != Exit::Ok {
        return written;
    }
    let fail_on = args.fail_on.map(|s| s.0);
    match fail_on {
        Some(level) if audit.findings.iter().any(|f| f.severity >= level) => Exit::Findings,
        _ => Exit::Ok,
    }
}
