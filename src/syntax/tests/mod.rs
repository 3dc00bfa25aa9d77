//! Parser tests: one block per construct, then recovery, limits and rendered diagnostics.
#![expect(clippy::panic, reason = "a test fails by panicking")]

mod show;

use super::ast::*;
use super::parse;
use crate::diag::{Diagnostic, FileId};

/// Parses `text`, which must have no diagnostics.
fn ok(text: &str) -> File {
    let (f, d) = parse(FileId(0), text);
    assert!(d.is_empty(), "unexpected diagnostics for {text:?}: {d:#?}");
    f
}

/// The diagnostic codes (without the `probity::syntax::` prefix) for `text`.
fn codes(text: &str) -> Vec<String> {
    diags(text)
        .iter()
        .map(|d| d.code.trim_start_matches("probity::syntax::").to_string())
        .collect()
}

fn diags(text: &str) -> Vec<Diagnostic> {
    parse(FileId(0), text).1
}

/// The literals of the first `when` of a one-rule file `rule r { when { <body> } }`.
fn body(lits: &str) -> Vec<String> {
    let f = ok(&format!("rule r {{ when {{ {lits} }} }}"));
    match &f.items[0] {
        Item::Rule(r) => r.whens[0].node.iter().map(show::literal).collect(),
        other => panic!("not a rule: {other:?}"),
    }
}

/// The value of `param p = <e>`.
fn expr(e: &str) -> String {
    let f = ok(&format!("param p = {e}"));
    match &f.items[0] {
        Item::Param(p) => show::expr(&p.value),
        other => panic!("not a param: {other:?}"),
    }
}

mod errors;
mod exprs;
mod fmt;
mod items;
