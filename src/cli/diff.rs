//! `probity diff OLD.json NEW.json`: findings new, resolved and changed between two
//! JSON reports, as a table or as JSON.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ErrorFormat;
use super::audit::emit;
use super::common::{Exit, report_alone};
use crate::diag::{Diagnostic, Place};
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
    /// Exit with 1 if a finding is new, resolved or changed (0 if the reports agree), as
    /// `diff` and `git diff --exit-code` do.
    #[arg(long)]
    pub exit_code: bool,
}

/// The findings of the report at `path`, or the problem with it.
fn load(path: &Path) -> Result<BTreeMap<String, Entry>, Box<Diagnostic>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| {
            Diagnostic::error(
                "probity::diff::unreadable_file",
                format!("cannot read `{shown}`: {e}"),
            )
            .at_place(Place::File(shown.clone()))
            .help("give the path of a report written by `probity audit CASE --format json`")
        })
        .map_err(Box::new)?;
    diff::read(&text).map_err(|e| Box::new(e.diagnostic(&shown, &text)))
}

pub fn run(args: &DiffArgs, format: ErrorFormat) -> Exit {
    let (old, new) = match (load(&args.old), load(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (old, new) => {
            // Both files' problems, not only the first.
            let diags: Vec<Diagnostic> = [old.err(), new.err()]
                .into_iter()
                .flatten()
                .map(|d| *d)
                .collect();
            report_alone(&diags, format);
            return Exit::Usage;
        }
    };
    let d = diff::diff(&display_dir(&args.old), &display_dir(&args.new), &old, &new);
    let text = match args.format {
        DiffFormat::Table => diff::render_table(&d),
        DiffFormat::Json => diff::render_json(&d),
    };
    let written = emit(args.output.as_deref(), &text, format);
    let differ = !(d.new.is_empty() && d.resolved.is_empty() && d.changed.is_empty());
    match written {
        Exit::Ok if args.exit_code && differ => Exit::Findings,
        other => other,
    }
}
