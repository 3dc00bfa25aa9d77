//! Reading `*.ftm.jsonl` line by line: a reused buffer, so a file of millions of lines
//! is never held whole, and each line parsed into an [`Entity`].
//!
//! Blank lines are skipped. Top-level keys other than `id`, `schema` and `properties`
//! (`caption`, `datasets`, `first_seen`, …) are metadata of the exporting tool and are
//! not read. A property value that is not a string (a number, a nested entity with an
//! `id`) is read as its text or its id.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read};

use serde_json::Value as Json;

use crate::case::errors::CaseError;

/// One FtM entity as written on its line.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Entity {
    pub id: String,
    pub schema: String,
    /// Every property's values, by property name (so in a stable order).
    pub props: BTreeMap<String, Vec<String>>,
}

/// Parses one line; a line that is not an entity is an error to report at it.
pub(crate) fn parse(line: &str) -> Result<Entity, CaseError> {
    let json: Json = serde_json::from_str(line).map_err(|e| CaseError::BadJson {
        reason: e.to_string(),
    })?;
    let Json::Object(obj) = json else {
        return Err(CaseError::BadJson {
            reason: "a line must hold one JSON object".into(),
        });
    };
    let text = |key: &str| match obj.get(key) {
        Some(Json::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(CaseError::MissingField {
            rel: "FtM entity".into(),
            field: key.into(),
        }),
    };
    let (id, schema) = (text("id")?, text("schema")?);
    let mut props = BTreeMap::new();
    match obj.get("properties") {
        None | Some(Json::Null) => {}
        Some(Json::Object(p)) => {
            for (k, v) in p {
                let values: Vec<String> = match v {
                    Json::Array(items) => items.iter().filter_map(scalar).collect(),
                    other => scalar(other).into_iter().collect(),
                };
                if !values.is_empty() {
                    props.insert(k.clone(), values);
                }
            }
        }
        Some(_) => {
            return Err(CaseError::BadJson {
                reason: "`properties` must be an object of lists of strings".into(),
            });
        }
    }
    Ok(Entity { id, schema, props })
}

/// A property value as text: strings trimmed (empty ones dropped), numbers and booleans
/// as written, a nested entity as its id.
fn scalar(v: &Json) -> Option<String> {
    let s = match v {
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Object(o) => match o.get("id") {
            Some(Json::String(s)) => s.trim().to_string(),
            _ => return None,
        },
        Json::Null | Json::Array(_) => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// Reads a file's lines, reporting progress on stderr when it is a terminal.
pub(crate) struct Lines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    line: u32,
    label: String,
    progress: bool,
}

impl<R: Read> Lines<R> {
    pub fn new(reader: R, label: &str) -> Lines<R> {
        Lines {
            reader: BufReader::with_capacity(1 << 16, reader),
            buf: Vec::new(),
            line: 0,
            label: label.to_string(),
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// No progress output, whatever stderr is.
    pub fn quiet(&mut self) {
        self.progress = false;
    }

    /// The next non-blank line with its number; `Ok(None)` at the end. A line that is
    /// not UTF-8 comes back as `Err` with its number; reading goes on after it.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u32, Result<&str, CaseError>)>> {
        loop {
            self.buf.clear();
            if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
                if self.progress && self.line >= PROGRESS_EVERY {
                    eprintln!("\r{}: {} lines", self.label, self.line);
                }
                return Ok(None);
            }
            self.line += 1;
            if self.progress && self.line % PROGRESS_EVERY == 0 {
                eprint!("\r{}: {} lines…", self.label, self.line);
            }
            let mut start = 0;
            if self.line == 1 && self.buf.starts_with(b"\xef\xbb\xbf") {
                start = 3;
            }
            let mut end = self.buf.len();
            while end > start && matches!(self.buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if self.buf[start..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let text =
                std::str::from_utf8(&self.buf[start..end]).map_err(|_| CaseError::InvalidUtf8);
            return Ok(Some((self.line, text)));
        }
    }
}

/// Lines between progress updates.
const PROGRESS_EVERY: u32 = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftm_lines_parse_into_entities() {
        let e = parse(r#"{"id":"p1","schema":"Person","properties":{"name":["Ann"," "],"n":[3]}}"#);
        let e = e.ok().unwrap_or_default();
        assert_eq!((e.id.as_str(), e.schema.as_str()), ("p1", "Person"));
        assert_eq!(e.props.get("name"), Some(&vec!["Ann".to_string()]));
        assert_eq!(e.props.get("n"), Some(&vec!["3".to_string()]));
        assert!(matches!(parse("{"), Err(CaseError::BadJson { .. })));
        assert!(matches!(parse("[1]"), Err(CaseError::BadJson { .. })));
        assert!(matches!(
            parse(r#"{"schema":"Person"}"#),
            Err(CaseError::MissingField { .. })
        ));
    }

    #[test]
    fn ftm_lines_skip_blanks_and_count() {
        let text = "\u{feff}{\"a\":1}\r\n\n  \n{\"b\":2}\n";
        let mut r = Lines::new(text.as_bytes(), "t");
        let mut got = Vec::new();
        while let Ok(Some((n, l))) = r.next_line() {
            got.push((n, l.map(String::from).ok()));
        }
        let want = vec![(1, Some("{\"a\":1}".into())), (4, Some("{\"b\":2}".into()))];
        assert_eq!(got, want);
    }
}
