//! Helpers shared by the integration tests: golden files with an update switch, running
//! the `probity` binary, and expected/got failure blocks.
#![allow(dead_code)]

pub mod html;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Compares `got` with the golden file; with `UPDATE_GOLDEN=1` writes it instead.
/// Returns a readable expected/got block on mismatch.
pub fn golden(path: &Path, got: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, got) {
            return Some(format!("cannot write {}: {e}", path.display()));
        }
        return None;
    }
    let want = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it, then review it)",
                path.display()
            ));
        }
    };
    if want == got {
        return None;
    }
    Some(format!(
        "--- mismatch: {}\n--- expected:\n{want}\n--- got:\n{got}\n--- (UPDATE_GOLDEN=1 rewrites after review)",
        path.display()
    ))
}

/// The repository root: the binary runs here, with relative paths, so outputs name
/// `cases/flagship/ties.toml`, never an absolute path.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one run of the binary did.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    /// `None` if it was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The command and everything it printed, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- command: probity {}\n--- exit code: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `probity ARGS` in the repository root with `NO_COLOR` unset and stdin closed.
pub fn probity(args: &[&str]) -> Run {
    probity_with(args, |_| {})
}

/// Like [`probity`], letting the caller adjust the command (environment, cwd).
pub fn probity_with(args: &[&str], adjust: impl FnOnce(&mut Command)) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probity"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    adjust(&mut cmd);
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            return Run {
                args: args.iter().map(|s| s.to_string()).collect(),
                code: None,
                stdout: String::new(),
                stderr: format!("cannot run the binary: {e}"),
            };
        }
    };
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `None` if equal, else an expected/got block headed by `what`.
pub fn diff(what: &str, want: &str, got: &str) -> Option<String> {
    (want != got).then(|| format!("--- {what}\n--- expected:\n{want}\n--- got:\n{got}\n"))
}

/// Fails the test with every problem found, separated by blank lines.
pub fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} problem(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
