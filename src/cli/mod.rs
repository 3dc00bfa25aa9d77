//! Command-line interface: clap arguments, one file per subcommand, one exit-code enum.
//!
//! stdout carries only the requested output; diagnostics and progress go to stderr.
//! A closed stdout (`probity audit … | head`) ends the run quietly, as success.

mod audit;
mod check;
mod common;
mod compile;
mod diff;
mod explain;
mod fmt;
mod graph;
mod import;
mod test;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use common::Exit;

/// Probity: flag conflicts of interest in case data with rules you can read.
#[derive(Debug, Parser)]
#[command(name = "probity", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How to print diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource limits (see "Limits" in docs/language.md); each error names the flag to raise.
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// Most bytes of one rule or case file.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = crate::limits::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Most facts in one case folder.
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT_MAX_FACTS)]
    pub max_facts: u64,
    /// Most tuples one evaluation derives (and distinct bindings one aggregate ranges over).
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT_MAX_DERIVED)]
    pub max_derived: u64,
    /// Most rounds of one recursive stratum (the longest chain of recursive derivations).
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT_MAX_ITERATIONS)]
    pub max_iterations: u64,
}

impl LimitArgs {
    fn apply(&self) {
        crate::limits::set_max_file_size(self.max_file_size);
        crate::limits::set_max_facts(self.max_facts);
        crate::limits::set_max_derived(self.max_derived);
        crate::limits::set_max_iterations(self.max_iterations);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, resolve and type-check rule files; print every problem.
    Check {
        /// Rule files or folders (default: `rules/`).
        paths: Vec<PathBuf>,
    },
    /// Run the `test` blocks of rule files; ends with `N passed, N failed`.
    Test {
        /// Rule files or folders (default: `rules/`).
        paths: Vec<PathBuf>,
        /// Run only tests whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Also print the findings each test's given facts produce.
        #[arg(long)]
        findings: bool,
    },
    /// Rewrite rule files in the canonical layout (comments kept).
    Fmt {
        /// Rule files or folders, `std/` included (default: `rules/`).
        paths: Vec<PathBuf>,
        /// Change nothing: list the files that would change, and exit with 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Run rules over case folders and print the findings.
    Audit(AuditArgs),
    /// Print the relationship graph of a case (entities and the facts linking them), or
    /// the neighbourhood of one entity.
    Graph(graph::GraphArgs),
    /// Compare two JSON reports: findings new, resolved and changed.
    Diff(diff::DiffArgs),
    /// Write a case folder from FollowTheMoney entities or a mapped CSV register.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Compile rule files to SQL for DuckDB, PostgreSQL or Spark SQL.
    Compile(compile::CompileArgs),
    /// Explain a finding (its derivation tree down to the case facts and their sources),
    /// or print the evaluation plan of rule files.
    Explain {
        /// The case folder the finding is in.
        case: Option<PathBuf>,
        /// The finding's id (from `audit --format json`, or a unique prefix of it).
        #[arg(long, requires = "case")]
        finding: Option<String>,
        /// Rule files or folders (default: `CASE/rules/`, else `rules/`).
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Override a parameter: `--param cooling_off=1y`.
        #[arg(long, value_name = "NAME=VALUE")]
        param: Vec<String>,
        /// Print the plan of these rule files or folders instead (with CASE: the plan
        /// `audit` makes for that case, its joins ordered by the case's sizes).
        #[arg(long, num_args = 1.., conflicts_with = "finding")]
        plan: Vec<PathBuf>,
    },
}

/// A severity on the command line.
#[derive(Debug, Clone, Copy)]
pub struct SeverityArg(pub crate::syntax::ast::Severity);

fn parse_severity(s: &str) -> Result<SeverityArg, String> {
    crate::syntax::ast::Severity::parse(s)
        .map(SeverityArg)
        .ok_or_else(|| format!("`{s}` is not a severity: use info, low, medium, high or critical"))
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Case folders.
    #[arg(required = true)]
    pub cases: Vec<PathBuf>,
    /// Rule files or folders (default: `CASE/rules/`, else `rules/`).
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::render::Format::Table)]
    pub format: crate::render::Format,
    /// Leave out findings below this severity.
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<SeverityArg>,
    /// Exit with 1 if any finding is at or above this severity.
    #[arg(long, value_parser = parse_severity)]
    pub fail_on: Option<SeverityArg>,
    /// Override a parameter: `--param cooling_off=1y`.
    #[arg(long, value_name = "NAME=VALUE")]
    pub param: Vec<String>,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Leave the time of the run out of the manifest (for reproducible output).
    #[arg(long)]
    pub no_timestamp: bool,
    /// Also list, per rule, bindings that met every condition but one, and which failed.
    #[arg(long)]
    pub near_misses: bool,
    /// Also report data no rule read: unread facts, unsourced entities, missing dates.
    #[arg(long)]
    pub coverage: bool,
    /// Evaluate the rules on an SQL engine (through its command-line client) instead of
    /// the native one; the findings and their evidence are the same.
    #[arg(long, value_enum, default_value_t = EngineArg::Native)]
    pub engine: EngineArg,
    /// With `--engine duckdb`: a database file (default: a new temporary one). With
    /// `--engine postgres`: a connection string or URL, as `psql -d` takes it.
    #[arg(long, value_name = "URL")]
    pub connect: Option<String>,
    /// The engine's command-line client (default: `$PROBITY_DUCKDB` or `duckdb`,
    /// `$PROBITY_PSQL` or `psql`).
    #[arg(long, value_name = "PATH")]
    pub client: Option<PathBuf>,
}

