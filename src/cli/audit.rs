//! `probity audit`: run rules over case folders and print findings in one format.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::common::{Exit, Progress, print_stdout, report, report_alone, write_atomically};
use super::{AuditArgs, EngineArg, ErrorFormat};
use crate::diag::{Diagnostic, Place};
use crate::engine::{Audit, Engine, Failure};
use crate::findings::Evidence;
use crate::manifest::Manifest;
use crate::render::count::RuleCount;
use crate::render::{self, Options, Report};
use crate::sql::remote::SqlEngine;
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

/// Prints a failure's diagnostics; the usage exit code.
pub(super) fn fail(f: &Failure, format: ErrorFormat) -> Exit {
    report(&f.map, &f.diagnostics, format);
    Exit::Usage
}

/// Loads rules and cases and runs them; errors are printed.
pub fn run_engine(
    rules: &[PathBuf],
    cases: &[PathBuf],
    params: &[String],
    format: ErrorFormat,
    only_read: bool,
) -> Result<(Engine, Audit), Exit> {
    let engine = load_engine(rules, cases, params, format, only_read, None)?;
    run_loaded(engine, format)
}

/// Runs loaded rules and cases; errors are printed.
fn run_loaded(engine: Engine, format: ErrorFormat) -> Result<(Engine, Audit), Exit> {
    let progress = Progress::new();
    progress.step("evaluating");
    let audit = engine.run();
    drop(progress);
    let audit = audit.map_err(|f| fail(&f, format))?;
    Ok((engine, audit))
}

/// Loads rules and cases; errors are printed, warnings too.
fn load_engine(
    rules: &[PathBuf],
    cases: &[PathBuf],
    params: &[String],
    format: ErrorFormat,
    only_read: bool,
    sql: Option<SqlEngine>,
) -> Result<Engine, Exit> {
    let rules = default_rules(rules, cases).map_err(|e| {
        let d = Diagnostic::error("probity::cli::no_rules", e)
            .help("pass `--rules DIR` (for example `--rules rules/`)");
        report_alone(&[d], format);
        Exit::Usage
    })?;
    let progress = Progress::new();
    let engine = match load(&progress, &rules, cases, params, only_read, sql) {
        Ok(engine) => engine,
        Err(failures) => {
            drop(progress);
            for f in &failures {
                report(&f.map, &f.diagnostics, format);
            }
            return Err(Exit::Usage);
        }
    };
    drop(progress);
    report(engine.sources(), &engine.warnings, format);
    Ok(engine)
}

/// `--format count`: counts per rule, without building findings.
fn run_counts(args: &AuditArgs, format: ErrorFormat) -> Exit {
    let counts = match load_engine(
        &args.rules,
        &args.cases,
        &args.param,
        format,
        true,
        args.sql_engine(),
    )
    .and_then(|engine| {
        let counts = engine.counts().map_err(|f| fail(&f, format));
        // The process ends after printing: freeing millions of facts one by one
        // would only cost time.
        std::mem::forget(engine);
        counts
    }) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let min = args.min_severity.map(|s| s.0).unwrap_or(Severity::Info);
    let counts: Vec<RuleCount> = counts.into_iter().filter(|c| c.severity >= min).collect();
    let written = emit(
        args.output.as_deref(),
        &render::count::render(&counts),
        format,
    );
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

/// Checks the rules, applies the params and loads every case, collecting every failure.
fn load(
    progress: &Progress,
    rules: &[PathBuf],
    cases: &[PathBuf],
    params: &[String],
    only_read: bool,
    sql: Option<SqlEngine>,
) -> Result<Engine, Vec<Failure>> {
    progress.step("checking rules");
    let mut engine = Engine::from_paths(rules).map_err(|f| vec![*f])?;
    engine.load.only_read = only_read;
    let mut failures: Vec<Failure> = Vec::new();
    for p in params {
        if let Err(f) = engine.set_param(p) {
            failures.push(*f);
        }
    }
    if let Some(sql) = sql {
        // What the engine cannot run is said before any case is read.
        if let Err(f) = engine.set_sql_engine(sql) {
            return Err(vec![*f]);
        }
    }
    for c in cases {
        progress.step(&format!("loading {}", c.display()));
        if let Err(f) = engine.load_case(c) {
            failures.push(*f);
        }
    }
    if failures.is_empty() {
        Ok(engine)
    } else {
        Err(failures)
    }
}

/// The switches that change a report's content, for the manifest.
fn options(args: &AuditArgs) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = args.min_severity {
        out.push(format!("--min-severity={}", m.0.as_str()));
    }
    for p in &args.param {
        out.push(format!("--param={p}"));
    }
    if args.near_misses {
        out.push("--near-misses".to_string());
    }
    if args.coverage {
        out.push("--coverage".to_string());
    }
    if let Some(sql) = args.sql_engine() {
        // The connection string is left out: it may hold a password.
        out.push(format!("--engine={}", sql.dialect.name()));
    }
    out
}

