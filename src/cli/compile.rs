//! `probity compile RULES… --to sql --dialect duckdb|postgres|spark`: rules as SQL.

use std::path::PathBuf;

use super::ErrorFormat;
use super::common::{Exit, load_rules, print_stdout, report};
use crate::diag::SourceMap;
use crate::sql::Dialect;

/// What to compile to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Sql,
}

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// Rule files or folders (default: `rules/`).
    pub paths: Vec<PathBuf>,
    /// The output language.
    #[arg(long, value_enum, default_value_t = Target::Sql)]
    pub to: Target,
    /// The SQL engine.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// Override a parameter: `--param cooling_off=1y`.
    #[arg(long, value_name = "NAME=VALUE")]
    pub param: Vec<String>,
}

pub fn run(args: &CompileArgs, format: ErrorFormat) -> Exit {
    let mut map = SourceMap::new();
    let Some(program) = load_rules(&mut map, &args.paths, format) else {
        return Exit::Usage;
    };
    let params = match crate::sql::param_values(&program, &args.param) {
        Ok(p) => p,
        Err(diags) => {
            report(&map, &diags, format);
            return Exit::Usage;
        }
    };
    match crate::sql::compile(&program, args.dialect, &params) {
        Ok(sql) => print_stdout(&sql),
        Err(diags) => {
            report(&map, &diags, format);
            Exit::Usage
        }
    }
}
