//! Comparing two JSON reports (`probity audit --format json`): which findings are new,
//! which were resolved, and which changed — in severity, message, certainty, period,
//! evidence or exemption — keyed by the stable finding id.
//!
//! Evidence is compared as facts (relation, fields and status), not by file and line,
//! so moving a fact within its file is not a change. Exempted findings take part: a
//! finding that became exempted (or stopped being) is changed, not new or resolved.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value as Json;

/// Version of the `probity diff --format json` document.
pub const DIFF_SCHEMA: &str = "probity.diff/1";

/// A finding as the diff names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub case: String,
    pub message: String,
    pub exempted: bool,
    #[serde(skip)]
    certainty: String,
    #[serde(skip)]
    period: String,
    #[serde(skip)]
    evidence: Vec<String>,
    #[serde(skip)]
    exemption: String,
}

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `severity`, `message`, `certainty`, `period`, `exemption` or `evidence`.
    pub field: &'static str,
    /// For `evidence`: the facts no longer cited; otherwise the old value.
    pub old: Vec<String>,
    /// For `evidence`: the facts newly cited; otherwise the new value.
    pub new: Vec<String>,
}

/// A finding in both reports whose content changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub finding: Entry,
    pub changes: Vec<Change>,
}

/// What changed between two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub from: String,
    pub to: String,
    pub new: Vec<Entry>,
    pub resolved: Vec<Entry>,
    pub changed: Vec<Changed>,
    pub unchanged: usize,
}

fn text(v: &Json, key: &str) -> String {
    v.get(key).and_then(Json::as_str).unwrap_or("").to_string()
}

/// `holding(holder: ann, asset: acme) [reported]`
fn fact(e: &Json) -> String {
    let fields: Vec<String> = e
        .get("fields")
        .and_then(Json::as_array)
        .map(|fs| {
            fs.iter()
                .map(|f| format!("{}: {}", text(f, "field"), text(f, "value")))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{}({}) [{}]",
        text(e, "relation"),
        fields.join(", "),
        text(e, "status")
    )
}

fn entry(f: &Json, exempted: bool) -> Entry {
    let mut evidence: Vec<String> = f
        .get("evidence")
        .and_then(Json::as_array)
        .map(|es| es.iter().map(fact).collect())
        .unwrap_or_default();
    evidence.sort();
    evidence.dedup();
    Entry {
        id: text(f, "id"),
        rule: text(f, "rule"),
        severity: text(f, "severity"),
        case: text(f, "case"),
        message: text(f, "message"),
        exempted,
        certainty: text(f, "certainty"),
        period: f
            .get("period_text")
            .and_then(Json::as_str)
            .unwrap_or("none")
            .to_string(),
        evidence,
        exemption: f
            .get("exemption")
            .map(|x| text(x, "because"))
            .unwrap_or_default(),
    }
}

/// Why a document is not a report [`read`] can compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not JSON: the parser's message, at a line and column (both from 1).
    NotJson {
        message: String,
        line: u32,
        col: u32,
    },
    /// JSON, but without `schema: probity.findings/…`.
    NotAReport,
}

impl ReadError {
    /// As a diagnostic about the file at `path` whose text is `doc`.
    pub fn diagnostic(&self, path: &str, doc: &str) -> crate::diag::Diagnostic {
        use crate::diag::{Diagnostic, Place};
        const HELP: &str = "compare two reports written by `probity audit CASE --format json`";
        match self {
            ReadError::NotJson { message, line, col } => {
                let line_text = doc
                    .lines()
                    .nth((*line as usize).saturating_sub(1))
                    .unwrap_or_default()
                    .to_string();
                Diagnostic::error("probity::diff::not_json", format!("not JSON: {message}"))
                    .at_place(Place::Point {
                        path: path.to_string(),
                        line: *line,
                        col: *col,
                        len: 1,
                        line_text,
                    })
                    .help(HELP)
            }
            ReadError::NotAReport => Diagnostic::error(
                "probity::diff::not_a_report",
                "not a Probity JSON report: no `schema: probity.findings/…`",
            )
            .at_place(Place::File(path.to_string()))
            .help(HELP),
        }
    }
}

/// The findings of a JSON report by id, exempted ones included.
pub fn read(doc: &str) -> Result<BTreeMap<String, Entry>, ReadError> {
    let v: Json = serde_json::from_str(doc).map_err(|e| {
        // The message without serde's own " at line L column C".
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(at) => full[..at].to_string(),
            None => full,
        };
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).max(1);
        ReadError::NotJson {
            message,
            line: at(e.line()),
            col: at(e.column()),
        }
    })?;
    let schema = text(&v, "schema");
    if !schema.starts_with("probity.findings/") {
        return Err(ReadError::NotAReport);
    }
    let mut out = BTreeMap::new();
    for (key, exempted) in [("findings", false), ("exempted", true)] {
        for f in v.get(key).and_then(Json::as_array).into_iter().flatten() {
            let e = entry(f, exempted);
            out.insert(e.id.clone(), e);
        }
    }
    Ok(out)
}

