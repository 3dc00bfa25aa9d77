//! What every subcommand shares: exit codes, output that tolerates a closed pipe, and
//! loading rule files with diagnostics printed to stderr.

use std::io::{self, Write};
use std::path::PathBuf;

use super::ErrorFormat;
use crate::diag::{self, Diagnostic, SourceMap};
use crate::ir::Program;

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; nothing at or above `--fail-on`, every test passed.
    Ok = 0,
    /// Findings at or above `--fail-on`, or a test failed, or `fmt --check` found changes,
    /// or `diff --exit-code` found reports that differ.
    Findings = 1,
    /// Bad input or usage.
    Usage = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// Writes to stdout; a closed pipe is not an error (the reader has what it wanted).
pub fn print_stdout(text: &str) -> Exit {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!(
                "error: cannot write to standard output: {e}\n  = help: check the file or device standard output is sent to (full, or not writable?); `audit`, `graph` and `diff` can write to a file instead with `--output FILE`"
            );
            Exit::Usage
        }
    }
}

/// Prints diagnostics to stderr in the chosen format.
/// [`report`] of diagnostics that point at no rule file (a case's, a report's, the
/// command line's), so need no source map.
pub fn report_alone(diags: &[Diagnostic], format: ErrorFormat) {
    report(&SourceMap::new(), diags, format);
}

pub fn report(map: &SourceMap, diags: &[Diagnostic], format: ErrorFormat) {
    if diags.is_empty() {
        return;
    }
    let text = match format {
        ErrorFormat::Human => diag::render(map, diags),
        ErrorFormat::Json => diag::render_json(map, diags) + "\n",
    };
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// The rule paths to use: the given ones, else `rules/` in the working directory.
pub fn rule_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        paths.to_vec()
    }
}

/// Loads and checks rule files, printing diagnostics; `None` if there were errors.
pub fn load_rules(map: &mut SourceMap, paths: &[PathBuf], format: ErrorFormat) -> Option<Program> {
    let checked = crate::resolve::load(map, &rule_paths(paths));
    report(map, &checked.diagnostics, format);
    checked.program
}

/// Writes `text` to `path` through a temporary file in the same folder, then renames it,
/// so readers never see a half-written file and an interrupted run leaves the old one.
pub fn write_atomically(path: &std::path::Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    remove_stale_temps(&dir, &name);
    let tmp = dir.join(format!(".{name}.probity-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A one-line status on stderr for long loads and evaluations, shown only when stderr is
/// a terminal (never in pipes, files or CI logs); cleared when dropped.
pub struct Progress {
    on: bool,
    start: std::time::Instant,
}

impl Progress {
    pub fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            on: io::stderr().is_terminal(),
            start: std::time::Instant::now(),
        }
    }

    /// Replaces the status line: `probity: loading cases/x… (1.2 s)`.
    pub fn step(&self, what: &str) {
        if self.on {
            let secs = self.start.elapsed().as_secs_f64();
            let _ = write!(io::stderr(), "\r\x1b[2Kprobity: {what}… ({secs:.1} s)");
            let _ = io::stderr().flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.on {
            let _ = write!(io::stderr(), "\r\x1b[2K");
            let _ = io::stderr().flush();
        }
    }
}

/// Removes temporary files an earlier, killed run left beside `name`: those of
/// processes that no longer exist (known through `/proc`; elsewhere nothing is removed).
fn remove_stale_temps(dir: &std::path::Path, name: &str) {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let prefix = format!(".{name}.probity-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".tmp"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
