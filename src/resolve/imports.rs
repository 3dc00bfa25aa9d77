//! Loading: roots from disk or memory, `use` followed iteratively, each file parsed once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, Place, SourceMap, Span, did_you_mean};
use crate::syntax::ast::{self, Item, UseTarget};

use super::{ParseFn, codes};

/// The parser entry point.
pub(crate) fn parse_text(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    crate::syntax::parse(file, text)
}

/// Where a file's text comes from; relative imports resolve against it.
#[derive(Debug, Clone)]
enum Origin {
    Disk(PathBuf),
    Memory(String),
    Std(String),
}

struct Frame {
    key: String,
    origin: Origin,
    file: FileId,
    ast: ast::File,
    next: usize,
    /// Files named by the current `use`, still to load (last first).
    pending: Vec<(Origin, Span)>,
}

struct Loader<'a> {
    map: &'a mut SourceMap,
    parse: ParseFn<'a>,
    /// In-memory mode: normalized path to text.
    memory: Option<HashMap<String, String>>,
    /// Keys being loaded (`false`) or done (`true`).
    state: HashMap<String, bool>,
    out: Vec<(FileId, ast::File)>,
    diags: Vec<Diagnostic>,
}

/// Loads disk roots (files or directories) and everything they import, imports first.
pub(crate) fn load_disk(
    map: &mut SourceMap,
    roots: &[PathBuf],
    parse: ParseFn<'_>,
) -> (Vec<(FileId, ast::File)>, Vec<Diagnostic>) {
    let mut l = Loader::new(map, parse, None);
    for root in roots {
        if root.is_dir() {
            for file in l.walk(root) {
                l.run_root(Origin::Disk(file));
            }
        } else {
            l.run_root(Origin::Disk(root.clone()));
        }
    }
    (l.out, l.diags)
}

/// Loads in-memory files, in the order given, and what they import.
pub(crate) fn load_memory(
    map: &mut SourceMap,
    files: Vec<(String, String)>,
    parse: ParseFn<'_>,
) -> (Vec<(FileId, ast::File)>, Vec<Diagnostic>) {
    let mut order = Vec::new();
    let mut memory = HashMap::new();
    for (path, text) in files {
        let key = normalize(&path);
        if !memory.contains_key(&key) {
            order.push(key.clone());
        }
        memory.insert(key, text);
    }
    let mut l = Loader::new(map, parse, Some(memory));
    for key in order {
        l.run_root(Origin::Memory(key));
    }
    (l.out, l.diags)
}

/// Lexically normalizes a `/`-separated path: drops `.`, resolves `..` where it can.
fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." if !parts.is_empty() || p == "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    parts.join("/")
}

impl<'a> Loader<'a> {
    fn new(
        map: &'a mut SourceMap,
        parse: ParseFn<'a>,
        memory: Option<HashMap<String, String>>,
    ) -> Self {
        Loader {
            map,
            parse,
            memory,
            state: HashMap::new(),
            out: Vec::new(),
            diags: Vec::new(),
        }
    }

