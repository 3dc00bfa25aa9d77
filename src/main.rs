//! The `probity` command line: parse arguments, run one subcommand, map to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    probity::cli::main()
}
