//! JSON and JSON-lines output, versioned by [`crate::findings::SCHEMA_VERSION`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CaseSummary, Report};
use crate::findings::{Finding, SCHEMA_VERSION};

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    cases: &'a [CaseSummary],
    /// Number of findings per severity, highest first.
    summary: BTreeMap<&'static str, usize>,
    findings: &'a [Finding],
    exempted: &'a [Finding],
}

pub fn render(report: &Report) -> String {
    let mut summary = BTreeMap::new();
    for f in report.findings {
        *summary.entry(f.severity.as_str()).or_insert(0) += 1;
    }
    let doc = Document {
        schema: SCHEMA_VERSION,
        cases: report.cases,
        summary,
        findings: report.findings,
        exempted: report.exempted,
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
