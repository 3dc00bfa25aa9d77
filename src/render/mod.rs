//! Rendering findings: one file per output format behind one [`render`] function.

pub mod cite;
pub mod count;
mod csv;
mod html;
mod html_extra;
mod json;
mod markdown;
mod table;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coverage::Coverage;
use crate::findings::Finding;
use crate::manifest::Manifest;
use crate::nearmiss::NearMisses;

/// Output formats of `probity audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Markdown,
    /// One self-contained HTML file: the Markdown report's content, a sortable table
    /// and a picture of each finding's evidence.
    Html,
    /// Only the number of findings per rule (evaluated without recording derivations).
    Count,
}

impl Format {
    /// Whether the format has room for near misses, coverage and the run manifest.
    pub fn is_report(self) -> bool {
        matches!(
            self,
            Format::Table | Format::Json | Format::Markdown | Format::Html
        )
    }
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
    /// What produced the report (JSON, Markdown and HTML print it).
    pub manifest: Option<&'a Manifest>,
    /// `--near-misses`: per rule, the bindings that failed one condition.
    pub near_misses: Option<&'a [NearMisses]>,
    /// `--coverage`: per case, the data no rule used.
    pub coverage: Option<&'a [Coverage]>,
    /// Entity id → display name, for the pictures of evidence.
    pub names: &'a BTreeMap<String, String>,
}

static NO_NAMES: BTreeMap<String, String> = BTreeMap::new();

impl<'a> Report<'a> {
    /// A report of findings alone: no manifest, near misses or coverage.
    pub fn new(
        cases: &'a [CaseSummary],
        findings: &'a [Finding],
        exempted: &'a [Finding],
    ) -> Report<'a> {
        Report {
            cases,
            findings,
            exempted,
            manifest: None,
            near_misses: None,
            coverage: None,
            names: &NO_NAMES,
        }
    }
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
        Format::Html => html::render(report),
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
