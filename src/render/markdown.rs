//! Markdown output: a report an editor can paste — counts by severity, each finding with
//! its message, basis, certainty, period and evidence, sources as footnotes (one per
//! source, reused across findings), the exempted findings, then near misses, coverage
//! and the run manifest when present.

use super::cite::{EvidenceLine, Footnotes, counts, evidence_lines, source_text};
use super::{Report, period_text, subjects};
use crate::coverage::Coverage;
use crate::findings::{Evidence, Finding};
use crate::manifest::Manifest;
use crate::nearmiss::NearMisses;

/// Text safe in a table cell (and on one line).
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn render(report: &Report) -> String {
    let notes = Footnotes::new(report);
    let mut out = String::from("# Probity report\n\n");
    for c in report.cases {
        out.push_str(&format!("- Case: **{}** (`{}`)", cell(&c.title), c.path));
        if let Some(a) = &c.as_of {
            out.push_str(&format!(", as of {a}"));
        }
        out.push('\n');
    }
    summary(&mut out, report);
    if !report.findings.is_empty() {
        out.push_str("\n## Findings\n");
        for (i, f) in report.findings.iter().enumerate() {
            detail(&mut out, report, &notes, &(i + 1).to_string(), f);
        }
    }
    if !report.exempted.is_empty() {
        out.push_str(&format!("\n## Exempted ({})\n", report.exempted.len()));
        for (i, f) in report.exempted.iter().enumerate() {
            detail(&mut out, report, &notes, &format!("E{}", i + 1), f);
        }
    }
    if let Some(nm) = report.near_misses {
        near_misses(&mut out, nm);
    }
    if let Some(cov) = report.coverage {
        coverage(&mut out, cov);
    }
    if !notes.is_empty() {
        out.push_str("\n## Sources\n\n");
        for (n, s) in notes.entries() {
            out.push_str(&format!("[^{n}]: `{}`: {}", s.id, source_text(s)));
            if let Some(u) = &s.url {
                out.push_str(&format!(", <{u}>"));
            }
            out.push('\n');
        }
    }
    if let Some(m) = report.manifest {
        manifest(&mut out, m);
    }
    out
}

fn summary(out: &mut String, report: &Report) {
    out.push_str("\n## Summary\n\n");
    if report.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        out.push_str("| severity | findings |\n|---|--:|\n");
        for (sev, n) in counts(report.findings) {
            out.push_str(&format!("| {} | {n} |\n", sev.as_str()));
        }
        out.push_str(&format!("| **total** | **{}** |\n", report.findings.len()));
        out.push_str("\n| # | severity | rule | who/what | certainty | period |\n");
        out.push_str("|--:|---|---|---|---|---|\n");
        for (i, f) in report.findings.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} | {} |\n",
                i + 1,
                f.severity.as_str(),
                f.rule,
                cell(&subjects(f)),
                f.certainty.as_str(),
                cell(&period_text(f))
            ));
        }
    }
    if !report.exempted.is_empty() {
        let n = report.exempted.len();
        let noun = if n == 1 { "finding" } else { "findings" };
        out.push_str(&format!(
            "\n{n} exempted {noun}, listed under **Exempted** with the reason.\n"
        ));
    }
}

fn detail(out: &mut String, report: &Report, notes: &Footnotes, n: &str, f: &Finding) {
    out.push_str(&format!("\n### {n}. {}\n\n", cell(&f.title)));
    out.push_str(&format!("**{}**\n\n", f.message.replace('\n', " ")));
    out.push_str(&format!(
        "- Severity: {} · rule `{}` · id `{}`\n",
        f.severity.as_str(),
        f.rule,
        f.id
    ));
    if report.cases.len() > 1 {
        out.push_str(&format!("- Case: `{}`\n", f.case));
    }
    if let Some(b) = &f.basis {
        out.push_str(&format!("- Basis: {b}\n"));
    }
    out.push_str(&format!("- Certainty: {}\n", f.certainty.as_str()));
    out.push_str(&format!("- Period: {}\n", period_text(f)));
    out.push_str("- Evidence:\n");
    evidence(out, notes, &f.case, &f.evidence);
    if let Some(x) = &f.exemption {
        out.push_str(&format!("- Exempted because: {} (`{}`)\n", x.because, x.by));
        out.push_str("- Exempting evidence:\n");
        evidence(out, notes, &f.case, &x.evidence);
    }
}

