//! Diagnostics: spans, the source map, typed problems from every stage, rendered in one place.
//!
//! Each stage reports problems as [`Diagnostic`] values with a stable code
//! (`probity::resolve::unknown_relation`); nothing is printed until the caller has
//! collected them all. [`render`] draws the rustc-style text; [`render_json`] the same as JSON.

use serde::Serialize;

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One loaded source text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user should see it (relative where the user gave it so).
    pub path: String,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).max(start);
        let col = self
            .text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(end - start);
        (line as u32 + 1, col as u32 + 1)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line.max(1) - 1) as usize;
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self
            .line_starts
            .get(i + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text
            .get(start as usize..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

/// All source texts of a run, addressed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
    /// `path:line:col` of the start of a span.
    pub fn locate(&self, span: Span) -> String {
        let f = self.get(span.file);
        let (l, c) = f.line_col(span.start);
        format!("{}:{}:{}", f.path, l, c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// Where a problem is: a span in a loaded source, or a point in a data file that is not
/// kept in memory (a large CSV), with the offending line's text.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    Span(Span),
    Point {
        path: String,
        line: u32,
        col: u32,
        /// How many characters to underline (at least 1).
        len: u32,
        line_text: String,
    },
    /// A whole file (unreadable, missing).
    File(String),
}

/// A problem found by any stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub level: Level,
    /// Stable code, `probity::<stage>::<name>`.
    pub code: &'static str,
    /// Lower case, no final period, user input in backticks.
    pub message: String,
    pub place: Option<Place>,
    /// Further places worth showing (for example the other end of a cycle).
    pub notes: Vec<(Place, String)>,
    /// Names the fix.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            code,
            message: message.into(),
            place: None,
            notes: Vec::new(),
            help: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, message)
        }
    }
    pub fn at(mut self, span: Span) -> Diagnostic {
        self.place = Some(Place::Span(span));
        self
    }
    pub fn at_place(mut self, place: Place) -> Diagnostic {
        self.place = Some(place);
        self
    }
    pub fn note(mut self, span: Span, msg: impl Into<String>) -> Diagnostic {
        self.notes.push((Place::Span(span), msg.into()));
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// Sorts diagnostics into a stable order: by file, position, then code.
pub fn sort(diags: &mut [Diagnostic]) {
    fn key(d: &Diagnostic) -> (u32, u32, u32, String) {
        match &d.place {
            Some(Place::Span(s)) => (0, s.file.0, s.start, String::new()),
            Some(Place::Point {
                path, line, col, ..
            }) => (1, *line, *col, path.clone()),
            Some(Place::File(p)) => (1, 0, 0, p.clone()),
            None => (2, 0, 0, String::new()),
        }
    }
    diags.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        (ka.0, &ka.3, ka.1, ka.2, a.code).cmp(&(kb.0, &kb.3, kb.1, kb.2, b.code))
    });
}

struct Resolved {
    path: String,
    line: u32,
    col: u32,
    len: u32,
    text: String,
}

fn resolve(map: &SourceMap, place: &Place) -> Option<Resolved> {
    match place {
        Place::Span(s) => {
            let f = map.get(s.file);
            let (line, col) = f.line_col(s.start);
            let text = f.line_text(line).to_string();
            let (eline, ecol) = f.line_col(s.end);
            let len = if eline == line {
                ecol.saturating_sub(col).max(1)
            } else {
                (text.chars().count() as u32 + 1).saturating_sub(col).max(1)
            };
            Some(Resolved {
                path: f.path.clone(),
                line,
                col,
                len,
                text,
            })
        }
        Place::Point {
            path,
            line,
            col,
            len,
            line_text,
        } => Some(Resolved {
            path: path.clone(),
            line: *line,
            col: *col,
            len: (*len).max(1),
            text: line_text.clone(),
        }),
        Place::File(_) => None,
    }
}

/// Longest line of rendered diagnostics; longer ones (a message quoting a 10 MB key)
/// are cut with `…`.
const MAX_LINE: usize = 500;

