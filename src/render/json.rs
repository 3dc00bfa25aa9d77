//! JSON and JSON-lines output, versioned by [`crate::findings::SCHEMA_VERSION`]. The JSON
//! document carries the run manifest, near misses and coverage when present; JSON lines
//! are findings only.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{CaseSummary, Report};
use crate::coverage::Coverage;
use crate::findings::{Finding, SCHEMA_VERSION};
use crate::manifest::Manifest;
use crate::nearmiss::NearMisses;
use crate::syntax::ast::Severity;

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<&'a Manifest>,
    cases: &'a [CaseSummary],
    summary: Summary,
    findings: &'a [Finding],
    exempted: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    near_misses: Option<&'a [NearMisses]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<&'a [Coverage]>,
}

/// Number of findings per severity present, highest first (an object whose keys are in
/// that order).
struct Summary(Vec<(Severity, usize)>);

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (sev, n) in &self.0 {
            map.serialize_entry(sev.as_str(), n)?;
        }
        map.end()
    }
}

pub fn render(report: &Report) -> String {
    let summary = Summary(
        Severity::ALL
            .iter()
            .rev()
            .map(|sev| {
                let n = report
                    .findings
                    .iter()
                    .filter(|f| f.severity == *sev)
                    .count();
                (*sev, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect(),
    );
    let doc = Document {
        schema: SCHEMA_VERSION,
        manifest: report.manifest,
        cases: report.cases,
        summary,
        findings: report.findings,
        exempted: report.exempted,
        near_misses: report.near_misses,
        coverage: report.coverage,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// One finding per line, each a complete JSON object; exempted ones follow, each with
/// its `exemption`.
pub fn render_lines(report: &Report) -> String {
    let mut out = String::new();
    for f in report.findings.iter().chain(report.exempted) {
        out.push_str(&serde_json::to_string(f).unwrap_or_default());
        out.push('\n');
    }
    out
}
