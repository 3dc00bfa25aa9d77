//! The terminal table (tabled): severity, rule, who/what, message, certainty, period,
//! sources; then near misses and coverage when asked for.

use tabled::builder::Builder;
use tabled::settings::{Style, Width};

use super::{Options, Report, period_text, source_ids, subjects};
use crate::coverage::Coverage;
use crate::findings::Finding;
use crate::nearmiss::NearMisses;
use crate::syntax::ast::Severity;

fn paint(sev: Severity, color: bool) -> String {
    if !color {
        return sev.as_str().to_string();
    }
    let code = match sev {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\u{1b}[{code}m{}\u{1b}[0m", sev.as_str())
}

pub fn render(report: &Report, opts: Options) -> String {
    let mut s = if report.findings.is_empty() {
        "no findings\n".to_string()
    } else {
        let mut s = findings_table(report.findings, opts, false);
        s.push_str(&summary_line(report));
        s
    };
    if !report.exempted.is_empty() {
        s.push_str(&format!("\nexempted ({}):\n", report.exempted.len()));
        s.push_str(&findings_table(report.exempted, opts, true));
    }
    if let Some(groups) = report.near_misses {
        s.push_str(&near_miss_table(groups));
    }
    if let Some(cov) = report.coverage {
        s.push_str(&coverage_text(cov));
    }
    s
}

fn near_miss_table(groups: &[NearMisses]) -> String {
    if groups.is_empty() {
        return "\nno near misses\n".to_string();
    }
    let mut b = Builder::default();
    b.push_record(["rule", "who/what", "failed condition", "values there", "at"]);
    let join = |bs: &[crate::findings::Binding]| {
        bs.iter()
            .map(|b| format!("{} = {}", b.name, b.shown()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for g in groups {
        for m in &g.items {
            b.push_record([
                g.rule.clone(),
                join(&m.bindings),
                m.failed.text.clone(),
                join(&m.values),
                m.failed.at.clone(),
            ]);
        }
        if g.omitted > 0 {
            let more = format!("({} more)", g.omitted);
            b.push_record([
                g.rule.clone(),
                more,
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t.modify(
        tabled::settings::object::Columns::new(1..4),
        Width::wrap(40).keep_words(true),
    );
    format!("\nnear misses (met every condition but one):\n{t}\n")
}

fn coverage_text(cases: &[Coverage]) -> String {
    let mut s = String::new();
    for c in cases {
        s.push_str(&format!("\ncoverage of {}:\n", c.case));
        s.push_str("  facts no rule read:\n");
        for u in &c.unread {
            s.push_str(&format!("    {} ({}) in {}\n", u.relation, u.facts, u.file));
        }
        s.push_str("  entities with no source:\n");
        for u in &c.unsourced {
            s.push_str(&format!(
                "    {} ({}) at {}:{}\n",
                u.entity, u.name, u.file, u.line
            ));
        }
        s.push_str("  facts missing a date a rule needs:\n");
        for u in &c.undated {
            s.push_str(&format!(
                "    {} without {} at {}:{} (needed by {})\n",
                u.relation,
                u.fields.join(", "),
                u.file,
                u.line,
                u.needed_by.join(", ")
            ));
        }
    }
    s
}

fn findings_table(findings: &[Finding], opts: Options, exempted: bool) -> String {
    let mut b = Builder::default();
    let last = if exempted {
        "exempted because"
    } else {
        "sources"
    };
    b.push_record([
        "severity",
        "rule",
        "who/what",
        "finding",
        "certainty",
        "period",
        last,
    ]);
    for f in findings {
        let last = match &f.exemption {
            Some(e) if exempted => e.because.clone(),
            _ => source_ids(f),
        };
        b.push_record([
            paint(f.severity, opts.color),
            f.rule.clone(),
            subjects(f),
            f.message.clone(),
            f.certainty.as_str().to_string(),
            period_text(f),
            last,
        ]);
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t.modify(
        tabled::settings::object::Columns::new(2..4),
        Width::wrap(48).keep_words(true),
    );
    if exempted {
        t.modify(
            tabled::settings::object::Columns::new(6..7),
            Width::wrap(32).keep_words(true),
        );
    }
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// `3 findings: 1 high, 2 low`
pub fn summary_line(report: &Report) -> String {
    let mut parts = Vec::new();
    for sev in Severity::ALL.iter().rev() {
        let n = report
            .findings
            .iter()
            .filter(|f| f.severity == *sev)
            .count();
        if n > 0 {
            parts.push(format!("{n} {}", sev.as_str()));
        }
    }
    let n = report.findings.len();
    let noun = if n == 1 { "finding" } else { "findings" };
    format!("{n} {noun}: {}\n", parts.join(", "))
}
