//! `probity import ftm|csv`: registers in other formats written as a case folder.
//!
//! Exit codes: 0 every input row or line became facts; 1 some CSV rows were bad and
//! left out (each reported with its row number); 2 bad input or usage: nothing written.

use std::path::PathBuf;

use clap::Subcommand;

use super::ErrorFormat;
use super::common::{Exit, report};
use crate::diag::SourceMap;
use crate::import::{self, Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// FollowTheMoney entities (JSON lines) to a case folder.
    Ftm {
        /// `.ftm.jsonl` (or any JSON-lines) files of FtM entities.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The case folder to write (created if missing).
        #[arg(long, value_name = "CASE_DIR")]
        into: PathBuf,
        /// The case's title in a new `case.toml`.
        #[arg(long)]
        title: Option<String>,
        /// Rules whose schema to check against (default: the standard vocabulary).
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Replace data files that already exist in the case folder.
        #[arg(long)]
        force: bool,
    },
    /// A CSV register, read through a mapping file, to a case folder.
    Csv {
        /// The CSV file (a header row, then one record per row).
        file: PathBuf,
        /// The mapping file (TOML): relation, fields, rewrites, date formats, ids.
        #[arg(long, value_name = "MAP.toml")]
        map: PathBuf,
        /// The case folder to write (created if missing).
        #[arg(long, value_name = "CASE_DIR")]
        into: PathBuf,
        /// Bad rows to report and leave out before giving up (writing nothing).
        #[arg(long, value_name = "N", default_value_t = 100)]
        max_errors: usize,
        /// Rules whose schema to check against (default: the standard vocabulary).
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Replace data files that already exist in the case folder.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cmd: &ImportCommand, format: ErrorFormat) -> Exit {
    let rules = match cmd {
        ImportCommand::Ftm { rules, .. } | ImportCommand::Csv { rules, .. } => rules,
    };
    let program = match import::program(rules) {
        Ok(p) => p,
        Err(f) => {
            report(&f.map, &f.diagnostics, format);
            return Exit::Usage;
        }
    };
    let result = match cmd {
        ImportCommand::Ftm {
            files,
            into,
            title,
            force,
            ..
        } => import::ftm::import(&program, files, into, title.as_deref(), *force),
        ImportCommand::Csv {
            file,
            map,
            into,
            max_errors,
            force,
            ..
        } => {
            let opt = import::csv_rows::CsvImport {
                csv: file,
                map,
                into,
                max_errors: *max_errors,
                force: *force,
            };
            import::import_csv(&program, &opt)
        }
    };
    let map = SourceMap::new();
    match result {
        Ok(Outcome {
            written,
            facts,
            rejected,
            warnings,
        }) => {
            report(&map, &warnings, format);
            let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            let left_out = if rejected > 0 {
                format!(", {rejected} bad rows left out")
            } else {
                String::new()
            };
            eprintln!(
                "imported {facts} facts{left_out}: wrote {}",
                files.join(", ")
            );
            if rejected > 0 {
                Exit::Findings
            } else {
                Exit::Ok
            }
        }
        Err(Failure::Input(diags)) => {
            report(&map, &diags, format);
            Exit::Usage
        }
        Err(Failure::Output(msg)) => {
            let d = crate::diag::Diagnostic::error("probity::import::unwritable_output", msg)
                .help("check that the folder is writable");
            report(&map, &[d], format);
            Exit::Usage
        }
    }
}