/// Rendered text made safe for a terminal: control characters from the input (an ESC
/// that would start a colour sequence, a NUL, a bell) are shown as their Unicode control
/// pictures (`␛`, `␀`), bidirectional overrides as `�`, and overlong lines are cut. Each
/// replaced character is one column wide, so carets stay aligned.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        for (k, c) in body.chars().enumerate() {
            if k == MAX_LINE {
                out.push('…');
                break;
            }
            out.push(match c {
                '\t' => c,
                '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
                '\u{7f}' => '\u{2421}',
                '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                    '\u{fffd}'
                }
                _ => c,
            });
        }
        out.push_str(nl);
    }
    out
}

/// Longest line shown under a caret; longer lines are cut around the span.
const MAX_SHOWN: usize = 200;

/// One source line with a caret under the span; `gutter` is the width of the line-number
/// column, shared by every snippet of a diagnostic so their bars line up.
fn snippet(out: &mut String, r: &Resolved, label: &str, gutter: usize) {
    let pad = " ".repeat(gutter);
    let chars: Vec<char> = r.text.chars().collect();
    let mut start = 0usize;
    let col0 = (r.col as usize).saturating_sub(1);
    if chars.len() > MAX_SHOWN && col0 > MAX_SHOWN / 2 {
        start = col0 - MAX_SHOWN / 2;
    }
    let end = (start + MAX_SHOWN).min(chars.len());
    // A cut line is marked with `...` at the cut ends, as rustc does.
    let (lead, trail) = (
        if start > 0 { "..." } else { "" },
        if end < chars.len() { "..." } else { "" },
    );
    let shown: String = chars[start.min(end)..end]
        .iter()
        .map(|&c| if c == '\t' { ' ' } else { c })
        .collect();
    let shown = format!("{lead}{shown}{trail}");
    let caret_at = col0.saturating_sub(start) + lead.len();
    let caret_len = (r.len as usize).min((MAX_SHOWN + lead.len()).saturating_sub(caret_at).max(1));
    out.push_str(&format!("{pad} |\n"));
    out.push_str(&format!("{:>gutter$} | {}\n", r.line, shown));
    let carets = "^".repeat(caret_len.max(1));
    let label = if label.is_empty() {
        String::new()
    } else {
        format!(" {label}")
    };
    out.push_str(&format!(
        "{pad} | {}{carets}{label}\n",
        " ".repeat(caret_at)
    ));
}

