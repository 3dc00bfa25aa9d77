//! What the Markdown and HTML reports share: footnote numbers for sources (one per
//! source, reused across findings), evidence condensed to one line per written fact,
//! and counts by severity.

use super::Report;
use crate::findings::{Evidence, Finding, SourceRef};
use crate::syntax::ast::Severity;
use crate::value::Status;

/// Sources numbered in first-cited order over the findings, then the exempted findings
/// (their own evidence first, then the exempting evidence). A source id is local to its
/// case, so the key is (case, id).
#[derive(Debug, Clone, Default)]
pub struct Footnotes {
    entries: Vec<(String, SourceRef)>,
}

impl Footnotes {
    pub fn new(report: &Report) -> Footnotes {
        let mut f = Footnotes::default();
        for finding in report.findings.iter().chain(report.exempted) {
            f.add_all(&finding.case, &finding.sources);
            if let Some(x) = &finding.exemption {
                f.add_all(&finding.case, &x.sources);
            }
        }
        f
    }

    fn add_all(&mut self, case: &str, sources: &[SourceRef]) {
        for s in sources {
            if self.number(case, &s.id).is_none() {
                self.entries.push((case.to_string(), s.clone()));
            }
        }
    }

    /// The footnote number (from 1) of a source cited in `case`.
    pub fn number(&self, case: &str, id: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(c, s)| c == case && s.id == id)
            .map(|i| i + 1)
    }

    /// (number, source), in order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &SourceRef)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, (_, s))| (i + 1, s))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `Title, Publisher, 2025-03` (the id if the source has no title).
pub fn source_text(s: &SourceRef) -> String {
    let mut out = s.title.clone().unwrap_or_else(|| s.id.clone());
    for part in [&s.publisher, &s.published].into_iter().flatten() {
        out.push_str(", ");
        out.push_str(part);
    }
    out
}

/// One written fact of the evidence: list members (a meeting's attendees) merged back.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceLine {
    pub relation: String,
    /// (field, value or values joined by `, `), in field order.
    pub fields: Vec<(String, String)>,
    /// `file:line`, the file relative to the case folder.
    pub place: String,
    pub status: Status,
    pub sources: Vec<String>,
    pub note: Option<String>,
}

impl EvidenceLine {
    /// `holding: holder mandelson, asset global_counsel, kind "shares"`.
    pub fn text(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(f, v)| format!("{f} {v}"))
            .collect();
        format!("{}: {}", self.relation, fields.join(", "))
    }
}

/// The evidence, one line per written fact, in evidence order.
pub fn evidence_lines(case: &str, evidence: &[Evidence]) -> Vec<EvidenceLine> {
    let mut out: Vec<EvidenceLine> = Vec::new();
    for e in evidence {
        let file = e
            .file
            .strip_prefix(case)
            .and_then(|f| f.strip_prefix('/'))
            .unwrap_or(&e.file);
        let place = format!("{file}:{}", e.line);
        let at = out
            .iter()
            .position(|l| l.place == place && l.relation == e.relation);
        let line = match at {
            Some(i) => &mut out[i],
            None => {
                out.push(EvidenceLine {
                    relation: e.relation.clone(),
                    fields: Vec::new(),
                    place,
                    status: e.status,
                    sources: e.sources.clone(),
                    note: e.note.clone(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        for v in &e.fields {
            let shown = if v.ty == "text" {
                format!("{:?}", v.value)
            } else {
                v.value.clone()
            };
            match line.fields.iter_mut().find(|(f, _)| *f == v.field) {
                Some((_, have)) if have.split(", ").any(|x| x == shown) => {}
                Some((_, have)) => {
                    have.push_str(", ");
                    have.push_str(&shown);
                }
                None => line.fields.push((v.field.clone(), shown)),
            }
        }
    }
    out
}

/// Findings per severity, highest first, only severities that occur.
pub fn counts(findings: &[Finding]) -> Vec<(Severity, usize)> {
    Severity::ALL
        .iter()
        .rev()
        .map(|sev| (*sev, findings.iter().filter(|f| f.severity == *sev).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The subjects' values that are entities, for highlighting in pictures.
pub fn subject_ids(f: &Finding) -> Vec<String> {
    f.bindings
        .iter()
        .filter(|b| b.ty == "entity")
        .map(|b| b.value.clone())
        .collect()
}
