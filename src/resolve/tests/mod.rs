//! Unit tests of the resolver: every diagnostic code by message, help and underlined text.
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod codes_body;
mod codes_decl;
mod happy;

use crate::diag::{Diagnostic, Place, SourceMap};

use super::Checked;

/// A small vocabulary most tests build on.
pub(crate) const PRE: &str = r#"
entity person(name: text)
entity org(name: text, kind: text?)
relation role(person: person, org: org, title: text?, from: date?, until: date?) during from..until
relation holding(holder: person | org, asset: org, pct: number?, from: date?, until: date?) during from..until
relation meeting(id: text, on: date, attendees: [person | org]) at on
param cooling = 2y
"#;

pub(crate) fn run(files: &[(&str, &str)]) -> (SourceMap, Checked) {
    let mut map = SourceMap::new();
    let files = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let checked = super::load_sources(&mut map, files);
    (map, checked)
}

/// The vocabulary plus one rule whose single `when` block is `body`.
pub(crate) fn rule(body: &str) -> String {
    format!("{PRE}\nrule r {{\n title \"t\"\n severity high\n when {{ {body} }}\n}}\n")
}

/// A diagnostic as the tests look at it.
#[derive(Debug)]
pub(crate) struct Got {
    pub message: String,
    pub help: String,
    pub underlined: String,
    pub warning: bool,
    pub notes: Vec<String>,
}

fn got(map: &SourceMap, d: &Diagnostic) -> Got {
    let underlined = match &d.place {
        Some(Place::Span(s)) => map
            .get(s.file)
            .text
            .get(s.start as usize..s.end as usize)
            .unwrap_or("")
            .to_string(),
        Some(Place::File(p)) => format!("<file {p}>"),
        _ => String::new(),
    };
    Got {
        message: d.message.clone(),
        help: d.help.clone().unwrap_or_default(),
        underlined,
        warning: !d.is_error(),
        notes: d.notes.iter().map(|(_, m)| m.clone()).collect(),
    }
}

/// Every diagnostic of `code` for these files (full code `probity::resolve::<code>`).
pub(crate) fn all(files: &[(&str, &str)], code: &str) -> Vec<Got> {
    let (map, c) = run(files);
    let full = format!("probity::resolve::{code}");
    c.diagnostics
        .iter()
        .filter(|d| d.code == full)
        .map(|d| got(&map, d))
        .collect()
}

/// The one diagnostic of `code` for one file; fails showing all diagnostics otherwise.
pub(crate) fn one(text: &str, code: &str) -> Got {
    let (map, c) = run(&[("r.coi", text)]);
    let full = format!("probity::resolve::{code}");
    let mut found: Vec<Got> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == full)
        .map(|d| got(&map, d))
        .collect();
    assert!(
        found.len() == 1,
        "expected one `{code}`, got:\n{}",
        crate::diag::render(&map, &c.diagnostics)
    );
    found.remove(0)
}

/// Asserts there are no errors and returns the rendered warnings.
pub(crate) fn clean(files: &[(&str, &str)]) -> (crate::ir::Program, Vec<Got>) {
    let (map, c) = run(files);
    let shown = crate::diag::render(&map, &c.diagnostics);
    let warnings = c.diagnostics.iter().map(|d| got(&map, d)).collect();
    match c.program {
        Some(p) => (p, warnings),
        None => panic!("expected no errors, got:\n{shown}"),
    }
}

/// Asserts message, help and underlined text.
pub(crate) fn is(g: &Got, message: &str, help: &str, underlined: &str) {
    assert_eq!(g.message, message, "message of {g:?}");
    assert!(
        g.help.contains(help),
        "help of {g:?} should contain {help:?}"
    );
    assert_eq!(g.underlined, underlined, "underlined text of {g:?}");
}
