//! Rendering findings: one file per output format behind one [`render`] function.

pub mod count;
mod csv;
mod json;
mod markdown;
mod table;

use serde::Serialize;

use crate::findings::Finding;

/// Output formats of `probity audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Markdown,
    /// Only the number of findings per rule (evaluated without recording derivations).
    Count,
}

/// A case folder as the report names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseSummary {
    pub path: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

/// Everything a renderer needs.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub cases: &'a [CaseSummary],
    /// Already sorted in the documented order.
    pub findings: &'a [Finding],
    /// Findings an `exempt` block covers, in the same order.
    pub exempted: &'a [Finding],
}

/// Presentation switches that do not change content.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// ANSI colour (only for `table`, only on a terminal, never with `NO_COLOR`).
    pub color: bool,
}

/// Renders a report in one format. Output ends with a newline.
pub fn render(report: &Report, format: Format, opts: Options) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report),
        Format::Jsonl => json::render_lines(report),
        Format::Csv => csv::render(report),
        Format::Markdown => markdown::render(report),
        Format::Count => count::render(&count::from_findings(report.findings, report.exempted)),
    }
}

/// `p = Peter Mandelson, firm = Global Counsel`
pub(crate) fn subjects(f: &Finding) -> String {
    f.bindings
        .iter()
        .map(|b| format!("{} = {}", b.name, b.shown()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Source ids cited by the evidence, in first-cited order.
pub(crate) fn source_ids(f: &Finding) -> String {
    f.sources
        .iter()
        .map(|s| s.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn period_text(f: &Finding) -> String {
    f.period_text.clone().unwrap_or_else(|| "—".to_string())
}
