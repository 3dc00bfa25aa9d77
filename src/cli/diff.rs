//! `probity diff OLD.json NEW.json`: findings new, resolved and changed between two
//! JSON reports, as a table or as JSON.

use std::path::PathBuf;

use super::audit::emit;
use super::common::Exit;
use crate::diff::{self, Entry};
use crate::engine::display_dir;

/// Output formats of `probity diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier report (`probity audit … --format json`).
    pub old: PathBuf,
    /// The later report.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn load(path: &PathBuf) -> Result<std::collections::BTreeMap<String, Entry>, Exit> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", path.display());
        Exit::Usage
    })?;
    diff::read(&text).map_err(|e| {
        eprintln!("error: `{}`: {e}", path.display());
        Exit::Usage
    })
}

pub fn run(args: &DiffArgs) -> Exit {
    let (old, new) = match (load(&args.old), load(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let d = diff::diff(&display_dir(&args.old), &display_dir(&args.new), &old, &new);
    let text = match args.format {
        DiffFormat::Table => diff::render_table(&d),
        DiffFormat::Json => diff::render_json(&d),
    };
    emit(args.output.as_deref(), &text)
}
