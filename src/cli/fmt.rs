//! `probity fmt [--check] [PATHS…]`: rewrite rule files in the canonical layout.
//!
//! A folder contributes every `*.coi` below it (`std/` included), sorted by path. A file
//! with syntax errors is reported and never rewritten. Before a file is rewritten, the
//! formatted text is parsed again and must give the same program and comments; if it
//! does not (a formatter bug), the file is left alone and the run fails.
//!
//! Exit codes: 0 nothing to do (or everything rewritten); 1 with `--check` when a file
//! would change (the files are listed on stdout); 2 on syntax errors or unreadable paths.

use std::path::{Path, PathBuf};

use super::ErrorFormat;
use super::common::{Exit, print_stdout, report, rule_paths, write_atomically};
use crate::diag::{Diagnostic, Place, SourceMap};

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed(String),
    Broken,
}

pub fn run(paths: &[PathBuf], check: bool, format: ErrorFormat) -> Exit {
    let mut files = Vec::new();
    let mut usage = false;
    let mut diags = Vec::new();
    for root in rule_paths(paths) {
        match collect(&root) {
            Ok(mut found) => files.append(&mut found),
            Err(e) => {
                diags.push(crate::resolve::unreadable(
                    &shown(&root),
                    &e.to_string(),
                    None,
                ));
                usage = true;
            }
        }
    }
    files.sort();
    files.dedup();
    let mut map = SourceMap::new();
    let (mut changed, mut broken) = (Vec::new(), 0usize);
    for path in &files {
        match format_file(&mut map, path, &mut diags) {
            Ok(Outcome::Unchanged) => {}
            Ok(Outcome::Changed(text)) => changed.push((path, text)),
            Ok(Outcome::Broken) => broken += 1,
            Err(e) => {
                diags.push(crate::resolve::unreadable(
                    &shown(path),
                    &e.to_string(),
                    None,
                ));
                usage = true;
            }
        }
    }
    if check {
        let list: String = changed
            .iter()
            .map(|(p, _)| format!("{}\n", shown(p)))
            .collect();
        if print_stdout(&list) != Exit::Ok {
            return Exit::Usage;
        }
    } else {
        for (path, text) in &changed {
            if let Err(e) = write_atomically(path, text) {
                diags.push(
                    Diagnostic::error(
                        "probity::fmt::unwritable_file",
                        format!("cannot write `{}`: {e}", shown(path)),
                    )
                    .at_place(Place::File(shown(path)))
                    .help("check that the file and its folder are writable; the file is unchanged"),
                );
                usage = true;
            }
        }
    }
    // Every problem at once: one JSON array with `--error-format json`.
    crate::diag::sort(&mut diags);
    report(&map, &diags, format);
    if format == ErrorFormat::Human {
        let verb = if check {
            "would reformat"
        } else {
            "reformatted"
        };
        let mut line = format!("{verb} {} of {} files", changed.len(), files.len() - broken);
        if broken > 0 {
            line.push_str(&format!("; {broken} with errors left as they are"));
        }
        eprintln!("{line}");
    }
    if usage || broken > 0 {
        Exit::Usage
    } else if check && !changed.is_empty() {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// A path as printed: `/` separators.
fn shown(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// The `*.coi` files of a path: the file itself, or every one below a folder.
fn collect(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(root)?;
    if meta.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    // Folders already walked, by canonical path: a symlink loop is walked once.
    let mut seen = std::collections::HashSet::new();
    while let Some(dir) = stack.pop() {
        if !seen.insert(std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone())) {
            continue;
        }
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "coi") {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// Parses and formats one file; syntax errors and formatter faults go to `diags`.
fn format_file(
    map: &mut SourceMap,
    path: &Path,
    diags: &mut Vec<Diagnostic>,
) -> std::io::Result<Outcome> {
    let bytes = crate::limits::read_file(path).map_err(|e| match e {
        crate::limits::ReadError::Io(e) => e,
        other => std::io::Error::other(other.to_string()),
    })?;
    let mut text = String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text")
    })?;
    // A byte-order mark is dropped: the formatted file is written without one.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    let text = crate::syntax::lone_cr_to_lf(text);
    let id = map.add(shown(path), text.clone());
    let (ast, found) = crate::syntax::parse(id, &text);
    let errors = found.iter().any(Diagnostic::is_error);
    diags.extend(found);
    if errors {
        return Ok(Outcome::Broken);
    }
    let formatted = crate::syntax::fmt::format(&ast, &text);
    if formatted == text {
        return Ok(Outcome::Unchanged);
    }
    let (again, problems) = crate::syntax::parse(id, &formatted);
    if without_spans(&again) != without_spans(&ast) || problems.iter().any(Diagnostic::is_error) {
        diags.push(
            Diagnostic::error(
                "fmt_changed_meaning",
                format!(
                    "formatting `{}` would change what it means; the file was left as it is",
                    shown(path)
                ),
            )
            .at_place(Place::File(shown(path)))
            .help("this is a bug in `probity fmt`: please report it with the file"),
        );
        return Ok(Outcome::Broken);
    }
    Ok(Outcome::Changed(formatted))
}

/// The AST's debug text with every span left out: what the file means, not where.
fn without_spans(file: &crate::syntax::ast::File) -> String {
    let text = format!("{file:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // A span's debug text has no nested braces.
        let end = rest.find('}').map_or(rest.len(), |e| e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
