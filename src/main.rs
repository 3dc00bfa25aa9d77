//! The `probity` command line: parse arguments, run one subcommand, map to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    probity::hugepages::reexec();
    probity::cli::main()
}
