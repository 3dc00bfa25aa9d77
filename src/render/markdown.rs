//! Markdown output: a findings table, then each finding with its evidence and sources,
//! then the exempted findings with the reason and the exempting evidence.

use super::{Report, period_text, subjects};
use crate::findings::{Evidence, Finding, SourceRef};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report) -> String {
    let mut out = String::from("# Probity findings\n\n");
    for c in report.cases {
        out.push_str(&format!("- Case: **{}** (`{}`)", cell(&c.title), c.path));
        if let Some(a) = &c.as_of {
            out.push_str(&format!(", as of {a}"));
        }
        out.push('\n');
    }
    if report.findings.is_empty() {
        out.push_str("\nNo findings.\n");
    } else {
        table(&mut out, report.findings);
        for f in report.findings {
            detail(&mut out, f);
        }
    }
    if !report.exempted.is_empty() {
        out.push_str(&format!("\n# Exempted ({})\n", report.exempted.len()));
        table(&mut out, report.exempted);
        for f in report.exempted {
            detail(&mut out, f);
        }
    }
    out
}

fn table(out: &mut String, findings: &[Finding]) {
    out.push_str("\n| severity | rule | who/what | finding | certainty | period |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for f in findings {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            f.severity.as_str(),
            f.rule,
            cell(&subjects(f)),
            cell(&f.message),
            f.certainty.as_str(),
            cell(&period_text(f))
        ));
    }
}

fn detail(out: &mut String, f: &Finding) {
    out.push_str(&format!("\n## {} — {}\n\n", cell(&f.title), f.id));
    out.push_str(&format!("{}\n\n", f.message));
    if let Some(b) = &f.basis {
        out.push_str(&format!("- Basis: {b}\n"));
    }
    out.push_str(&format!(
        "- Severity: {}; certainty: {}; period: {}\n",
        f.severity.as_str(),
        f.certainty.as_str(),
        period_text(f)
    ));
    out.push_str("- Evidence:\n");
    evidence(out, &f.evidence);
    sources(out, &f.sources);
    if let Some(x) = &f.exemption {
        out.push_str(&format!("- Exempted because: {} ({})\n", x.because, x.by));
        out.push_str("- Exempting evidence:\n");
        evidence(out, &x.evidence);
        sources(out, &x.sources);
    }
}

fn evidence(out: &mut String, items: &[Evidence]) {
    for e in items {
        let fields: Vec<String> = e.fields.iter().map(|v| v.shown()).collect();
        let cited = if e.sources.is_empty() {
            String::new()
        } else {
            format!(", sources: {}", e.sources.join(", "))
        };
        out.push_str(&format!(
            "  - `{}({})` — {}:{}, {}{cited}\n",
            e.relation,
            fields.join(", "),
            e.file,
            e.line,
            e.status.as_str(),
        ));
    }
}

fn sources(out: &mut String, items: &[SourceRef]) {
    if items.is_empty() {
        return;
    }
    out.push_str("- Sources:\n");
    for s in items {
        let title = s.title.as_deref().unwrap_or(&s.id);
        let link = match &s.url {
            Some(u) => format!("[{}]({u})", cell(title)),
            None => cell(title),
        };
        let publisher = s
            .publisher
            .as_deref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default();
        let date = s
            .published
            .as_deref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default();
        out.push_str(&format!("  - `{}`: {link}{publisher}{date}\n", s.id));
    }
}