    /// Every `*.coi` below `dir`, sorted by path, skipping directories named `std`.
    fn walk(&mut self, dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        // Folders already walked, by canonical path: a symlink loop is walked once.
        let mut seen = std::collections::HashSet::new();
        while let Some(d) = stack.pop() {
            if !seen.insert(std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone())) {
                continue;
            }
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) => {
                    self.diags
                        .push(unreadable(&d.display().to_string(), &e.to_string(), None));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    if p.file_name().is_some_and(|n| n != "std") {
                        stack.push(p);
                    }
                } else if p.extension().is_some_and(|e| e == "coi") {
                    found.push(p);
                }
            }
        }
        found.sort();
        found
    }

    fn key(&self, origin: &Origin) -> String {
        match origin {
            Origin::Disk(p) => std::fs::canonicalize(p)
                .map(|c| c.display().to_string())
                .unwrap_or_else(|_| normalize(&p.display().to_string())),
            Origin::Memory(p) => normalize(p),
            Origin::Std(m) => crate::stdlib::display_path(m),
        }
    }

    fn display(origin: &Origin) -> String {
        match origin {
            Origin::Disk(p) => normalize(&p.display().to_string()),
            Origin::Memory(p) => p.clone(),
            Origin::Std(m) => crate::stdlib::display_path(m),
        }
    }

    /// Reads and parses a file; `at` is the `use` that asked for it (none for roots).
    fn open(&mut self, origin: Origin, at: Option<Span>) -> Option<Frame> {
        let key = self.key(&origin);
        let path = Self::display(&origin);
        let text = match &origin {
            Origin::Disk(p) => match crate::limits::read_file(p) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(e) => {
                        let valid = e.utf8_error().valid_up_to();
                        let bytes = e.into_bytes();
                        let (line, col) = line_col(&bytes, valid);
                        let why = format!(
                            "it is not UTF-8 text (line {line}, column {col}, byte {valid})"
                        );
                        let help = "save the file as UTF-8 text (most editors offer this under \"Save as\" or \"Encoding\")";
                        self.diags.push(unreadable(&path, &why, at).help(help));
                        return None;
                    }
                },
                Err(crate::limits::ReadError::Io(e))
                    if e.kind() == std::io::ErrorKind::NotFound && at.is_some() =>
                {
                    self.diags.push(missing(&path, at, None));
                    return None;
                }
                Err(e @ crate::limits::ReadError::TooLarge { .. }) => {
                    let d =
                        unreadable(&path, &e.to_string(), at).help(crate::limits::FILE_SIZE_HELP);
                    self.diags.push(d);
                    return None;
                }
                Err(e) => {
                    self.diags.push(unreadable(&path, &e.to_string(), at));
                    return None;
                }
            },
            Origin::Memory(p) => match self.memory.as_ref().and_then(|m| m.get(p)) {
                Some(t) => t.clone(),
                None => {
                    let near = self.memory.as_ref().and_then(|m| {
                        did_you_mean(p, m.keys().map(String::as_str)).map(str::to_string)
                    });
                    self.diags.push(missing(&path, at, near));
                    return None;
                }
            },
            Origin::Std(m) => crate::stdlib::module(m).unwrap_or_default().to_string(),
        };
        // A byte-order mark (Windows editors write one) is not part of the text.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let text = crate::syntax::lone_cr_to_lf(text);
        let file = self.map.add(path, text.clone());
        let (ast, errs) = (self.parse)(file, &text);
        self.diags.extend(errs);
        Some(Frame {
            key,
            origin,
            file,
            ast,
            next: 0,
            pending: Vec::new(),
        })
    }

    /// Loads a root and, depth first without recursion, everything it imports.
    fn run_root(&mut self, origin: Origin) {
        if self.state.contains_key(&self.key(&origin)) {
            return;
        }
        let Some(frame) = self.open(origin, None) else {
            return;
        };
        self.state.insert(frame.key.clone(), false);
        let mut stack = vec![frame];
        while let Some(top) = stack.last_mut() {
            if let Some((origin, span)) = top.pending.pop() {
                let key = self.key(&origin);
                match self.state.get(&key) {
                    Some(true) => {}
                    Some(false) => self.diags.push(import_cycle(&stack, &key, span)),
                    None => {
                        if let Some(f) = self.open(origin, Some(span)) {
                            self.state.insert(f.key.clone(), false);
                            stack.push(f);
                        }
                    }
                }
                continue;
            }
            let next_use = top.ast.items[top.next..]
                .iter()
                .position(|i| matches!(i, Item::Use(_)));
            let Some(offset) = next_use else {
                if let Some(done) = stack.pop() {
                    self.state.insert(done.key, true);
                    self.out.push((done.file, done.ast));
                }
                continue;
            };
            let idx = top.next + offset;
            top.next = idx + 1;
            let Item::Use(u) = &top.ast.items[idx] else {
                continue;
            };
            let (target, span) = (u.node.clone(), u.span);
            let from = top.origin.clone();
            let mut targets: Vec<(Origin, Span)> = self
                .targets(&from, &target, span)
                .into_iter()
                .map(|o| (o, span))
                .collect();
            targets.reverse();
            if let Some(top) = stack.last_mut() {
                top.pending = targets;
            }
        }
    }

    /// The files a `use` names, relative to the importing file.
    fn targets(&mut self, from: &Origin, target: &UseTarget, span: Span) -> Vec<Origin> {
        match target {
            UseTarget::Std(None) => crate::stdlib::MODULES
                .iter()
                .map(|(m, _)| Origin::Std((*m).to_string()))
                .collect(),
            UseTarget::Std(Some(m)) if crate::stdlib::module(m).is_some() => {
                vec![Origin::Std(m.clone())]
            }
            UseTarget::Std(Some(m)) => {
                let names = crate::stdlib::MODULES.iter().map(|(n, _)| *n);
                let help = match did_you_mean(m, names) {
                    Some(s) => format!("did you mean `std/{s}`?"),
                    None => format!(
                        "the standard modules are {}",
                        crate::stdlib::MODULES
                            .iter()
                            .map(|(n, _)| format!("`std/{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.diags.push(
                    Diagnostic::error(
                        codes::MISSING_IMPORT,
                        format!("no standard module `std/{m}`"),
                    )
                    .at(span)
                    .help(help),
                );
                Vec::new()
            }
            UseTarget::Path(p) => match from {
                Origin::Disk(f) => {
                    let dir = f.parent().unwrap_or(Path::new(""));
                    vec![Origin::Disk(dir.join(p))]
                }
                Origin::Memory(f) => {
                    let dir = f.rsplit_once('/').map_or("", |(d, _)| d);
                    let joined = if dir.is_empty() {
                        p.clone()
                    } else {
                        format!("{dir}/{p}")
                    };
                    vec![Origin::Memory(normalize(&joined))]
                }
                Origin::Std(_) => {
                    self.diags.push(missing(p, Some(span), None));
                    Vec::new()
                }
            },
        }
    }
}

fn import_cycle(stack: &[Frame], key: &str, span: Span) -> Diagnostic {
    let start = stack.iter().position(|f| f.key == key).unwrap_or(0);
    let mut names: Vec<String> = stack[start..]
        .iter()
        .map(|f| format!("`{}`", Loader::display(&f.origin)))
        .collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    Diagnostic::error(codes::IMPORT_CYCLE, format!("import cycle: {}", names.join(" -> ")))
        .at(span)
        .help("remove one of these `use` lines; move what both files need into a third file that each imports")
}

fn missing(path: &str, at: Option<Span>, near: Option<String>) -> Diagnostic {
    let d = Diagnostic::error(codes::MISSING_IMPORT, format!("cannot find `{path}`"));
    let d = match at {
        Some(s) => d.at(s),
        None => d.at_place(Place::File(path.to_string())),
    };
    match near {
        Some(n) => d.help(format!("did you mean `{n}`?")),
        None => d.help("check the path; it is relative to the file that has the `use`"),
    }
}

/// Line and column (1-based, in characters) of byte `at`.
fn line_col(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

pub(crate) fn unreadable(path: &str, why: &str, at: Option<Span>) -> Diagnostic {
    let d = Diagnostic::error(
        codes::UNREADABLE_FILE,
        format!("cannot read `{path}`: {why}"),
    );
    let d = match at {
        Some(s) => d.at(s),
        None => d.at_place(Place::File(path.to_string())),
    };
    d.help("check that the path exists, is readable and holds UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("rules/./a/../b.coi"), "rules/b.coi");
        assert_eq!(normalize("../x.coi"), "../x.coi");
        assert_eq!(normalize("./x.coi"), "x.coi");
        assert_eq!(normalize("/abs/x.coi"), "/abs/x.coi");
    }
}
