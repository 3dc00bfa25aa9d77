//! `probity audit`: run rules over case folders and print findings in one format.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::common::{Exit, print_stdout, report, write_atomically};
use super::{AuditArgs, ErrorFormat};
use crate::engine::{Audit, Engine, Failure};
use crate::render::count::RuleCount;
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
    let engine = load_engine(rules, cases, params, format)?;
    let audit = engine.run().map_err(|f| fail(&f, format))?;
    Ok((engine, audit))
}

/// Loads rules and cases; errors are printed, warnings too.
fn load_engine(
    rules: &[PathBuf],
    cases: &[PathBuf],
    params: &[String],
    format: ErrorFormat,
) -> Result<Engine, Exit> {
    let rules = default_rules(rules, cases).map_err(|e| {
        eprintln!("error: {e}\n  = help: pass `--rules DIR` (for example `--rules rules/`)");
        Exit::Usage
    })?;
    let mut engine = Engine::from_paths(&rules).map_err(|f| fail(&f, format))?;
    for p in params {
        engine.set_param(p).map_err(|f| fail(&f, format))?;
    }
    let mut failures: Vec<Box<Failure>> = Vec::new();
    for c in cases {
        if let Err(f) = engine.load_case(c) {
            failures.push(f);
        }
    }
    if !failures.is_empty() {
        for f in &failures {
            report(&f.map, &f.diagnostics, format);
        }
        return Err(Exit::Usage);
    }
    report(engine.sources(), &engine.warnings, format);
    Ok(engine)
}

/// `--format count`: counts per rule, without building findings.
fn run_counts(args: &AuditArgs, format: ErrorFormat) -> Exit {
    let counts = match load_engine(&args.rules, &args.cases, &args.param, format)
        .and_then(|engine| engine.counts().map_err(|f| fail(&f, format)))
    {
        Ok(c) => c,
        Err(code) => return code,
    };
    let min = args.min_severity.map(|s| s.0).unwrap_or(Severity::Info);
    let counts: Vec<RuleCount> = counts.into_iter().filter(|c| c.severity >= min).collect();
    let written = write_output(args, &render::count::render(&counts));
    if written != Exit::Ok {
        return written;
    }
    let fail_on = args.fail_on.map(|s| s.0);
    match fail_on {
        Some(level) if counts.iter().any(|c| c.severity >= level && c.findings > 0) => {
            Exit::Findings
        }
        _ => Exit::Ok,
    }
}

/// Writes the output to `--output` (atomically) or standard output.
fn write_output(args: &AuditArgs, text: &str) -> Exit {
    match &args.output {
        Some(path) => match write_atomically(Path::new(path), text) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!(
                    "error: cannot write `{}`: {e}\n  = help: check that the folder exists and is writable",
                    path.display()
                );
                Exit::Usage
            }
        },
        None => print_stdout(text),
    }
}

pub fn run(args: &AuditArgs, format: ErrorFormat) -> Exit {
    if args.format == render::Format::Count {
        return run_counts(args, format);
    }
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
    let written = write_output(args, &text);
    if written != Exit::Ok {
        return written;
    }
    let fail_on = args.fail_on.map(|s| s.0);
    match fail_on {
        Some(level) if audit.findings.iter().any(|f| f.severity >= level) => Exit::Findings,
        _ => Exit::Ok,
    }
}