/// Renders one diagnostic as text:
///
/// ```text
/// error[probity::resolve::unknown_relation]: unknown relation `rol`
///   --> rules/x.coi:3:9
///    |
///  3 |         rol(person: p)
///    |         ^^^
///    = help: did you mean `role`?
/// ```
pub fn render_one(map: &SourceMap, d: &Diagnostic) -> String {
    let mut out = String::new();
    let level = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    out.push_str(&format!("{level}[{}]: {}\n", d.code, d.message));
    let main = d.place.as_ref().map(|p| (p, resolve(map, p)));
    let notes: Vec<_> = d
        .notes
        .iter()
        .map(|(p, msg)| (resolve(map, p), msg))
        .collect();
    let gutter = main
        .iter()
        .filter_map(|(_, r)| r.as_ref())
        .chain(notes.iter().filter_map(|(r, _)| r.as_ref()))
        .map(|r| r.line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(gutter);
    match main {
        Some((_, Some(r))) => {
            out.push_str(&format!("{pad}--> {}:{}:{}\n", r.path, r.line, r.col));
            snippet(&mut out, &r, "", gutter);
        }
        Some((Place::File(p), None)) => out.push_str(&format!("{pad}--> {p}\n")),
        _ => {}
    }
    for (r, msg) in &notes {
        match r {
            Some(r) => {
                out.push_str(&format!("{pad}::: {}:{}:{}\n", r.path, r.line, r.col));
                snippet(&mut out, r, msg, gutter);
            }
            None => out.push_str(&format!("{pad} = note: {msg}\n")),
        }
    }
    if let Some(h) = &d.help {
        out.push_str(&format!("{pad} = help: {h}\n"));
    }
    out
}

/// Renders all diagnostics followed by a summary line (`2 errors, 1 warning`), if any.
pub fn render(map: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&terminal_safe(&render_one(map, d)));
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if !diags.is_empty() {
        out.push_str(&summary(errors, warnings));
        out.push('\n');
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `2 errors, 1 warning`
pub fn summary(errors: usize, warnings: usize) -> String {
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[derive(Serialize)]
struct JsonDiag<'a> {
    level: Level,
    code: &'a str,
    message: &'a str,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    end_column: Option<u32>,
    source_line: Option<String>,
    notes: Vec<JsonNote>,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonNote {
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: String,
}

/// The same diagnostics as a JSON array (`--error-format json`).
pub fn render_json(map: &SourceMap, diags: &[Diagnostic]) -> String {
    let items: Vec<JsonDiag> = diags
        .iter()
        .map(|d| {
            let r = d.place.as_ref().and_then(|p| resolve(map, p));
            let file = match (&r, &d.place) {
                (Some(r), _) => Some(r.path.clone()),
                (None, Some(Place::File(p))) => Some(p.clone()),
                _ => None,
            };
            JsonDiag {
                level: d.level,
                code: d.code,
                message: &d.message,
                file,
                line: r.as_ref().map(|r| r.line),
                column: r.as_ref().map(|r| r.col),
                end_column: r.as_ref().map(|r| r.col + r.len),
                source_line: r.as_ref().map(|r| r.text.clone()),
                notes: d
                    .notes
                    .iter()
                    .map(|(p, m)| {
                        let r = resolve(map, p);
                        JsonNote {
                            file: r.as_ref().map(|r| r.path.clone()),
                            line: r.as_ref().map(|r| r.line),
                            column: r.as_ref().map(|r| r.col),
                            message: m.clone(),
                        }
                    })
                    .collect(),
                help: d.help.as_deref(),
            }
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_string())
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Names longer than this (in characters) get no suggestion.
const MAX_SUGGEST_LEN: usize = 256;

/// The closest candidate within a third of the name's length (at least 1 edit), if any.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = name.chars().count();
    // Nobody misspells a 10 MB key; and the edit distance is quadratic.
    if len > MAX_SUGGEST_LEN {
        return None;
    }
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        // The difference in length is a lower bound of the distance.
        .filter(|c| c.len().abs_diff(name.len()) <= limit * 4 && c.len() <= MAX_SUGGEST_LEN * 4)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let mut map = SourceMap::new();
        let f = map.add("r.coi", "rule x {\n    when { rol(p: a) }\n}\n");
        let d = Diagnostic::error(
            "probity::resolve::unknown_relation",
            "unknown relation `rol`",
        )
        .at(Span::new(f, 20, 23))
        .help("did you mean `role`?");
        let got = render_one(&map, &d);
        let want = "error[probity::resolve::unknown_relation]: unknown relation `rol`\n \
                    --> r.coi:2:12\n  |\n2 |     when { rol(p: a) }\n  |            ^^^\n  \
                    = help: did you mean `role`?\n";
        assert_eq!(got, want);
    }

    #[test]
    fn notes_share_the_widest_gutter() {
        let mut map = SourceMap::new();
        let text = format!("rule r {{}}\n{}rule r {{}}\n", "\n".repeat(8));
        let f = map.add("r.coi", text);
        let d = Diagnostic::error(
            "probity::resolve::duplicate_rule",
            "rule `r` is declared twice",
        )
        .at(Span::new(f, 23, 24))
        .note(Span::new(f, 5, 6), "first declared here")
        .help("rename one of them");
        let got = render_one(&map, &d);
        let want = "error[probity::resolve::duplicate_rule]: rule `r` is declared twice
  --> r.coi:10:6
   |
10 | rule r {}
   |      ^
  ::: r.coi:1:6
   |
 1 | rule r {}
   |      ^ first declared here
   = help: rename one of them
";
        assert_eq!(got, want);
    }

    #[test]
    fn long_lines_are_cut_with_an_ellipsis() {
        let mut map = SourceMap::new();
        let text = format!("{}x{}", "a".repeat(300), "b".repeat(300));
        let f = map.add("r.coi", text);
        let d = Diagnostic::error("probity::syntax::too_deep", "nesting is too deep")
            .at(Span::new(f, 300, 301));
        let got = render_one(&map, &d);
        let lines: Vec<&str> = got.lines().collect();
        let shown = lines[3].strip_prefix("1 | ").unwrap_or_default();
        assert!(
            shown.starts_with("...a") && shown.ends_with("b..."),
            "{got}"
        );
        let caret = lines[4].find('^').unwrap_or_default();
        assert_eq!(lines[3].as_bytes().get(caret), Some(&b'x'), "{got}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("rol", ["role", "office"]), Some("role"));
        assert_eq!(did_you_mean("xyz", ["role", "office"]), None);
    }
}