fn changes(old: &Entry, new: &Entry) -> Vec<Change> {
    let mut out = Vec::new();
    let pairs: [(&'static str, &String, &String); 5] = [
        ("severity", &old.severity, &new.severity),
        ("message", &old.message, &new.message),
        ("certainty", &old.certainty, &new.certainty),
        ("period", &old.period, &new.period),
        ("exemption", &old.exemption, &new.exemption),
    ];
    for (field, a, b) in pairs {
        if a != b {
            let shown = |s: &String| {
                if s.is_empty() {
                    "none".to_string()
                } else {
                    s.clone()
                }
            };
            out.push(Change {
                field,
                old: vec![shown(a)],
                new: vec![shown(b)],
            });
        }
    }
    if old.evidence != new.evidence {
        out.push(Change {
            field: "evidence",
            old: old
                .evidence
                .iter()
                .filter(|e| !new.evidence.contains(e))
                .cloned()
                .collect(),
            new: new
                .evidence
                .iter()
                .filter(|e| !old.evidence.contains(e))
                .cloned()
                .collect(),
        });
    }
    out
}

/// Severity rank for ordering, highest first.
fn rank(sev: &str) -> usize {
    ["critical", "high", "medium", "low", "info"]
        .iter()
        .position(|s| *s == sev)
        .unwrap_or(5)
}

fn order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    (rank(&a.severity), &a.rule, &a.case, &a.id).cmp(&(rank(&b.severity), &b.rule, &b.case, &b.id))
}

/// Compares two reports' findings.
pub fn diff(
    from: &str,
    to: &str,
    old: &BTreeMap<String, Entry>,
    new: &BTreeMap<String, Entry>,
) -> Diff {
    let mut d = Diff {
        schema: DIFF_SCHEMA,
        from: from.to_string(),
        to: to.to_string(),
        new: new
            .values()
            .filter(|e| !old.contains_key(&e.id))
            .cloned()
            .collect(),
        resolved: old
            .values()
            .filter(|e| !new.contains_key(&e.id))
            .cloned()
            .collect(),
        changed: Vec::new(),
        unchanged: 0,
    };
    for (id, n) in new {
        let Some(o) = old.get(id) else { continue };
        let cs = changes(o, n);
        if cs.is_empty() {
            d.unchanged += 1;
        } else {
            d.changed.push(Changed {
                finding: n.clone(),
                changes: cs,
            });
        }
    }
    d.new.sort_by(order);
    d.resolved.sort_by(order);
    d.changed.sort_by(|a, b| order(&a.finding, &b.finding));
    d
}

/// The diff as a JSON document.
pub fn render_json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_default();
    s.push('\n');
    s
}

fn line(out: &mut String, e: &Entry) {
    let ex = if e.exempted { " (exempted)" } else { "" };
    let _ = writeln!(
        out,
        "  {:<8} {} {}{ex}\n           {}",
        e.severity, e.id, e.rule, e.message
    );
}

/// `fact [status]` split into the fact and its status.
fn split_status(e: &str) -> (&str, &str) {
    e.rsplit_once(" [")
        .map_or((e, ""), |(f, s)| (f, s.trim_end_matches(']')))
}

/// Evidence changes: a fact whose status alone changed on one line (`~`), then facts
/// no longer cited (`-`) and newly cited (`+`).
fn evidence_lines(out: &mut String, ch: &Change) {
    let mut added: Vec<&String> = ch.new.iter().collect();
    let mut removed = Vec::new();
    for o in &ch.old {
        let (fact, was) = split_status(o);
        match added.iter().position(|n| split_status(n).0 == fact) {
            Some(i) => {
                let now = split_status(added.remove(i)).1;
                let _ = writeln!(out, "           ~ evidence {fact}: {was} → {now}");
            }
            None => removed.push(o),
        }
    }
    removed.iter().for_each(|e| {
        let _ = writeln!(out, "           - evidence {e}");
    });
    added.iter().for_each(|e| {
        let _ = writeln!(out, "           + evidence {e}");
    });
}

/// The diff for people: counts, then the new, resolved and changed findings.
pub fn render_table(d: &Diff) -> String {
    let mut out = format!(
        "{} new, {} resolved, {} changed, {} unchanged ({} → {})\n",
        d.new.len(),
        d.resolved.len(),
        d.changed.len(),
        d.unchanged,
        d.from,
        d.to
    );
    for (title, list) in [("new", &d.new), ("resolved", &d.resolved)] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{title}:");
            list.iter().for_each(|e| line(&mut out, e));
        }
    }
    if !d.changed.is_empty() {
        out.push_str("\nchanged:\n");
        for c in &d.changed {
            line(&mut out, &c.finding);
            for ch in &c.changes {
                if ch.field == "evidence" {
                    evidence_lines(&mut out, ch);
                } else {
                    let _ = writeln!(
                        out,
                        "           {}: {} → {}",
                        ch.field,
                        ch.old.join(", "),
                        ch.new.join(", ")
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(findings: &str) -> String {
        format!(r#"{{"schema": "probity.findings/1", "findings": [{findings}], "exempted": []}}"#)
    }

    fn finding(id: &str, certainty: &str, status: &str) -> String {
        format!(
            r#"{{"id": "{id}", "rule": "r", "severity": "high", "case": "c", "message": "m", "certainty": "{certainty}", "period_text": "2025", "evidence": [{{"relation": "holding", "fields": [{{"field": "holder", "value": "ann"}}], "status": "{status}"}}]}}"#
        )
    }

    #[test]
    fn new_resolved_and_changed_by_id() {
        let old = doc(&[
            finding("a", "reported", "reported"),
            finding("b", "reported", "reported"),
        ]
        .join(","));
        let new = doc(&[
            finding("b", "confirmed", "confirmed"),
            finding("c", "reported", "reported"),
        ]
        .join(","));
        let (o, n) = (
            read(&old).unwrap_or_default(),
            read(&new).unwrap_or_default(),
        );
        let d = diff("old", "new", &o, &n);
        assert_eq!(
            d.new.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(
            d.resolved.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        let fields: Vec<&str> = d.changed[0].changes.iter().map(|c| c.field).collect();
        assert_eq!(fields, ["certainty", "evidence"]);
        assert_eq!(d.unchanged, 0);
        assert!(read("{}").is_err() && read("nope").is_err());
    }
}