/// `[^1][^2]` for the sources a fact cites.
fn marks(notes: &Footnotes, case: &str, line: &EvidenceLine) -> String {
    line.sources
        .iter()
        .map(|id| match notes.number(case, id) {
            Some(n) => format!("[^{n}]"),
            None => format!(" (source `{id}`)"),
        })
        .collect()
}

fn evidence(out: &mut String, notes: &Footnotes, case: &str, items: &[Evidence]) {
    for l in evidence_lines(case, items) {
        out.push_str(&format!(
            "  - {} — `{}`, {}{}",
            l.text(),
            l.place,
            l.status.as_str(),
            marks(notes, case, &l)
        ));
        if let Some(note) = &l.note {
            out.push_str(&format!(" — *{}*", note.replace('\n', " ")));
        }
        out.push('\n');
    }
}

fn near_misses(out: &mut String, groups: &[NearMisses]) {
    out.push_str("\n## Near misses\n\n");
    if groups.is_empty() {
        out.push_str("No rule had a binding that failed only one condition.\n");
        return;
    }
    out.push_str("Bindings that met every condition of a rule but one.\n");
    for g in groups {
        out.push_str(&format!(
            "\n### `{}` — {} (`{}`)\n\n",
            g.rule,
            cell(&g.title),
            g.case
        ));
        out.push_str("| who/what | failed condition | values there | at |\n|---|---|---|---|\n");
        for m in &g.items {
            let who: Vec<String> = m
                .bindings
                .iter()
                .map(|b| format!("{} = {}", b.name, b.shown()))
                .collect();
            let vals: Vec<String> = m
                .values
                .iter()
                .map(|b| format!("{} = {}", b.name, b.shown()))
                .collect();
            out.push_str(&format!(
                "| {} | `{}` | {} | `{}` |\n",
                cell(&who.join(", ")),
                cell(&m.failed.text),
                cell(&vals.join(", ")),
                m.failed.at
            ));
        }
        if g.omitted > 0 {
            out.push_str(&format!("\n{} more not shown.\n", g.omitted));
        }
    }
}

fn coverage(out: &mut String, cases: &[Coverage]) {
    out.push_str("\n## Data coverage\n");
    for c in cases {
        out.push_str(&format!("\n### `{}`\n\n", c.case));
        out.push_str("Facts no rule read:\n\n");
        if c.unread.is_empty() {
            out.push_str("- none\n");
        }
        for u in &c.unread {
            out.push_str(&format!(
                "- `{}`: {} in `{}`\n",
                u.relation,
                plural(u.facts, "fact"),
                u.file
            ));
        }
        out.push_str("\nEntities with no source:\n\n");
        if c.unsourced.is_empty() {
            out.push_str("- none\n");
        }
        for u in &c.unsourced {
            out.push_str(&format!(
                "- {} (`{}`) — `{}:{}`\n",
                u.name, u.entity, u.file, u.line
            ));
        }
        out.push_str("\nFacts missing a date a rule needs:\n\n");
        if c.undated.is_empty() {
            out.push_str("- none\n");
        }
        for u in &c.undated {
            out.push_str(&format!(
                "- `{}` without {} — `{}:{}`; needed by {}\n",
                u.relation,
                u.fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                u.file,
                u.line,
                u.needed_by
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
}

/// `1 fact`, `3 facts`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn manifest(out: &mut String, m: &Manifest) {
    out.push_str("\n## Run manifest\n\n");
    out.push_str(&format!("- Version: {}\n", m.probity));
    if let Some(t) = &m.generated {
        out.push_str(&format!("- Generated: {t}\n"));
    }
    let params: Vec<String> = m
        .params
        .iter()
        .map(|p| format!("`{} = {}`", p.name, p.value))
        .collect();
    if !params.is_empty() {
        out.push_str(&format!("- Parameters: {}\n", params.join(", ")));
    }
    if !m.options.is_empty() {
        out.push_str(&format!("- Options: `{}`\n", m.options.join(" ")));
    }
    if !m.unread.is_empty() {
        let files: Vec<String> = m.unread.iter().map(|f| format!("`{f}`")).collect();
        out.push_str(&format!(
            "- Not read (no rule reads their relation): {}\n",
            files.join(", ")
        ));
    }
    out.push_str("\n| file | FNV-1a 64 |\n|---|---|\n");
    for f in m.rules.iter().chain(&m.cases) {
        out.push_str(&format!("| `{}` | `{}` |\n", f.path, f.hash));
    }
}
