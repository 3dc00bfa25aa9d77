//! The HTML report's closing sections: near misses, data coverage and the run manifest.

use std::fmt::Write;

use super::markdown::plural;
use crate::coverage::Coverage;
use crate::findings::Binding;
use crate::graph::svg::esc;
use crate::manifest::Manifest;
use crate::nearmiss::NearMisses;

fn pairs(bs: &[Binding]) -> String {
    bs.iter()
        .map(|b| format!("{} = {}", b.name, b.shown()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn near_misses(out: &mut String, groups: &[NearMisses]) {
    out.push_str("<section id=\"near-misses\">\n<h2>Near misses</h2>\n");
    if groups.is_empty() {
        out.push_str("<p>No rule had a binding that failed only one condition.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p>Bindings that met every condition of a rule but one: checked and cleared.</p>\n",
    );
    out.push_str("<table class=\"sortable\" id=\"near-miss-table\">\n<thead><tr><th>rule</th><th>who/what</th><th>failed condition</th><th>values there</th><th>at</th></tr></thead>\n<tbody>\n");
    for g in groups {
        for m in &g.items {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"place\">{}</td></tr>",
                esc(&g.rule),
                esc(&pairs(&m.bindings)),
                esc(&m.failed.text),
                esc(&pairs(&m.values)),
                esc(&m.failed.at),
            );
        }
        if g.omitted > 0 {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td colspan=\"4\">{} more not shown</td></tr>",
                esc(&g.rule),
                g.omitted
            );
        }
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

pub(super) fn coverage(out: &mut String, cases: &[Coverage]) {
    out.push_str("<section id=\"coverage\">\n<h2>Data coverage</h2>\n");
    for c in cases {
        let _ = writeln!(out, "<h3><code>{}</code></h3>", esc(&c.case));
        out.push_str("<h4>Facts no rule read</h4>\n<ul>\n");
        for u in &c.unread {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {} in <code>{}</code></li>",
                esc(&u.relation),
                plural(u.facts, "fact"),
                esc(&u.file)
            );
        }
        if c.unread.is_empty() {
            out.push_str("<li>none</li>\n");
        }
        out.push_str("</ul>\n<h4>Entities with no source</h4>\n<ul>\n");
        for u in &c.unsourced {
            let _ = writeln!(
                out,
                "<li>{} (<code>{}</code>) <span class=\"place\">{}:{}</span></li>",
                esc(&u.name),
                esc(&u.entity),
                esc(&u.file),
                u.line
            );
        }
        if c.unsourced.is_empty() {
            out.push_str("<li>none</li>\n");
        }
        out.push_str("</ul>\n<h4>Facts missing a date a rule needs</h4>\n<ul>\n");
        for u in &c.undated {
            let _ = writeln!(
                out,
                "<li><code>{}</code> without <code>{}</code> <span class=\"place\">{}:{}</span>; needed by {}</li>",
                esc(&u.relation),
                esc(&u.fields.join(", ")),
                esc(&u.file),
                u.line,
                esc(&u.needed_by.join(", "))
            );
        }
        if c.undated.is_empty() {
            out.push_str("<li>none</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

pub(super) fn manifest(out: &mut String, m: &Manifest) {
    let _ = write!(
        out,
        "<footer id=\"manifest\">\n<h2>Run manifest</h2>\n<p>{}",
        esc(&m.probity)
    );
    if let Some(t) = &m.generated {
        let _ = write!(out, " · generated {}", esc(t));
    }
    out.push_str("</p>\n");
    if !m.params.is_empty() {
        let ps: Vec<String> = m
            .params
            .iter()
            .map(|p| format!("<code>{} = {}</code>", esc(&p.name), esc(&p.value)))
            .collect();
        let _ = writeln!(out, "<p>Parameters: {}</p>", ps.join(", "));
    }
    if !m.options.is_empty() {
        let _ = writeln!(
            out,
            "<p>Options: <code>{}</code></p>",
            esc(&m.options.join(" "))
        );
    }
    if !m.unread.is_empty() {
        let files: Vec<String> = m
            .unread
            .iter()
            .map(|f| format!("<code>{}</code>", esc(f)))
            .collect();
        let _ = writeln!(
            out,
            "<p>Not read (no rule reads their relation): {}</p>",
            files.join(", ")
        );
    }
    out.push_str("<details>\n<summary>Input files and their FNV-1a 64 hashes</summary>\n<table>\n<thead><tr><th>file</th><th>hash</th></tr></thead>\n<tbody>\n");
    for f in m.rules.iter().chain(&m.cases) {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&f.path),
            esc(&f.hash)
        );
    }
    out.push_str("</tbody>\n</table>\n</details>\n</footer>\n");
}