/// Where `probity audit` evaluates the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// Probity's own engine.
    Native,
    /// DuckDB, through the `duckdb` client.
    Duckdb,
    /// PostgreSQL, through `psql`.
    Postgres,
}

impl AuditArgs {
    /// The SQL engine chosen, if any.
    pub fn sql_engine(&self) -> Option<crate::sql::remote::SqlEngine> {
        let dialect = match self.engine {
            EngineArg::Native => return None,
            EngineArg::Duckdb => crate::sql::Dialect::Duckdb,
            EngineArg::Postgres => crate::sql::Dialect::Postgres,
        };
        Some(crate::sql::remote::SqlEngine {
            dialect,
            connect: self.connect.clone(),
            client: self.client.clone(),
        })
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            let _ = e.print();
            return code.into();
        }
    };
    cli.limits.apply();
    let exit = match &cli.command {
        Command::Check { paths } => check::run(paths, cli.error_format),
        Command::Test {
            paths,
            filter,
            findings,
        } => test::run(paths, filter.as_deref(), *findings, cli.error_format),
        Command::Fmt { paths, check } => fmt::run(paths, *check, cli.error_format),
        Command::Audit(args) => audit::run(args, cli.error_format),
        Command::Graph(args) => graph::run(args, cli.error_format),
        Command::Diff(args) => diff::run(args, cli.error_format),
        Command::Compile(args) => compile::run(args, cli.error_format),
        Command::Import(cmd) => import::run(cmd, cli.error_format),
        Command::Explain {
            case,
            finding,
            rules,
            param,
            plan,
        } => match (case, finding) {
            (Some(case), Some(id)) => {
                explain::run_finding(case, id, rules, param, cli.error_format)
            }
            (case, _) if !plan.is_empty() => {
                explain::run_plan(plan, case.as_deref(), cli.error_format)
            }
            _ => {
                let d = crate::diag::Diagnostic::error(
                    "probity::cli::nothing_to_explain",
                    "nothing to explain",
                )
                .help("use `probity explain CASE --finding ID` or `probity explain --plan RULES…`");
                common::report_alone(&[d], cli.error_format);
                Exit::Usage
            }
        },
    };
    exit.into()
}