pub fn run(args: &AuditArgs, format: ErrorFormat) -> Exit {
    if args.format == render::Format::Count {
        return run_counts(args, format);
    }
    if (args.near_misses || args.coverage) && !args.format.is_report() {
        eprintln!(
            "error: `--near-misses` and `--coverage` need a report format\n  = help: use `--format table`, `json`, `markdown` or `html`"
        );
        return Exit::Usage;
    }
    if args.near_misses && args.engine != EngineArg::Native {
        eprintln!(
            "error: `--near-misses` needs the native engine\n  = help: leave out `--engine`, or run the near misses in a second, native audit"
        );
        return Exit::Usage;
    }
    let loaded = load_engine(
        &args.rules,
        &args.cases,
        &args.param,
        format,
        !args.coverage,
        args.sql_engine(),
    );
    let (engine, mut audit) = match loaded.and_then(|e| run_loaded(e, format)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    crate::timings::mark("report: findings built");
    let min = args.min_severity.map(|s| s.0).unwrap_or(Severity::Info);
    audit.findings.retain(|f| f.severity >= min);
    audit.exempted.retain(|f| f.severity >= min);
    let near = if args.near_misses {
        match engine.near_misses() {
            Ok(n) => Some(n),
            Err(f) => return fail(&f, format),
        }
    } else {
        None
    };
    let coverage = args.coverage.then(|| engine.coverage());
    let manifest = Manifest::of(&engine, options(args), !args.no_timestamp);
    // Names label the pictures of an HTML report: those of the entities its evidence
    // shows (gathering every entity of a large register would cost more than the report).
    let names = match args.format {
        render::Format::Html => {
            let ids = (audit.findings.iter().chain(&audit.exempted))
                .flat_map(|f| {
                    f.evidence
                        .iter()
                        .chain(f.exemption.iter().flat_map(|x| &x.evidence))
                })
                .flat_map(|e: &Evidence| e.fields.iter())
                .filter(|v| v.ty == "entity")
                .map(|v| v.value.as_str());
            engine.entity_names_of(ids)
        }
        _ => Default::default(),
    };
    crate::timings::mark("report: names gathered");
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let report = Report {
        manifest: Some(&manifest),
        near_misses: near.as_deref(),
        coverage: coverage.as_deref(),
        names: &names,
        ..Report::new(&audit.cases, &audit.findings, &audit.exempted)
    };
    let text = render::render(&report, args.format, Options { color });
    crate::timings::mark("report: rendered");
    let written = emit(args.output.as_deref(), &text, format);
    crate::timings::mark("report: written");
    // The process ends here: freeing every fact one by one would only cost time.
    std::mem::forget(engine);
    if written != Exit::Ok {
        return written;
    }
    let fail_on = args.fail_on.map(|s| s.0);
    match fail_on {
        Some(level) if audit.findings.iter().any(|f| f.severity >= level) => Exit::Findings,
        _ => Exit::Ok,
    }
}

/// Writes the output to a file (atomically) or to standard output.
pub fn emit(output: Option<&Path>, text: &str, format: ErrorFormat) -> Exit {
    match output {
        Some(path) => match write_atomically(path, text) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                let shown = path.display().to_string();
                let d = Diagnostic::error(
                    "probity::cli::unwritable_output",
                    format!("cannot write `{shown}`: {e}"),
                )
                .at_place(Place::File(shown))
                .help("check that the folder exists and is writable");
                report_alone(&[d], format);
                Exit::Usage
            }
        },
        None => print_stdout(text),
    }
}
