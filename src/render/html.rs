//! HTML output: one self-contained page (inline CSS, a few lines of inline JavaScript
//! to sort the findings table, no fonts, images or network) with the Markdown report's
//! content and, per finding, an SVG picture of the entities and links in its evidence,
//! laid out here ([`crate::graph::layout`]) with the subjects highlighted.

use std::fmt::Write;

use super::cite::{Footnotes, counts, evidence_lines, source_text, subject_ids};
use super::html_extra::{coverage, manifest, near_misses};
use super::{Report, period_text, subjects};
use crate::findings::{Evidence, Finding};
use crate::graph::svg::esc;
use crate::graph::{self, svg};
use crate::syntax::ast::Severity;

const CSS: &str = r#"
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#fff; --panel:#f9fafb; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:var(--ink); background:var(--bg); }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; border-bottom: 2px solid var(--ink); }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 32px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 17px; margin: 0 0 6px; }
.case { color: var(--muted); margin: 0 0 12px; }
.counts { display:flex; gap:10px; flex-wrap:wrap; margin: 8px 0 16px; }
.count { border:1px solid var(--line); border-radius:6px; padding:6px 14px; background:var(--panel); }
.count b { font-size: 20px; margin-right: 6px; }
.sev { display:inline-block; border-radius:4px; padding:0 7px; font-size:13px; font-weight:600; color:#fff; }
.sev-critical { background:#7f1d1d; } .sev-high { background:#b91c1c; } .sev-medium { background:#c2410c; }
.sev-low { background:#0e7490; } .sev-info { background:#6b7280; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \2195"; color: var(--muted); font-size: 11px; }
table.sortable th[data-dir=asc]::after { content: " \25B2"; }
table.sortable th[data-dir=desc]::after { content: " \25BC"; }
article.finding { border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin: 16px 0; }
article.exempted { background: var(--panel); }
.message { font-size: 16px; font-weight: 600; margin: 4px 0 10px; }
dl.meta { display:grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 10px; font-size: 14px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
ul.evidence { margin: 4px 0 10px; padding-left: 20px; font-size: 14px; }
ul.evidence code { font-size: 13px; }
.place { color: var(--muted); }
.note { color: var(--muted); font-style: italic; }
sup.fn a { text-decoration: none; }
figure.picture { margin: 10px 0 0; overflow-x: auto; border-top: 1px dashed var(--line); padding-top: 10px; }
figure.picture svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
code { background: #f3f4f6; border-radius: 3px; padding: 0 3px; }
ol.sources li { margin-bottom: 4px; }
footer { margin-top: 32px; padding-bottom: 32px; color: var(--muted); font-size: 13px; }
footer table { font-size: 12px; }
"#;

const SORT_JS: &str = r#"
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.dataset.dir !== "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
      th.dataset.dir = asc ? "asc" : "desc";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (r) { var c = r.cells[col]; return c.dataset.sort || c.textContent; };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), n = parseFloat(x) - parseFloat(y);
        var d = isNaN(n) ? x.localeCompare(y) : n;
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"#;

pub fn render(report: &Report) -> String {
    let notes = Footnotes::new(report);
    let title = match report.cases {
        [one] => format!("Probity report: {}", one.title),
        _ => "Probity report".to_string(),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>Probity report</h1>\n",
        esc(&title)
    );
    for c in report.cases {
        let as_of = c
            .as_of
            .as_deref()
            .map(|a| format!(", as of {}", esc(a)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<p class=\"case\"><strong>{}</strong> <code>{}</code>{as_of}</p>",
            esc(&c.title),
            esc(&c.path)
        );
    }
    out.push_str("</header>\n<main>\n");
    summary(&mut out, report);
    section(
        &mut out,
        report,
        &notes,
        "findings",
        "Findings",
        report.findings,
    );
    let heading = format!("Exempted ({})", report.exempted.len());
    section(
        &mut out,
        report,
        &notes,
        "exempted",
        &heading,
        report.exempted,
    );
    if let Some(groups) = report.near_misses {
        near_misses(&mut out, groups);
    }
    if let Some(cov) = report.coverage {
        coverage(&mut out, cov);
    }
    sources(&mut out, &notes);
    out.push_str("</main>\n");
    if let Some(m) = report.manifest {
        manifest(&mut out, m);
    }
    let _ = write!(out, "<script>{SORT_JS}</script>\n</body>\n</html>\n");
    out
}

fn sev_rank(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

fn sev_badge(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

fn summary(out: &mut String, report: &Report) {
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"counts\">\n");
    let _ = writeln!(
        out,
        "<span class=\"count\"><b>{}</b>findings</span>",
        report.findings.len()
    );
    for (sev, n) in counts(report.findings) {
        let _ = writeln!(
            out,
            "<span class=\"count\"><b>{n}</b>{}</span>",
            sev_badge(sev)
        );
    }
    if !report.exempted.is_empty() {
        let _ = writeln!(
            out,
            "<span class=\"count\"><b>{}</b>exempted</span>",
            report.exempted.len()
        );
    }
    out.push_str("</div>\n");
    if report.findings.is_empty() {
        out.push_str("<p>No findings.</p>\n</section>\n");
        return;
    }
    out.push_str("<table class=\"sortable\" id=\"findings-table\">\n<thead><tr><th>#</th><th>severity</th><th>rule</th><th>who/what</th><th>finding</th><th>certainty</th><th>period</th></tr></thead>\n<tbody>\n");
    for (i, f) in report.findings.iter().enumerate() {
        let from = f
            .period
            .and_then(|p| p.from)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td data-sort=\"{n}\"><a href=\"#f-{id}\">{n}</a></td><td data-sort=\"{}\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td data-sort=\"{}\">{}</td><td data-sort=\"{}\">{}</td></tr>",
            sev_rank(f.severity),
            sev_badge(f.severity),
            esc(&f.rule),
            esc(&subjects(f)),
            esc(&f.message),
            certainty_rank(f),
            f.certainty.as_str(),
            esc(&from),
            esc(&period_text(f)),
            n = i + 1,
            id = f.id,
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn certainty_rank(f: &Finding) -> u8 {
    f.certainty as u8
}

fn section(
    out: &mut String,
    report: &Report,
    notes: &Footnotes,
    id: &str,
    heading: &str,
    findings: &[Finding],
) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{}</h2>", esc(heading));
    for (i, f) in findings.iter().enumerate() {
        let n = if f.exemption.is_some() {
            format!("E{}", i + 1)
        } else {
            (i + 1).to_string()
        };
        finding(out, report, notes, &n, f);
    }
    out.push_str("</section>\n");
}

fn finding(out: &mut String, report: &Report, notes: &Footnotes, n: &str, f: &Finding) {
    let class = if f.exemption.is_some() {
        "finding exempted"
    } else {
        "finding"
    };
    let _ = write!(
        out,
        "<article class=\"{class}\" id=\"f-{}\">\n<h3>{n}. {}</h3>\n<p class=\"message\">{}</p>\n<dl class=\"meta\">\n<dt>severity</dt><dd>{}</dd>\n<dt>rule</dt><dd><code>{}</code> · id <code>{}</code></dd>\n",
        f.id,
        esc(&f.title),
        esc(&f.message),
        sev_badge(f.severity),
        esc(&f.rule),
        f.id,
    );
    if report.cases.len() > 1 {
        let _ = writeln!(out, "<dt>case</dt><dd><code>{}</code></dd>", esc(&f.case));
    }
    if let Some(b) = &f.basis {
        let _ = writeln!(out, "<dt>basis</dt><dd>{}</dd>", esc(b));
    }
    let _ = write!(
        out,
        "<dt>certainty</dt><dd>{}</dd>\n<dt>period</dt><dd>{}</dd>\n",
        f.certainty.as_str(),
        esc(&period_text(f))
    );
    if let Some(x) = &f.exemption {
        let _ = writeln!(
            out,
            "<dt>exempted because</dt><dd>{} <span class=\"place\">({})</span></dd>",
            esc(&x.because),
            esc(&x.by)
        );
    }
    out.push_str("</dl>\n<h4>Evidence</h4>\n");
    evidence(out, notes, &f.case, &f.evidence);
    if let Some(x) = &f.exemption {
        out.push_str("<h4>Exempting evidence</h4>\n");
        evidence(out, notes, &f.case, &x.evidence);
    }
    picture(out, report, f);
    out.push_str("</article>\n");
}

fn evidence(out: &mut String, notes: &Footnotes, case: &str, items: &[Evidence]) {
    out.push_str("<ul class=\"evidence\">\n");
    for l in evidence_lines(case, items) {
        let marks: String = l
            .sources
            .iter()
            .map(|id| match notes.number(case, id) {
                Some(n) => format!("<sup class=\"fn\"><a href=\"#src-{n}\">[{n}]</a></sup>"),
                None => format!(" <span class=\"place\">(source {})</span>", esc(id)),
            })
            .collect();
        let note = l
            .note
            .as_deref()
            .map(|n| format!(" <span class=\"note\">— {}</span>", esc(n)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<li><code>{}</code> <span class=\"place\">{} · {}</span>{marks}{note}</li>",
            esc(&l.text()),
            esc(&l.place),
            l.status.as_str(),
        );
    }
    out.push_str("</ul>\n");
}

fn picture(out: &mut String, report: &Report, f: &Finding) {
    let mut facts = graph::evidence_facts(&f.evidence);
    if let Some(x) = &f.exemption {
        facts.extend(graph::evidence_facts(&x.evidence));
    }
    let mut g = graph::Graph::from_facts(&facts, report.names);
    g.highlight(&subject_ids(f));
    out.push_str("<figure class=\"picture\">\n");
    if g.nodes.is_empty() {
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"320\" height=\"40\" viewBox=\"0 0 320 40\" role=\"img\"><title>No entities</title><text x=\"8\" y=\"24\" font-size=\"12\" fill=\"#6b7280\">The evidence names no entities.</text></svg>"
        );
    } else {
        out.push_str(&svg::render(&g, &f.title, &format!("f{}-", f.id)));
    }
    out.push_str("<figcaption>Entities and links in the evidence; subjects highlighted.</figcaption>\n</figure>\n");
}

fn sources(out: &mut String, notes: &Footnotes) {
    if notes.is_empty() {
        return;
    }
    out.push_str("<section id=\"sources\">\n<h2>Sources</h2>\n<ol class=\"sources\">\n");
    for (n, s) in notes.entries() {
        let text = esc(&source_text(s));
        let body = match &s.url {
            Some(u) => format!("<a href=\"{}\">{text}</a>", esc(u)),
            None => text,
        };
        let _ = writeln!(
            out,
            "<li id=\"src-{n}\">{body} <code>{}</code></li>",
            esc(&s.id)
        );
    }
    out.push_str("</ol>\n</section>\n");
}
